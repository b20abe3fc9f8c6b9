// Gateway routes that open no relay connection of their own. A route's warm pool refills, recycles and falls to 0
// on its own clock, and a multiplexed pool grows and recycles in the background: either moves the relay's counts
// (active tunnels, tunnels opened, accepts dispatched, connects refused) at moments no test controls. Tests that
// count the relay's connections use these routes, so every count moves with the test's own clients only.
// The warm and multiplexed paths have tests of their own (relay-gateway-warm*.test.ts, tests/e2e/mux.test.ts).

/** Route fields for one relay connection per client, opened when the client comes: no warm pool, no multiplexing. */
export const CLASSIC_ROUTE_FIELDS = Object.freeze({ warmConnections: 0, multiplex: false } as const);

/** `route` with {@link CLASSIC_ROUTE_FIELDS} (they override the route's own warm and multiplex settings). */
export function classicRoute<T extends object>(route: T): T & typeof CLASSIC_ROUTE_FIELDS {
  return { ...route, ...CLASSIC_ROUTE_FIELDS };
}

/** Every route of `routes` made a {@link classicRoute}, ids kept. */
export function classicRoutes<T extends object>(
  routes: Readonly<Record<string, T>>,
): Record<string, T & typeof CLASSIC_ROUTE_FIELDS> {
  return Object.fromEntries(Object.entries(routes).map(([id, route]) => [id, classicRoute(route)]));
}

// The cost of a route change must not grow with the number of other routes: adding N routes or stopping a gateway
// of N routes builds O(N) route states in all, with readiness and the twin module's status listener attached (as
// in production). Counts, not times: a count is the same on a loaded machine. bench/gateway-routes.ts has the times.
import { Gateway } from '../../../../modules/relay-gateway/src/gateway';
import { readinessFor } from '../../../../modules/relay-gateway/src/readiness';
import { RouteRuntime } from '../../../../modules/relay-gateway/src/route';
import { GatewayTwinModule } from '../../../../modules/relay-gateway/src/twin-module';
import {
  ScriptedOpener,
  gatewayDocument,
  loopbackRoute,
  testLogger,
} from '../../../support/relay-gateway-harness';

const ROUTES = 300;

function routes(count: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) out[`r${i}`] = loopbackRoute({ service: `s${i}` });
  return out;
}

describe('route count scaling', () => {
  it('builds O(routes) route states when routes are added and when the gateway stops', async () => {
    const gateway = new Gateway({ opener: new ScriptedOpener().open, logger: testLogger() });
    const readiness = readinessFor(gateway);
    const reports: number[] = [];
    const stopWatching = new GatewayTwinModule(gateway).onStateChange(() => reports.push(1));
    const built = jest.spyOn(RouteRuntime.prototype, 'state');
    try {
      const applied = await gateway.applyDocument(gatewayDocument(routes(ROUTES)));
      expect(applied).toMatchObject({ ok: true, refusedRoutes: [] });
      expect(readiness.reasons()).toEqual([]);
      const afterAdd = built.mock.calls.length;
      // One state per status change (starting → listening) plus a constant: today's code built every route's
      // state on every route's change (ROUTES² ≈ 90,000).
      expect(afterAdd).toBeLessThanOrEqual(3 * ROUTES);

      await gateway.stop(0);
      await new Promise((resolve) => setImmediate(resolve));
      readiness.reasons();
      // draining and stopped: two changes per route.
      expect(built.mock.calls.length - afterAdd).toBeLessThanOrEqual(4 * ROUTES);
      expect(readiness.recomputations).toBeLessThanOrEqual(ROUTES);
      expect(reports.length).toBeGreaterThan(0);
    } finally {
      built.mockRestore();
      stopWatching();
      readiness.close();
      await gateway.stop(0);
    }
  });
});

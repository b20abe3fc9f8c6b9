import type { BenchProcess } from '../process/bench-process';
import type { BenchBuild } from '../process/build';
import {
  FORWARDER_LISTENERS,
  freePort,
  MODULE_PAIR_ENTRIES,
  startModulePair,
  writePairDocuments,
} from '../process/module-pair';
import type { BenchRelay } from '../relay';
import type { ConnectionMode } from './modes';

/** A free loopback port (run.ts asks one for PostgreSQL). */
export { freePort };

/** The module entries a pair runs (compiled before the run). */
export const PAIR_ENTRIES = MODULE_PAIR_ENTRIES;
/** Above any connection count the bench uses (the 10,000-connection workload holds that many at once). */
const MAX_CONNECTIONS = 100_000;
/** Routes of each pair: `conn` reaches the connection target, `bench` the bulk (digest) target, `pg` PostgreSQL. */
type RouteName = 'conn' | 'bench' | 'pg';

/** A running relay-gateway + relay-forwarder pair configured for one mode. */
export interface ModePair {
  readonly mode: string;
  /** Gateway port of the route to the connection target (requests, held connections, fairness). */
  readonly connPort: number;
  /** Gateway port of the route to the bulk digest target (bench/target protocol). */
  readonly bulkPort: number;
  /** Gateway port of the route to PostgreSQL, when the run has one (pgbench). */
  readonly pgPort?: number;
  readonly gateway: BenchProcess;
  readonly forwarder: BenchProcess;
  /** Relay connections the pair holds with no client (warm pools of both routes). */
  readonly idleRelayConnections: number;
  /** Listener control channels the forwarder holds. */
  readonly listeners: number;
  stop(): Promise<void>;
}

/** What starting a pair needs. */
export interface PairContext {
  readonly relay: BenchRelay;
  readonly build: BenchBuild;
  readonly workDir: string;
  readonly connTarget: { readonly host: string; readonly port: number };
  readonly bulkTarget: { readonly host: string; readonly port: number };
  /** A local PostgreSQL server (pgbench workload), when the run has one. */
  readonly pgTarget?: { readonly host: string; readonly port: number };
  readonly log: (line: string) => void;
}

let pairsStarted = 0;

/**
 * Starts the real module processes from their `main` entries (shipped node flags, log level info) on their own
 * hybrid connection `bench-<name>-<n>`, configured by `mode`; resolves once the gateway applied every route.
 */
export async function startModePair(
  name: string,
  mode: ConnectionMode,
  context: PairContext,
): Promise<ModePair> {
  const { relay } = context;
  // A fresh hybrid connection per pair: the concurrent workload starts its own pair per mode.
  const path = `bench-${name}-${++pairsStarted}`;
  const credentials = await relay.createHybridConnection(path);
  const targets: Partial<Record<RouteName, { host: string; port: number }>> = {
    conn: context.connTarget,
    bench: context.bulkTarget,
    ...(context.pgTarget && { pg: context.pgTarget }),
  };
  const routeNames = Object.keys(targets) as RouteName[];
  const ports: Partial<Record<RouteName, number>> = {};
  for (const routeName of routeNames) ports[routeName] = await freePort();
  const { forwarderConfig, gatewayConfig } = await writePairDocuments(context.workDir, `${name}-`, {
    credentials,
    services: targets,
    routes: Object.fromEntries(routeNames.map((r) => [r, { port: ports[r]!, service: r, ...mode.route }])),
    maxConnections: MAX_CONNECTIONS,
    ...(mode.forwarder && { forwarderEntry: mode.forwarder }),
    ...(mode.gateway && { gatewayExtra: mode.gateway }),
  });
  const { gateway, forwarder, stop } = await startModulePair({
    relay,
    build: context.build,
    path,
    forwarderConfig,
    gatewayConfig,
    rolePrefix: `${name} `,
    startTimeoutMs: 60_000,
    log: context.log,
  });
  return {
    mode: name,
    connPort: ports.conn!,
    bulkPort: ports.bench!,
    ...(ports.pg !== undefined && { pgPort: ports.pg }),
    gateway,
    forwarder,
    idleRelayConnections: mode.idleRelayConnectionsPerRoute * routeNames.length,
    listeners: FORWARDER_LISTENERS,
    stop,
  };
}

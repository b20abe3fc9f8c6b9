import { writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { MODULE_NODE_FLAGS } from '../../modules/common/src/runtime/node-flags';
import { BenchProcess } from '../process/bench-process';
import type { BenchBuild } from '../process/build';
import type { BenchRelay } from '../relay';
import type { ConnectionMode } from './modes';

/** The module entries a pair runs (compiled before the run). */
export const PAIR_ENTRIES = [
  'modules/relay-gateway/src/main.ts',
  'modules/relay-forwarder/src/main.ts',
] as const;
const [GATEWAY_ENTRY, FORWARDER_ENTRY] = PAIR_ENTRIES;
/** The forwarder's default number of control channels. */
const FORWARDER_LISTENERS = 2;
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

/** A free loopback port (the gateway and PostgreSQL run in other processes and cannot report theirs). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Forwards a pino line of level warn or above to the bench log; routine info lines stay quiet. */
function noteworthy(log: (line: string) => void, role: string) {
  return (line: string): void => {
    try {
      if (((JSON.parse(line) as { level?: number }).level ?? 0) >= 40) log(`[${role}] ${line}`);
    } catch {
      log(`[${role}] ${line}`);
    }
  };
}

/**
 * Starts the real module processes from their `main` entries (shipped node flags, log level info) on their own
 * hybrid connection `bench-<name>-<n>`, configured by `mode`; resolves once the gateway applied every route.
 */
export async function startModePair(
  name: string,
  mode: ConnectionMode,
  context: PairContext,
): Promise<ModePair> {
  const { relay, build } = context;
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
  const forwarderConfig = join(context.workDir, `${name}-forwarder.json`);
  const gatewayConfig = join(context.workDir, `${name}-gateway.json`);
  const service = (target: { host: string; port: number }) => ({
    target: `${target.host}:${target.port}`,
    maxConnections: MAX_CONNECTIONS,
  });
  await writeFile(
    forwarderConfig,
    JSON.stringify({
      schemaVersion: 1,
      logLevel: 'info',
      drainTimeoutMs: 1000,
      hybridConnections: {
        bench: {
          connectionString: credentials.listenConnectionString,
          listeners: FORWARDER_LISTENERS,
          services: Object.fromEntries(routeNames.map((r) => [r, service(targets[r]!)])),
          ...mode.forwarder,
        },
      },
    }),
    { mode: 0o600 },
  );
  const route = (routeName: RouteName) => ({
    port: ports[routeName]!,
    bindAddress: '127.0.0.1',
    hybridConnection: 'bench',
    service: routeName,
    allow: ['127.0.0.0/8'],
    maxConnections: MAX_CONNECTIONS,
    ...mode.route,
  });
  await writeFile(
    gatewayConfig,
    JSON.stringify({
      schemaVersion: 1,
      logLevel: 'info',
      drainTimeoutMs: 1000,
      limits: { maxConnections: MAX_CONNECTIONS },
      hybridConnections: { bench: { connectionString: credentials.sendConnectionString } },
      routes: Object.fromEntries(routeNames.map((r) => [r, route(r)])),
      ...mode.gateway,
    }),
    { mode: 0o600 },
  );
  const common = (role: string) => ({
    role: `${name} ${role}`,
    // Health endpoints on ephemeral loopback ports: several pairs (and other benches) run side by side.
    env: { NODE_PATH: build.nodePath, LOG_LEVEL: 'info', HEALTH_PORT: '0', HEALTH_BIND_ADDRESS: '127.0.0.1' },
    nodeFlags: [...MODULE_NODE_FLAGS],
    onLine: noteworthy(context.log, `${name} ${role}`),
    log: context.log,
  });
  const forwarder = BenchProcess.start({
    ...common('forwarder'),
    script: build.script(FORWARDER_ENTRY),
    args: ['--config', forwarderConfig, '--relay-ca', relay.caFile],
  });
  let gateway: BenchProcess | undefined;
  try {
    await relay.waitForListeners(path, FORWARDER_LISTENERS, 60_000);
    gateway = BenchProcess.start({
      ...common('gateway'),
      script: build.script(GATEWAY_ENTRY),
      args: ['--config', gatewayConfig, '--relay-ca', relay.caFile, '--shutdown-drain-ms', '1000'],
    });
    const applied = await gateway.waitForLine((l) => l.includes('"configuration applied"'), 60_000);
    if (!applied.includes('"refusedRoutes":[]'))
      throw new Error(`${name} gateway refused a route: ${applied}`);
    const started = gateway;
    return {
      mode: name,
      connPort: ports.conn!,
      bulkPort: ports.bench!,
      ...(ports.pg !== undefined && { pgPort: ports.pg }),
      gateway: started,
      forwarder,
      idleRelayConnections: mode.idleRelayConnectionsPerRoute * routeNames.length,
      listeners: FORWARDER_LISTENERS,
      stop: async () => {
        await Promise.all([started.stop(), forwarder.stop()]);
      },
    };
  } catch (err) {
    await Promise.all([gateway?.stop(), forwarder.stop()]);
    throw err;
  }
}

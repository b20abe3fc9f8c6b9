// The real relay-gateway and relay-forwarder processes as production runs them: started from their compiled `main`
// entries with `--config` files, the shipped node flags and log level info, health endpoints out of the way. The
// benches that measure our modules (bench/variants/ours.ts, bench/connections/pair.ts) write the two documents and
// start the pair here.
import { writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { MODULE_NODE_FLAGS } from '../../modules/common/src/runtime/node-flags';
import type { BenchRelay } from '../relay';
import { BenchProcess } from './bench-process';
import type { BenchBuild } from './build';

/** The module entries a pair runs (compile them before the run). */
export const MODULE_PAIR_ENTRIES = [
  'modules/relay-gateway/src/main.ts',
  'modules/relay-forwarder/src/main.ts',
] as const;
const [GATEWAY_ENTRY, FORWARDER_ENTRY] = MODULE_PAIR_ENTRIES;

/** The forwarder's default number of control channels (relay-forwarder `listeners`). */
export const FORWARDER_LISTENERS = 2;

/** What starting a pair needs; both configuration files are written already. */
export interface ModulePairSpec {
  readonly relay: BenchRelay;
  readonly build: BenchBuild;
  /** The hybrid connection the forwarder listens on: the gateway starts once its listeners are there. */
  readonly path: string;
  readonly forwarderConfig: string;
  readonly gatewayConfig: string;
  /** Process roles are `<rolePrefix>forwarder` and `<rolePrefix>gateway`. */
  readonly rolePrefix?: string;
  /** Node flags after the shipped ones (e.g. CPU profiling), per role. */
  readonly extraNodeFlags?: (role: 'gateway' | 'forwarder') => readonly string[];
  /** Bound on the forwarder's listeners coming online and on the gateway applying its routes. */
  readonly startTimeoutMs: number;
  readonly log: (line: string) => void;
}

/** A running pair; `stop()` ends both processes. */
export interface ModulePair {
  readonly gateway: BenchProcess;
  readonly forwarder: BenchProcess;
  stop(): Promise<void>;
}

/** A free loopback port (the gateway and PostgreSQL run in other processes and cannot report theirs). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A gateway route of a pair: its loopback port and the service it asks for, plus any other route fields. */
export type PairRoute = { readonly port: number; readonly service: string } & Readonly<
  Record<string, unknown>
>;

/** What a pair's two documents hold beyond what every pair shares (hybrid connection `bench`, loopback only). */
export interface PairDocuments {
  readonly credentials: { readonly listenConnectionString: string; readonly sendConnectionString: string };
  /** The forwarder's services: port name → target. */
  readonly services: Readonly<Record<string, { readonly host: string; readonly port: number }>>;
  /** The gateway's routes by id; their own fields override the shared ones. */
  readonly routes: Readonly<Record<string, PairRoute>>;
  /** Connection limit of every service, route and of the gateway: above what the bench opens. */
  readonly maxConnections: number;
  /** Merged into the forwarder's hybrid-connection entry. */
  readonly forwarderEntry?: Readonly<Record<string, unknown>>;
  /** Merged into the gateway's document (top level). */
  readonly gatewayExtra?: Readonly<Record<string, unknown>>;
}

/** Writes the pair's two configuration files into `dir` (owner-only: they hold connection strings); returns their paths. */
export async function writePairDocuments(
  dir: string,
  filePrefix: string,
  docs: PairDocuments,
): Promise<{ readonly forwarderConfig: string; readonly gatewayConfig: string }> {
  const forwarderConfig = join(dir, `${filePrefix}forwarder.json`);
  const gatewayConfig = join(dir, `${filePrefix}gateway.json`);
  const shared = { schemaVersion: 1, logLevel: 'info', drainTimeoutMs: 1000 };
  const services = Object.entries(docs.services).map(([name, target]) => [
    name,
    { target: `${target.host}:${target.port}`, maxConnections: docs.maxConnections },
  ]);
  const routes = Object.entries(docs.routes).map(([id, route]) => [
    id,
    {
      bindAddress: '127.0.0.1',
      hybridConnection: 'bench',
      allow: ['127.0.0.0/8'],
      maxConnections: docs.maxConnections,
      ...route,
    },
  ]);
  const write = (file: string, document: object): Promise<void> =>
    writeFile(file, JSON.stringify(document), { mode: 0o600 });
  await write(forwarderConfig, {
    ...shared,
    hybridConnections: {
      bench: {
        connectionString: docs.credentials.listenConnectionString,
        listeners: FORWARDER_LISTENERS,
        services: Object.fromEntries(services),
        ...docs.forwarderEntry,
      },
    },
  });
  await write(gatewayConfig, {
    ...shared,
    limits: { maxConnections: docs.maxConnections },
    hybridConnections: { bench: { connectionString: docs.credentials.sendConnectionString } },
    routes: Object.fromEntries(routes),
    ...docs.gatewayExtra,
  });
  return { forwarderConfig, gatewayConfig };
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
 * Starts the forwarder, waits for its listeners at the relay, then starts the gateway and waits until it applied
 * its configuration with no route refused; on any failure both processes are stopped before it rethrows.
 */
export async function startModulePair(spec: ModulePairSpec): Promise<ModulePair> {
  const { relay, build } = spec;
  const prefix = spec.rolePrefix ?? '';
  const common = (role: 'gateway' | 'forwarder') => ({
    role: `${prefix}${role}`,
    // Health endpoints on ephemeral loopback ports: the defaults (8080/8081 on every interface) may be taken by
    // another bench or pair on the machine, which made the forwarder exit at start.
    env: { NODE_PATH: build.nodePath, LOG_LEVEL: 'info', HEALTH_PORT: '0', HEALTH_BIND_ADDRESS: '127.0.0.1' },
    // The flags the module images start with (MODULE_NODE_FLAGS): the bench measures what ships.
    nodeFlags: [...MODULE_NODE_FLAGS, ...(spec.extraNodeFlags?.(role) ?? [])],
    onLine: noteworthy(spec.log, `${prefix}${role}`),
    log: spec.log,
  });
  const forwarder = BenchProcess.start({
    ...common('forwarder'),
    script: build.script(FORWARDER_ENTRY),
    args: ['--config', spec.forwarderConfig, '--relay-ca', relay.caFile],
  });
  let gateway: BenchProcess | undefined;
  try {
    await relay.waitForListeners(spec.path, FORWARDER_LISTENERS, spec.startTimeoutMs);
    gateway = BenchProcess.start({
      ...common('gateway'),
      script: build.script(GATEWAY_ENTRY),
      args: ['--config', spec.gatewayConfig, '--relay-ca', relay.caFile, '--shutdown-drain-ms', '1000'],
    });
    const applied = await gateway.waitForLine(
      (l) => l.includes('"configuration applied"'),
      spec.startTimeoutMs,
    );
    if (!applied.includes('"refusedRoutes":[]'))
      throw new Error(`${prefix}gateway refused a route: ${applied}`);
    const started = gateway;
    return {
      gateway: started,
      forwarder,
      stop: async () => {
        await Promise.all([started.stop(), forwarder.stop()]);
      },
    };
  } catch (err) {
    await Promise.all([gateway?.stop(), forwarder.stop()]);
    throw err;
  }
}

import { writeFile } from 'node:fs/promises';
import { MODULE_NODE_FLAGS } from '../../modules/common/src/runtime/node-flags';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { BenchProcess } from '../process/bench-process';
import { cpuProfFlags } from './spawn-child';
import type { VariantContext, VariantDefinition } from './types';

/** Hybrid connection of our variant. */
export const OURS_PATH = 'bench-ours';
const GATEWAY_ENTRY = 'modules/relay-gateway/src/main.ts';
const FORWARDER_ENTRY = 'modules/relay-forwarder/src/main.ts';
/** The forwarder's default number of control channels (docs: relay-forwarder `listeners`). */
const FORWARDER_LISTENERS = 2;
/** Service (preamble port name) the route asks for. */
const SERVICE = 'bench';
/** Above any idle count the bench uses, so limits measure nothing here. */
const MAX_CONNECTIONS = 20_000;
/** The route's warm pool bound (the shipped default, set here so the bench knows what the relay holds idle). */
const WARM_CONNECTIONS = 2;

/** A free loopback port for the gateway's route (the gateway runs in another process, so it cannot report one). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Forwards a pino JSON line of level warn or above to the bench log (routine info lines stay quiet). */
function logNoteworthy(context: VariantContext, role: string) {
  return (line: string): void => {
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string };
      if ((entry.level ?? 0) >= 40) context.log(`[${role}] ${line}`);
    } catch {
      context.log(`[${role}] ${line}`);
    }
  };
}

/**
 * The real modules as production runs them: relay-gateway and relay-forwarder processes started from their
 * `main` entries with `--config` files (log level info, as shipped), connection limits raised out of the way.
 */
export const oursVariant: VariantDefinition = {
  name: 'ours',
  entries: [GATEWAY_ENTRY, FORWARDER_ENTRY],
  description: 'relay-gateway + relay-forwarder processes (preamble, half-close, limits, allow-list)',
  async start(context) {
    const relay = context.relay!;
    const build = context.build!;
    const credentials = await relay.createHybridConnection(OURS_PATH);
    const port = await freePort();
    const gatewayConfig = join(context.workDir, 'gateway.json');
    const forwarderConfig = join(context.workDir, 'forwarder.json');
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
            services: {
              [SERVICE]: {
                target: `${context.target.host}:${context.target.port}`,
                maxConnections: MAX_CONNECTIONS,
              },
            },
          },
        },
      }),
      { mode: 0o600 },
    );
    await writeFile(
      gatewayConfig,
      JSON.stringify({
        schemaVersion: 1,
        logLevel: 'info',
        drainTimeoutMs: 1000,
        limits: { maxConnections: MAX_CONNECTIONS },
        hybridConnections: { bench: { connectionString: credentials.sendConnectionString } },
        routes: {
          bench: {
            port,
            bindAddress: '127.0.0.1',
            hybridConnection: 'bench',
            service: SERVICE,
            allow: ['127.0.0.0/8'],
            maxConnections: MAX_CONNECTIONS,
            warmConnections: WARM_CONNECTIONS,
            // One relay connection per client (warm or cold), as measured so far; a multiplexed mode holds up
            // to muxConnections idle relay connections (idleRelayConnections below would have to count them).
            multiplex: false,
          },
        },
      }),
      { mode: 0o600 },
    );
    const common = (role: string) => ({
      role,
      // Health endpoints on ephemeral loopback ports: the defaults (8080/8081 on every interface) may be taken by
      // another bench or module on the machine, which made the forwarder exit at start.
      env: {
        NODE_PATH: build.nodePath,
        LOG_LEVEL: 'info',
        HEALTH_PORT: '0',
        HEALTH_BIND_ADDRESS: '127.0.0.1',
      },
      // The flags the module images start with (MODULE_NODE_FLAGS): the bench measures what ships.
      nodeFlags: [
        ...MODULE_NODE_FLAGS,
        ...(context.cpuProfDir ? cpuProfFlags(context.cpuProfDir, `ours-${role}`) : []),
      ],
      onLine: logNoteworthy(context, role),
      log: context.log,
    });
    const forwarder = BenchProcess.start({
      ...common('forwarder'),
      script: build.script(FORWARDER_ENTRY),
      args: ['--config', forwarderConfig, '--relay-ca', relay.caFile],
    });
    let gateway: BenchProcess | undefined;
    try {
      await relay.waitForListeners(OURS_PATH, FORWARDER_LISTENERS, 30_000);
      gateway = BenchProcess.start({
        ...common('gateway'),
        script: build.script(GATEWAY_ENTRY),
        args: ['--config', gatewayConfig, '--relay-ca', relay.caFile, '--shutdown-drain-ms', '1000'],
      });
      const applied = await gateway.waitForLine((l) => l.includes('"configuration applied"'), 30_000);
      if (!applied.includes('"refusedRoutes":[]')) throw new Error(`gateway refused its route: ${applied}`);
      const started = gateway;
      return {
        name: 'ours',
        entryPort: port,
        processes: [started, forwarder],
        listeners: FORWARDER_LISTENERS,
        idleRelayConnections: WARM_CONNECTIONS,
        stop: async () => {
          await Promise.all([started.stop(), forwarder.stop()]);
        },
      };
    } catch (err) {
      await Promise.all([gateway?.stop(), forwarder.stop()]);
      throw err;
    }
  },
};

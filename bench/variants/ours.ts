import { join } from 'node:path';
import {
  FORWARDER_LISTENERS,
  freePort,
  MODULE_PAIR_ENTRIES,
  startModulePair,
  writeModuleConfig,
} from '../process/module-pair';
import { cpuProfFlags } from './spawn-child';
import type { VariantDefinition } from './types';

/** Hybrid connection of our variant. */
export const OURS_PATH = 'bench-ours';
/** Service (preamble port name) the route asks for. */
const SERVICE = 'bench';
/** Above any idle count the bench uses, so limits measure nothing here. */
const MAX_CONNECTIONS = 20_000;
/** The route's warm pool bound (the shipped default, set here so the bench knows what the relay holds idle). */
const WARM_CONNECTIONS = 2;

/**
 * The real modules as production runs them: relay-gateway and relay-forwarder processes started from their
 * `main` entries with `--config` files (log level info, as shipped), connection limits raised out of the way.
 */
export const oursVariant: VariantDefinition = {
  name: 'ours',
  entries: [...MODULE_PAIR_ENTRIES],
  description: 'relay-gateway + relay-forwarder processes (preamble, half-close, limits, allow-list)',
  async start(context) {
    const relay = context.relay!;
    const build = context.build!;
    const credentials = await relay.createHybridConnection(OURS_PATH);
    const port = await freePort();
    const gatewayConfig = join(context.workDir, 'gateway.json');
    const forwarderConfig = join(context.workDir, 'forwarder.json');
    await writeModuleConfig(forwarderConfig, {
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
    });
    await writeModuleConfig(gatewayConfig, {
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
    });
    const cpuProfDir = context.cpuProfDir;
    const { gateway, forwarder, stop } = await startModulePair({
      relay,
      build,
      path: OURS_PATH,
      forwarderConfig,
      gatewayConfig,
      ...(cpuProfDir && { extraNodeFlags: (role) => cpuProfFlags(cpuProfDir, `ours-${role}`) }),
      startTimeoutMs: 30_000,
      log: context.log,
    });
    return {
      name: 'ours',
      entryPort: port,
      processes: [gateway, forwarder],
      listeners: FORWARDER_LISTENERS,
      idleRelayConnections: WARM_CONNECTIONS,
      stop,
    };
  },
};

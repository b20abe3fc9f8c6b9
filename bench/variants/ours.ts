import {
  FORWARDER_LISTENERS,
  freePort,
  MODULE_PAIR_ENTRIES,
  startModulePair,
  writePairDocuments,
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
    const { forwarderConfig, gatewayConfig } = await writePairDocuments(context.workDir, '', {
      credentials,
      services: { [SERVICE]: context.target },
      routes: {
        bench: {
          port,
          service: SERVICE,
          warmConnections: WARM_CONNECTIONS,
          // One relay connection per client (warm or cold), as measured so far; a multiplexed mode holds up
          // to muxConnections idle relay connections (idleRelayConnections below would have to count them).
          multiplex: false,
        },
      },
      maxConnections: MAX_CONNECTIONS,
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

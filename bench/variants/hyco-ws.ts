import { childConfig } from './baseline';
import { spawnBenchChild } from './spawn-child';
import type { VariantDefinition } from './types';

/** Hybrid connection of the hyco-ws variant. */
export const HYCO_PATH = 'bench-hyco-ws';
const SENDER_ENTRY = 'bench/variants/hyco-sender-main.ts';
const LISTENER_ENTRY = 'bench/variants/hyco-listener-main.ts';

/** Forwarder and sender on the unmodified hyco-ws package (ws 1.1), each in its own process. */
export const hycoWsVariant: VariantDefinition = {
  name: 'hyco-ws',
  entries: [SENDER_ENTRY, LISTENER_ENTRY],
  description: 'unmodified hyco-ws 1.0.5 (ws 1.1) on both sides, manual backpressure',
  async start(context) {
    const relay = context.relay!;
    const credentials = await relay.createHybridConnection(HYCO_PATH);
    // hyco-ws has no CA option: the sandbox CA reaches it the production way, NODE_EXTRA_CA_CERTS.
    const env = { NODE_EXTRA_CA_CERTS: relay.caFile };
    const listener = await spawnBenchChild(
      context,
      'hyco-ws',
      'forwarder',
      LISTENER_ENTRY,
      childConfig(context, credentials, 'listen'),
      env,
    );
    try {
      await relay.waitForListeners(HYCO_PATH, 1, 15_000);
      const sender = await spawnBenchChild(
        context,
        'hyco-ws',
        'gateway',
        SENDER_ENTRY,
        childConfig(context, credentials, 'send'),
        env,
      );
      return {
        name: 'hyco-ws',
        entryPort: sender.ready.port!,
        processes: [sender.proc, listener.proc],
        listeners: 1,
        stop: async () => {
          await Promise.all([sender.proc.stop(), listener.proc.stop()]);
        },
      };
    } catch (err) {
      await listener.proc.stop();
      throw err;
    }
  },
};

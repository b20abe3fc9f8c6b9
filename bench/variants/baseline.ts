import type { HybridConnectionCredentials } from '../relay';
import { spawnBenchChild } from './spawn-child';
import type { ChildConfig, VariantContext, VariantDefinition } from './types';

/** Hybrid connection of the baseline variant. */
export const BASELINE_PATH = 'bench-baseline';
const SENDER_ENTRY = 'bench/variants/baseline-sender-main.ts';
const LISTENER_ENTRY = 'bench/variants/baseline-listener-main.ts';

/** Child configuration for one side of a variant with a Send or Listen key. */
export function childConfig(
  context: VariantContext,
  credentials: HybridConnectionCredentials,
  side: 'send' | 'listen',
): ChildConfig {
  const relay = context.relay!;
  return {
    namespace: relay.namespace,
    path: credentials.path,
    keyName: credentials[side].keyName,
    key: credentials[side].key,
    caFile: relay.caFile,
    ...(side === 'listen' && { targetHost: context.target.host, targetPort: context.target.port }),
  };
}

/** A bare tunnel from the same parts: our HC client + ws@8 createWebSocketStream pipes, nothing else. */
export const baselineVariant: VariantDefinition = {
  name: 'baseline',
  entries: [SENDER_ENTRY, LISTENER_ENTRY],
  description: 'our HC client + ws@8 createWebSocketStream pipes, no preamble/half-close/limits',
  async start(context) {
    const relay = context.relay!;
    const credentials = await relay.createHybridConnection(BASELINE_PATH);
    const listener = await spawnBenchChild(
      context,
      'baseline',
      'forwarder',
      LISTENER_ENTRY,
      childConfig(context, credentials, 'listen'),
    );
    try {
      await relay.waitForListeners(BASELINE_PATH, 1, 15_000);
      const sender = await spawnBenchChild(
        context,
        'baseline',
        'gateway',
        SENDER_ENTRY,
        childConfig(context, credentials, 'send'),
      );
      return {
        name: 'baseline',
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

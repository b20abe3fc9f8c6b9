import { waitForStopSignal } from '../twin/twin-process';

/** What a running module does on signals. */
export interface ModuleSignalHandlers {
  /** SIGHUP while running (file mode re-reads its file); none in twin mode. */
  readonly reload?: () => void;
  /** The graceful stop after the first SIGINT or SIGTERM (log, drain, stop extensions). */
  readonly stop: (signal: 'SIGINT' | 'SIGTERM') => Promise<void>;
  /** A later SIGINT or SIGTERM while `stop` runs: cut what still drains. */
  readonly hurry: () => void;
  /**
   * Only the second signal hurries (the gateway): a third finds no listener of ours and takes the default
   * action, killing the process. Otherwise every later signal hurries (the forwarder).
   */
  readonly hurryOnce?: boolean;
}

/**
 * Waits for the first SIGINT or SIGTERM on `signals` (reloading on SIGHUP meanwhile), runs `stop` with a later
 * signal hurrying it, then removes every listener it added and resolves with the signal that stopped it.
 */
export async function runUntilStopSignal(
  signals: NodeJS.EventEmitter,
  handlers: ModuleSignalHandlers,
): Promise<'SIGINT' | 'SIGTERM'> {
  const onHup = handlers.reload && ((): void => handlers.reload?.());
  if (onHup) signals.on('SIGHUP', onHup);
  const hurry = (): void => handlers.hurry();
  const add = handlers.hurryOnce ? signals.once.bind(signals) : signals.on.bind(signals);
  const signal = await waitForStopSignal(signals, () => {
    add('SIGINT', hurry);
    add('SIGTERM', hurry);
  });
  await handlers.stop(signal);
  if (onHup) signals.off('SIGHUP', onHup);
  signals.off('SIGINT', hurry);
  signals.off('SIGTERM', hurry);
  return signal;
}

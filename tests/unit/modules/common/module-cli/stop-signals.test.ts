import { EventEmitter } from 'node:events';
import { runUntilStopSignal } from '../../../../../modules/common/src/module-cli/stop-signals';

function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('runUntilStopSignal', () => {
  it('reloads on SIGHUP, stops on the first signal, hurries on every later one, then removes its listeners', async () => {
    const signals = new EventEmitter();
    const calls: string[] = [];
    const stopping = gate();
    const done = runUntilStopSignal(signals, {
      reload: () => calls.push('reload'),
      hurry: () => calls.push('hurry'),
      stop: async (signal) => {
        calls.push(`stop ${signal}`);
        await stopping.promise;
      },
    });
    signals.emit('SIGHUP');
    signals.emit('SIGTERM');
    await new Promise(setImmediate);
    signals.emit('SIGINT');
    signals.emit('SIGTERM');
    stopping.open();
    await expect(done).resolves.toBe('SIGTERM');
    expect(calls).toEqual(['reload', 'stop SIGTERM', 'hurry', 'hurry']);
    expect(['SIGHUP', 'SIGINT', 'SIGTERM'].map((name) => signals.listenerCount(name))).toEqual([0, 0, 0]);
  });

  it('with hurryOnce, lets only the second signal hurry (a third takes the default action)', async () => {
    const signals = new EventEmitter();
    const calls: string[] = [];
    const stopping = gate();
    const done = runUntilStopSignal(signals, {
      hurry: () => calls.push('hurry'),
      hurryOnce: true,
      stop: async () => {
        await stopping.promise;
      },
    });
    signals.emit('SIGINT');
    await new Promise(setImmediate);
    expect(signals.listenerCount('SIGHUP')).toBe(0);
    signals.emit('SIGINT');
    expect(signals.listenerCount('SIGINT')).toBe(0);
    signals.emit('SIGINT');
    stopping.open();
    await expect(done).resolves.toBe('SIGINT');
    expect(calls).toEqual(['hurry']);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('hurries on a second signal that arrives in the same tick as the first (no unhandled gap)', async () => {
    const signals = new EventEmitter();
    const calls: string[] = [];
    const stopping = gate();
    const done = runUntilStopSignal(signals, {
      hurry: () => calls.push('hurry'),
      stop: async (signal) => {
        calls.push(`stop ${signal}`);
        await stopping.promise;
      },
    });
    signals.emit('SIGINT');
    expect(signals.listenerCount('SIGINT') + signals.listenerCount('SIGTERM')).toBe(2);
    signals.emit('SIGTERM');
    stopping.open();
    await expect(done).resolves.toBe('SIGINT');
    expect(calls).toEqual(['hurry', 'stop SIGINT']);
  });
});

import { EventEmitter } from 'node:events';
import { ModuleReadiness } from '../../../../../modules/common/src/health/module-readiness';
import { NOT_READY } from '../../../../../modules/common/src/health/readiness';

// A module whose 'configured' event clears "no configuration": the least a subclass does.
class ToyReadiness extends ModuleReadiness<EventEmitter> {
  override attach(module: EventEmitter): () => void {
    this.unsubscribe?.();
    const onConfigured = (): void => this.tracker.ready(NOT_READY.noConfiguration);
    module.on('configured', onConfigured);
    this.unsubscribe = () => {
      module.off('configured', onConfigured);
      this.unsubscribe = undefined;
    };
    return this.unsubscribe;
  }
}

describe('ModuleReadiness', () => {
  it('starts not ready for want of a configuration, follows the module, then shuts down', () => {
    const module = new EventEmitter();
    const readiness = new ToyReadiness();
    const seen: string[][] = [];
    readiness.onChange((reasons) => seen.push(reasons.map((r) => r.code)));
    expect(readiness.check()).toEqual([
      { code: NOT_READY.noConfiguration, message: 'no configuration applied yet' },
    ]);
    readiness.attach(module);
    module.emit('configured');
    expect(readiness.isReady()).toBe(true);
    expect(readiness.reasons()).toEqual([]);
    readiness.shuttingDown();
    expect(readiness.check()).toEqual([{ code: NOT_READY.shuttingDown, message: 'shutting down' }]);
    expect(seen).toEqual([[], [NOT_READY.shuttingDown]]);
    readiness.close();
    expect(module.listenerCount('configured')).toBe(0);
  });
});

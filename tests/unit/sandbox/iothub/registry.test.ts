import { identityEtag } from '../../../../sandbox/src/iothub/identity';
import { Registry, RegistryEvent } from '../../../../sandbox/src/iothub/registry';
import { twinEtag } from '../../../../sandbox/src/iothub/twin';

describe('registry', () => {
  it('creates with generated keys, refuses duplicates, updates only with If-Match', () => {
    const registry = new Registry();
    const { record } = registry.putDevice('d1', {});
    expect(record.keys.primaryKey).not.toBe(record.keys.secondaryKey);
    expect(() => registry.putDevice('d1', {})).toThrow(
      expect.objectContaining({ code: 'DeviceAlreadyExists', status: 409 }),
    );
    expect(() => registry.putDevice('d1', { status: 'disabled' }, '"stale"')).toThrow(
      expect.objectContaining({ code: 'PreconditionFailed', status: 412 }),
    );
    registry.putDevice('d1', { status: 'disabled' }, `"${identityEtag(record)}"`);
    expect(registry.getDeviceEntry('d1').device.status).toBe('disabled');
    expect(() => registry.putDevice('bad/id', {})).toThrow(
      expect.objectContaining({ code: 'ArgumentInvalid' }),
    );
  });

  it('gives IoT Edge devices their $edgeAgent and $edgeHub modules', () => {
    const registry = new Registry();
    registry.putDevice('edge', { capabilities: { iotEdge: true } });
    expect(registry.listModules('edge').map((m) => m.moduleId)).toEqual(['$edgeAgent', '$edgeHub']);
  });

  it('patches twins atomically: a refused desired patch leaves tags and version untouched', () => {
    const registry = new Registry();
    registry.putDevice('d1', {});
    const events: RegistryEvent['type'][] = [];
    registry.on((e) => events.push(e.type));
    const before = twinEtag(registry.getIdentity('d1').twin);
    expect(() =>
      registry.patchTwin('d1', undefined, { tags: { a: 1 }, properties: { desired: { 'bad.key': 1 } } }),
    ).toThrow(/may not contain/);
    expect(registry.getIdentity('d1').twin.tags).toEqual({});
    expect(twinEtag(registry.getIdentity('d1').twin)).toBe(before);
    expect(() => registry.patchTwin('d1', undefined, { properties: { reported: { x: 1 } } })).toThrow(
      /only be written by the device/,
    );
    registry.patchTwin('d1', undefined, { tags: { a: 1 }, properties: { desired: { x: 1 } } }, `"${before}"`);
    expect(events).toEqual(['tags', 'desired']);
  });

  it('deletes devices with their modules and restores from a snapshot as disconnected', () => {
    const registry = new Registry();
    registry.putDevice('d1', {});
    registry.putModule('d1', 'm1', {});
    registry.setConnectionState('d1', 'm1', true);
    const copy = new Registry();
    copy.restore(registry.snapshot());
    expect(copy.getModule('d1', 'm1').connectionState).toBe('Disconnected');
    expect(copy.getModule('d1', 'm1').keys).toEqual(registry.getModule('d1', 'm1').keys);
    const deleted: string[] = [];
    registry.on((e) => e.type === 'identityDeleted' && deleted.push(`${e.deviceId}/${e.moduleId ?? ''}`));
    registry.deleteDevice('d1', '*');
    expect(deleted).toEqual(['d1/m1', 'd1/']);
    expect(() => registry.getModule('d1', 'm1')).toThrow(expect.objectContaining({ code: 'DeviceNotFound' }));
  });
});

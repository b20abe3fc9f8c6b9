import { ClientDirectory, DirectMethods } from '../../../../sandbox/src/iothub/methods';

// A stand-in for the MQTT front (a collaborator of the code under test): records what would be published.
class Directory implements ClientDirectory {
  online = new Set<string>();
  sent: { key: string; topic: string; payload: string }[] = [];
  private listeners = new Set<(k: string) => void>();
  deliver(key: string, topic: string, payload: Buffer): boolean {
    if (!this.online.has(key)) return false;
    this.sent.push({ key, topic, payload: payload.toString() });
    return true;
  }
  canReceive(key: string): boolean {
    return this.online.has(key);
  }
  onReachabilityChange(l: (k: string) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  connect(key: string): void {
    this.online.add(key);
    for (const l of [...this.listeners]) l(key);
  }
}

describe('direct methods', () => {
  const base = { methodName: 'getStatus', payload: { a: 1 }, responseTimeoutSec: 5, connectTimeoutSec: 0 };

  it('matches the response by client and $rid', async () => {
    const dir = new Directory();
    dir.online.add('d1/m1');
    const methods = new DirectMethods(dir);
    const call = methods.invoke({ ...base, deviceId: 'd1', moduleId: 'm1' });
    expect(dir.sent[0]).toEqual({
      key: 'd1/m1',
      topic: '$iothub/methods/POST/getStatus/?$rid=1',
      payload: '{"a":1}',
    });
    expect(methods.onResponse('d1', '1', 200, Buffer.from('{}'))).toBe(false);
    expect(methods.onResponse('d1/m1', '1', 200, Buffer.from('{"ok":true}'))).toBe(true);
    await expect(call).resolves.toEqual({ status: 200, payload: { ok: true } });
  });

  it('waits for a connecting device up to connectTimeout, else answers DeviceNotOnline', async () => {
    const dir = new Directory();
    const methods = new DirectMethods(dir);
    await expect(methods.invoke({ ...base, deviceId: 'd1' })).rejects.toMatchObject({
      code: 'DeviceNotOnline',
      status: 404,
    });
    const call = methods.invoke({ ...base, deviceId: 'd1', connectTimeoutSec: 5 });
    dir.connect('d1');
    await new Promise((r) => setImmediate(r));
    const rid = /\$rid=(\w+)/.exec(dir.sent[0]?.topic ?? '')?.[1] ?? '';
    methods.onResponse('d1', rid, 200, Buffer.alloc(0));
    await expect(call).resolves.toEqual({ status: 200, payload: null });
    methods.close();
  });

  it('validates timeouts and names like IoT Hub', () => {
    expect(() => DirectMethods.validate({ ...base, deviceId: 'd', responseTimeoutSec: 4 })).toThrow(
      /5\.\.300/,
    );
    expect(() => DirectMethods.validate({ ...base, deviceId: 'd', connectTimeoutSec: 301 })).toThrow(
      /0\.\.300/,
    );
    expect(() => DirectMethods.validate({ ...base, deviceId: 'd', methodName: 'a/b' })).toThrow(/not valid/);
  });

  it('fails pending calls on close', async () => {
    const dir = new Directory();
    dir.online.add('d1');
    const methods = new DirectMethods(dir);
    const call = methods.invoke({ ...base, deviceId: 'd1' });
    methods.close();
    await expect(call).rejects.toMatchObject({ code: 'ServerError' });
  });
});

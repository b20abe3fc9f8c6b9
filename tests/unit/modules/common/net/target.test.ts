import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import {
  TargetError,
  classifyDialError,
  dialTarget,
  formatTarget,
  parseTarget,
  sameTarget,
} from '../../../../../modules/common/src/net/target';

describe('parseTarget', () => {
  it.each([
    ['db.local:1433', { kind: 'tcp', host: 'db.local', port: 1433 }],
    ['127.0.0.1:80', { kind: 'tcp', host: '127.0.0.1', port: 80 }],
    ['localhost:65535', { kind: 'tcp', host: 'localhost', port: 65535 }],
    ['[::1]:8080', { kind: 'tcp', host: '::1', port: 8080 }],
    ['[fe80::1:2]:1', { kind: 'tcp', host: 'fe80::1:2', port: 1 }],
    ['unix:/run/app.sock', { kind: 'unix', path: '/run/app.sock' }],
    ['plc_panel-1.factory.example:502', { kind: 'tcp', host: 'plc_panel-1.factory.example', port: 502 }],
  ])('parses %s', (text, expected) => {
    expect(parseTarget(text)).toEqual(expected);
  });

  it.each([
    ['db.local', 'expected host:port'],
    [':80', 'host is empty'],
    ['db.local:', 'port "" is not a number'],
    ['db.local:http', 'port "http" is not a number'],
    ['db.local:0', 'outside 1-65535'],
    ['db.local:65536', 'outside 1-65535'],
    ['::1:80', 'must be written in brackets'],
    ['[::1:80', 'missing "]"'],
    ['[::1]80', 'expected ":port"'],
    ['[10.0.0.1]:80', 'is not an IPv6 address'],
    ['bad host:80', 'is not a valid host name'],
    ['-x.example:80', 'is not a valid host name'],
    ['unix:relative.sock', 'must be absolute'],
  ])('refuses %s', (text, detail) => {
    let caught: unknown;
    try {
      parseTarget(text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TargetError);
    expect((caught as TargetError).code).toBe('TARGET_INVALID');
    expect((caught as TargetError).retryable).toBe(false);
    expect((caught as TargetError).message).toContain(detail);
  });

  it('formats back to the canonical text', () => {
    for (const text of ['db.local:1433', '[::1]:8080', 'unix:/run/app.sock', '10.1.2.3:22']) {
      expect(formatTarget(parseTarget(text))).toBe(text);
    }
    expect(sameTarget(parseTarget('[::1]:80'), parseTarget('[::1]:80'))).toBe(true);
    expect(sameTarget(parseTarget('[::1]:80'), parseTarget('[::1]:81'))).toBe(false);
  });
});

describe('classifyDialError', () => {
  it.each([
    ['ECONNREFUSED', 'refused'],
    ['ENOENT', 'refused'],
    ['ENOTFOUND', 'dns'],
    ['EAI_AGAIN', 'dns'],
    ['ETIMEDOUT', 'timeout'],
    ['EHOSTUNREACH', 'other'],
    ['EACCES', 'other'],
  ])('%s is %s', (code, cause) => {
    expect(classifyDialError(Object.assign(new Error(code), { code }))).toBe(cause);
  });

  it('reads the first attempt of an AggregateError', () => {
    const refused = Object.assign(new Error('x'), { code: 'ECONNREFUSED' });
    expect(classifyDialError(new AggregateError([refused, refused]))).toBe('refused');
  });
});

describe('dialTarget', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function listen(server: net.Server, options: net.ListenOptions): Promise<void> {
    await new Promise<void>((resolve) => server.listen(options, resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  }

  it('connects over TCP and leaves no timeout armed on the socket', async () => {
    const server = net.createServer((s) => s.end('hi'));
    await listen(server, { host: '127.0.0.1', port: 0 });
    const { port } = server.address() as net.AddressInfo;
    const socket = await dialTarget(parseTarget(`127.0.0.1:${port}`), { connectTimeoutMs: 5000 });
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('hi');
    expect(socket.timeout).toBeUndefined();
  });

  it('dials TCP targets with Nagle off (no delayed-ACK wait added by the tunnel)', async () => {
    const server = net.createServer((s) => s.end());
    await listen(server, { host: '127.0.0.1', port: 0 });
    const { port } = server.address() as net.AddressInfo;
    const seen: net.NetConnectOpts[] = [];
    const socket = await dialTarget(parseTarget(`127.0.0.1:${port}`), {
      connectTimeoutMs: 5000,
      connect: (opts: net.NetConnectOpts) => {
        seen.push(opts);
        return net.connect(opts);
      },
    });
    socket.destroy();
    expect(seen).toEqual([expect.objectContaining({ host: '127.0.0.1', port, noDelay: true })]);
  });

  it('connects to a Unix socket', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'target-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const sock = path.join(dir, 'echo.sock');
    const server = net.createServer((s) => s.pipe(s));
    await listen(server, { path: sock });
    const socket = await dialTarget(parseTarget(`unix:${sock}`), { connectTimeoutMs: 5000 });
    socket.end('ping');
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('ping');
  });

  it('reports a closed port as DIAL_REFUSED', async () => {
    const server = net.createServer();
    await listen(server, { host: '127.0.0.1', port: 0 });
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    cleanups.pop();
    await expect(
      dialTarget(parseTarget(`127.0.0.1:${port}`), { connectTimeoutMs: 5000 }),
    ).rejects.toMatchObject({
      code: 'DIAL_REFUSED',
      dialCause: 'refused',
      retryable: true,
    });
  });

  it('reports a missing Unix socket as DIAL_REFUSED', async () => {
    const missing = path.join(os.tmpdir(), `no-such-${process.pid}-${Date.now()}.sock`);
    await expect(
      dialTarget(parseTarget(`unix:${missing}`), { connectTimeoutMs: 5000 }),
    ).rejects.toMatchObject({
      code: 'DIAL_REFUSED',
    });
  });

  it('reports an unresolvable name as DIAL_DNS', async () => {
    // .invalid is reserved (RFC 2606): no resolver anywhere answers it.
    await expect(
      dialTarget(parseTarget('no-such-host.invalid:80'), { connectTimeoutMs: 20000 }),
    ).rejects.toMatchObject({ code: 'DIAL_DNS', dialCause: 'dns' });
  });

  it('gives up after connectTimeoutMs when the peer never answers, and destroys the socket', async () => {
    let pending: net.Socket | undefined;
    // A socket that is never connected stands in for a peer that drops SYNs.
    const connect = (): net.Socket => (pending = new net.Socket());
    const error = await dialTarget(parseTarget('192.0.2.1:9'), { connectTimeoutMs: 50, connect }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'DIAL_TIMEOUT', dialCause: 'timeout' });
    expect((error as Error).message).toContain('50 ms');
    expect(pending?.destroyed).toBe(true);
  });

  it('stops on abort', async () => {
    let pending: net.Socket | undefined;
    const controller = new AbortController();
    const dial = dialTarget(parseTarget('192.0.2.1:9'), {
      connectTimeoutMs: 60000,
      signal: controller.signal,
      connect: () => (pending = new net.Socket()),
    });
    controller.abort();
    await expect(dial).rejects.toMatchObject({ code: 'DIAL_FAILED' });
    expect(pending?.destroyed).toBe(true);
    await expect(
      dialTarget(parseTarget('127.0.0.1:9'), { connectTimeoutMs: 100, signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'DIAL_FAILED' });
  });
});

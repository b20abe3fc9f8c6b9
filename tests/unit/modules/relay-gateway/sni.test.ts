import { once } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { normalizeGatewayConfig } from '../../../../modules/relay-gateway/src/config/normalize';
import { parseClientHello } from '../../../../modules/relay-gateway/src/sni/client-hello';
import { pickSniTarget } from '../../../../modules/relay-gateway/src/sni/sni-routing';

/** The first bytes Node's TLS client sends (its ClientHello), captured by a plain TCP server. */
async function captureClientHello(servername?: string): Promise<Buffer> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const captured = new Promise<Buffer>((resolve) =>
    server.once('connection', (s) => {
      const chunks: Buffer[] = [];
      s.on('data', (c: Buffer) => {
        chunks.push(c);
        const all = Buffer.concat(chunks);
        if (all.length >= 5 && all.length >= 5 + all.readUInt16BE(3)) {
          resolve(all);
          s.destroy();
        }
      });
    }),
  );
  const client = tls.connect({ port, host: '127.0.0.1', ...(servername !== undefined && { servername }) });
  client.on('error', () => undefined);
  const hello = await captured;
  client.destroy();
  server.close();
  return hello;
}

describe('ClientHello server name', () => {
  it('reads the name from a real ClientHello, asking for more on every shorter prefix', async () => {
    const hello = await captureClientHello('App.Example.Test');
    expect(parseClientHello(hello)).toEqual({ status: 'ok', serverName: 'app.example.test' });
    for (let n = 0; n < hello.length; n += 7)
      expect(parseClientHello(hello.subarray(0, n)).status).toBe('incomplete');
  });

  it('reads a ClientHello split over two TLS records', async () => {
    const hello = await captureClientHello('split.example.test');
    const body = hello.subarray(5);
    const record = (part: Buffer): Buffer => Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0, 0]), part]);
    const [a, b] = [record(body.subarray(0, 40)), record(body.subarray(40))];
    a.writeUInt16BE(40, 3);
    b.writeUInt16BE(body.length - 40, 3);
    expect(parseClientHello(Buffer.concat([a, b]))).toEqual({
      status: 'ok',
      serverName: 'split.example.test',
    });
    expect(parseClientHello(a).status).toBe('incomplete');
  });

  it('a ClientHello without SNI (an IP literal as host) has no name', async () => {
    expect(parseClientHello(await captureClientHello())).toEqual({ status: 'ok' });
  });

  it.each([
    ['plain text', Buffer.from('GET / HTTP/1.1\r\n'), /not a TLS handshake record/],
    ['SSL 2 framing', Buffer.from([0x16, 0x02, 0x00, 0x00, 0x10]), /major version is not 3/],
    ['an empty record', Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00]), /out of range/],
    ['a ServerHello', Buffer.from([0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00]), /not ClientHello/],
    [
      'a truncated body',
      Buffer.from([0x16, 0x03, 0x01, 0x00, 0x06, 0x01, 0x00, 0x00, 0x02, 0x03, 0x03]),
      /truncated/,
    ],
  ])('refuses %s', (_what, bytes, message) => {
    const result = parseClientHello(bytes);
    expect(result.status).toBe('invalid');
    expect((result as { message: string }).message).toMatch(message);
  });
});

describe('SNI route configuration', () => {
  const KEY = Buffer.alloc(32, 1).toString('base64');
  const doc = (sni: unknown) => ({
    schemaVersion: 1,
    hybridConnections: {
      a: {
        connectionString: `Endpoint=sb://ns.example/;SharedAccessKeyName=s;SharedAccessKey=${KEY};EntityPath=a`,
      },
    },
    routes: { r: { port: 443, hybridConnection: 'a', service: 'web', allow: ['0.0.0.0/0'], sni } },
  });

  it('exact names win over wildcards, the longest wildcard over shorter ones; unknown names refuse by default', () => {
    const result = normalizeGatewayConfig(
      doc({
        names: {
          'x.lab.example.test': { hybridConnection: 'a', service: 'exact' },
          '*.example.test': { hybridConnection: 'a', service: 'wide' },
          '*.lab.example.test': { hybridConnection: 'a', service: 'lab' },
        },
      }),
    );
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const sni = result.config.routes.get('r')!.sni!;
    expect(pickSniTarget(sni, 'x.lab.example.test')).toMatchObject({ service: 'exact' });
    expect(pickSniTarget(sni, 'y.lab.example.test')).toMatchObject({ service: 'lab' });
    expect(pickSniTarget(sni, 'y.example.test')).toMatchObject({ service: 'wide' });
    expect(pickSniTarget(sni, 'example.test')).toBeUndefined();
    expect(pickSniTarget(sni, undefined)).toBeUndefined();
    expect(sni.helloTimeoutMs).toBe(5000);
  });

  it.each([
    [
      { names: { 'a.test': { hybridConnection: 'nope', service: 's' } } },
      '/routes/r/sni/names/a.test/hybridConnection',
    ],
    [{ names: { 'bad name': { hybridConnection: 'a', service: 's' } } }, '/routes/r/sni/names'],
    [{ names: { '*.*.test': { hybridConnection: 'a', service: 's' } } }, '/routes/r/sni/names'],
    [{ names: {} }, '/routes/r/sni/names'],
    [
      {
        names: {
          'A.test': { hybridConnection: 'a', service: 's' },
          'a.TEST': { hybridConnection: 'a', service: 't' },
        },
      },
      '/routes/r/sni/names/a.TEST',
    ],
    [
      { names: { 'a.test': { hybridConnection: 'a', service: 's' } }, unknownName: 'drop' },
      '/routes/r/sni/unknownName',
    ],
    [
      {
        names: { 'a.test': { hybridConnection: 'a', service: 's' } },
        hosts: { x: { name: 'A.TEST', hybridConnection: 'a', service: 't' } },
      },
      '/routes/r/sni/hosts/x',
    ],
    [
      { hosts: { x: { name: 'a.test', hybridConnection: 'nope', service: 's' } } },
      '/routes/r/sni/hosts/x/hybridConnection',
    ],
    [{ hosts: { 'a.test': { name: 'a.test', hybridConnection: 'a', service: 's' } } }, '/routes/r/sni/hosts'],
    [{ hosts: { x: { name: 'no-dot', hybridConnection: 'a', service: 's' } } }, '/routes/r/sni/hosts/x/name'],
    [{ unknownName: 'refuse' }, '/routes/r/sni'],
  ])('refuses %j at %s', (sni, path) => {
    const result = normalizeGatewayConfig(doc(sni));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems.map((p) => p.path).some((p) => p.startsWith(path))).toBe(true);
  });

  it('takes the table in the twin-safe form too (IoT Hub refuses "." in twin keys): hosts.<key>.name', () => {
    const result = normalizeGatewayConfig(
      doc({
        hosts: {
          berlin_web: { name: 'web.berlin.relay.example.test', hybridConnection: 'a', service: 'web' },
          lab: { name: '*.Lab.example.test', hybridConnection: 'a', service: 'lab' },
        },
        names: { 'x.example.test': { hybridConnection: 'a', service: 'x' } },
      }),
    );
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const sni = result.config.routes.get('r')!.sni!;
    expect(pickSniTarget(sni, 'web.berlin.relay.example.test')).toMatchObject({ service: 'web' });
    expect(pickSniTarget(sni, 'y.lab.example.test')).toMatchObject({ service: 'lab' });
    expect(pickSniTarget(sni, 'x.example.test')).toMatchObject({ service: 'x' });
    expect(pickSniTarget(sni, 'other.example.test')).toBeUndefined();
  });
});

// The fleet's probe on real loopback servers: the sample services answer it (ok), and an answer that differs by one
// byte, a page for another location, or a closed port do not.
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import { startSampleService, type SampleService } from '../../sandbox/src/demo/services';
import { ECHO_PROBE_BYTES, probeService } from '../../sandbox/src/fleet/probe';

describe('fleet probe', () => {
  const services: SampleService[] = [];
  const servers: net.Server[] = [];
  afterAll(async () => {
    await Promise.all(services.map((s) => s.close()));
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('passes the sample page naming the location and service, and an exact echo', async () => {
    const web = await startSampleService('http', { location: 'berlin', service: 'web' });
    const echo = await startSampleService('echo', { location: 'berlin', service: 'echo' });
    services.push(web, echo);
    expect(
      await probeService({ location: 'berlin', service: 'web', kind: 'http', publicPort: web.port }),
    ).toEqual({
      ok: true,
      detail: 'GET / → 200 "Hello from berlin / web"',
    });
    const echoed = await probeService({
      location: 'berlin',
      service: 'echo',
      kind: 'echo',
      publicPort: echo.port,
    });
    expect(echoed.ok).toBe(true);
    expect(echoed.detail).toMatch(
      new RegExp(`^echoed ${ECHO_PROBE_BYTES} random bytes, sha256 [0-9a-f]{12}… matches$`),
    );
  });

  it('fails a page for another location, an echo with one byte changed, and a closed port', async () => {
    const web = await startSampleService('http', { location: 'oslo', service: 'web' });
    services.push(web);
    const other = await probeService({
      location: 'berlin',
      service: 'web',
      kind: 'http',
      publicPort: web.port,
    });
    expect(other.ok).toBe(false);
    expect(other.detail).toMatch(/^GET \/ → 200 unexpected answer/);

    // An "echo" that flips one bit of the 1000th byte: same length, other digest.
    const bad = net.createServer({ allowHalfOpen: true }, (socket) => {
      let offset = 0;
      socket.on('data', (chunk: Buffer) => {
        const copy = Buffer.from(chunk);
        if (offset <= 999 && offset + copy.length > 999) copy[999 - offset]! ^= 1;
        offset += chunk.length;
        socket.write(copy);
      });
      socket.on('end', () => socket.end());
    });
    servers.push(bad);
    await new Promise<void>((resolve) => bad.listen(0, '127.0.0.1', resolve));
    const port = (bad.address() as AddressInfo).port;
    const flipped = await probeService({ location: 'x', service: 'echo', kind: 'echo', publicPort: port });
    expect(flipped.ok).toBe(false);
    expect(flipped.detail).toMatch(
      new RegExp(`sent ${ECHO_PROBE_BYTES} bytes .* got ${ECHO_PROBE_BYTES} \\(sha256`),
    );

    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect(
      await probeService({ location: 'x', service: 'echo', kind: 'echo', publicPort: closedPort }),
    ).toEqual({
      ok: false,
      detail: 'connection refused: the gateway is not listening on it yet',
    });
  });
});

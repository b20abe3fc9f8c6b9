// The status view's HTTP server with a literal fleet source: the page and its files, the JSON document, the
// server-sent event stream, headers that keep the page from running anything it did not ship, and clean shutdown.
import * as http from 'node:http';
import * as net from 'node:net';
import { startStatusServer, type StatusServer } from '../../cloud/src/status';
import type { FleetReading } from '../../cloud/src/status/source';
import type { FleetDocument } from '../../cloud/src/status/view-types';
import { fixtureReading } from '../support/status-fixtures';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(url: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens /api/events and collects `fleet` events. */
function openEvents(url: string) {
  const documents: FleetDocument[] = [];
  let buffer = '';
  let response: http.IncomingMessage | undefined;
  const req = http.get(`${url}api/events`, { agent: false }, (res) => {
    response = res;
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const lines = block.split('\n');
        if (!lines.includes('event: fleet')) continue;
        const data = lines
          .filter((l) => l.startsWith('data: '))
          .map((l) => l.slice(6))
          .join('\n');
        documents.push(JSON.parse(data) as FleetDocument);
      }
    });
  });
  req.on('error', () => undefined);
  return {
    documents,
    headers: () => response?.headers,
    ended: () =>
      new Promise<void>((resolve) => (response?.complete ? resolve() : req.on('close', () => resolve()))),
    close: () => req.destroy(),
  };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('status server', () => {
  let server: StatusServer;
  let reading: FleetReading;
  let failNext = false;

  beforeAll(async () => {
    reading = fixtureReading();
    server = await startStatusServer({
      source: {
        read: async () => {
          if (failNext) {
            failNext = false;
            throw Object.assign(new Error('hub unreachable'), { code: 'STATUS_SOURCE_FAILED' });
          }
          return reading;
        },
      },
      port: 0,
      pollIntervalMs: 60_000, // tests call refresh()
    });
    await server.refresh();
  });

  afterAll(async () => {
    await server.close();
  });

  it('serves the page, its script, styles and uPlot from node_modules, with a strict content policy', async () => {
    const page = await request(server.url);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<script type="module" src="/app.js"></script>');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    for (const [path, type] of [
      ['app.js', 'text/javascript'],
      ['render.js', 'text/javascript'],
      ['style.css', 'text/css'],
      ['vendor/uplot.js', 'text/javascript'],
      ['vendor/uplot.css', 'text/css'],
    ] as const) {
      const answer = await request(`${server.url}${path}`);
      expect([path, answer.status, answer.headers['content-type']?.split(';')[0]]).toEqual([path, 200, type]);
      expect(answer.body.length).toBeGreaterThan(100);
    }
    expect((await request(`${server.url}vendor/uplot.js`)).body).toContain('uPlot');
  });

  it('answers only its own paths and methods', async () => {
    for (const path of [
      'static/app.js',
      '..%2Fpackage.json',
      'vendor/../package.json',
      'node_modules/uplot/package.json',
    ]) {
      expect([path, (await request(`${server.url}${path}`)).status]).toEqual([path, 404]);
    }
    const post = await request(`${server.url}api/fleet`, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    const head = await request(`${server.url}api/fleet`, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('serves the fleet document as JSON', async () => {
    const answer = await request(`${server.url}api/fleet?x=1`);
    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toBe('no-store');
    const doc = JSON.parse(answer.body) as FleetDocument;
    expect(doc.source.ok).toBe(true);
    expect(doc.snapshot?.locations.map((l) => l.id)).toEqual(['depot', 'lab-box', 'new-site', 'plant-7']);
    expect(doc.history.bucketMs).toBe(60_000);
  });

  it('streams the document at once and after every poll, including a failed one', async () => {
    const events = openEvents(server.url);
    try {
      await until(() => events.documents.length >= 1, 'the first event');
      expect(events.headers()?.['content-type']).toBe('text/event-stream; charset=utf-8');
      reading = fixtureReading({ withSsh: true });
      await server.refresh();
      await until(() => events.documents.length >= 2, 'the update');
      const plant = events.documents[1]!.snapshot!.locations.find((l) => l.id === 'plant-7')!;
      expect(plant.services.map((s) => [s.name, s.publicPort])).toContainEqual(['ssh', 20003]);
      failNext = true;
      await server.refresh();
      await until(() => events.documents.length >= 3, 'the failure');
      expect(events.documents[2]!.source).toMatchObject({
        ok: false,
        error: { code: 'STATUS_SOURCE_FAILED' },
      });
      expect(events.documents[2]!.snapshot?.locations).toHaveLength(4);
    } finally {
      events.close();
    }
  });

  it('refuses bad options and a port in use with typed errors', async () => {
    await expect(
      startStatusServer({ source: { read: async () => reading }, pollIntervalMs: 5 }),
    ).rejects.toMatchObject({
      code: 'STATUS_BAD_OPTIONS',
    });
    await expect(startStatusServer({ port: 0 })).rejects.toMatchObject({ code: 'STATUS_BAD_OPTIONS' });
    await expect(
      startStatusServer({ source: { read: async () => reading }, port: 0, staticDir: '/nonexistent' }),
    ).rejects.toMatchObject({ code: 'STATUS_BAD_OPTIONS', message: expect.stringContaining('index.html') });
    await expect(
      startStatusServer({ source: { read: async () => reading }, port: server.port, pollIntervalMs: 60_000 }),
    ).rejects.toMatchObject({ code: 'STATUS_LISTEN_FAILED', retryable: true });
  });

  it('closes with pages still connected and leaves nothing open', async () => {
    const other = await startStatusServer({
      source: { read: async () => reading },
      port: 0,
      pollIntervalMs: 100,
    });
    const events = openEvents(other.url);
    await until(() => events.documents.length >= 1, 'the first event');
    await other.close();
    await events.ended();
    await expect(
      new Promise((resolve, reject) => {
        const socket = net.connect(other.port, '127.0.0.1');
        socket.on('connect', () => reject(new Error('still listening')));
        socket.on('error', resolve);
      }),
    ).resolves.toBeDefined();
    await other.close(); // idempotent
  });
});

// The running fleet's admin endpoint and its client (what `npm run sandbox:add-location` uses), on a real loopback
// server; the fleet behind it is a plain function here (the whole fleet runs in tests/e2e/fleet.test.ts).
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminClientError, adminFilePath, requestAddLocation } from '../../sandbox/src/fleet/admin-client';
import { startAdminServer, type AdminServer } from '../../sandbox/src/fleet/admin-server';
import type { FleetLocation } from '../../sandbox/src/fleet/location';
import { FleetRequestError } from '../../sandbox/src/fleet/world';

function location(name: string): FleetLocation {
  return {
    name,
    deviceId: name,
    dpsSubstatus: 'deviceDataMigrated',
    rows: [
      {
        location: name,
        service: 'web',
        kind: 'http',
        publicPort: 20001,
        target: '127.0.0.1:8080',
        verified: { ok: true, detail: 'GET / → 200' },
      },
    ],
    timings: { provisionMs: 10, dpsMs: 20, forwarderStartedMs: 30, reachableMs: 40 },
    stop: async () => undefined,
  };
}

function post(port: number, headers: http.OutgoingHttpHeaders, body: string, path = '/locations') {
  return new Promise<{ status?: number; body: string }>((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port, path, method: 'POST', headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

describe('fleet admin endpoint', () => {
  let stateDir: string;
  let server: AdminServer | undefined;
  const asked: string[] = [];

  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'hrf-fleet-admin-'));
    await mkdir(join(stateDir, 'fleet'));
    asked.length = 0;
    server = await startAdminServer(adminFilePath(stateDir), async (name) => {
      asked.push(name);
      if (name === 'taken') throw new FleetRequestError('LOCATION_EXISTS', 'location taken exists already');
      if (name === 'Bad') throw new FleetRequestError('INVALID_NAME', 'location name "Bad" must be …');
      if (name === 'broken') throw new Error('DPS said no');
      return location(name);
    });
  });
  afterEach(async () => {
    await server?.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('writes admin.json (0600: port, token, pid) and adds a location for a client that has it', async () => {
    const file = adminFilePath(stateDir);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const admin = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    expect(admin).toEqual({
      port: server!.port,
      token: expect.stringMatching(/^[\w-]{43}$/),
      pid: process.pid,
    });

    const answer = await requestAddLocation(stateDir, 'nice');
    expect(asked).toEqual(['nice']);
    expect(answer).toMatchObject({
      location: 'nice',
      deviceId: 'nice',
      rows: location('nice').rows,
      timings: location('nice').timings,
      totalMs: expect.any(Number),
    });
  });

  it('refuses requests without the token, other paths and bodies without a name', async () => {
    const { port, token } = JSON.parse(await readFile(adminFilePath(stateDir), 'utf8')) as {
      port: number;
      token: string;
    };
    const body = JSON.stringify({ name: 'nice' });
    expect((await post(port, {}, body)).status).toBe(401);
    expect((await post(port, { authorization: `Bearer ${token}x` }, body)).status).toBe(401);
    expect((await post(port, { authorization: `Bearer ${token}` }, body, '/other')).status).toBe(404);
    const noName = await post(port, { authorization: `Bearer ${token}` }, '{}');
    expect(noName.status).toBe(400);
    expect(JSON.parse(noName.body)).toMatchObject({ error: 'INVALID_NAME' });
    expect((await post(port, { authorization: `Bearer ${token}` }, 'not json')).status).toBe(400);
    expect(asked).toEqual([]);
  });

  it('passes the fleet’s refusals and failures on as typed client errors', async () => {
    await expect(requestAddLocation(stateDir, 'taken')).rejects.toMatchObject({
      code: 'REFUSED',
      message: 'location taken exists already',
    });
    await expect(requestAddLocation(stateDir, 'Bad')).rejects.toMatchObject({ code: 'REFUSED' });
    await expect(requestAddLocation(stateDir, 'broken')).rejects.toMatchObject({
      code: 'FAILED',
      retryable: true,
      message: 'DPS said no',
    });
  });

  it('says clearly that no fleet is running: no admin.json, a gone process, or a closed port', async () => {
    const file = adminFilePath(stateDir);
    const admin = await readFile(file, 'utf8');
    await server!.close();
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    const noFile = requestAddLocation(stateDir, 'nice');
    await expect(noFile).rejects.toBeInstanceOf(AdminClientError);
    await expect(noFile).rejects.toMatchObject({
      code: 'NO_FLEET',
      message: expect.stringMatching(/^no fleet is running/),
    });

    // The file of a fleet that was killed (SIGKILL leaves it behind): its port is closed now.
    await writeFile(file, admin, { mode: 0o600 });
    await expect(requestAddLocation(stateDir, 'nice')).rejects.toMatchObject({ code: 'NO_FLEET' });
    // … or its process is gone (a pid that cannot exist).
    await writeFile(file, JSON.stringify({ ...JSON.parse(admin), pid: 2 ** 22 + 1 }), { mode: 0o600 });
    await expect(requestAddLocation(stateDir, 'nice')).rejects.toMatchObject({
      code: 'NO_FLEET',
      message: expect.stringContaining('which is gone'),
    });
  });
});

// The status view's actions endpoint with a literal fleet source: the operator token, the body, which routes can
// be acted on, and what reaches the direct-method client. The call through IoT Hub to a running relay-gateway is
// in tests/e2e/status-view.test.ts; here the client records calls, as the module's answers are not under test.
import { startStatusServer, type StatusServer } from '../../cloud/src/status';
import type { MethodInvoker } from '../../cloud/src/status/actions';
import { fixtureReading } from '../support/status-fixtures';

const TOKEN = 'a-long-enough-operator-token';

describe('status view actions', () => {
  let server: StatusServer;
  const calls: unknown[][] = [];
  const methods = {
    invokeDeviceMethod: async (...args: unknown[]) => {
      calls.push(args);
      return { result: { status: 200, payload: { draining: ['plant-7_sql'] } }, message: undefined };
    },
  } as unknown as MethodInvoker;

  beforeAll(async () => {
    const reading = fixtureReading();
    server = await startStatusServer({
      source: { read: async () => reading },
      port: 0,
      pollIntervalMs: 60_000,
      operatorToken: TOKEN,
      methods,
    });
    await server.refresh();
  });

  afterAll(async () => {
    await server.close();
  });

  const post = async (body: unknown, token: string | undefined = TOKEN) => {
    const response = await fetch(`${server.url}api/actions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('tells the page that actions are offered', async () => {
    expect(((await (await fetch(`${server.url}api/fleet`)).json()) as { actions: boolean }).actions).toBe(
      true,
    );
  });

  it('calls the gateway drain method for a route the view shows, with the right token only', async () => {
    const drain = { action: 'drain', gateway: 'gw-1', route: 'plant-7_sql' };
    expect((await post(drain, '')).status).toBe(401); // no Authorization header
    expect((await post(drain, 'not-the-token-at-all')).status).toBe(401);
    expect(calls).toEqual([]);
    expect(await post(drain)).toEqual({
      status: 200,
      body: { status: 200, payload: { draining: ['plant-7_sql'] } },
    });
    expect(calls).toEqual([
      [
        'gw-1',
        'relay-gateway',
        { methodName: 'drain', payload: { route: 'plant-7_sql' }, responseTimeoutInSeconds: 30 },
      ],
    ]);
  });

  it('sends the method to the relay-gateway instance that carries the route', async () => {
    const reading = fixtureReading({ secondInstance: {} });
    const split = await startStatusServer({
      source: { read: async () => reading },
      port: 0,
      pollIntervalMs: 60_000,
      operatorToken: TOKEN,
      methods,
    });
    try {
      await split.refresh();
      calls.length = 0;
      const response = await fetch(`${split.url}api/actions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ action: 'drain', gateway: 'gw-1', route: 'depot_api' }),
      });
      expect(response.status).toBe(200);
      expect(calls.map((c) => c.slice(0, 2))).toEqual([['gw-1', 'relay-gateway-2']]);
    } finally {
      await split.close();
    }
  });

  it('refuses a bad body, another method and a route the view does not show', async () => {
    calls.length = 0;
    expect((await post('not json')).body).toMatchObject({ code: 'BAD_BODY' });
    expect((await post({ action: 'reboot', gateway: 'gw-1', route: 'plant-7_sql' })).status).toBe(400);
    expect(await post({ action: 'resume', gateway: 'gw-9', route: 'plant-7_sql' })).toMatchObject({
      status: 404,
      body: { code: 'UNKNOWN_ROUTE' },
    });
    expect((await post({ action: 'resume', gateway: 'gw-1', route: 'x'.repeat(5000) })).status).toBe(413);
    expect(calls).toEqual([]);
  });

  it('needs a long token and a method client, and a token to leave loopback', async () => {
    const reading = fixtureReading();
    const source = { read: async () => reading };
    for (const options of [
      { operatorToken: 'short', methods },
      { operatorToken: TOKEN },
      { bindAddress: '0.0.0.0' },
    ])
      await expect(startStatusServer({ source, port: 0, ...options })).rejects.toMatchObject({
        code: 'STATUS_BAD_OPTIONS',
      });
  });
});

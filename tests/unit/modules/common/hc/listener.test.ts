import type WebSocket from 'ws';
import { rejectWith, type AcceptRequest } from '../../../../../modules/common/src/hc/accept-message';
import type { BackoffPolicy } from '../../../../../modules/common/src/hc/backoff';
import type { HybridConnectionEndpoint } from '../../../../../modules/common/src/hc/endpoint';
import type { RelayError } from '../../../../../modules/common/src/hc/errors';
import {
  HybridConnectionListener,
  type HybridConnectionListenerOptions,
  type ReconnectInfo,
} from '../../../../../modules/common/src/hc/listener';
import type { RelayLogger } from '../../../../../modules/common/src/hc/logger';
import { createLogger } from '../../../../../modules/common/src/log';
import {
  createSasToken,
  sasTokenExpiresAtMs,
  verifySasToken,
} from '../../../../../modules/common/src/hc/sas';
import {
  keyTokenProvider,
  staticTokenProvider,
  type TokenProvider,
} from '../../../../../modules/common/src/hc/token-provider';
import { FakeRelayService, nextEvent, until, type FakeSocket } from '../../../../support/hc-fake-service';

// The listener against a scripted service: the edge cases (refusals, silent pongs, instant drops) that the
// sandbox relay would not produce on demand. The sandbox-backed tests live in tests/integration.

const KEY = 'bGlzdGVuZXItdW5pdC10ZXN0LWtleQ==';
const FAST: BackoffPolicy = { initialDelayMs: 20, maxDelayMs: 160, multiplier: 2, jitterRatio: 0.5 };

let service: FakeRelayService;
let listener: HybridConnectionListener | undefined;

beforeEach(async () => {
  service = await FakeRelayService.start();
});

afterEach(async () => {
  await listener?.close();
  listener = undefined;
  await service.stop();
});

function endpoint(tokenProvider: TokenProvider = keyTokenProvider('listen', KEY)): HybridConnectionEndpoint {
  return { namespace: service.namespace, path: 'hyco', tokenProvider, tls: { ca: service.pki.caPem } };
}

function startListener(
  options: HybridConnectionListenerOptions = {},
  ep: HybridConnectionEndpoint = endpoint(),
): HybridConnectionListener {
  listener = new HybridConnectionListener(ep, { backoff: FAST, random: () => 0, ...options });
  return listener.start();
}

function controlSockets(): FakeSocket[] {
  return service.socketsFor('listen');
}

function acceptAddress(id: string): string {
  return `wss://${service.namespace}/$hc/hyco?sb-hc-action=accept&sb-hc-id=${id}`;
}

function sendAccept(id: string, connectHeaders: Record<string, string> = {}): void {
  const control = controlSockets().at(-1)!;
  control.ws.send(JSON.stringify({ accept: { address: acceptAddress(id), id, connectHeaders } }));
}

describe('HybridConnectionListener control channel', () => {
  it('opens wss://{ns}/$hc/{path}?sb-hc-action=listen with the token in ServiceBusAuthorization', async () => {
    const l = startListener({ id: 'listener-1' });
    expect(l.state).toBe('connecting');
    await nextEvent(l, 'online');
    expect(l.state).toBe('online');
    const [handshake] = service.handshakesFor('listen');
    expect(handshake.url.pathname).toBe('/$hc/hyco');
    expect(handshake.url.searchParams.get('sb-hc-id')).toBe('listener-1');
    expect(handshake.url.searchParams.has('sb-hc-token')).toBe(false);
    const token = String(handshake.headers['servicebusauthorization']);
    const verdict = verifySasToken(token, {
      resource: `http://${service.namespace}/hyco`,
      keyFor: (name) => (name === 'listen' ? KEY : undefined),
    });
    expect(verdict.ok).toBe(true);
    expect(handshake.headers['sec-websocket-extensions']).toBeUndefined();
  });

  it('keeps reconnecting through 401/403/404/500 with capped, growing delays, reporting each typed error', async () => {
    const statuses = [401, 403, 404, 500, 401, 401];
    let refused = 0;
    service.answer = () =>
      refused < statuses.length ? { status: statuses[refused++], description: 'nope' } : 'open';
    const errors: RelayError[] = [];
    const reconnects: ReconnectInfo[] = [];
    const l = startListener();
    l.on('error', (e) => errors.push(e));
    l.on('reconnecting', (r) => reconnects.push(r));
    await nextEvent(l, 'online');
    expect(errors.map((e) => [e.code, e.status])).toEqual([
      ['RELAY_UNAUTHORIZED', 401],
      ['RELAY_FORBIDDEN', 403],
      ['RELAY_NOT_FOUND', 404],
      ['RELAY_SERVER_ERROR', 500],
      ['RELAY_UNAUTHORIZED', 401],
      ['RELAY_UNAUTHORIZED', 401],
    ]);
    expect(reconnects.map((r) => r.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(reconnects.map((r) => r.delayMs)).toEqual([20, 40, 80, 160, 160, 160]);
    expect(l.stats).toMatchObject({ connectAttempts: 7, reconnects: 6 });
  });

  it('does not crash when nobody listens for error events', async () => {
    let refused = false;
    service.answer = () => (refused ? 'open' : ((refused = true), { status: 401 }));
    const l = startListener();
    await nextEvent(l, 'online');
    expect(l.stats.reconnects).toBe(1);
  });

  it('backs off (no tight loop) when the service drops the channel with 1008 right after each handshake', async () => {
    let drops = 0;
    service.onOpen = (socket) => {
      if (socket.handshake.url.searchParams.get('sb-hc-action') === 'listen' && drops < 4) {
        drops += 1;
        socket.ws.close(1008, 'token expired');
      }
    };
    const offline: RelayError[] = [];
    const reconnects: ReconnectInfo[] = [];
    const l = startListener({ healthyAfterMs: 60_000 });
    l.on('offline', (e) => offline.push(e));
    l.on('reconnecting', (r) => reconnects.push(r));
    await until(
      () => service.handshakesFor('listen').length === 5 && l.state === 'online',
      10_000,
      '5th channel',
    );
    expect(offline.map((e) => e.code)).toEqual(Array(4).fill('RELAY_TOKEN_EXPIRED'));
    expect(reconnects.map((r) => r.delayMs)).toEqual([20, 40, 80, 160]);
  });

  it('resets the backoff once a channel has been healthy for healthyAfterMs', async () => {
    let drops = 0;
    service.onOpen = (socket) => {
      if (socket.handshake.url.searchParams.get('sb-hc-action') === 'listen' && drops < 3) {
        drops += 1;
        setTimeout(() => socket.ws.close(1011, 'service error'), 150);
      }
    };
    const reconnects: ReconnectInfo[] = [];
    const l = startListener({ healthyAfterMs: 50 });
    l.on('reconnecting', (r) => reconnects.push(r));
    await until(
      () => service.handshakesFor('listen').length === 4 && l.state === 'online',
      10_000,
      '4th channel',
    );
    expect(reconnects.map((r) => [r.attempt, r.delayMs, r.error.code])).toEqual(
      Array(3).fill([1, 20, 'RELAY_SERVER_ERROR']),
    );
  });

  it('pings the control channel and stays online while pongs come back', async () => {
    const l = startListener({ pingIntervalMs: 20 });
    await nextEvent(l, 'online');
    await until(() => service.pings >= 5, 10_000, 'five pings');
    expect(l.state).toBe('online');
    expect(l.stats).toMatchObject({ reconnects: 0, pingTimeouts: 0 });
  });

  it('treats a missing pong as a dead channel and reconnects', async () => {
    await service.stop();
    service = await FakeRelayService.start({ autoPong: false });
    const l = startListener({ pingIntervalMs: 30, pongTimeoutMs: 30 });
    await nextEvent(l, 'online');
    const [error] = (await nextEvent(l, 'offline')) as [RelayError];
    expect(error.code).toBe('RELAY_TIMEOUT');
    expect(l.stats.pingTimeouts).toBe(1);
    await nextEvent(l, 'online');
    expect(service.handshakesFor('listen')).toHaveLength(2);
  });

  it('close() while waiting to reconnect, or mid-handshake, leaves nothing running', async () => {
    service.answer = () => ({ status: 503 });
    const l = startListener({ backoff: { ...FAST, initialDelayMs: 60_000, maxDelayMs: 60_000 } });
    await nextEvent(l, 'reconnecting');
    await l.close();
    expect(l.state).toBe('closed');

    service.answer = () => 'hang';
    const hanging = startListener();
    await until(() => service.handshakes.length === 2, 10_000, 'second handshake');
    const closed = nextEvent(hanging, 'close');
    await hanging.close();
    await closed;
    expect(hanging.stats.connectAttempts).toBe(1);
  });
});

describe('HybridConnectionListener token renewal', () => {
  it('sends renewToken before expiry on the same channel, without reconnecting', async () => {
    const l = startListener({}, endpoint(keyTokenProvider('listen', KEY, 2_000)));
    await nextEvent(l, 'online');
    await nextEvent(l, 'tokenRenewed');
    const control = controlSockets()[0];
    await until(() => control.messages.length > 0, 10_000, 'renewToken message');
    const renewal = control.messages[0] as { renewToken: { token: string } };
    const first = String(service.handshakesFor('listen')[0].headers['servicebusauthorization']);
    expect(renewal.renewToken.token).not.toBe(first);
    expect(renewal.renewToken.token).toMatch(/^SharedAccessSignature sr=/);
    expect(l.stats).toMatchObject({ connectAttempts: 1, reconnects: 0 });
    expect(l.stats.tokenRenewals).toBeGreaterThanOrEqual(1);
  });

  it('renewToken() hands a replaced static token to the service at once', async () => {
    const resource = `http://${service.namespace}/hyco`;
    const provider = staticTokenProvider(
      createSasToken({ resource, keyName: 'listen', key: KEY, lifetimeMs: 3_600_000 }),
    );
    const l = startListener({}, endpoint(provider));
    await nextEvent(l, 'online');
    const replacement = createSasToken({ resource, keyName: 'listen', key: KEY, lifetimeMs: 7_200_000 });
    provider.update(replacement);
    await l.renewToken();
    const control = controlSockets()[0];
    await until(() => control.messages.length === 1, 10_000, 'renewToken message');
    expect(control.messages[0]).toEqual({ renewToken: { token: replacement } });
    expect(l.stats.connectAttempts).toBe(1);
  });

  it('asks again while the provider has no newer token (a cached Entra ID token), then renews on the same channel', async () => {
    const resource = `http://${service.namespace}/hyco`;
    const first = createSasToken({ resource, keyName: 'listen', key: KEY, lifetimeMs: 5_000 });
    const second = createSasToken({ resource, keyName: 'listen', key: KEY, lifetimeMs: 3_600_000 });
    let calls = 0;
    // Handshake and first renewal get the same token, as a credential's cache answers before its refresh time.
    const provider: TokenProvider = {
      getToken: async () => {
        calls += 1;
        const token = calls <= 2 ? first : second;
        return { token, expiresAtMs: sasTokenExpiresAtMs(token) };
      },
    };
    const l = startListener({ renewAtLifetimeRatio: 0.2 }, endpoint(provider));
    await nextEvent(l, 'online');
    const control = controlSockets()[0];
    await until(() => control.messages.length === 1, 10_000, 'renewToken with the newer token');
    expect(control.messages[0]).toEqual({ renewToken: { token: second } });
    expect(calls).toBe(3);
    expect(l.stats).toMatchObject({ connectAttempts: 1, reconnects: 0, tokenRenewals: 1 });
  });

  it('renewToken() while waiting after a 401 reconnects at once with the new token', async () => {
    const resource = `http://${service.namespace}/hyco`;
    const stale = createSasToken({ resource, keyName: 'listen', key: 'wrong-key', lifetimeMs: 3_600_000 });
    const fresh = createSasToken({ resource, keyName: 'listen', key: KEY, lifetimeMs: 3_600_000 });
    service.answer = (h) => (h.headers['servicebusauthorization'] === fresh ? 'open' : { status: 401 });
    const provider = staticTokenProvider(stale);
    // A one-minute backoff: coming online within the test proves renewToken() skipped the wait.
    const l = startListener(
      { backoff: { ...FAST, initialDelayMs: 60_000, maxDelayMs: 60_000 } },
      endpoint(provider),
    );
    await nextEvent(l, 'reconnecting');
    provider.update(fresh);
    await l.renewToken();
    await nextEvent(l, 'online');
    expect(l.stats.connectAttempts).toBe(2);
  });
});

describe('HybridConnectionListener accept and reject', () => {
  it('opens the accept address and emits the WebSocket with the request', async () => {
    const seen: AcceptRequest[] = [];
    const l = startListener({
      acceptHandler: (request) => {
        seen.push(request);
        return { accept: true };
      },
    });
    await nextEvent(l, 'online');
    sendAccept('conn-1', { 'X-Custom': 'yes' });
    const [ws, request] = (await nextEvent(l, 'connection')) as [WebSocket, AcceptRequest];
    expect(request).toMatchObject({ id: 'conn-1', connectHeaders: { 'X-Custom': 'yes' } });
    expect(seen).toHaveLength(1);
    const [rendezvous] = service.socketsFor('accept');
    expect(rendezvous.handshake.url.searchParams.get('sb-hc-id')).toBe('conn-1');
    // The accept socket carries no token: the address itself is the credential.
    expect(rendezvous.handshake.headers['servicebusauthorization']).toBeUndefined();
    ws.send('from listener');
    await until(() => rendezvous.messages.includes('from listener'), 10_000, 'relayed text');
    expect(l.stats.accepted).toBe(1);
    expect(l.connectionCount).toBe(1);
  });

  it('rejects through the address with sb-hc-statusCode/statusDescription; the 410 answer is success', async () => {
    service.answer = (h) =>
      h.url.searchParams.has('sb-hc-statusCode') ? { status: 410, description: 'Gone' } : 'open';
    const errors: RelayError[] = [];
    const l = startListener({ acceptHandler: () => rejectWith(403, 'Not today, thanks') });
    l.on('error', (e) => errors.push(e));
    await nextEvent(l, 'online');
    sendAccept('conn-2');
    await nextEvent(l, 'rejected');
    const [handshake] = service.handshakesFor('accept');
    expect(handshake.url.searchParams.get('sb-hc-id')).toBe('conn-2');
    expect(handshake.url.searchParams.get('sb-hc-statusCode')).toBe('403');
    expect(handshake.url.searchParams.get('sb-hc-statusDescription')).toBe('Not today, thanks');
    expect(errors).toEqual([]);
    expect(l.stats).toMatchObject({ rejected: 1, accepted: 0, acceptFailures: 0 });
  });

  it('rejects with 500 when the accept handler throws, and reports it', async () => {
    service.answer = (h) => (h.url.searchParams.has('sb-hc-statusCode') ? { status: 410 } : 'open');
    const l = startListener({
      acceptHandler: () => {
        throw new Error('handler bug');
      },
    });
    const errors: RelayError[] = [];
    l.on('error', (e) => errors.push(e));
    await nextEvent(l, 'online');
    sendAccept('conn-3');
    await nextEvent(l, 'rejected');
    expect(service.handshakesFor('accept')[0].url.searchParams.get('sb-hc-statusCode')).toBe('500');
    expect(errors.map((e) => e.code)).toEqual(['RELAY_REJECTED']);
  });

  it('reports an expired accept address as RELAY_GONE and stays online', async () => {
    service.answer = (h) => (h.url.searchParams.get('sb-hc-action') === 'accept' ? { status: 404 } : 'open');
    const l = startListener();
    const errors: RelayError[] = [];
    l.on('error', (e) => errors.push(e));
    await nextEvent(l, 'online');
    sendAccept('conn-4');
    await until(() => errors.length === 1, 10_000, 'accept failure');
    expect(errors[0]).toMatchObject({ code: 'RELAY_GONE', status: 404 });
    expect(l.stats.acceptFailures).toBe(1);
    expect(l.state).toBe('online');
  });

  it('ignores control messages it does not understand', async () => {
    const l = startListener();
    const errors: RelayError[] = [];
    l.on('error', (e) => errors.push(e));
    await nextEvent(l, 'online');
    controlSockets()[0].ws.send(JSON.stringify({ request: { address: 'wss://x/', id: 'r' } }));
    controlSockets()[0].ws.send('not json');
    await until(() => errors.length === 1, 10_000, 'protocol error');
    expect(errors[0].code).toBe('RELAY_PROTOCOL');
    expect(l.state).toBe('online');
  });

  it("close() closes accepted connections by default, and keeps them with connections: 'keep'", async () => {
    const l = startListener();
    await nextEvent(l, 'online');
    sendAccept('keep-me');
    const [kept] = (await nextEvent(l, 'connection')) as [WebSocket];
    await l.close({ connections: 'keep' });
    expect(kept.readyState).toBe(kept.OPEN);
    kept.close();

    const other = startListener();
    await nextEvent(other, 'online');
    sendAccept('close-me');
    const [closed] = (await nextEvent(other, 'connection')) as [WebSocket];
    const closedEvent = nextEvent(closed, 'close');
    await other.close();
    const [code] = await closedEvent;
    expect(code).toBe(1001);
  });
});

describe('HybridConnectionListener logging', () => {
  it('logs structured lines led by the listener id, and never a token or an accept address', async () => {
    const lines: Array<{ level: string; obj: Record<string, unknown>; msg?: string }> = [];
    const record =
      (level: string) =>
      (obj: object, msg?: string): void =>
        void lines.push({ level, obj: obj as Record<string, unknown>, msg });
    const logger: RelayLogger = {
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    };
    // A pino logger fits the same interface.
    const pinoLogger: RelayLogger = createLogger('listener-test', 'silent');
    expect(pinoLogger).toBeDefined();

    let refused = false;
    service.answer = (h) => {
      if (h.url.searchParams.get('sb-hc-action') === 'listen' && !refused) {
        refused = true;
        return { status: 401, description: 'bad token' };
      }
      return h.url.searchParams.has('sb-hc-statusCode') ? { status: 410 } : 'open';
    };
    let decisions = 0;
    const l = startListener(
      {
        id: 'log-test',
        logger,
        acceptHandler: () => (decisions++ === 0 ? { accept: true } : rejectWith(403, 'no')),
      },
      endpoint(keyTokenProvider('listen', KEY, 2_000)),
    );
    await nextEvent(l, 'online');
    sendAccept('accepted-1');
    await nextEvent(l, 'connection');
    sendAccept('rejected-1');
    await nextEvent(l, 'rejected');
    await nextEvent(l, 'tokenRenewed');
    await l.close();

    expect(lines.length).toBeGreaterThan(4);
    const text = JSON.stringify(lines);
    expect(text).not.toMatch(/SharedAccessSignature|sig=|se=\d/);
    expect(text).not.toContain(KEY);
    expect(text).not.toContain(acceptAddress('accepted-1'));
    for (const line of lines) expect(Object.keys(line.obj)[0]).toBe('listenerId');
    expect(lines.map((line) => line.msg)).toEqual(
      expect.arrayContaining([
        'control channel handshake failed',
        'listener online',
        'token renewed',
        'listener closed',
      ]),
    );
  });
});

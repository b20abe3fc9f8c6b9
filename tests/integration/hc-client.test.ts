import { createHash, randomBytes } from 'node:crypto';
import type WebSocket from 'ws';
import { rejectWith, type AcceptRequest } from '../../modules/common/src/hc/accept-message';
import { endpointResource, type HybridConnectionEndpoint } from '../../modules/common/src/hc/endpoint';
import { RelayError } from '../../modules/common/src/hc/errors';
import {
  HybridConnectionListener,
  type HybridConnectionListenerOptions,
} from '../../modules/common/src/hc/listener';
import { createSasToken } from '../../modules/common/src/hc/sas';
import { connectHybridConnection } from '../../modules/common/src/hc/sender';
import { keyTokenProvider } from '../../modules/common/src/hc/token-provider';
import { startSandboxRelay, type SandboxRelay } from '../../sandbox/src/relay';
import { createSandboxHybridConnection } from '../support/hc-endpoints';
import { nextEvent, until } from '../support/hc-fake-service';

// Our sender and listener against the sandbox relay over TLS: every documented status as our code sees it,
// reject pass-through, token renewal, and bytes end to end.

const FAST_BACKOFF = { initialDelayMs: 50, maxDelayMs: 400, multiplier: 2, jitterRatio: 0.5 };

let relay: SandboxRelay;
const listeners: HybridConnectionListener[] = [];

beforeAll(async () => {
  relay = await startSandboxRelay();
});

afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.close()));
});

afterAll(async () => {
  await relay.stop();
});

async function online(
  endpoint: HybridConnectionEndpoint,
  options: HybridConnectionListenerOptions = {},
): Promise<HybridConnectionListener> {
  const listener = new HybridConnectionListener(endpoint, { backoff: FAST_BACKOFF, ...options });
  listeners.push(listener);
  const up = nextEvent(listener, 'online');
  listener.start();
  await up;
  return listener;
}

async function failure(promise: Promise<unknown>): Promise<RelayError> {
  const outcome = await promise.then(
    (ws) => {
      (ws as WebSocket).terminate();
      return new Error('expected the connection to fail');
    },
    (err: unknown) => err,
  );
  expect(outcome).toBeInstanceOf(RelayError);
  return outcome as RelayError;
}

function wrongKeyEndpoint(endpoint: HybridConnectionEndpoint): HybridConnectionEndpoint {
  return { ...endpoint, tokenProvider: keyTokenProvider('send', 'bm90LXRoZS1yaWdodC1rZXk=') };
}

describe('sender statuses through the sandbox relay', () => {
  it('404 RELAY_NO_LISTENER when nobody listens, and for an unknown hybrid connection', async () => {
    const hc = createSandboxHybridConnection(relay, 'sender-404');
    expect(await failure(connectHybridConnection(hc.send))).toMatchObject({
      code: 'RELAY_NO_LISTENER',
      status: 404,
      retryable: true,
    });
    expect(await failure(connectHybridConnection({ ...hc.send, path: 'no-such-hc' }))).toMatchObject({
      code: 'RELAY_NO_LISTENER',
      status: 404,
    });
  });

  it('401 RELAY_UNAUTHORIZED for a token signed with the wrong key', async () => {
    const hc = createSandboxHybridConnection(relay, 'sender-401');
    await online(hc.listen);
    expect(await failure(connectHybridConnection(wrongKeyEndpoint(hc.send)))).toMatchObject({
      code: 'RELAY_UNAUTHORIZED',
      status: 401,
      retryable: false,
    });
  });

  it('403 RELAY_FORBIDDEN for a Listen-only credential or a token for another hybrid connection', async () => {
    const hc = createSandboxHybridConnection(relay, 'sender-403');
    const other = createSandboxHybridConnection(relay, 'sender-403-other');
    await online(hc.listen);
    expect(await failure(connectHybridConnection({ ...hc.listen }))).toMatchObject({
      code: 'RELAY_FORBIDDEN',
      status: 403,
      retryable: false,
    });
    const foreign = other.sendKey;
    const tokenForOther = {
      getToken: async () => {
        const token = createSasToken({
          resource: endpointResource(other.send),
          keyName: foreign.keyName,
          key: foreign.key,
          lifetimeMs: 60_000,
        });
        return { token, expiresAtMs: Date.now() + 60_000 };
      },
    };
    const err = await failure(connectHybridConnection({ ...hc.send, tokenProvider: tokenForOther }));
    expect([401, 403]).toContain(err.status);
  });

  it("passes the listener's reject code and description to the sender", async () => {
    const hc = createSandboxHybridConnection(relay, 'sender-reject');
    const verdicts = [
      rejectWith(410, 'Gone fishing'),
      rejectWith(400, 'Unknown service "db"'),
      rejectWith(503, 'Target busy, try later'),
    ];
    let next = 0;
    const listener = await online(hc.listen, { acceptHandler: () => verdicts[next++] });
    const rejectedEvents: number[] = [];
    listener.on('rejected', (_req, decision) =>
      rejectedEvents.push(decision.accept ? 0 : decision.statusCode),
    );
    const errors: RelayError[] = [];
    listener.on('error', (e) => errors.push(e));

    expect(await failure(connectHybridConnection(hc.send))).toMatchObject({
      code: 'RELAY_REJECTED',
      status: 410,
      retryable: false,
      message: expect.stringContaining('Gone fishing'),
    });
    expect(await failure(connectHybridConnection(hc.send))).toMatchObject({
      code: 'RELAY_REJECTED',
      status: 400,
      message: expect.stringContaining('Unknown service "db"'),
    });
    expect(await failure(connectHybridConnection(hc.send))).toMatchObject({
      code: 'RELAY_SERVER_ERROR',
      status: 503,
      retryable: true,
      message: expect.stringContaining('Target busy, try later'),
    });
    await until(() => rejectedEvents.length === 3, 10_000, 'three rejections');
    expect(rejectedEvents).toEqual([410, 400, 503]);
    // The relay answered each reject handshake with 410: success for the listener, not an error.
    expect(errors).toEqual([]);
    expect(listener.stats).toMatchObject({ rejected: 3, acceptFailures: 0 });
  });

  it('RELAY_TIMEOUT when the relay gives up on a slow listener (504) and when our own bound expires', async () => {
    const impatient = await startSandboxRelay({ acceptTimeoutMs: 200 });
    try {
      const hc = createSandboxHybridConnection(impatient, 'slow');
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      const listener = new HybridConnectionListener(hc.listen, {
        acceptHandler: async () => {
          await held;
          return { accept: true };
        },
      });
      const up = nextEvent(listener, 'online');
      listener.start();
      await up;
      expect(await failure(connectHybridConnection(hc.send))).toMatchObject({
        code: 'RELAY_TIMEOUT',
        status: 504,
        retryable: true,
      });
      expect(await failure(connectHybridConnection(hc.send, { timeoutMs: 100 }))).toMatchObject({
        code: 'RELAY_TIMEOUT',
        status: undefined,
        retryable: true,
      });
      release();
      await listener.close();
    } finally {
      await impatient.stop();
    }
  });

  it('RELAY_NETWORK when the relay is gone', async () => {
    const doomed = await startSandboxRelay();
    const hc = createSandboxHybridConnection(doomed, 'gone');
    await doomed.stop();
    expect(await failure(connectHybridConnection(hc.send))).toMatchObject({
      code: 'RELAY_NETWORK',
      retryable: true,
    });
  });

  it('retries "no listener" inside retryNoListenerForMs until a listener appears', async () => {
    const hc = createSandboxHybridConnection(relay, 'sender-retry');
    const pending = connectHybridConnection(hc.send, { retryNoListenerForMs: 20_000 });
    await until(() => (relay.stats().counters.refusedByStatus['connect:404'] ?? 0) >= 2, 10_000, 'two 404s');
    await online(hc.listen);
    const ws = await pending;
    ws.close();
  });
});

describe('listener statuses through the sandbox relay', () => {
  it('reports 401, 403 and 404 as typed errors and keeps retrying until the problem is fixed', async () => {
    const hc = createSandboxHybridConnection(relay, 'listener-status');
    const codes = async (endpoint: HybridConnectionEndpoint, count: number): Promise<string[]> => {
      const listener = new HybridConnectionListener(endpoint, { backoff: FAST_BACKOFF });
      listeners.push(listener);
      const seen: string[] = [];
      listener.on('error', (e) => seen.push(`${e.code}:${e.status}`));
      listener.start();
      await until(() => seen.length >= count, 10_000, `${count} errors`);
      expect(listener.state).not.toBe('online');
      await listener.close();
      return seen.slice(0, count);
    };
    expect(await codes(wrongKeyEndpoint(hc.listen), 2)).toEqual([
      'RELAY_UNAUTHORIZED:401',
      'RELAY_UNAUTHORIZED:401',
    ]);
    expect(await codes(hc.send, 2)).toEqual(['RELAY_FORBIDDEN:403', 'RELAY_FORBIDDEN:403']);

    // A listener started before its hybrid connection exists comes online once it is created
    // (namespace-wide Listen credential, so the token is valid for the entity as soon as it appears).
    const root = relay.rootKeys;
    const early = new HybridConnectionListener(
      { ...hc.listen, path: 'created-later', tokenProvider: keyTokenProvider(root.keyName, root.primaryKey) },
      { backoff: FAST_BACKOFF },
    );
    listeners.push(early);
    const notFound = nextEvent(early, 'error');
    early.start();
    expect(((await notFound)[0] as RelayError).code).toBe('RELAY_NOT_FOUND');
    const up = nextEvent(early, 'online');
    relay.createHybridConnection('created-later');
    await up;
  });
});

describe('data and renewal through the sandbox relay', () => {
  it('carries bytes both ways with connect headers and the sender id', async () => {
    const hc = createSandboxHybridConnection(relay, 'bytes');
    const requests: AcceptRequest[] = [];
    const listener = await online(hc.listen, {
      acceptHandler: (request) => {
        requests.push(request);
        return { accept: true };
      },
    });
    listener.on('connection', (ws) => ws.on('message', (data: Buffer) => ws.send(data)));
    const ws = await connectHybridConnection(hc.send, {
      id: 'trace-42',
      headers: { 'X-Half-Close': 'fin-v1' },
    });
    const payload = randomBytes(1024 * 1024);
    const echoed: Buffer[] = [];
    let echoedBytes = 0;
    ws.on('message', (data: Buffer) => {
      echoed.push(data);
      echoedBytes += data.length;
    });
    for (let offset = 0; offset < payload.length; offset += 64 * 1024)
      ws.send(payload.subarray(offset, offset + 64 * 1024));
    await until(() => echoedBytes === payload.length, 20_000, 'echo');
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(sha(Buffer.concat(echoed))).toBe(sha(payload));
    expect(requests[0].id).toBe('trace-42');
    const header = Object.entries(requests[0].connectHeaders).find(
      ([k]) => k.toLowerCase() === 'x-half-close',
    );
    expect(header?.[1]).toBe('fin-v1');
    // The relay strips the sender's credential before handing the headers to the listener.
    expect(Object.keys(requests[0].connectHeaders).map((k) => k.toLowerCase())).not.toContain(
      'servicebusauthorization',
    );
    ws.close();
  });

  it('renews a short-lived token before expiry and outlives it on the same control channel', async () => {
    const lifetimeMs = 3_000;
    const hc = createSandboxHybridConnection(relay, 'renewal', { tokenLifetimeMs: lifetimeMs });
    const before = relay.stats().counters;
    const startedAtMs = Date.now();
    // Renewing at half the lifetime leaves a wide margin before each expiry, even on a loaded machine.
    const listener = await online(hc.listen, { renewAtLifetimeRatio: 0.5 });
    // Well past the first token's expiry: without renewal the relay would have closed the channel with 1008.
    await until(
      () =>
        relay.stats().counters.tokenRenewals - before.tokenRenewals >= 2 &&
        Date.now() - startedAtMs > lifetimeMs + 500,
      15_000,
      'two renewals past the first expiry',
    );
    const after = relay.stats().counters;
    expect(after.tokenRenewalsRefused - before.tokenRenewalsRefused).toBe(0);
    expect(after.tokenExpiryCloses - before.tokenExpiryCloses).toBe(0);
    expect(listener.state).toBe('online');
    expect(listener.stats).toMatchObject({ connectAttempts: 1, reconnects: 0 });
    expect(listener.stats.tokenRenewals).toBeGreaterThanOrEqual(2);
    // The renewed channel still takes connections.
    const ws = await connectHybridConnection(hc.send);
    ws.close();
  });
});

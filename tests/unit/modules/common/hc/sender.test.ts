import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { HybridConnectionEndpoint } from '../../../../../modules/common/src/hc/endpoint';
import { RelayError } from '../../../../../modules/common/src/hc/errors';
import { connectHybridConnection } from '../../../../../modules/common/src/hc/sender';
import { keyTokenProvider } from '../../../../../modules/common/src/hc/token-provider';
import { FakeRelayService, until } from '../../../../support/hc-fake-service';

// The sender against a scripted service; the sandbox-backed status tests live in tests/integration.

const KEY = 'c2VuZGVyLXVuaXQtdGVzdC1rZXk=';
let service: FakeRelayService;

beforeEach(async () => {
  service = await FakeRelayService.start();
});

afterEach(async () => {
  await service.stop();
});

function endpoint(namespace = service.namespace): HybridConnectionEndpoint {
  return {
    namespace,
    path: 'hyco',
    tokenProvider: keyTokenProvider('send', KEY),
    tls: { ca: service.pki.caPem },
  };
}

async function failure(promise: Promise<unknown>): Promise<RelayError> {
  const outcome = await promise.then(
    () => new Error('expected a failure'),
    (err: unknown) => err,
  );
  expect(outcome).toBeInstanceOf(RelayError);
  return outcome as RelayError;
}

describe('connectHybridConnection', () => {
  it('connects with sb-hc-action=connect, the id, the token header and the caller headers', async () => {
    const ws = await connectHybridConnection(endpoint(), {
      id: 'sender-1',
      headers: { 'X-Half-Close': 'fin-v1', servicebusauthorization: 'forged' },
    });
    const [handshake] = service.handshakesFor('connect');
    expect(handshake.url.pathname).toBe('/$hc/hyco');
    expect(handshake.url.searchParams.get('sb-hc-id')).toBe('sender-1');
    expect(handshake.headers['x-half-close']).toBe('fin-v1');
    // The caller's copy of the token header is dropped: ours is the only credential sent.
    expect(handshake.headers['servicebusauthorization']).toMatch(/^SharedAccessSignature sr=/);
    expect(handshake.headers['sec-websocket-extensions']).toBeUndefined();
    ws.close();
  });

  it.each([
    [401, 'RELAY_UNAUTHORIZED', false],
    [403, 'RELAY_FORBIDDEN', false],
    [404, 'RELAY_NO_LISTENER', true],
    [410, 'RELAY_REJECTED', false],
    [500, 'RELAY_SERVER_ERROR', true],
    [503, 'RELAY_SERVER_ERROR', true],
  ])('maps %i to %s (retryable %s) with the status description', async (status, code, retryable) => {
    service.answer = () => ({ status, description: 'Tracking id 42' });
    const err = await failure(connectHybridConnection(endpoint()));
    expect(err).toMatchObject({ code, retryable, status });
    expect(err.message).toContain('Tracking id 42');
    expect(service.handshakes).toHaveLength(1);
  });

  it('times out a handshake nobody answers with RELAY_TIMEOUT', async () => {
    service.answer = () => 'hang';
    const err = await failure(connectHybridConnection(endpoint(), { timeoutMs: 100 }));
    expect(err).toMatchObject({ code: 'RELAY_TIMEOUT', retryable: true });
  });

  it('reports a refused TCP connection as a retryable RELAY_NETWORK', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const err = await failure(connectHybridConnection(endpoint(`127.0.0.1:${port}`)));
    expect(err).toMatchObject({ code: 'RELAY_NETWORK', retryable: true });
  });

  it('reports an untrusted certificate as a non-retryable RELAY_NETWORK', async () => {
    const err = await failure(connectHybridConnection({ ...endpoint(), tls: undefined }));
    expect(err).toMatchObject({ code: 'RELAY_NETWORK', retryable: false });
    expect(err.message).toMatch(/certificate/);
  });

  it('retries 404 within retryNoListenerForMs and succeeds once a listener appears', async () => {
    let refusals = 0;
    service.answer = () => (refusals < 3 ? (refusals++, { status: 404 }) : 'open');
    const ws = await connectHybridConnection(endpoint(), {
      retryNoListenerForMs: 10_000,
      backoff: { initialDelayMs: 10, maxDelayMs: 40, multiplier: 2, jitterRatio: 0 },
    });
    expect(service.handshakesFor('connect')).toHaveLength(4);
    ws.close();
  });

  it('gives up on 404 when the window closes, after a bounded number of attempts', async () => {
    service.answer = () => ({ status: 404 });
    const err = await failure(
      connectHybridConnection(endpoint(), {
        retryNoListenerForMs: 1_000,
        backoff: { initialDelayMs: 100, maxDelayMs: 100, multiplier: 1, jitterRatio: 0 },
      }),
    );
    expect(err.code).toBe('RELAY_NO_LISTENER');
    // 1000 ms of 100 ms waits: at most 11 attempts however fast the handshakes were.
    expect(service.handshakes.length).toBeGreaterThanOrEqual(2);
    expect(service.handshakes.length).toBeLessThanOrEqual(11);
  });

  it('does not retry other failures inside the window', async () => {
    service.answer = () => ({ status: 401 });
    const err = await failure(connectHybridConnection(endpoint(), { retryNoListenerForMs: 5_000 }));
    expect(err.code).toBe('RELAY_UNAUTHORIZED');
    expect(service.handshakes).toHaveLength(1);
  });

  it('aborts a pending handshake through the signal', async () => {
    service.answer = () => 'hang';
    const controller = new AbortController();
    const pending = connectHybridConnection(endpoint(), { signal: controller.signal });
    await until(() => service.handshakes.length === 1, 10_000, 'handshake');
    controller.abort();
    const err = await failure(pending);
    expect(err).toMatchObject({ code: 'RELAY_ABORTED', retryable: false });
  });
});

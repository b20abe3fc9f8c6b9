// The close handshake on a relay socket is bounded (RELAY_CLOSE_TIMEOUT_MS): a tunnel whose every byte and both
// fins went through ends cleanly even when the relay never answers the close frame, instead of waiting 30 s and
// then reporting the relay lost. A scripted relay plays the listener and stops reading after its fin.
import { connectHybridConnection } from '../../modules/common/src/hc/sender';
import { keyTokenProvider } from '../../modules/common/src/hc/token-provider';
import {
  FIN_FRAME,
  HALF_CLOSE_ACCEPT_FRAME,
  halfCloseOfferHeaders,
  openSenderTunnel,
} from '../../modules/common/src/tunnel';
import { FakeRelayService } from '../support/hc-fake-service';
import { duplexClosed } from '../support/relay-forwarder-harness';

describe('tunnel close handshake bound', () => {
  let fake: FakeRelayService;

  beforeAll(async () => {
    fake = await FakeRelayService.start();
  });

  afterAll(async () => {
    await fake.stop();
  });

  it('ends a complete half-closed tunnel cleanly although the relay never answers the close frame', async () => {
    fake.onOpen = ({ ws }) => {
      ws.on('message', (data, isBinary) => {
        if (isBinary && (data as Buffer)[0] === 1 && (data as Buffer).length === 4 + 3) {
          ws.send(HALF_CLOSE_ACCEPT_FRAME);
          ws.send(Buffer.from([1, 0, 0]));
          ws.send(Buffer.from('response'));
        } else if (!isBinary && data.toString() === FIN_FRAME) {
          ws.send(FIN_FRAME);
          // Never read again: our close frame, and anything after it, stays unanswered.
          ws.pause();
        }
      });
    };
    const ws = await connectHybridConnection(
      {
        namespace: fake.namespace,
        path: 'hc',
        tokenProvider: keyTokenProvider('send', Buffer.alloc(32, 3).toString('base64')),
        tls: { ca: fake.pki.caPem },
      },
      { headers: halfCloseOfferHeaders(), timeoutMs: 10_000 },
    );
    const { duplex, halfClose } = await openSenderTunnel(ws, { portName: 'svc', replyTimeoutMs: 10_000 });
    expect(halfClose).toBe(true);
    const received: Buffer[] = [];
    duplex.on('data', (chunk: Buffer) => received.push(chunk));
    const closed = duplexClosed(duplex);
    duplex.end(Buffer.from('request'));
    // A bound far above RELAY_CLOSE_TIMEOUT_MS and far below ws's own 30 s, not a timing claim.
    const capped = await Promise.race([
      closed.then((error) => ({ error })),
      new Promise<'still open'>((resolve) => setTimeout(() => resolve('still open'), 10_000).unref()),
    ]);
    expect(capped).toEqual({ error: undefined });
    expect(Buffer.concat(received).toString()).toBe('response');
  });
});

// Probes a location service through the gateway's public port, the way a user would use it, and verifies the
// bytes that come back: the HTTP page must name the location and service, the echo must return exactly what was
// sent (compared by SHA-256).
import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import type { SampleServiceKind } from '../demo/services';

/** What to probe. */
export interface ProbeTarget {
  readonly location: string;
  readonly service: string;
  readonly kind: SampleServiceKind;
  /** The gateway's public port on 127.0.0.1. */
  readonly publicPort: number;
}

/** A verified answer, or why it failed. */
export interface ProbeResult {
  readonly ok: boolean;
  /** What was sent and what came back (or why it failed), for one line of output. */
  readonly detail: string;
}

/** Bytes each echo probe sends (several relay frames, small enough to stay quick). */
export const ECHO_PROBE_BYTES = 64 * 1024;

/** The heading the sample HTTP page must carry. */
export function expectedHeading(target: Pick<ProbeTarget, 'location' | 'service'>): string {
  return `Hello from ${target.location} / ${target.service}`;
}

/** One probe through the gateway, bounded by `timeoutMs`; never throws. */
export async function probeService(target: ProbeTarget, timeoutMs = 5_000): Promise<ProbeResult> {
  try {
    return target.kind === 'http'
      ? await probeHttp(target, timeoutMs)
      : await probeEcho(target.publicPort, timeoutMs);
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

function probeHttp(target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  const heading = expectedHeading(target);
  return new Promise((resolve, reject) => {
    const request = http.get(
      { host: '127.0.0.1', port: target.publicPort, path: '/', agent: false, timeout: timeoutMs },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('error', reject);
        response.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const ok = response.statusCode === 200 && body.includes(`<h1>${heading}</h1>`);
          const seen = ok ? `"${heading}"` : `unexpected answer ${JSON.stringify(body.slice(0, 80))}`;
          resolve({ ok, detail: `GET / → ${response.statusCode} ${seen}` });
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (err: NodeJS.ErrnoException) => reject(new Error(describe(err))));
  });
}

function probeEcho(port: number, timeoutMs: number): Promise<ProbeResult> {
  const payload = randomBytes(ECHO_PROBE_BYTES);
  const sent = sha256(payload);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const hash = createHash('sha256');
    let received = 0;
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    socket.on('connect', () => socket.end(payload));
    socket.on('data', (c: Buffer) => {
      hash.update(c);
      received += c.length;
    });
    socket.on('error', (err: NodeJS.ErrnoException) => reject(new Error(describe(err))));
    socket.on('end', () => {
      socket.destroy();
      const got = hash.digest('hex');
      const ok = got === sent && received === payload.length;
      resolve({
        ok,
        detail: ok
          ? `echoed ${payload.length} random bytes, sha256 ${sent.slice(0, 12)}… matches`
          : `sent ${payload.length} bytes (sha256 ${sent.slice(0, 12)}…), got ${received} (sha256 ${got.slice(0, 12)}…)`,
      });
    });
  });
}

/** Hex SHA-256 of `data`. */
export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function describe(err: NodeJS.ErrnoException): string {
  if (err.code === 'ECONNRESET') return 'connection reset: the gateway could not open the tunnel yet';
  if (err.code === 'ECONNREFUSED') return 'connection refused: the gateway is not listening on it yet';
  return err.message;
}

// The demo's self-check: a request through every public port, the way a user would try it.
import * as http from 'node:http';
import * as net from 'node:net';
import type { DemoRoute } from './world';

/** What one check found. */
export interface CheckResult {
  readonly route: DemoRoute;
  readonly ok: boolean;
  /** What was sent and what came back (or why it failed). */
  readonly detail: string;
}

/** Default bound on each check; a healthy tunnel answers in milliseconds. */
export const DEFAULT_CHECK_TIMEOUT_MS = 10_000;

/** Checks every route through the gateway: GET / on HTTP services, a line through echo services. */
export async function runSelfCheck(
  routes: readonly DemoRoute[],
  timeoutMs = DEFAULT_CHECK_TIMEOUT_MS,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const route of routes) {
    try {
      results.push(
        route.kind === 'http' ? await checkHttp(route, timeoutMs) : await checkEcho(route, timeoutMs),
      );
    } catch (err) {
      results.push({ route, ok: false, detail: (err as Error).message });
    }
  }
  return results;
}

/** The heading the sample HTTP page must carry for `route`. */
export function expectedHeading(route: Pick<DemoRoute, 'location' | 'service'>): string {
  return `Hello from ${route.location} / ${route.service}`;
}

function checkHttp(route: DemoRoute, timeoutMs: number): Promise<CheckResult> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      { host: '127.0.0.1', port: route.publicPort, path: '/', agent: false, timeout: timeoutMs },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('error', reject);
        response.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const heading = expectedHeading(route);
          const ok = response.statusCode === 200 && body.includes(heading);
          const seen = ok ? `"${heading}"` : `unexpected answer: ${JSON.stringify(body.slice(0, 80))}`;
          resolve({ route, ok, detail: `GET / → ${response.statusCode} ${seen}` });
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (err: NodeJS.ErrnoException) => reject(new Error(describe(err))));
  });
}

function checkEcho(route: DemoRoute, timeoutMs: number): Promise<CheckResult> {
  const line = 'hello\n';
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: route.publicPort, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    socket.on('connect', () => socket.end(line));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err: NodeJS.ErrnoException) => reject(new Error(describe(err))));
    socket.on('end', () => {
      socket.destroy();
      const answer = Buffer.concat(chunks).toString('utf8');
      const ok = answer === line;
      resolve({ route, ok, detail: `sent "hello\\n", got ${JSON.stringify(answer)}` });
    });
  });
}

function describe(err: NodeJS.ErrnoException): string {
  if (err.code === 'ECONNRESET')
    return 'connection reset: the gateway could not open the tunnel (see its log)';
  if (err.code === 'ECONNREFUSED') return 'connection refused: the gateway is not listening';
  return err.message;
}

// The demo's self-check: a request through every public port, the way a user would try it, and each module's
// readiness probe.
import * as http from 'node:http';
import * as net from 'node:net';
import type { DemoRoute } from './world';

/** What one check found. */
export interface CheckResult {
  /** The route id, or the module whose readiness was probed. */
  readonly name: string;
  readonly ok: boolean;
  /** What was sent and what came back (or why it failed). */
  readonly detail: string;
}

/** Default bound on each check; a healthy tunnel answers in milliseconds. */
export const DEFAULT_CHECK_TIMEOUT_MS = 10_000;

/** A module's readiness probe to check. */
export interface ReadinessProbe {
  readonly name: string;
  /** The health endpoint's port on 127.0.0.1. */
  readonly port: number;
}

/**
 * Checks every route through the gateway (GET / on HTTP services, a line through echo services), then each
 * module's `/readyz` (what a load-balancer probe asks).
 */
export async function runSelfCheck(
  routes: readonly DemoRoute[],
  probes: readonly ReadinessProbe[] = [],
  timeoutMs = DEFAULT_CHECK_TIMEOUT_MS,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const attempt = async (name: string, check: () => Promise<CheckResult>): Promise<void> => {
    try {
      results.push(await check());
    } catch (err) {
      results.push({ name, ok: false, detail: (err as Error).message });
    }
  };
  for (const route of routes) {
    await attempt(route.id, () =>
      route.kind === 'http' ? checkHttp(route, timeoutMs) : checkEcho(route, timeoutMs),
    );
  }
  for (const probe of probes) await attempt(probe.name, () => checkReady(probe, timeoutMs));
  return results;
}

/** The heading the sample HTTP page must carry for `route`. */
export function expectedHeading(route: Pick<DemoRoute, 'location' | 'service'>): string {
  return `Hello from ${route.location} / ${route.service}`;
}

async function checkHttp(route: DemoRoute, timeoutMs: number): Promise<CheckResult> {
  const { status, body } = await get(route.publicPort, '/', timeoutMs);
  const heading = expectedHeading(route);
  const ok = status === 200 && body.includes(heading);
  const seen = ok ? `"${heading}"` : `unexpected answer: ${JSON.stringify(body.slice(0, 80))}`;
  return { name: route.id, ok, detail: `GET / through the tunnel → ${status} ${seen}` };
}

async function checkReady(probe: ReadinessProbe, timeoutMs: number): Promise<CheckResult> {
  const { status, body } = await get(probe.port, '/readyz', timeoutMs);
  let state = body.trim();
  try {
    const parsed = JSON.parse(body) as { status?: string; reasons?: Array<{ code?: string }> };
    state = [parsed.status, ...(parsed.reasons ?? []).map((r) => r.code)].filter(Boolean).join(', ');
  } catch {
    // Not JSON: show the text as it is.
  }
  return { name: probe.name, ok: status === 200, detail: `GET /readyz → ${status} ${state}` };
}

function get(port: number, path: string, timeoutMs: number): Promise<{ status?: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      { host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('error', reject);
        response.on('end', () =>
          resolve({ status: response.statusCode, body: Buffer.concat(chunks).toString('utf8') }),
        );
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
      resolve({
        name: route.id,
        ok,
        detail: `sent "hello\\n" through the tunnel, got ${JSON.stringify(answer)}`,
      });
    });
  });
}

function describe(err: NodeJS.ErrnoException): string {
  if (err.code === 'ECONNRESET')
    return 'connection reset: the gateway could not open the tunnel (see its log)';
  if (err.code === 'ECONNREFUSED') return 'connection refused: the gateway is not listening';
  return err.message;
}

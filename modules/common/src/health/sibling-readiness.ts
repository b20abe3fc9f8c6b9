// One load-balancer probe for every relay-gateway module of a VM: the first module's /readyz is ready only when its
// own readiness and every sibling module's /readyz (on this host's loopback) are. The controller places a location
// on any module, so the load balancer cannot know which module serves a port; a VM stays in rotation for a port
// only when the module that serves it is ready (docs/deploy-azure.md, "One probe for all the modules of a VM").
import { request } from 'node:http';
import { TelemetryError } from '../telemetry/errors';
import type { NotReadyReason, ReadinessCheck } from './readiness';

/** Variable with the health ports of the sibling modules, comma-separated (the deployment generator sets it). */
export const SIBLING_PORTS_VARIABLE = 'HEALTH_SIBLING_PORTS';
/** Reason code when a sibling module is not ready or does not answer. */
export const SIBLING_NOT_READY = 'sibling_not_ready';
/** A sibling slower than this counts as not ready (below the health server's own 2 s bound). */
export const DEFAULT_SIBLING_TIMEOUT_MS = 1_000;

/** HEALTH_SIBLING_PORTS as ports; empty or absent: none. A TelemetryError names the variable when malformed. */
export function siblingPortsFromEnv(env: NodeJS.ProcessEnv): number[] {
  const raw = env[SIBLING_PORTS_VARIABLE]?.trim();
  if (!raw) return [];
  return raw.split(',').map((part) => {
    const text = part.trim();
    const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
    if (!(port >= 1 && port <= 65535))
      throw new TelemetryError(
        'TELEMETRY_BAD_SETTING',
        `${SIBLING_PORTS_VARIABLE} must be comma-separated ports 1-65535, got "${raw}"`,
        false,
      );
    return port;
  });
}

/** Options for withSiblings. */
export interface SiblingOptions {
  readonly ports: readonly number[];
  /** Where the siblings listen; loopback (host networking puts every module's health port on the VM). */
  readonly host?: string;
  readonly timeoutMs?: number;
}

/** `own` plus one `sibling_not_ready` reason per sibling whose /readyz is not 200 (or does not answer in time). */
export function withSiblings(own: ReadinessCheck, options: SiblingOptions): ReadinessCheck {
  if (options.ports.length === 0) return own;
  const host = options.host ?? '127.0.0.1';
  const timeoutMs = options.timeoutMs ?? DEFAULT_SIBLING_TIMEOUT_MS;
  return async () => {
    const [mine, ...theirs] = await Promise.all([
      Promise.resolve().then(own),
      ...options.ports.map((port) => siblingReason(host, port, timeoutMs)),
    ]);
    return [...(mine ?? []), ...theirs.filter((r): r is NotReadyReason => r !== undefined)];
  };
}

// Undefined when ready; never rejects.
function siblingReason(host: string, port: number, timeoutMs: number): Promise<NotReadyReason | undefined> {
  return new Promise((resolve) => {
    const notReady = (why: string): void =>
      resolve({ code: SIBLING_NOT_READY, message: `the module on health port ${port}: ${why}` });
    const req = request(
      { host, port, path: '/readyz', method: 'GET', agent: false, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', () => notReady('response aborted'));
        res.on('end', () => {
          if (res.statusCode === 200) return resolve(undefined);
          notReady(
            `${res.statusCode ?? 'no status'} ${codesOf(Buffer.concat(chunks).toString('utf8'))}`.trim(),
          );
        });
      },
    );
    req.on('timeout', () => {
      req.destroy();
      notReady(`no answer within ${timeoutMs} ms`);
    });
    req.on('error', (err: NodeJS.ErrnoException) => notReady(err.code ?? err.message));
    req.end();
  });
}

// The sibling's reason codes, e.g. "(relay_unreachable, shutting_down)"; nothing when the body is not ours.
function codesOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { reasons?: { code?: unknown }[] };
    const codes = (parsed.reasons ?? []).map((r) => r.code).filter((c) => typeof c === 'string');
    return codes.length > 0 ? `(${codes.join(', ')})` : '';
  } catch {
    return '';
  }
}

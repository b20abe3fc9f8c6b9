// The client side of the fleet's admin endpoint: reads `admin.json` and asks the running fleet to add a location.
import { readFile } from 'node:fs/promises';
import * as http from 'node:http';
import { join } from 'node:path';
import { ADD_LOCATION_PATH, type AddLocationAnswer, type AdminFile } from './admin-server';

/** Why a request to the running fleet failed; `NO_FLEET` when none is running. */
export class AdminClientError extends Error {
  readonly code: 'NO_FLEET' | 'REFUSED' | 'FAILED';
  readonly retryable: boolean;
  constructor(code: AdminClientError['code'], message: string) {
    super(message);
    this.name = 'AdminClientError';
    this.code = code;
    this.retryable = code === 'FAILED';
  }
}

/** Where the running fleet writes its admin endpoint. */
export function adminFilePath(stateDir: string): string {
  return join(stateDir, 'fleet', 'admin.json');
}

/** Bound on the whole request: the fleet answers once the new location is reachable. */
export const ADD_LOCATION_TIMEOUT_MS = 180_000;

/** Asks the fleet running with `stateDir` to add location `name`; resolves once it is reachable. */
export async function requestAddLocation(
  stateDir: string,
  name: string,
  timeoutMs = ADD_LOCATION_TIMEOUT_MS,
): Promise<AddLocationAnswer> {
  const admin = await readAdminFile(stateDir);
  const body = JSON.stringify({ name });
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port: admin.port,
        path: ADD_LOCATION_PATH,
        method: 'POST',
        agent: false,
        timeout: timeoutMs,
        headers: {
          authorization: `Bearer ${admin.token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('error', reject);
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ECONNREFUSED'
          ? new AdminClientError('NO_FLEET', `no fleet is running (${adminFileHint(stateDir)} is stale)`)
          : new AdminClientError('FAILED', `the fleet did not answer: ${err.message}`),
      ),
    );
    request.end(body);
  });
  let parsed: { error?: string; message?: string } & Partial<AddLocationAnswer>;
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw new AdminClientError('FAILED', `the fleet answered ${status} with no JSON`);
  }
  if (status === 200) return parsed as AddLocationAnswer;
  const why = parsed.message ?? parsed.error ?? `status ${status}`;
  throw new AdminClientError(status === 500 || status === 503 ? 'FAILED' : 'REFUSED', why);
}

/** Reads admin.json; `NO_FLEET` when it is missing or names a process that is gone. */
export async function readAdminFile(stateDir: string): Promise<AdminFile> {
  let text: string;
  try {
    text = await readFile(adminFilePath(stateDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new AdminClientError(
        'NO_FLEET',
        `no fleet is running (no ${adminFileHint(stateDir)}); start one with npm start`,
      );
    throw err;
  }
  const admin = JSON.parse(text) as AdminFile;
  if (!isAlive(admin.pid))
    throw new AdminClientError(
      'NO_FLEET',
      `no fleet is running (${adminFileHint(stateDir)} names pid ${admin.pid}, which is gone); start one with npm start`,
    );
  return admin;
}

/** True when a process with `pid` exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function adminFileHint(stateDir: string): string {
  return adminFilePath(stateDir);
}

// The running fleet's admin endpoint: HTTP on 127.0.0.1 (an ephemeral port), one request — add a location — allowed
// only with the random token written next to the port in `admin.json` (mode 0600, so only this user can read it).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FleetLocation } from './location';
import { FleetRequestError } from './request-error';

/** What `admin.json` holds. */
export interface AdminFile {
  readonly port: number;
  readonly token: string;
  /** The fleet process, so a client can tell a stale file from a running fleet. */
  readonly pid: number;
}

/** The answer to a successful add-location request (no secrets). */
export interface AddLocationAnswer {
  readonly location: string;
  readonly deviceId: string;
  readonly rows: FleetLocation['rows'];
  readonly timings: FleetLocation['timings'];
  /** The whole request, as the fleet process measured it. */
  readonly totalMs: number;
}

/** The admin path of the add-location request. */
export const ADD_LOCATION_PATH = '/locations';

/** Largest request body accepted (a name is short). */
const MAX_BODY_BYTES = 4096;

/** A running admin endpoint. */
export interface AdminServer {
  readonly port: number;
  /**
   * Removes the file and closes the server; a request in progress keeps its connection until it is answered
   * (stop the fleet at the same time: that answers it with 503). Idempotent.
   */
  close(): Promise<void>;
}

/** Starts the endpoint, then writes `file` (0600); `addLocation` is the fleet's own. */
export async function startAdminServer(
  file: string,
  addLocation: (name: string) => Promise<FleetLocation>,
): Promise<AdminServer> {
  const token = randomBytes(32).toString('base64url');
  const expected = Buffer.from(`Bearer ${token}`);
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: object): void => {
      const text = `${JSON.stringify(body)}\n`;
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    const given = Buffer.from(req.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      reply(401, { error: 'UNAUTHORIZED', message: 'missing or wrong token (see admin.json)' });
      return;
    }
    if (req.url !== ADD_LOCATION_PATH || req.method !== 'POST') {
      reply(404, { error: 'NOT_FOUND', message: `only POST ${ADD_LOCATION_PATH}` });
      return;
    }
    void readJson(req)
      .then(async (body) => {
        const name = (body as { name?: unknown } | undefined)?.name;
        if (typeof name !== 'string') {
          reply(400, { error: 'INVALID_NAME', message: 'the body must be {"name": "<location>"}' });
          return;
        }
        const started = Date.now();
        const location = await addLocation(name);
        const answer: AddLocationAnswer = {
          location: location.name,
          deviceId: location.deviceId,
          rows: location.rows,
          timings: location.timings,
          totalMs: Date.now() - started,
        };
        reply(200, answer);
      })
      .catch((err: unknown) => {
        if (err instanceof FleetRequestError)
          reply(err.code === 'LOCATION_EXISTS' ? 409 : err.code === 'STOPPING' ? 503 : 400, {
            error: err.code,
            message: err.message,
          });
        else reply(500, { error: 'ADD_FAILED', message: (err as Error).message });
      });
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  const content: AdminFile = { port, token, pid: process.pid };
  await writeFile(file, `${JSON.stringify(content)}\n`, { mode: 0o600 });
  let closing: Promise<void> | undefined;
  return {
    port,
    close: () =>
      (closing ??= (async () => {
        await rm(file, { force: true });
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
      })()),
  };
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new FleetRequestError('INVALID_NAME', 'request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new FleetRequestError('INVALID_NAME', 'the body is not JSON'));
      }
    });
  });
}

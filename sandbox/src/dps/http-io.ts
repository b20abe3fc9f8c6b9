import type { IncomingMessage, ServerResponse } from 'node:http';
import { DpsError } from './errors';

/** Largest request body read (enrollment groups with initial twins are small). */
export const MAX_BODY_BYTES = 256 * 1024;

/** A reply before serialization. */
export interface HttpReply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Reads and parses a JSON body; undefined when empty. */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new DpsError('PayloadTooLarge', `request body above ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new DpsError('BadRequest', 'the request body is not valid JSON');
  }
}

/** Writes a JSON reply (`application/json`, which the SDKs need to parse it). */
export function sendReply(res: ServerResponse, reply: HttpReply): void {
  const payload = reply.body === undefined ? undefined : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...reply.headers,
    'content-length': String(payload === undefined ? 0 : Buffer.byteLength(payload)),
    ...(payload !== undefined && { 'content-type': 'application/json; charset=utf-8' }),
  });
  res.end(payload);
}

import { randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { IotHubError } from '../errors';
import { JsonValue } from '../json';

/** Largest request body the REST front reads (twins are 32 KB at most; bulk operations are not served). */
export const MAX_BODY_BYTES = 512 * 1024;

/** A REST reply before serialization. */
export interface RestReply {
  status: number;
  body?: JsonValue;
  headers?: Record<string, string>;
}

/** Reads and parses a JSON request body; undefined when empty. Throws ArgumentInvalid / MessageTooLarge. */
export async function readJsonBody(req: IncomingMessage): Promise<JsonValue | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES)
      throw new IotHubError('MessageTooLarge', `request body above ${MAX_BODY_BYTES} bytes`);
    chunks.push(buf);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as JsonValue;
  } catch {
    throw new IotHubError('ArgumentInvalid', 'request body is not valid JSON');
  }
}

/** Writes a JSON reply. */
export function sendReply(res: ServerResponse, reply: RestReply): void {
  const headers: Record<string, string> = { ...reply.headers };
  let payload: string | undefined;
  if (reply.body !== undefined) {
    payload = JSON.stringify(reply.body);
    headers['content-type'] = 'application/json; charset=utf-8';
    headers['content-length'] = String(Buffer.byteLength(payload));
  } else {
    headers['content-length'] = '0';
  }
  res.writeHead(reply.status, headers);
  res.end(payload);
}

/**
 * Writes an error the way IoT Hub does: `{"Message":"ErrorCode:X;text","ExceptionMessage":…}` — the shape the
 * Azure SDKs parse into typed errors (DeviceNotFoundError, InvalidEtagError, …) — plus `iothub-errorcode`.
 */
export function sendError(res: ServerResponse, err: IotHubError, headers: Record<string, string> = {}): void {
  const trackingId = randomUUID().replace(/-/g, '');
  sendReply(res, {
    status: err.status,
    headers: { ...headers, 'iothub-errorcode': err.code },
    body: {
      Message: `ErrorCode:${err.code};${err.message}`,
      ExceptionMessage: `Tracking ID:${trackingId}-G:0-TimeStamp:${new Date().toISOString()}`,
      errorCode: err.numericCode,
    },
  });
}

/** Quotes an etag for the ETag header. */
export function etagHeader(etag: string): Record<string, string> {
  return { etag: `"${etag}"` };
}

import type { DeviceMethodRequest, DeviceMethodResponse } from 'azure-iot-device';
import type { Logger } from '../log';
import { describeSdkError } from './errors';
import { isJsonObject, type JsonObject, type JsonValue } from './json';
import type { ModuleConnection } from './module-connection';
import { scrubForTwin } from './scrub';

/** What a direct method answers: an HTTP-like status and a JSON payload. */
export interface MethodResult {
  readonly status: number;
  readonly payload: JsonValue;
}

/** Handles one direct method call; `payload` is the request body as JSON (an empty object when none was sent). */
export type MethodHandler = (payload: JsonObject) => MethodResult | Promise<MethodResult>;

/** A 200 answer. */
export function methodOk(payload: JsonValue): MethodResult {
  return { status: 200, payload };
}

/** An error answer with a stable code, e.g. `methodError(404, 'UNKNOWN_ROUTE', 'no route "x"')`. */
export function methodError(status: number, code: string, message: string): MethodResult {
  return { status, payload: { error: { code, message } } };
}

/** The request payload as an object: absent or null → `{}`; anything else that is not an object → undefined. */
export function methodPayload(raw: unknown): JsonObject | undefined {
  let value = raw;
  if (Buffer.isBuffer(value)) value = value.length === 0 ? null : safeParse(value.toString('utf8'));
  if (value === undefined || value === null || value === '') return {};
  return isJsonObject(value) ? value : undefined;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Registers direct methods on every IoT Hub session. Each answer is scrubbed of secrets; a handler that throws
 * answers 500 with code `INTERNAL`; a payload that is not a JSON object answers 400 `BAD_PAYLOAD`.
 */
export function registerMethods(
  connection: ModuleConnection,
  handlers: Readonly<Record<string, MethodHandler>>,
  logger: Logger,
): void {
  connection.onSession((client) => {
    for (const [name, handler] of Object.entries(handlers)) {
      // The SDK types both arguments as optional; it always passes both.
      client.onMethod(name, (request?: DeviceMethodRequest, response?: DeviceMethodResponse) => {
        if (request && response) void answer(name, handler, request, response, logger);
      });
    }
    return Promise.resolve();
  });
}

async function answer(
  name: string,
  handler: MethodHandler,
  request: DeviceMethodRequest,
  response: DeviceMethodResponse,
  logger: Logger,
): Promise<void> {
  const payload = methodPayload(request.payload);
  let result: MethodResult;
  if (payload === undefined) {
    result = methodError(400, 'BAD_PAYLOAD', 'the payload must be a JSON object');
  } else {
    try {
      result = await handler(payload);
    } catch (err) {
      logger.error({ method: name, err: describeSdkError(err) }, 'direct method failed');
      result = methodError(500, 'INTERNAL', 'the method failed; see the module log');
    }
  }
  logger.info({ method: name, status: result.status }, 'direct method answered');
  try {
    await response.send(result.status, scrubForTwin(result.payload));
  } catch (err) {
    logger.warn({ method: name, err: describeSdkError(err) }, 'direct method answer not sent');
  }
}

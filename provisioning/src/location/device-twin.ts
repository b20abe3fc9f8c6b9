import type { Registry } from 'azure-iothub';
import {
  isJsonObject,
  jsonEqual,
  type JsonObject,
  type JsonValue,
} from '../../../modules/common/src/twin/json';
import { diffMergePatch } from '../../../modules/common/src/twin/merge-patch';
import { describeSdkError, httpStatusOf, ProvisioningError } from '../errors';
import { RELAY_TAG } from './tags';

/** What writeRelayTag did. */
export type TagOutcome = 'written' | 'unchanged';

/** How often a write lost an etag race before giving up. */
const ATTEMPTS = 3;

/**
 * Makes the device twin's `tags.relay` equal to `value` (a merge patch with `null` for keys to drop, so stale
 * services disappear; `null` removes the tag), guarded by the twin's etag so a concurrent writer is never
 * overwritten: on 412 it reads again and retries. Other tags (the controller's `relayStatus`) are never touched.
 */
export async function writeRelayTag(
  registry: Registry,
  deviceId: string,
  value: JsonObject | null,
): Promise<TagOutcome> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
    const twin = await hubCall(`read the twin of ${deviceId}`, () => registry.getTwin(deviceId));
    const body = twin.responseBody as unknown as { etag?: string; tags?: JsonObject };
    const current: JsonValue | undefined = body.tags?.[RELAY_TAG];
    if (value === null ? current === undefined || current === null : jsonEqual(current, value))
      return 'unchanged';
    const change = value !== null && isJsonObject(current) ? diffMergePatch(current, value) : value;
    try {
      await registry.updateTwin(deviceId, { tags: { [RELAY_TAG]: change ?? value } }, body.etag ?? '*');
      return 'written';
    } catch (err) {
      if (httpStatusOf(err) !== 412) throw hubError(`update the tags of ${deviceId}`, err);
    }
  }
  throw new ProvisioningError(
    'PROVISION_CONCURRENT_CHANGE',
    `the twin of ${deviceId} kept changing while its tags were written; run again`,
    true,
  );
}

async function hubCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw hubError(what, err);
  }
}

/** An IoT Hub SDK failure as a ProvisioningError (5xx, 429 and network errors are retryable). */
export function hubError(what: string, err: unknown): ProvisioningError {
  const status = httpStatusOf(err);
  if (status === 404 && (err as Error).name === 'DeviceNotFoundError')
    return new ProvisioningError('PROVISION_DEVICE_NOT_FOUND', `${what}: no such device in IoT Hub`, false, {
      cause: err,
    });
  if (status === 401 || status === 403)
    return new ProvisioningError(
      'PROVISION_CREDENTIAL_REFUSED',
      `${what}: ${describeSdkError(err)} — check --iothub-connection-string / IOTHUB_CONNECTION_STRING`,
      false,
      { cause: err },
    );
  const retryable = status === undefined || status >= 500 || status === 429;
  return new ProvisioningError('PROVISION_IOTHUB_FAILED', `${what}: ${describeSdkError(err)}`, retryable, {
    cause: err,
  });
}

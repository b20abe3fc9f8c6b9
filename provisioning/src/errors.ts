import { scrubSecrets } from '../../modules/common/src/telemetry/redact';

/** Stable codes for everything that can stop `provision location|gateway|deployments`. */
export type ProvisioningErrorCode =
  /** A flag, environment variable or argument is missing or malformed. */
  | 'PROVISION_BAD_INPUT'
  /** The enrollment group exists but cannot be used (another attestation type). */
  | 'PROVISION_ENROLLMENT_CONFLICT'
  /** The Device Provisioning Service refused or failed a call. */
  | 'PROVISION_DPS_FAILED'
  /** DPS assigned the device to a hub the IoT Hub connection string does not name. */
  | 'PROVISION_HUB_MISMATCH'
  /** IoT Hub refused or failed a call. */
  | 'PROVISION_IOTHUB_FAILED'
  /** IoT Hub or DPS refused the credential (HTTP 401/403): checked before anything is written. */
  | 'PROVISION_CREDENTIAL_REFUSED'
  /** The device named does not exist in IoT Hub. */
  | 'PROVISION_DEVICE_NOT_FOUND'
  /** Another writer changed the twin or deployment between our read and our write, every time we tried. */
  | 'PROVISION_CONCURRENT_CHANGE'
  /** A deployment with our id exists with other content (content is immutable in IoT Hub). */
  | 'PROVISION_DEPLOYMENT_CONFLICT'
  /** Writing config.toml failed. */
  | 'PROVISION_WRITE_FAILED';

/** A provisioning failure with a stable code; `retryable` says whether running again unchanged may succeed. */
export class ProvisioningError extends Error {
  override readonly name = 'ProvisioningError';

  constructor(
    readonly code: ProvisioningErrorCode,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `err` is a ProvisioningError, optionally with the given code. */
export function isProvisioningError(err: unknown, code?: ProvisioningErrorCode): err is ProvisioningError {
  return err instanceof ProvisioningError && (code === undefined || err.code === code);
}

/** The HTTP status an Azure SDK error carries (azure-iothub and azure-iot-provisioning-service put it in `response`). */
export function httpStatusOf(err: unknown): number | undefined {
  const e = err as { response?: { statusCode?: unknown }; statusCode?: unknown } | undefined;
  const status = e?.response?.statusCode ?? e?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** A short, secret-free description of an SDK error: its name and first line, plus the HTTP status. */
export function describeSdkError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const status = httpStatusOf(err);
  const first = (err.message || '').split('\n')[0]?.slice(0, 300) ?? '';
  return scrubSecrets(`${err.name}${status !== undefined ? ` (HTTP ${status})` : ''}: ${first}`);
}

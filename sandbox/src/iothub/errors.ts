/** Stable codes for every failure the sandbox IoT Hub reports; names follow IoT Hub's own `ErrorCode` values. */
export type IotHubErrorCode =
  | 'ArgumentInvalid'
  | 'ArgumentNull'
  | 'InvalidProtocolVersion'
  | 'IotHubUnauthorizedAccess'
  | 'DeviceNotFound'
  | 'ModuleNotFound'
  | 'ConfigurationNotFound'
  | 'DeviceNotOnline'
  | 'DeviceAlreadyExists'
  | 'ModuleAlreadyExistsOnDevice'
  | 'ConfigurationAlreadyExists'
  | 'PreconditionFailed'
  | 'MessageTooLarge'
  | 'ThrottlingException'
  | 'GatewayTimeout'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'ServerError';

const STATUS: Record<IotHubErrorCode, number> = {
  ArgumentInvalid: 400,
  ArgumentNull: 400,
  InvalidProtocolVersion: 400,
  IotHubUnauthorizedAccess: 401,
  DeviceNotFound: 404,
  ModuleNotFound: 404,
  ConfigurationNotFound: 404,
  DeviceNotOnline: 404,
  NotFound: 404,
  MethodNotAllowed: 405,
  DeviceAlreadyExists: 409,
  ModuleAlreadyExistsOnDevice: 409,
  ConfigurationAlreadyExists: 409,
  PreconditionFailed: 412,
  MessageTooLarge: 413,
  ThrottlingException: 429,
  ServerError: 500,
  GatewayTimeout: 504,
};

// IoT Hub's six-digit codes (HTTP status + three digits) that newer clients read from `errorCode`.
const NUMERIC: Partial<Record<IotHubErrorCode, number>> = {
  ArgumentInvalid: 400004,
  IotHubUnauthorizedAccess: 401002,
  DeviceNotFound: 404001,
  ModuleNotFound: 404010,
  ConfigurationNotFound: 404005,
  DeviceNotOnline: 404103,
  DeviceAlreadyExists: 409001,
  ModuleAlreadyExistsOnDevice: 409301,
  PreconditionFailed: 412002,
  MessageTooLarge: 413002,
  ThrottlingException: 429001,
  GatewayTimeout: 504101,
};

/** One error class for the sandbox hub: a stable IoT Hub `code`, the HTTP `status` it maps to, and whether a retry may help. */
export class IotHubError extends Error {
  override readonly name = 'IotHubError';
  /** HTTP status the REST front answers with (and the MQTT twin response status). */
  readonly status: number;
  /** IoT Hub's numeric error code, e.g. 404001. */
  readonly numericCode: number;
  /** True when the same request may succeed later (timeouts, device offline). */
  readonly retryable: boolean;

  constructor(
    readonly code: IotHubErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.status = STATUS[code];
    this.numericCode = NUMERIC[code] ?? this.status * 1000;
    this.retryable =
      code === 'GatewayTimeout' ||
      code === 'DeviceNotOnline' ||
      code === 'ServerError' ||
      code === 'ThrottlingException';
  }
}

/** True when `err` is an IotHubError, optionally with the given code. */
export function isIotHubError(err: unknown, code?: IotHubErrorCode): err is IotHubError {
  return err instanceof IotHubError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into an IotHubError so fronts can always answer with a status and a code. */
export function toIotHubError(err: unknown): IotHubError {
  if (err instanceof IotHubError) return err;
  return new IotHubError('ServerError', err instanceof Error ? err.message : String(err), { cause: err });
}

/** A location name the fleet refuses, with the reason. */
export class FleetRequestError extends Error {
  readonly code: 'INVALID_NAME' | 'LOCATION_EXISTS' | 'STOPPING';
  readonly retryable = false;
  constructor(code: FleetRequestError['code'], message: string) {
    super(message);
    this.name = 'FleetRequestError';
    this.code = code;
  }
}

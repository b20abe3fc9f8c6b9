import type { Registry } from 'azure-iothub';
import { ControllerError } from '../errors';
import { withoutSystemKeys } from '../model/json';
import { leaseTags, readLeaseRecord, type LeaseReading, type LeaseRecord } from './record';

/** Where the lease lives: read it, and write it only if it has not changed since (If-Match). */
export interface LeaseStore {
  /** The lease and its etag; creates the lease device when missing. */
  read(): Promise<LeaseReading>;
  /** Writes `record` if the etag still matches; CONTROLLER_ETAG_MISMATCH (412) when someone wrote meanwhile. */
  write(record: LeaseRecord, etag: string): Promise<LeaseReading>;
}

/**
 * The lease in the tags of a dedicated IoT Hub device identity (no new infrastructure): read with getTwin, written
 * with updateTwin and the twin's etag. The identity is created disabled, so nothing can connect as it.
 */
export class IotHubLeaseStore implements LeaseStore {
  constructor(
    private readonly registry: Registry,
    readonly deviceId: string,
  ) {}

  async read(): Promise<LeaseReading> {
    try {
      return toReading(await this.getTwin());
    } catch (err) {
      if (statusOf(err) !== 404) throw leaseError('read the lease', err);
    }
    try {
      await this.registry.create({ deviceId: this.deviceId, status: 'disabled' } as never);
    } catch (err) {
      // Another replica created it first: fine.
      if (statusOf(err) !== 409) throw leaseError('create the lease device', err);
    }
    try {
      return toReading(await this.getTwin());
    } catch (err) {
      throw leaseError('read the lease', err);
    }
  }

  async write(record: LeaseRecord, etag: string): Promise<LeaseReading> {
    try {
      const { responseBody } = await this.registry.updateTwin(
        this.deviceId,
        { tags: leaseTags(record) },
        etag,
      );
      return toReading(responseBody as unknown as TwinJson);
    } catch (err) {
      throw leaseError('write the lease', err);
    }
  }

  private async getTwin(): Promise<TwinJson> {
    const { responseBody } = await this.registry.getTwin(this.deviceId);
    return responseBody as unknown as TwinJson;
  }
}

interface TwinJson {
  etag?: string;
  tags?: Record<string, unknown>;
}

function toReading(twin: TwinJson): LeaseReading {
  return { etag: twin.etag ?? '', record: readLeaseRecord(withoutSystemKeys(twin.tags as never)) };
}

function statusOf(err: unknown): number | undefined {
  const status = (err as { response?: { statusCode?: unknown } }).response?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

function leaseError(what: string, err: unknown): ControllerError {
  const status = statusOf(err);
  const message = `${what}: ${(err as Error).message}`;
  if (status === 412)
    return new ControllerError('CONTROLLER_ETAG_MISMATCH', message, true, 412, { cause: err });
  return new ControllerError('CONTROLLER_HUB_FAILED', message, true, status, { cause: err });
}

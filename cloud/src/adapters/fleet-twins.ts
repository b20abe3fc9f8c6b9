import { createHash } from 'node:crypto';
import type { Registry } from 'azure-iothub';
import { ControllerError } from '../errors';
import { withoutSystemKeys, type JsonObject } from '../model/json';
import { RELAY_TAG, STATUS_TAG } from '../model/location';
import type { ObservedDevice, ObservedModule } from '../model/observed';
import { fenceGenerationOf } from '../lease/record';

/** The IoT Hub reads and writes the controller needs. Writes use the twin's etag (If-Match). */
export interface FleetTwins {
  /** Device twins with relay tags or a controller status. */
  queryDevices(): Promise<ObservedDevice[]>;
  /** Module twins of the given module ids, on any device. */
  queryModules(moduleIds: readonly string[]): Promise<ObservedModule[]>;
  /** One device twin; undefined when the device is gone. */
  getDevice(deviceId: string): Promise<ObservedDevice | undefined>;
  /** One module twin; undefined when the module is gone. */
  getModule(deviceId: string, moduleId: string): Promise<ObservedModule | undefined>;
  /** Merge-patches a device twin's tags; CONTROLLER_ETAG_MISMATCH on 412, CONTROLLER_TWIN_NOT_FOUND on 404. */
  patchDeviceTags(deviceId: string, tags: JsonObject, etag: string): Promise<ObservedDevice>;
  /** Merge-patches a module twin's desired properties (and `tags`, when given); same errors as patchDeviceTags. */
  patchModuleDesired(
    deviceId: string,
    moduleId: string,
    desired: JsonObject,
    etag: string,
    tags?: JsonObject,
  ): Promise<ObservedModule>;
  /** A digest of what should trigger a reconcile: relay tags and which relay modules exist. */
  changeFingerprint(moduleIds: readonly string[]): Promise<string>;
}

interface TwinJson {
  deviceId?: string;
  moduleId?: string;
  etag?: string;
  tags?: JsonObject;
  properties?: { desired?: JsonObject };
}

/** Query page size: IoT Hub's maximum is 1000 here (the SDK allows asking for more). */
const PAGE_SIZE = 1000;

/** FleetTwins over the unmodified `azure-iothub` Registry (queries, getTwin/getModuleTwin, etag-guarded updates). */
export class IotHubFleetTwins implements FleetTwins {
  constructor(
    private readonly registry: Registry,
    private readonly options: { readonly pageSize?: number } = {},
  ) {}

  async queryDevices(): Promise<ObservedDevice[]> {
    const rows = await this.query(
      `SELECT * FROM devices WHERE IS_DEFINED(tags.${RELAY_TAG}) OR IS_DEFINED(tags.${STATUS_TAG})`,
    );
    return rows.map(toDevice);
  }

  async queryModules(moduleIds: readonly string[]): Promise<ObservedModule[]> {
    const rows = await this.query(
      `SELECT * FROM devices.modules WHERE moduleId IN [${quoteList(moduleIds)}]`,
    );
    return rows.map(toModule);
  }

  async getDevice(deviceId: string): Promise<ObservedDevice | undefined> {
    try {
      const { responseBody } = await this.registry.getTwin(deviceId);
      return toDevice(responseBody as TwinJson);
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw hubError(`get twin ${deviceId}`, err);
    }
  }

  async getModule(deviceId: string, moduleId: string): Promise<ObservedModule | undefined> {
    try {
      const { responseBody } = await this.registry.getModuleTwin(deviceId, moduleId);
      return toModule(responseBody as TwinJson);
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw hubError(`get twin ${deviceId}/${moduleId}`, err);
    }
  }

  async patchDeviceTags(deviceId: string, tags: JsonObject, etag: string): Promise<ObservedDevice> {
    try {
      const { responseBody } = await this.registry.updateTwin(deviceId, { tags }, etag);
      return toDevice(responseBody as TwinJson);
    } catch (err) {
      throw hubError(`update twin ${deviceId}`, err);
    }
  }

  async patchModuleDesired(
    deviceId: string,
    moduleId: string,
    desired: JsonObject,
    etag: string,
    tags?: JsonObject,
  ): Promise<ObservedModule> {
    try {
      const { responseBody } = await this.registry.updateModuleTwin(
        deviceId,
        moduleId,
        { ...(tags && { tags }), properties: { desired } },
        etag,
      );
      return toModule(responseBody as TwinJson);
    } catch (err) {
      throw hubError(`update twin ${deviceId}/${moduleId}`, err);
    }
  }

  async changeFingerprint(moduleIds: readonly string[]): Promise<string> {
    const devices = await this.query(
      `SELECT deviceId, tags.${RELAY_TAG} FROM devices WHERE IS_DEFINED(tags.${RELAY_TAG})`,
    );
    const modules = await this.query(
      `SELECT deviceId, moduleId FROM devices.modules WHERE moduleId IN [${quoteList(moduleIds)}]`,
    );
    return createHash('sha256')
      .update(JSON.stringify([devices, modules]))
      .digest('base64url');
  }

  private async query(sql: string): Promise<TwinJson[]> {
    try {
      const query = this.registry.createQuery(sql, this.options.pageSize ?? PAGE_SIZE);
      const rows: TwinJson[] = [];
      do {
        // next() without an argument ignores the stored continuation token (azure-iothub 1.16: the promise form
        // takes the `continuationToken` parameter as given, even undefined) and returns page one forever.
        const { result } = await nextPage(query);
        rows.push(...(result as TwinJson[]));
      } while (query.hasMoreResults);
      return rows;
    } catch (err) {
      throw hubError('query', err);
    }
  }
}

type HubQuery = ReturnType<Registry['createQuery']>;

// A query page is a read, so a connection reset is retried (after a moment, so the pool drops the closed sockets)
// instead of failing the whole reconcile. The reset seen at 10,000 twins — a keep-alive socket reused after the
// event loop was busy past the hub's idle close — no longer happens (HostPortAgent); any other still may.
// Anything else fails at once.
async function nextPage(query: HubQuery): Promise<{ result: unknown }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await query.next(query.continuationToken);
    } catch (err) {
      if (attempt >= QUERY_RESET_ATTEMPTS || !isConnectionReset(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

const QUERY_RESET_ATTEMPTS = 4;

function isConnectionReset(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e.code === 'ECONNRESET' || /ECONNRESET|socket hang up/.test(String(e.message));
}

function toDevice(t: TwinJson): ObservedDevice {
  return { deviceId: t.deviceId ?? '', etag: t.etag ?? '', tags: withoutSystemKeys(t.tags) };
}

function toModule(t: TwinJson): ObservedModule {
  const fenceGeneration = fenceGenerationOf(t.tags);
  return {
    deviceId: t.deviceId ?? '',
    moduleId: t.moduleId ?? '',
    etag: t.etag ?? '',
    desired: withoutSystemKeys(t.properties?.desired),
    ...(fenceGeneration > 0 && { fenceGeneration }),
  };
}

// Module ids are restricted by the settings to characters that need no escaping here.
function quoteList(ids: readonly string[]): string {
  return ids.map((id) => `'${id}'`).join(', ');
}

function statusOf(err: unknown): number | undefined {
  const status = (err as { response?: { statusCode?: unknown } }).response?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

function hubError(what: string, err: unknown): ControllerError {
  const status = statusOf(err);
  const message = `${what}: ${(err as Error).message}`;
  if (status === 412)
    return new ControllerError('CONTROLLER_ETAG_MISMATCH', message, true, 412, { cause: err });
  if (status === 404)
    return new ControllerError('CONTROLLER_TWIN_NOT_FOUND', message, false, 404, { cause: err });
  const retryable = status === undefined || status === 408 || status === 429 || status >= 500;
  return new ControllerError('CONTROLLER_HUB_FAILED', message, retryable, status, { cause: err });
}

import type { Registry } from 'azure-iothub';
import { isJsonObject, withoutSystemKeys } from '../model/json';
import { RELAY_TAG, STATUS_TAG } from '../model/location';
import { StatusError } from './errors';
import type { DeviceRow, FleetReading, FleetSource, ModuleRow } from './source';

/** Module ids the status view looks for, and the query page size. */
export interface IotHubFleetSourceOptions {
  readonly forwarderModuleId?: string;
  readonly gatewayModuleId?: string;
  /** relay-gateway instances per gateway device (the pools' largest `gatewayModules`); 1 when absent. */
  readonly gatewayModules?: number;
  /** Rows per query page (IoT Hub's maximum is 1000). */
  readonly pageSize?: number;
}

const MODULE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * FleetSource over the unmodified `azure-iothub` Registry: two twin queries per read. Both project only what the
 * view shows (tags; identity, connection state and reported properties), so desired properties — which hold the
 * modules' SAS tokens — never reach this process.
 */
export class IotHubFleetSource implements FleetSource {
  private readonly devicesSql: string;
  private readonly modulesSql: string;
  private readonly pageSize: number;

  constructor(
    private readonly registry: Registry,
    options: IotHubFleetSourceOptions = {},
  ) {
    const gateway = options.gatewayModuleId ?? 'relay-gateway';
    const ids = [options.forwarderModuleId ?? 'relay-forwarder', gateway];
    for (let n = 2; n <= (options.gatewayModules ?? 1); n++) ids.push(`${gateway}-${n}`);
    for (const id of ids) {
      if (!MODULE_ID.test(id))
        throw new StatusError(
          'STATUS_BAD_OPTIONS',
          `module id "${id}" must be 1-64 letters, digits, - or _`,
          false,
        );
    }
    this.pageSize = options.pageSize ?? 1000;
    this.devicesSql =
      `SELECT deviceId, tags FROM devices ` +
      `WHERE IS_DEFINED(tags.${RELAY_TAG}) OR IS_DEFINED(tags.${STATUS_TAG})`;
    this.modulesSql =
      `SELECT deviceId, moduleId, connectionState, properties.reported AS reported FROM devices.modules ` +
      `WHERE moduleId IN [${ids.map((id) => `'${id}'`).join(', ')}]`;
  }

  async read(): Promise<FleetReading> {
    const [devices, modules] = await Promise.all([this.query(this.devicesSql), this.query(this.modulesSql)]);
    return { devices: devices.map(toDevice), modules: modules.map(toModule) };
  }

  private async query(sql: string): Promise<unknown[]> {
    try {
      const query = this.registry.createQuery(sql, this.pageSize);
      const rows: unknown[] = [];
      do {
        // The SDK's promise form of next() without an argument re-reads the first page: pass the token.
        const { result } = await query.next(query.continuationToken ?? undefined);
        rows.push(...(result as unknown[]));
      } while (query.hasMoreResults);
      return rows;
    } catch (err) {
      const status = (err as { response?: { statusCode?: unknown } }).response?.statusCode;
      const code = typeof status === 'number' ? status : undefined;
      const retryable = code === undefined || code === 408 || code === 429 || code >= 500;
      throw new StatusError(
        'STATUS_SOURCE_FAILED',
        `IoT Hub query failed: ${(err as Error).message}`,
        retryable,
        code,
        {
          cause: err,
        },
      );
    }
  }
}

function toDevice(row: unknown): DeviceRow {
  const r = isJsonObject(row) ? row : {};
  return { deviceId: String(r.deviceId ?? ''), tags: withoutSystemKeys(r.tags) };
}

// Rows come projected (`reported`); a `SELECT *` row (`properties.reported`) is read too, for other sources.
function toModule(row: unknown): ModuleRow {
  const r = isJsonObject(row) ? row : {};
  const properties = isJsonObject(r.properties) ? r.properties : {};
  return {
    deviceId: String(r.deviceId ?? ''),
    moduleId: String(r.moduleId ?? ''),
    ...(typeof r.connectionState === 'string' && { connectionState: r.connectionState }),
    reported: withoutSystemKeys(r.reported ?? properties.reported),
  };
}

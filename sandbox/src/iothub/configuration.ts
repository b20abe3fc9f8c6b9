import { IotHubError } from './errors';
import { isJsonObject, jsonEqual, JsonObject, JsonValue } from './json';
import { parseQuery, parseTargetCondition } from './query/parser';

/** Which twins a configuration writes: device twins, one module per device (ADM module), or IoT Edge module sets. */
export type ContentKind = 'deviceContent' | 'moduleContent' | 'modulesContent';

/** An automatic device management configuration or IoT Edge deployment as stored. */
export interface ConfigurationRecord {
  id: string;
  schemaVersion: string;
  labels: Record<string, string>;
  contentKind: ContentKind;
  content: JsonObject;
  targetCondition: string;
  priority: number;
  createdTimeUtc: string;
  lastUpdatedTimeUtc: string;
  etagCounter: number;
  metricQueries: Record<string, string>;
}

const CONFIG_ID = /^[a-z0-9\-:+%_#*?!(),=@;$']{1,128}$/;
const DESIRED = 'properties.desired';

/** Validates a create body and builds the record; throws ArgumentInvalid with the precise reason. */
export function newConfiguration(id: string, body: JsonObject, nowIso: string): ConfigurationRecord {
  if (!CONFIG_ID.test(id)) {
    throw new IotHubError(
      'ArgumentInvalid',
      `configuration id '${id}' must be 1-128 lowercase letters, digits or -:+%_#*?!(),=@;$'`,
    );
  }
  if (body.id !== undefined && body.id !== id)
    throw new IotHubError('ArgumentInvalid', 'id in the body does not match the path');
  const { kind, content } = readContent(body.content);
  const record: ConfigurationRecord = {
    id,
    schemaVersion: typeof body.schemaVersion === 'string' ? body.schemaVersion : '1.0',
    labels: {},
    contentKind: kind,
    content,
    targetCondition: '',
    priority: 0,
    createdTimeUtc: nowIso,
    lastUpdatedTimeUtc: nowIso,
    etagCounter: 1,
    metricQueries: {},
  };
  applyMutableFields(record, body);
  return record;
}

/** Applies an update: only target condition, priority, labels and metrics may change; content is immutable. */
export function updateConfiguration(record: ConfigurationRecord, body: JsonObject, nowIso: string): void {
  if (body.content !== undefined && body.content !== null) {
    const { kind, content } = readContent(body.content);
    if (kind !== record.contentKind || !jsonEqual(content, record.content)) {
      throw new IotHubError(
        'ArgumentInvalid',
        'the content of a configuration cannot be changed after creation',
      );
    }
  }
  applyMutableFields(record, body);
  record.lastUpdatedTimeUtc = nowIso;
  record.etagCounter += 1;
}

function applyMutableFields(record: ConfigurationRecord, body: JsonObject): void {
  const condition = body.targetCondition ?? '';
  if (typeof condition !== 'string')
    throw new IotHubError('ArgumentInvalid', 'targetCondition must be a string');
  if (condition.trim() !== '') parseTargetCondition(condition);
  record.targetCondition = condition;
  const priority = body.priority ?? 0;
  if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 0) {
    throw new IotHubError('ArgumentInvalid', 'priority must be a non-negative integer');
  }
  record.priority = priority;
  record.labels = readStringMap(body.labels, 'labels');
  const metrics = body.metrics;
  const queries = isJsonObject(metrics) ? readStringMap(metrics.queries, 'metrics.queries') : {};
  for (const [name, text] of Object.entries(queries)) {
    try {
      parseQuery(text);
    } catch (err) {
      throw new IotHubError('ArgumentInvalid', `metric '${name}': ${(err as Error).message}`);
    }
  }
  record.metricQueries = queries;
}

function readStringMap(value: JsonValue | undefined, what: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isJsonObject(value)) throw new IotHubError('ArgumentInvalid', `${what} must be an object`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new IotHubError('ArgumentInvalid', `${what}.${k} must be a string`);
    out[k] = v;
  }
  return out;
}

function readContent(value: JsonValue | undefined): { kind: ContentKind; content: JsonObject } {
  if (!isJsonObject(value)) throw new IotHubError('ArgumentInvalid', 'content is required');
  const kinds = (['deviceContent', 'moduleContent', 'modulesContent'] as const).filter(
    (k) => isJsonObject(value[k]) && Object.keys(value[k] as JsonObject).length > 0,
  );
  const kind = kinds[0];
  if (kinds.length !== 1 || kind === undefined) {
    throw new IotHubError(
      'ArgumentInvalid',
      'content must hold exactly one of deviceContent, moduleContent, modulesContent',
    );
  }
  const content = value[kind] as JsonObject;
  if (kind === 'modulesContent') {
    for (const [moduleId, entry] of Object.entries(content)) checkEntry(entry, `modulesContent.${moduleId}`);
  } else {
    checkEntry(content, kind);
  }
  return { kind, content };
}

function checkEntry(entry: JsonValue, where: string): void {
  if (!isJsonObject(entry)) throw new IotHubError('ArgumentInvalid', `${where} must be an object`);
  for (const [key, val] of Object.entries(entry)) {
    if (key === DESIRED) {
      if (!isJsonObject(val)) throw new IotHubError('ArgumentInvalid', `${where}.${key} must be an object`);
    } else if (!key.startsWith(`${DESIRED}.`) || key.length === DESIRED.length + 1) {
      throw new IotHubError(
        'ArgumentInvalid',
        `${where} may only hold '${DESIRED}' or '${DESIRED}.<path>', not '${key}'`,
      );
    }
  }
}

/** True for a layered deployment: some entry sets `properties.desired.<path>` instead of the whole document. */
export function isLayered(record: ConfigurationRecord): boolean {
  const entries = record.contentKind === 'modulesContent' ? Object.values(record.content) : [record.content];
  return entries.some((e) => isJsonObject(e) && Object.keys(e).some((k) => k.startsWith(`${DESIRED}.`)));
}

/** The configuration JSON of the REST API, with metrics computed by the caller. */
export function configurationView(
  record: ConfigurationRecord,
  systemResults: Record<string, number>,
  metricResults: Record<string, number>,
): JsonObject {
  return {
    id: record.id,
    schemaVersion: record.schemaVersion,
    labels: { ...record.labels },
    content: { [record.contentKind]: structuredClone(record.content) },
    targetCondition: record.targetCondition,
    createdTimeUtc: record.createdTimeUtc,
    lastUpdatedTimeUtc: record.lastUpdatedTimeUtc,
    priority: record.priority,
    systemMetrics: {
      results: systemResults,
      queries: {
        targetedCount: `select deviceId from devices where configurations.[[${record.id}]].status = 'Targeted'`,
        appliedCount: `select deviceId from devices where configurations.[[${record.id}]].status = 'Applied'`,
      },
    },
    metrics: { results: metricResults, queries: { ...record.metricQueries } },
    etag: configurationEtag(record),
  };
}

/** Configuration etag (opaque base64). */
export function configurationEtag(record: ConfigurationRecord): string {
  return Buffer.from(`${record.createdTimeUtc}:${record.etagCounter}`).toString('base64');
}

import { join } from 'node:path';
import { JsonStateFile } from '../state/json-state-file';
import { ConfigurationRecord } from './configuration';
import { IdentityRecord } from './identity';
import { HubLogger } from './logger';
import { PolicyRecord } from './policies';

/** Everything the sandbox hub keeps across restarts (telemetry is not kept). */
export interface HubStateDocument {
  schema: 1;
  hubName: string;
  /** Port last listened on, reused on restart so connection strings stay valid. */
  port?: number;
  policies: PolicyRecord[];
  devices: { device: IdentityRecord; modules: IdentityRecord[] }[];
  configurations: ConfigurationRecord[];
  sessions: Record<string, string[]>;
}

/** File name of the state document inside the state directory. */
export const STATE_FILE = 'iothub-state.json';

/** True when `doc` looks like a hub state document this version can read. */
export function isHubStateDocument(doc: unknown): doc is HubStateDocument {
  const d = doc as Partial<HubStateDocument> | null;
  return typeof d === 'object' && d !== null && d.schema === 1 && Array.isArray(d.devices);
}

/** The hub state as `{dir}/iothub-state.json`, saved atomically and coalesced (see JsonStateFile). */
export class StateFile extends JsonStateFile<HubStateDocument> {
  constructor(dir: string, snapshot: () => HubStateDocument, log: HubLogger) {
    super(join(dir, STATE_FILE), snapshot, isHubStateDocument, log);
  }
}

import { ProvisioningError } from '../errors';
import { DPS_GLOBAL_ENDPOINT } from '../location/config-toml';
import { DEFAULT_ENROLLMENT_GROUP } from '../location/enrollment';
import type { HubBudgetSettings } from '../../../cloud/src/azure/hub-budget';
import { parseHubBudgetFlags } from '../../../cloud/src/azure/hub-throttles';
import type { ConnectionFlags } from './args';

/** Environment variables the CLI reads, with what each holds. */
export const PROVISION_ENV = {
  DPS_SERVICE_CONNECTION_STRING: 'DPS service connection string (policy with enrollment write)',
  IOTHUB_CONNECTION_STRING: 'IoT Hub connection string (policy with RegistryWrite, e.g. iothubowner)',
  DPS_ID_SCOPE: 'DPS ID scope (0ne…)',
  DPS_GLOBAL_ENDPOINT: `DPS global device endpoint (default ${DPS_GLOBAL_ENDPOINT})`,
  DPS_ENROLLMENT_GROUP: `enrollment group id (default ${DEFAULT_ENROLLMENT_GROUP})`,
  IOTHUB_TIER: 'IoT Hub tier (F1, B1-B3, S1-S3) whose throttles the CLI keeps within (default: unbudgeted)',
  IOTHUB_UNITS: 'IoT Hub unit count (default 1)',
} as const;

/** Connection settings after flags (first) and environment (second) are merged. */
export interface ResolvedConnection {
  readonly dpsConnectionString?: string;
  readonly iothubConnectionString?: string;
  readonly idScope?: string;
  readonly globalEndpoint: string;
  readonly group: string;
  /** Tier and units to budget IoT Hub calls for; absent: unbudgeted. */
  readonly hubBudget?: HubBudgetSettings;
}

/** Merges flags over environment variables; empty values count as absent. */
export function resolveConnection(
  flags: ConnectionFlags,
  env: Readonly<Record<string, string | undefined>>,
): ResolvedConnection {
  const pick = (flag: string | undefined, name: keyof typeof PROVISION_ENV): string | undefined => {
    const value = (flag ?? env[name])?.trim();
    return value ? value : undefined;
  };
  const dps = pick(flags.dpsConnectionString, 'DPS_SERVICE_CONNECTION_STRING');
  const hub = pick(flags.iothubConnectionString, 'IOTHUB_CONNECTION_STRING');
  const scope = pick(flags.idScope, 'DPS_ID_SCOPE');
  const problems: string[] = [];
  const hubBudget = parseHubBudgetFlags(
    pick(flags.iothubTier, 'IOTHUB_TIER'),
    pick(flags.iothubUnits, 'IOTHUB_UNITS'),
    problems,
  );
  if (problems.length > 0) throw new ProvisioningError('PROVISION_BAD_INPUT', problems.join('; '), false);
  return {
    ...(dps !== undefined && { dpsConnectionString: dps }),
    ...(hub !== undefined && { iothubConnectionString: hub }),
    ...(scope !== undefined && { idScope: scope }),
    globalEndpoint: pick(flags.globalEndpoint, 'DPS_GLOBAL_ENDPOINT') ?? DPS_GLOBAL_ENDPOINT,
    group: pick(flags.group, 'DPS_ENROLLMENT_GROUP') ?? DEFAULT_ENROLLMENT_GROUP,
    ...(hubBudget && { hubBudget }),
  };
}

/** The named settings, or one PROVISION_BAD_INPUT error listing every missing one with its flag and variable. */
export function requireSettings<K extends 'dpsConnectionString' | 'iothubConnectionString' | 'idScope'>(
  settings: ResolvedConnection,
  keys: readonly K[],
): ResolvedConnection & Required<Pick<ResolvedConnection, K>> {
  const names: Record<string, string> = {
    dpsConnectionString: '--dps-connection-string or DPS_SERVICE_CONNECTION_STRING',
    iothubConnectionString: '--iothub-connection-string or IOTHUB_CONNECTION_STRING',
    idScope: '--id-scope or DPS_ID_SCOPE',
  };
  const missing = keys.filter((k) => settings[k] === undefined);
  if (missing.length > 0)
    throw new ProvisioningError(
      'PROVISION_BAD_INPUT',
      `missing ${missing.map((k) => names[k]).join('; ')}`,
      false,
    );
  for (const key of keys.filter((k) => k !== 'idScope')) checkConnectionString(key, settings[key] as string);
  return settings as ResolvedConnection & Required<Pick<ResolvedConnection, K>>;
}

// Says which part is missing without ever echoing the string (it holds a key).
function checkConnectionString(which: string, value: string): void {
  const parts = new Set(
    value
      .split(';')
      .map((p) => p.split('=')[0]?.trim().toLowerCase())
      .filter(Boolean),
  );
  const missing = ['hostname', 'sharedaccesskeyname', 'sharedaccesskey'].filter((p) => !parts.has(p));
  if (missing.length > 0) {
    const label =
      which === 'dpsConnectionString' ? 'the DPS connection string' : 'the IoT Hub connection string';
    throw new ProvisioningError(
      'PROVISION_BAD_INPUT',
      `${label} lacks ${missing.join(', ')} (expected HostName=…;SharedAccessKeyName=…;SharedAccessKey=…)`,
      false,
    );
  }
}

import {
  parseCommandLine,
  STANDARD_USAGE_LINES,
  stringFlag,
  stringsFlag,
} from '../../../modules/common/src/cli/command-line';
import { ProvisioningError } from '../errors';
import {
  gatewayDeclaration,
  locationDeclaration,
  parseServiceFlag,
  type RelayDeclaration,
} from '../location/tags';

/** Flags every command may take for connection settings (each also has an environment variable). */
export interface ConnectionFlags {
  readonly dpsConnectionString?: string;
  readonly iothubConnectionString?: string;
  readonly idScope?: string;
  readonly globalEndpoint?: string;
  readonly group?: string;
  /** The controller's pools (its `--pools` JSON): a location's or gateway's pool must be one of them. */
  readonly pools?: string;
  readonly iothubTier?: string;
  readonly iothubUnits?: string;
}

/** `provision location|gateway <registrationId> …` */
export interface DeviceCommand {
  readonly kind: 'device';
  readonly registrationId: string;
  readonly declaration: RelayDeclaration;
  readonly outDir?: string;
  readonly trustBundleFile?: string;
  readonly connection: ConnectionFlags;
  readonly json: boolean;
}

/** `provision remove <deviceId>` */
export interface RemoveCommand {
  readonly kind: 'remove';
  readonly deviceId: string;
  readonly connection: ConnectionFlags;
  readonly json: boolean;
}

/** `provision deployments …` */
export interface DeploymentsCommand {
  readonly kind: 'deployments';
  readonly platform?: string;
  readonly dotenv?: string;
  readonly prefix?: string;
  readonly dryRun: boolean;
  readonly connection: ConnectionFlags;
  readonly json: boolean;
}

/** A parsed command line. */
export type ProvisionCommand =
  | DeviceCommand
  | DeploymentsCommand
  | RemoveCommand
  | { readonly kind: 'help' }
  | { readonly kind: 'version' };

/** Usage text (no secrets, no defaults that depend on the environment). */
export const USAGE = `Usage:
  provision location <registrationId> --service name=host:port[,expose=name|both] [--service …] [--location ID]
                     [--pool NAME] [--out DIR] [--trust-bundle CA.pem] [connection flags]
  provision gateway <registrationId> [--pool NAME] [--out DIR] [--trust-bundle CA.pem] [connection flags]
  provision remove <deviceId> [connection flags]
  provision deployments [--platform amd64|arm64v8] [--dotenv FILE] [--prefix relay] [--dry-run] [connection flags]

location/gateway: ensures the DPS symmetric-key enrollment group, registers the device through DPS with its
derived key, writes its tags (tags.relay) and writes IoT Edge's config.toml (mode 0600, default
config/devices/<registrationId>/config.toml). remove: deletes the device's tags.relay, after which the fleet
controller tears the location (or gateway) down. deployments: creates or updates the automatic deployments
(base, relay-forwarder layer, relay-gateway layer) from the manifest templates. Both are idempotent.

Connection flags (prefer the environment variables: flags are visible in the process list):
  --dps-connection-string   DPS_SERVICE_CONNECTION_STRING  DPS service policy (enrollment write)
  --iothub-connection-string IOTHUB_CONNECTION_STRING      IoT Hub policy with RegistryWrite
  --id-scope                DPS_ID_SCOPE
  --global-endpoint         DPS_GLOBAL_ENDPOINT            default https://global.azure-devices-provisioning.net
  --group                   DPS_ENROLLMENT_GROUP           default relay-fleet
  --pools                   CONTROLLER_POOLS               the controller's pools (JSON, as its --pools): --pool
                                                           must name one; without it, one a gateway device has
  --iothub-tier             IOTHUB_TIER                    F1|B1|B2|B3|S1|S2|S3: keep IoT Hub calls in its throttles
  --iothub-units            IOTHUB_UNITS                   the hub's unit count (default 1)
Extra trusted CA (the sandbox): NODE_EXTRA_CA_CERTS=ca.pem. Output: --json prints one JSON object.
Before anything is written the IoT Hub credential is checked and --pool is matched against the known pools.
Exit codes: 0 done, 64 bad input, 65 conflicting state, 69 DPS or IoT Hub failed, 73 cannot write,
75 concurrent change (run again), 77 credential refused.
${STANDARD_USAGE_LINES}`;

/** Parses the command line (without node and script); throws PROVISION_BAD_INPUT with the reason. */
export function parseProvisionArgs(argv: readonly string[]): ProvisionCommand {
  const line = parseCommandLine(
    argv,
    {
      service: { type: 'string', multiple: true },
      location: { type: 'string' },
      pool: { type: 'string' },
      out: { type: 'string' },
      'trust-bundle': { type: 'string' },
      platform: { type: 'string' },
      dotenv: { type: 'string' },
      prefix: { type: 'string' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      'dps-connection-string': { type: 'string' },
      'iothub-connection-string': { type: 'string' },
      'id-scope': { type: 'string' },
      'global-endpoint': { type: 'string' },
      group: { type: 'string' },
      pools: { type: 'string' },
      'iothub-tier': { type: 'string' },
      'iothub-units': { type: 'string' },
    },
    { positionals: true },
  );
  if (line.kind === 'error') throw bad(line.error);
  if (line.kind === 'help') return { kind: 'help' };
  if (line.kind === 'version') return { kind: 'version' };
  const { positionals } = line;
  if (positionals.length === 0) return { kind: 'help' };
  const flag = (name: string): string | undefined => stringFlag(line.values, name);
  const values = {
    json: line.values.json === true,
    'dry-run': line.values['dry-run'] === true,
    service: stringsFlag(line.values, 'service'),
    location: flag('location'),
    pool: flag('pool'),
    out: flag('out'),
    'trust-bundle': flag('trust-bundle'),
    platform: flag('platform'),
    dotenv: flag('dotenv'),
    prefix: flag('prefix'),
    'dps-connection-string': flag('dps-connection-string'),
    'iothub-connection-string': flag('iothub-connection-string'),
    'id-scope': flag('id-scope'),
    'global-endpoint': flag('global-endpoint'),
    group: flag('group'),
    pools: flag('pools'),
    'iothub-tier': flag('iothub-tier'),
    'iothub-units': flag('iothub-units'),
  };
  const [command, ...rest] = positionals;
  const connection: ConnectionFlags = {
    ...(values['dps-connection-string'] !== undefined && {
      dpsConnectionString: values['dps-connection-string'],
    }),
    ...(values['iothub-connection-string'] !== undefined && {
      iothubConnectionString: values['iothub-connection-string'],
    }),
    ...(values['id-scope'] !== undefined && { idScope: values['id-scope'] }),
    ...(values['global-endpoint'] !== undefined && { globalEndpoint: values['global-endpoint'] }),
    ...(values.group !== undefined && { group: values.group }),
    ...(values.pools !== undefined && { pools: values.pools }),
    ...(values['iothub-tier'] !== undefined && { iothubTier: values['iothub-tier'] }),
    ...(values['iothub-units'] !== undefined && { iothubUnits: values['iothub-units'] }),
  };
  const json = values.json === true;
  const only = (allowed: readonly string[]): void => {
    const given = Object.keys(line.values).filter((k) => !COMMON.includes(k) && !allowed.includes(k));
    if (given.length > 0) throw bad(`${command} does not take ${given.map((k) => `--${k}`).join(', ')}`);
  };
  if (command === 'deployments') {
    only(['platform', 'dotenv', 'prefix', 'dry-run']);
    if (rest.length > 0) throw bad(`deployments takes no arguments, got "${rest.join(' ')}"`);
    return {
      kind: 'deployments',
      ...(values.platform !== undefined && { platform: values.platform }),
      ...(values.dotenv !== undefined && { dotenv: values.dotenv }),
      ...(values.prefix !== undefined && { prefix: values.prefix }),
      dryRun: values['dry-run'] === true,
      connection,
      json,
    };
  }
  if (command === 'remove') {
    only([]);
    if (rest.length !== 1) throw bad('remove takes exactly one device id');
    return { kind: 'remove', deviceId: rest[0] as string, connection, json };
  }
  if (command !== 'location' && command !== 'gateway')
    throw bad(`unknown command "${command}" (location, gateway, remove or deployments)`);
  if (rest.length !== 1) throw bad(`${command} takes exactly one registration id`);
  const registrationId = rest[0] as string;
  let declaration: RelayDeclaration;
  if (command === 'location') {
    only(['service', 'location', 'pool', 'out', 'trust-bundle']);
    declaration = locationDeclaration({
      registrationId,
      services: (values.service ?? []).map(parseServiceFlag),
      ...(values.location !== undefined && { location: values.location }),
      ...(values.pool !== undefined && { pool: values.pool }),
    });
  } else {
    only(['pool', 'out', 'trust-bundle']);
    declaration = gatewayDeclaration(values.pool);
  }
  return {
    kind: 'device',
    registrationId,
    declaration,
    ...(values.out !== undefined && { outDir: values.out }),
    ...(values['trust-bundle'] !== undefined && { trustBundleFile: values['trust-bundle'] }),
    connection,
    json,
  };
}

const COMMON = [
  'json',
  'dps-connection-string',
  'iothub-connection-string',
  'id-scope',
  'global-endpoint',
  'group',
  'pools',
  'iothub-tier',
  'iothub-units',
  'help',
  'version',
  'debug',
];

function bad(message: string): ProvisioningError {
  return new ProvisioningError('PROVISION_BAD_INPUT', message, false);
}

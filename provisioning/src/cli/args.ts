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

/** Connection flags by command-line name, each with its field (listed once: options, parsing and `only` use it). */
const CONNECTION_FLAGS = {
  'dps-connection-string': 'dpsConnectionString',
  'iothub-connection-string': 'iothubConnectionString',
  'id-scope': 'idScope',
  'global-endpoint': 'globalEndpoint',
  group: 'group',
  pools: 'pools',
  'iothub-tier': 'iothubTier',
  'iothub-units': 'iothubUnits',
} as const satisfies Record<string, keyof ConnectionFlags>;

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
      ...Object.fromEntries(Object.keys(CONNECTION_FLAGS).map((name) => [name, { type: 'string' }])),
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
  };
  const [command, ...rest] = positionals;
  // Only the flags given: an absent one leaves its field out (settings.ts then reads the environment variable).
  const connection: ConnectionFlags = Object.fromEntries(
    Object.entries(CONNECTION_FLAGS).flatMap(([name, field]) => {
      const value = flag(name);
      return value === undefined ? [] : [[field, value]];
    }),
  );
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

const COMMON = ['json', ...Object.keys(CONNECTION_FLAGS), 'help', 'version', 'debug'];

function bad(message: string): ProvisioningError {
  return new ProvisioningError('PROVISION_BAD_INPUT', message, false);
}

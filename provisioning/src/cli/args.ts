import { parseArgs } from 'node:util';
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
export type ProvisionCommand = DeviceCommand | DeploymentsCommand | RemoveCommand | { readonly kind: 'help' };

/** Usage text (no secrets, no defaults that depend on the environment). */
export const USAGE = `Usage:
  provision location <registrationId> --service name=host:port [--service …] [--location ID] [--pool NAME]
                     [--out DIR] [--trust-bundle CA.pem] [connection flags]
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
  --iothub-tier             IOTHUB_TIER                    F1|B1|B2|B3|S1|S2|S3: keep IoT Hub calls in its throttles
  --iothub-units            IOTHUB_UNITS                   the hub's unit count (default 1)
Extra trusted CA (the sandbox): NODE_EXTRA_CA_CERTS=ca.pem. Output: --json prints one JSON object.
Exit codes: 0 done, 64 bad input, 65 conflicting state, 69 DPS or IoT Hub failed, 73 cannot write, 75 concurrent change (run again).
`;

/** Parses the command line (without node and script); throws PROVISION_BAD_INPUT with the reason. */
export function parseProvisionArgs(argv: readonly string[]): ProvisionCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
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
        'iothub-tier': { type: 'string' },
        'iothub-units': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw bad((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) return { kind: 'help' };
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
    ...(values['iothub-tier'] !== undefined && { iothubTier: values['iothub-tier'] }),
    ...(values['iothub-units'] !== undefined && { iothubUnits: values['iothub-units'] }),
  };
  const json = values.json === true;
  const only = (allowed: readonly string[]): void => {
    const given = Object.keys(values).filter((k) => !COMMON.includes(k) && !allowed.includes(k));
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
  'iothub-tier',
  'iothub-units',
  'help',
];

function bad(message: string): ProvisioningError {
  return new ProvisioningError('PROVISION_BAD_INPUT', message, false);
}

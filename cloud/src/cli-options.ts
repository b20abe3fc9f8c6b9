import {
  parseCommandLine,
  STANDARD_USAGE_LINES,
  stringFlag,
} from '../../modules/common/src/cli/command-line';
import { LOG_LEVELS } from '../../modules/common/src/log';
import type { HubBudgetSettings } from './azure/hub-budget';
import { parseHubBudgetFlags } from './azure/hub-throttles';
import { namespaceSettingsOf, parseNamespacesFlag, type CliNamespace } from './cli-namespaces';
import { gatewayPoolFromEnv, poolRangeMismatch, withEnvGatewayModules } from './gateway-pool-env';
import { readPoolSni } from './model/sni-names';
import type { NamespaceGrowthInput } from './namespace-settings';
import type { ControllerSettingsInput, PoolSettings, RelayEntraAuthSettings } from './settings';

/** Usage text of the controller process. Every flag has an environment variable; the flag wins. */
export const USAGE = `Usage: fleet-controller [options]   (each option also reads the environment variable shown)

  --iothub-connection-string  IOTHUB_CONNECTION_STRING  service connection string (registry read/write + service connect)
  --iothub-ca                 IOTHUB_CA_FILE            extra CA (PEM) for IoT Hub's TLS (the sandbox)
  --iothub-tier               IOTHUB_TIER               F1|B1|B2|B3|S1|S2|S3: keep IoT Hub calls within this tier's
                                                        throttles (default: unbudgeted; set it in production)
  --iothub-units              IOTHUB_UNITS              the hub's unit count (default 1)
  --subscription              AZURE_SUBSCRIPTION_ID     subscription of the Relay namespace
  --resource-group            RELAY_RESOURCE_GROUP      resource group of the Relay namespace
  --namespace                 RELAY_NAMESPACE           Relay namespace name
  --namespaces                RELAY_NAMESPACES          several namespaces instead, JSON: ["name" | "/subscriptions/…/
                                                        namespaces/NAME" | {"name"|"id","resourceGroup"?,
                                                        "subscription"?,"maxHybridConnections"?,"maxConnections"?}]
                                                        (limits default to Azure's quotas: 10000 and 5000)
  --create-namespaces         CREATE_NAMESPACES         most Relay namespaces the controller creates through ARM
                                                        (Standard SKU) when no namespace has room for a new location
                                                        (default 0: never; needs the two below)
  --created-namespace-prefix  CREATED_NAMESPACE_PREFIX  created namespaces are PREFIX-1, PREFIX-2, … (a DNS name:
                                                        pick one unique in Azure)
  --created-namespace-region  CREATED_NAMESPACE_REGION  Azure region of created namespaces (e.g. westeurope)
  --created-namespace-resource-group CREATED_NAMESPACE_RESOURCE_GROUP  their resource group (default --resource-group)
  --namespace-create-timeout  NAMESPACE_CREATE_TIMEOUT  how long one creation is waited for (default 10m)
  --route-connection-budget   ROUTE_CONNECTION_BUDGET   connections each route counts for in a namespace's
                                                        connection limit (default 1)
  --arm-endpoint              ARM_ENDPOINT              default https://management.azure.com
  --arm-ca                    ARM_CA_FILE               extra CA (PEM) for the ARM endpoint (the sandbox)
  --pools                     CONTROLLER_POOLS          JSON: [{"name","ports":"20000-20999","allow":[CIDR…],
                                                        "publicHost"?,"bindAddress"?,"gatewayModules"?,
                                                        "sni"?:{"port","publicPort"?,"zone"}}, …];
                                                        without it, the pool is GATEWAY_POOL_NAME,
                                                        GATEWAY_PORT_RANGE_START/END, GATEWAY_ALLOWED_SOURCES,
                                                        GATEWAY_PUBLIC_HOST, GATEWAY_MODULES,
                                                        GATEWAY_SNI_PORT + GATEWAY_SNI_ZONE
                                                        (+ GATEWAY_SNI_PUBLIC_PORT) (a --pools range
                                                        that differs from GATEWAY_PORT_RANGE_* is refused)
  --default-pool              DEFAULT_POOL              pool of locations whose tags name none (default "default")
  --token-lifetime            TOKEN_LIFETIME            SAS token lifetime with a unit: 48h, 90m, 2d (default 48h)
  --token-renew-margin        TOKEN_RENEW_MARGIN        rewrite a token once less than this remains; also the
                                                        controller outage the fleet survives (default 36h)
  --renew-below               TOKEN_RENEW_BELOW         the margin as a fraction of the lifetime instead (0-1)
  --interval                  RECONCILE_INTERVAL        full reconcile period (default 60s)
  --poll-interval             POLL_INTERVAL             change poll period, 0 = off (default 15s)
  --controller-id             CONTROLLER_ID             marks owned hybrid connections (default "default")
  --hc-prefix                 HYBRID_CONNECTION_PREFIX  hybrid connection name prefix (default "hrf-")
  --relay-auth                RELAY_AUTH                sas (default: SAS tokens in the twins) or entra (the
                                                        modules' own Entra ID identities; no SAS rules)
  --forwarder-client-id       FORWARDER_CLIENT_ID       with entra: the forwarders' user-assigned identity
  --gateway-client-id         GATEWAY_CLIENT_ID         with entra: the gateways' user-assigned identity
  --lease                     LEADER_LEASE              device whose twin holds the replicas' lease (default
                                                        "fleet-controller-lease"); "off": this replica always writes
  --lease-duration            LEASE_DURATION            a standby takes over after the lease is unchanged this long
                                                        (default 15s; the leader renews every third of it)
  --log-level                 LOG_LEVEL                 fatal|error|warn|info|debug|trace|silent (default info)
  --once                                                one reconcile, then exit (0 converged, 1 not)
${STANDARD_USAGE_LINES}
Azure credentials: DefaultAzureCredential (managed identity, workload identity, az login, AZURE_* variables).
The sandbox: the same, its managed identity endpoint in IDENTITY_ENDPOINT/IDENTITY_HEADER (.sandbox-state/sandbox.env).
Telemetry: APPLICATIONINSIGHTS_CONNECTION_STRING, METRICS_PORT (see docs/observability.md).
`;

/** Everything the controller process reads from its command line and environment. */
export interface ControllerCliOptions {
  readonly iothubConnectionString: string;
  readonly iothubCaFile?: string;
  /** IoT Hub tier and units to budget calls for (`--iothub-tier`, `--iothub-units`). */
  readonly hubBudget?: HubBudgetSettings;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  /** The one namespace (`--namespace`); '' when `namespaces` lists them. */
  readonly namespace: string;
  /** Several namespaces (`--namespaces`), with their ARM place and limits. */
  readonly namespaces?: readonly CliNamespace[];
  readonly routeConnectionBudget?: number;
  /** Namespaces created through ARM (`--create-namespaces` and the `--created-namespace-*` flags). */
  readonly namespaceGrowth?: NamespaceGrowthInput;
  readonly armEndpoint?: string;
  readonly armCaFile?: string;
  readonly pools: readonly PoolSettings[];
  readonly defaultPool?: string;
  readonly tokenLifetimeMs?: number;
  readonly tokenRenewMarginMs?: number;
  readonly renewBelowFraction?: number;
  readonly intervalMs?: number;
  readonly pollIntervalMs?: number;
  readonly controllerId?: string;
  readonly hybridConnectionPrefix?: string;
  /** Entra ID for the modules instead of SAS (`--relay-auth entra`). */
  readonly relayAuth?: RelayEntraAuthSettings;
  readonly logLevel?: string;
  /** Device id of the lease; undefined: no lease (`--lease off`). */
  readonly leaseDeviceId?: string;
  readonly leaseDurationMs?: number;
  readonly once: boolean;
}

const FLAGS = {
  'iothub-connection-string': 'IOTHUB_CONNECTION_STRING',
  'iothub-ca': 'IOTHUB_CA_FILE',
  'iothub-tier': 'IOTHUB_TIER',
  'iothub-units': 'IOTHUB_UNITS',
  subscription: 'AZURE_SUBSCRIPTION_ID',
  'resource-group': 'RELAY_RESOURCE_GROUP',
  namespace: 'RELAY_NAMESPACE',
  namespaces: 'RELAY_NAMESPACES',
  'route-connection-budget': 'ROUTE_CONNECTION_BUDGET',
  'create-namespaces': 'CREATE_NAMESPACES',
  'created-namespace-prefix': 'CREATED_NAMESPACE_PREFIX',
  'created-namespace-region': 'CREATED_NAMESPACE_REGION',
  'created-namespace-resource-group': 'CREATED_NAMESPACE_RESOURCE_GROUP',
  'namespace-create-timeout': 'NAMESPACE_CREATE_TIMEOUT',
  'arm-endpoint': 'ARM_ENDPOINT',
  'arm-ca': 'ARM_CA_FILE',
  pools: 'CONTROLLER_POOLS',
  'default-pool': 'DEFAULT_POOL',
  'token-lifetime': 'TOKEN_LIFETIME',
  'token-renew-margin': 'TOKEN_RENEW_MARGIN',
  'renew-below': 'TOKEN_RENEW_BELOW',
  interval: 'RECONCILE_INTERVAL',
  'poll-interval': 'POLL_INTERVAL',
  'controller-id': 'CONTROLLER_ID',
  'hc-prefix': 'HYBRID_CONNECTION_PREFIX',
  'relay-auth': 'RELAY_AUTH',
  'forwarder-client-id': 'FORWARDER_CLIENT_ID',
  'gateway-client-id': 'GATEWAY_CLIENT_ID',
  'log-level': 'LOG_LEVEL',
  lease: 'LEADER_LEASE',
  'lease-duration': 'LEASE_DURATION',
} as const;

/** Parses argv and the environment; returns every problem instead of throwing. */
export function parseControllerOptions(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
):
  | { ok: true; options: ControllerCliOptions }
  | { ok: false; help: boolean; version?: boolean; problems: string[] } {
  const specs = Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }]));
  const line = parseCommandLine(argv, { ...specs, once: { type: 'boolean' } });
  if (line.kind === 'error') return { ok: false, help: false, problems: [line.error] };
  if (line.kind === 'help') return { ok: false, help: true, problems: [] };
  if (line.kind === 'version') return { ok: false, help: false, version: true, problems: [] };
  const { values } = line;
  const get = (flag: keyof typeof FLAGS): string | undefined =>
    stringFlag(values, flag) ?? (env[FLAGS[flag]] || undefined);
  const problems: string[] = [];
  const required = (flag: keyof typeof FLAGS): string => {
    const v = get(flag);
    if (!v) problems.push(`--${flag} (or ${FLAGS[flag]}) is required`);
    return v ?? '';
  };
  const duration = (flag: keyof typeof FLAGS): number | undefined => {
    const v = get(flag);
    if (v === undefined) return undefined;
    const ms = parseDurationMs(v);
    if (ms === undefined) problems.push(`--${flag}: ${durationProblem(v)}`);
    return ms;
  };
  const renew = get('renew-below');
  const renewBelowFraction = renew === undefined ? undefined : Number(renew);
  if (renew !== undefined && !(Number(renew) > 0 && Number(renew) < 1))
    problems.push('--renew-below must be between 0 and 1');
  // GATEWAY_PORT_RANGE_* (the deployment's one source for the public range) is the pool when --pools is absent.
  const envPool = gatewayPoolFromEnv(env, problems);
  const listed = envPool && !get('pools') ? [envPool] : parsePools(get('pools'), problems);
  if (envPool) problems.push(...poolRangeMismatch(listed, envPool));
  const pools = envPool ? withEnvGatewayModules(listed, envPool, problems) : listed;
  const relayAuth = parseRelayAuth(
    get('relay-auth'),
    get('forwarder-client-id'),
    get('gateway-client-id'),
    problems,
  );
  const defaultPool = get('default-pool');
  if (defaultPool !== undefined && pools.length > 0 && !pools.some((p) => p.name === defaultPool))
    problems.push(
      `--default-pool (or DEFAULT_POOL) "${defaultPool}" is not one of --pools: ${pools.map((p) => p.name).join(', ')}`,
    );
  const logLevel = get('log-level');
  if (logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(logLevel))
    problems.push(`--log-level (or LOG_LEVEL) must be one of ${LOG_LEVELS.join(', ')}`);
  const iothubConnectionString = required('iothub-connection-string');
  const lacking = connectionStringLacks(iothubConnectionString);
  if (iothubConnectionString && lacking.length > 0)
    problems.push(
      `--iothub-connection-string (or IOTHUB_CONNECTION_STRING) lacks ${lacking.join(', ')} (expected HostName=…;SharedAccessKeyName=…;SharedAccessKey=…)`,
    );
  const lease = get('lease') ?? 'fleet-controller-lease';
  if (lease !== 'off' && !/^[A-Za-z0-9_.:@-]{1,128}$/.test(lease))
    problems.push(`--lease: "${lease}" is not a device id (or "off")`);
  const leaseDuration = duration('lease-duration');
  if (leaseDuration !== undefined && leaseDuration < 1000)
    problems.push('--lease-duration must be at least 1s');
  const namespacesText = get('namespaces');
  const namespaces = namespacesText === undefined ? undefined : parseNamespacesFlag(namespacesText, problems);
  if (namespaces && get('namespace') !== undefined)
    problems.push('give --namespace (or RELAY_NAMESPACE) or --namespaces (or RELAY_NAMESPACES), not both');
  const budgetText = get('route-connection-budget');
  const routeConnectionBudget = budgetText === undefined ? undefined : Number(budgetText);
  if (budgetText !== undefined && !/^[0-9]+$/.test(budgetText.trim()))
    problems.push('--route-connection-budget must be a whole number');
  const namespaceGrowth = parseNamespaceGrowth(get, duration('namespace-create-timeout'), problems);
  const options: ControllerCliOptions = {
    iothubConnectionString,
    subscriptionId: required('subscription'),
    // With --namespaces, a resource group is needed only for entries that name none.
    resourceGroup:
      namespaces && namespaces.every((n) => n.resourceGroup !== undefined)
        ? (get('resource-group') ?? '')
        : required('resource-group'),
    namespace: namespaces ? '' : required('namespace'),
    ...optional('namespaces', namespaces),
    ...optional('routeConnectionBudget', routeConnectionBudget),
    ...optional('namespaceGrowth', namespaceGrowth),
    pools,
    once: values.once === true,
    ...optional('iothubCaFile', get('iothub-ca')),
    ...optional('hubBudget', parseHubBudgetFlags(get('iothub-tier'), get('iothub-units'), problems)),
    ...optional('armEndpoint', get('arm-endpoint')),
    ...optional('armCaFile', get('arm-ca')),
    ...optional('defaultPool', defaultPool),
    ...optional('tokenLifetimeMs', duration('token-lifetime')),
    ...optional('tokenRenewMarginMs', duration('token-renew-margin')),
    ...optional('renewBelowFraction', renewBelowFraction),
    ...optional('intervalMs', duration('interval')),
    ...optional('pollIntervalMs', duration('poll-interval')),
    ...optional('controllerId', get('controller-id')),
    ...optional('hybridConnectionPrefix', get('hc-prefix')),
    ...optional('relayAuth', relayAuth),
    ...optional('logLevel', logLevel),
    ...optional('leaseDeviceId', lease === 'off' ? undefined : lease),
    ...optional('leaseDurationMs', leaseDuration),
  };
  return problems.length > 0 ? { ok: false, help: false, problems } : { ok: true, options };
}

/** `--create-namespaces` N and its companions: undefined when N is absent or 0 (the controller creates none). */
function parseNamespaceGrowth(
  get: (flag: keyof typeof FLAGS) => string | undefined,
  createTimeoutMs: number | undefined,
  problems: string[],
): NamespaceGrowthInput | undefined {
  const count = get('create-namespaces');
  const companions = [
    'created-namespace-prefix',
    'created-namespace-region',
    'created-namespace-resource-group',
    'namespace-create-timeout',
  ] as const;
  if (count !== undefined && !/^[0-9]+$/.test(count.trim())) {
    problems.push('--create-namespaces must be a whole number (0: create none)');
    return undefined;
  }
  if (count === undefined || Number(count) === 0) {
    const stray = companions.filter((f) => get(f) !== undefined);
    if (stray.length > 0) problems.push(`${stray.map((f) => `--${f}`).join(', ')} need --create-namespaces`);
    return undefined;
  }
  const prefix = get('created-namespace-prefix');
  const region = get('created-namespace-region');
  if (prefix === undefined)
    problems.push('--create-namespaces needs --created-namespace-prefix (or CREATED_NAMESPACE_PREFIX)');
  if (region === undefined)
    problems.push('--create-namespaces needs --created-namespace-region (or CREATED_NAMESPACE_REGION)');
  const resourceGroup = get('created-namespace-resource-group');
  return {
    prefix: prefix ?? '',
    region: region ?? '',
    maxCount: Number(count),
    ...optional('resourceGroup', resourceGroup),
    ...optional('createTimeoutMs', createTimeoutMs),
  };
}

/**
 * The namespace-growth variables alone, read from an environment exactly as the controller reads them (an empty
 * value is unset), with the controller's own messages: what `deployment:gen` checks before the module runs.
 */
export function parseNamespaceGrowthVariables(
  env: Readonly<Record<string, string | undefined>>,
  problems: string[],
): NamespaceGrowthInput | undefined {
  const get = (flag: keyof typeof FLAGS): string | undefined => env[FLAGS[flag]] || undefined;
  const timeout = get('namespace-create-timeout');
  const timeoutMs = timeout === undefined ? undefined : parseDurationMs(timeout);
  if (timeout !== undefined && timeoutMs === undefined)
    problems.push(`--namespace-create-timeout: ${durationProblem(timeout)}`);
  return parseNamespaceGrowth(get, timeoutMs, problems);
}

/** `--relay-auth` and the client ids: undefined for SAS, the Entra settings for `entra`. */
function parseRelayAuth(
  mode: string | undefined,
  forwarderClientId: string | undefined,
  gatewayClientId: string | undefined,
  problems: string[],
): RelayEntraAuthSettings | undefined {
  if (mode !== undefined && mode !== 'sas' && mode !== 'entra')
    problems.push(`--relay-auth: "${mode}" is not sas or entra`);
  if (mode !== 'entra') {
    if (forwarderClientId !== undefined || gatewayClientId !== undefined)
      problems.push('--forwarder-client-id and --gateway-client-id need --relay-auth entra');
    return undefined;
  }
  return {
    type: 'entra',
    ...(forwarderClientId !== undefined && { forwarderClientId }),
    ...(gatewayClientId !== undefined && { gatewayClientId }),
  };
}

/**
 * `4h`, `90m`, `30s`, `500ms`, `2d` (or `0`); undefined for anything else. A bare number is refused: `60` meant
 * 60 ms once, and a reconcile every 60 ms would hammer IoT Hub, so the unit is always written.
 */
export function parseDurationMs(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)$/.exec(trimmed);
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms'];
  return Math.round(Number(m[1]) * unit);
}

/** Why `text` is not a duration, naming the form to use. */
export function durationProblem(text: string): string {
  return /^[0-9.]+$/.test(text.trim())
    ? `"${text}" needs a unit: ${text.trim()}s, ${text.trim()}ms, ${text.trim()}m or ${text.trim()}h`
    : `"${text}" is not a duration (e.g. 60s, 5m, 250ms, 4h, 2d)`;
}

function parsePools(text: string | undefined, problems: string[]): PoolSettings[] {
  if (!text) {
    problems.push('--pools (or CONTROLLER_POOLS) is required: at least one gateway pool');
    return [];
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    problems.push(`--pools is not JSON: ${(err as Error).message}`);
    return [];
  }
  const list = Array.isArray(raw)
    ? raw
    : typeof raw === 'object' && raw !== null
      ? Object.entries(raw).map(([name, p]) => ({ name, ...(p as object) }))
      : [];
  const pools: PoolSettings[] = [];
  for (const [i, p] of list.entries()) {
    const pool = p as {
      name?: unknown;
      ports?: unknown;
      allow?: unknown;
      publicHost?: unknown;
      bindAddress?: unknown;
      gatewayModules?: unknown;
      sni?: unknown;
    };
    const range = typeof pool.ports === 'string' ? /^([0-9]{1,5})-([0-9]{1,5})$/.exec(pool.ports) : null;
    if (typeof pool.name !== 'string' || !range || !Array.isArray(pool.allow)) {
      problems.push(`--pools[${i}] needs "name", "ports": "first-last" and "allow": [CIDR, …]`);
      continue;
    }
    pools.push({
      name: pool.name,
      firstPort: Number(range[1]),
      lastPort: Number(range[2]),
      allow: pool.allow.map(String),
      ...(typeof pool.publicHost === 'string' && { publicHost: pool.publicHost }),
      ...(typeof pool.bindAddress === 'string' && { bindAddress: pool.bindAddress }),
      // resolveSettings checks the value (an integer 1-64); a non-number is passed on so it is refused there.
      ...(pool.gatewayModules !== undefined && { gatewayModules: pool.gatewayModules as number }),
      ...readPoolSni(pool.sni, `--pools[${i}]`, problems),
    });
  }
  if (list.length === 0) problems.push('--pools must list at least one pool');
  return pools;
}

// Names the missing parts without ever echoing the string (it holds a key).
function connectionStringLacks(value: string): string[] {
  const parts = new Set(value.split(';').map((p) => p.split('=')[0]?.trim().toLowerCase()));
  return ['HostName', 'SharedAccessKeyName', 'SharedAccessKey'].filter((p) => !parts.has(p.toLowerCase()));
}

/** The controller settings the options carry (resolveSettings checks and completes them). */
export function settingsOfOptions(o: ControllerCliOptions): ControllerSettingsInput {
  return {
    pools: o.pools,
    ...(o.defaultPool !== undefined && { defaultPool: o.defaultPool }),
    ...(o.tokenLifetimeMs !== undefined && { tokenLifetimeMs: o.tokenLifetimeMs }),
    ...(o.tokenRenewMarginMs !== undefined && { tokenRenewMarginMs: o.tokenRenewMarginMs }),
    ...(o.renewBelowFraction !== undefined && { renewBelowFraction: o.renewBelowFraction }),
    ...(o.controllerId !== undefined && { controllerId: o.controllerId }),
    ...(o.hybridConnectionPrefix !== undefined && { hybridConnectionPrefix: o.hybridConnectionPrefix }),
    ...(o.relayAuth !== undefined && { relayAuth: o.relayAuth }),
    ...(o.namespaces !== undefined && { namespaces: namespaceSettingsOf(o.namespaces) }),
    // Growth places beside a list: `--namespace` alone is a list of one (as runController makes it).
    ...(o.namespaces === undefined &&
      o.namespaceGrowth !== undefined && { namespaces: [{ name: o.namespace }] }),
    ...(o.namespaceGrowth !== undefined && { namespaceGrowth: o.namespaceGrowth }),
    ...(o.routeConnectionBudget !== undefined && { routeConnectionBudget: o.routeConnectionBudget }),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

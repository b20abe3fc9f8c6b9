import { parseCidr } from '../../modules/common/src/net/cidr';
import { ControllerError } from './errors';
import { poolSniProblems, sniZoneOverlaps } from './model/sni-names';
import {
  resolveNamespaceGrowth,
  resolveNamespaces,
  type NamespaceGrowthInput,
  type NamespaceGrowthSettings,
  type NamespaceSettings,
  type NamespaceSettingsInput,
} from './namespace-settings';

/** A gateway pool: the public side several relay-gateway devices share (one load balancer, the same routes). */
export interface PoolSettings {
  readonly name: string;
  /** First public port the controller may allocate (inclusive). */
  readonly firstPort: number;
  /** Last public port the controller may allocate (inclusive). */
  readonly lastPort: number;
  /** CIDR allow-list for every route of the pool unless a service brings its own. */
  readonly allow: readonly string[];
  /** Public host name clients use (the load balancer), shown in each location's status. */
  readonly publicHost?: string;
  /** Address the gateways bind their routes to; the module's default (0.0.0.0) when absent. */
  readonly bindAddress?: string;
  /**
   * relay-gateway module instances on every gateway device of the pool (`relay-gateway`, `relay-gateway-2`, …),
   * each with its own twin and a share of the pool's locations; 1 when absent (docs/fleet-controller.md).
   */
  readonly gatewayModules?: number;
  /** A shared TLS port where services exposed by name are routed by SNI (`{service}.{location}.{zone}`). */
  readonly sni?: PoolSniSettings;
}

/** A pool's shared SNI port and the DNS zone its names live in (docs/fleet-controller.md, "Names"). */
export interface PoolSniSettings {
  /** Port the SNI route binds on every gateway of the pool; outside the port range. */
  readonly port: number;
  /**
   * Port clients dial, when the load balancer maps it to `port` (443 → 8443: the gateway runs as a non-root user
   * and cannot bind ports below 1024); `port` when absent. Shown in the status tag.
   */
  readonly publicPort?: number;
  /** DNS zone of the names, lower case without the trailing dot (`relay.contoso.com`); one pool per zone. */
  readonly zone: string;
}

/**
 * Microsoft Entra ID instead of SAS: the controller writes `auth: {type: "entra"}` entries and creates no SAS
 * rules; each module uses its own identity, which must hold Azure Relay Listener (forwarders) or Azure Relay
 * Sender (gateways) on the hybrid connection or namespace (docs/entra-id.md).
 */
export interface RelayEntraAuthSettings {
  readonly type: 'entra';
  /** Client id of the forwarders' user-assigned identity; absent: each machine's system-assigned (Arc) identity. */
  readonly forwarderClientId?: string;
  /** Client id of the gateways' user-assigned identity; absent: the VM's system-assigned identity. */
  readonly gatewayClientId?: string;
}

/** Everything the pure core needs to decide; adapters and the loop have their own options. */
export interface ControllerSettings {
  readonly pools: ReadonlyMap<string, PoolSettings>;
  /** Pool a location joins when its tags name none. */
  readonly defaultPool: string;
  /** Lifetime of every SAS token the controller issues. */
  readonly tokenLifetimeMs: number;
  /**
   * A token is rewritten once less than this remains. It is also the outage the fleet survives: with no controller
   * running, the last tokens written keep working at least this long.
   */
  readonly tokenRenewMarginMs: number;
  /** Marks the hybrid connections this controller owns (in their userMetadata); two fleets may share a namespace. */
  readonly controllerId: string;
  /** Hybrid connection names are `{prefix}{locationId}`. */
  readonly hybridConnectionPrefix: string;
  readonly forwarderModuleId: string;
  readonly gatewayModuleId: string;
  /** Upper bound on a gateway's desired properties as JSON (IoT Hub refuses more than 32 KB). */
  readonly gatewayTwinMaxBytes: number;
  /**
   * A new location joins a gateway module only while that twin's bound stays within this (at most
   * gatewayTwinMaxBytes); locations already there stay up to gatewayTwinMaxBytes, so nothing moves when it changes.
   */
  readonly gatewayTwinTargetBytes: number;
  /** Listener control channels per hybrid connection on the forwarder; the module's default when absent. */
  readonly forwarderListeners?: number;
  /** Entra ID credentials for the modules; SAS tokens from the controller when absent. */
  readonly relayAuth?: RelayEntraAuthSettings;
  /**
   * Relay namespaces to place locations in, in order of preference on a tie (docs/fleet-controller.md,
   * Namespaces). Absent: one namespace, the one `Observed.namespaceHost` names, and no placement record.
   */
  readonly namespaces?: readonly NamespaceSettings[];
  /** Namespaces the controller may create through ARM when every one is full; none when absent. */
  readonly namespaceGrowth?: NamespaceGrowthSettings;
  /** Connections each public route is counted for when a namespace's connection budget is planned. */
  readonly routeConnectionBudget: number;
}

/** Defaults for everything but the pools. */
export const DEFAULT_SETTINGS = {
  defaultPool: 'default',
  // 48 h renewed with 36 h left: every token, at any moment, has at least 36 h to run, so a controller outage of a
  // day (a weekend night, a broken deployment found the next morning) costs no tunnel and leaves 12 h to fix it.
  tokenLifetimeMs: 48 * 60 * 60 * 1000,
  controllerId: 'default',
  hybridConnectionPrefix: 'hrf-',
  forwarderModuleId: 'relay-forwarder',
  gatewayModuleId: 'relay-gateway',
  gatewayTwinMaxBytes: 30 * 1024,
  gatewayTwinTargetBytes: 24 * 1024,
  routeConnectionBudget: 1,
} as const;

/** Most relay-gateway module instances a pool may declare (module ids stay short; ~1,000 locations need ~22). */
export const MAX_GATEWAY_MODULES = 64;

/** Margin as a fraction of the lifetime when none is given (48 h → 36 h). */
export const DEFAULT_RENEW_MARGIN_FRACTION = 0.75;

/** Settings as a caller gives them: pools as a list or map, everything else optional. */
export interface ControllerSettingsInput extends Partial<
  Omit<ControllerSettings, 'pools' | 'namespaces' | 'namespaceGrowth'>
> {
  readonly pools: readonly PoolSettings[] | ReadonlyMap<string, PoolSettings>;
  /** The Relay namespaces; each one's limits default to Azure's quotas. */
  readonly namespaces?: readonly NamespaceSettingsInput[];
  /** Namespaces created through ARM when every one is full (needs `namespaces`). */
  readonly namespaceGrowth?: NamespaceGrowthInput;
  /** The margin as a fraction of the lifetime (0.5: at half-life); only when `tokenRenewMarginMs` is absent. */
  readonly renewBelowFraction?: number;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const MODULE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const PREFIX = /^[a-z][a-z0-9-]{0,19}$/;

/** Fills defaults and checks every value; throws CONTROLLER_BAD_SETTINGS naming each problem. */
export function resolveSettings(input: ControllerSettingsInput): ControllerSettings {
  const problems: string[] = [];
  const list = input.pools instanceof Map ? [...input.pools.values()] : [...(input.pools as PoolSettings[])];
  const pools = new Map<string, PoolSettings>();
  for (const pool of list) {
    problems.push(...poolProblems(pool));
    if (pools.has(pool.name)) problems.push(`pool "${pool.name}" is defined twice`);
    pools.set(pool.name, pool);
  }
  problems.push(...sniZoneOverlaps([...pools.values()]));
  const {
    renewBelowFraction,
    namespaces: namespaceList,
    namespaceGrowth: growthInput,
    ...rest
  } = stripUndefined(input);
  const namespaces = resolveNamespaces(namespaceList, problems);
  const namespaceGrowth = resolveNamespaceGrowth(growthInput, problems);
  if (namespaceGrowth && !namespaces)
    problems.push('namespace growth needs the namespaces list (the created ones are placed beside them)');
  const lifetimeMs = rest.tokenLifetimeMs ?? DEFAULT_SETTINGS.tokenLifetimeMs;
  if (renewBelowFraction !== undefined && rest.tokenRenewMarginMs !== undefined)
    problems.push('give the renewal margin either as tokenRenewMarginMs or as renewBelowFraction, not both');
  if (renewBelowFraction !== undefined && !(renewBelowFraction > 0 && renewBelowFraction < 1))
    problems.push('renewBelowFraction must be between 0 and 1 (exclusive)');
  const s: ControllerSettings = {
    ...DEFAULT_SETTINGS,
    tokenRenewMarginMs: Math.round(lifetimeMs * (renewBelowFraction ?? DEFAULT_RENEW_MARGIN_FRACTION)),
    ...rest,
    pools,
    ...(namespaces && { namespaces }),
    ...(namespaceGrowth && { namespaceGrowth }),
  };
  if (!(s.tokenLifetimeMs >= 1000)) problems.push('tokenLifetimeMs must be at least 1000');
  if (!(s.tokenRenewMarginMs > 0 && s.tokenRenewMarginMs < s.tokenLifetimeMs))
    problems.push('tokenRenewMarginMs must be above 0 and below tokenLifetimeMs');
  if (!NAME.test(s.controllerId)) problems.push('controllerId must be letters, digits, - or _ (1-64)');
  if (!PREFIX.test(s.hybridConnectionPrefix))
    problems.push(
      'hybridConnectionPrefix must be lower-case letters, digits or - (1-20), starting with a letter',
    );
  if (!(s.gatewayTwinMaxBytes >= 1024 && s.gatewayTwinMaxBytes <= 32 * 1024))
    problems.push('gatewayTwinMaxBytes must be 1024-32768 (IoT Hub caps desired properties at 32 KB)');
  if (!(s.gatewayTwinTargetBytes >= 1024 && s.gatewayTwinTargetBytes <= 32 * 1024))
    problems.push('gatewayTwinTargetBytes must be 1024-32768 (IoT Hub caps desired properties at 32 KB)');
  for (const id of [s.forwarderModuleId, s.gatewayModuleId]) {
    if (!MODULE_ID.test(id)) problems.push(`module id "${id}" must be 1-64 letters, digits, - or _`);
  }
  if (s.forwarderModuleId === s.gatewayModuleId)
    problems.push('the forwarder and gateway module ids must differ');
  const most = Math.max(1, ...[...pools.values()].map((p) => p.gatewayModules ?? 1));
  if (most > 1 && `${s.gatewayModuleId}-${most}`.length > 64)
    problems.push(
      `module id "${s.gatewayModuleId}-${most}" (gateway instance ${most}) would be longer than 64`,
    );
  if (
    s.forwarderListeners !== undefined &&
    !(Number.isInteger(s.forwarderListeners) && s.forwarderListeners >= 1 && s.forwarderListeners <= 25)
  )
    problems.push('forwarderListeners must be an integer 1-25');
  if (!(Number.isInteger(s.routeConnectionBudget) && s.routeConnectionBudget >= 0))
    problems.push('routeConnectionBudget must be a whole number of at least 0');
  if (problems.length > 0) {
    throw new ControllerError('CONTROLLER_BAD_SETTINGS', `invalid settings: ${problems.join('; ')}`, false);
  }
  return s;
}

function poolProblems(pool: PoolSettings): string[] {
  const problems: string[] = [];
  const where = `pool "${pool.name}"`;
  if (!NAME.test(pool.name)) problems.push(`${where}: name must be letters, digits, - or _ (1-64)`);
  const portOk = (p: number) => Number.isInteger(p) && p >= 1 && p <= 65535;
  if (!portOk(pool.firstPort) || !portOk(pool.lastPort) || pool.firstPort > pool.lastPort)
    problems.push(`${where}: port range must be first ≤ last, both 1-65535`);
  if (pool.allow.length === 0)
    problems.push(`${where}: allow must list at least one CIDR block (use 0.0.0.0/0 and ::/0 for all)`);
  for (const block of pool.allow) {
    const parsed = parseCidr(block);
    if (!parsed.ok) problems.push(`${where}: ${parsed.message}`);
  }
  const n = pool.gatewayModules;
  if (n !== undefined && !(Number.isInteger(n) && n >= 1 && n <= MAX_GATEWAY_MODULES))
    problems.push(`${where}: gatewayModules must be an integer 1-${MAX_GATEWAY_MODULES}`);
  problems.push(...poolSniProblems(pool).map((p) => `${where}: ${p}`));
  // One instance binds the shared port, and it would need the Send token of every named location, which the
  // instances share out: names and several instances per gateway do not combine yet (docs/fleet-controller.md).
  if (pool.sni && (pool.gatewayModules ?? 1) > 1)
    problems.push(
      `${where}: sni needs gatewayModules 1 (a shared SNI port with several gateway instances is not supported yet)`,
    );
  return problems;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

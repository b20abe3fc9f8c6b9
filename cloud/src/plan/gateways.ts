import {
  entraAuth,
  gatewayHybridConnectionEntry,
  gatewayRoute,
  renderGatewayDocument,
} from '../model/documents';
import { diffMergePatch, objectAt, type JsonObject } from '../model/json';
import { hybridConnectionName, isManagedName, parseRouteName, routeName } from '../model/names';
import type { Observed, ObservedModule } from '../model/observed';
import { SNI_ROUTE_NAME, sniRoute, type SniNameTarget } from '../model/sni-names';
import { tokenRenewalDueAtMs } from '../model/tokens';
import type { ControllerSettings } from '../settings';
import { actionKey, type WriteGatewayTwin } from './actions';
import type { PoolDecision } from './pools';
import { namespaceField } from './namespace-placement';
import type { ProblemBook } from './problems';
import { chooseToken, tokenPolicy } from './tokens';
import type { FleetView } from './view';

/**
 * Renders every relay-gateway instance twin from its pool: one Send-token entry per location placed on that
 * instance and one route per service that holds a port. A gateway outside any configured pool, or an instance
 * beyond its pool's `gatewayModules`, loses the controller's routes. Routes and entries the controller does not
 * manage stay as they are.
 */
export function planGateways(
  view: FleetView,
  observed: Observed,
  settings: ControllerSettings,
  pools: ReadonlyMap<string, PoolDecision>,
  problems: ProblemBook,
): { actions: WriteGatewayTwin[]; renewalDueAtMs: number[]; notes: string[] } {
  const actions: WriteGatewayTwin[] = [];
  const renewalDueAtMs: number[] = [];
  const notes: string[] = [];
  for (const { deviceId, module } of gatewayInstanceList(view)) {
    const current = module.desired;
    const currentEntries = objectAt(current, 'hybridConnections');
    const entries = new Map<string, JsonObject>();
    const routes = new Map<string, JsonObject>();
    // Names of the locations whose credential entry is written (the gateway refuses a name without one).
    const names = new Map<string, SniNameTarget>();
    const poolName = view.poolOfGateway.get(deviceId);
    const decision = poolName === undefined ? undefined : pools.get(poolName);
    if (poolName !== undefined && !decision && module.moduleId === settings.gatewayModuleId)
      notes.push(`gateway "${deviceId}" names pool "${poolName}", which is not configured`);
    // Each instance carries only its shard: the routes it binds and the Send tokens they need.
    const shard = [...(decision?.admitted ?? [])].filter(
      (id) => decision!.shards.get(id) === module.moduleId,
    );
    for (const locationId of shard.sort()) {
      const spec = view.locations.get(locationId)!;
      const hc = hybridConnectionName(settings, locationId);
      const ports = decision!.ports.get(locationId);
      const routed = spec.services.filter((s) => ports?.has(s.name));
      const named = decision!.names.get(locationId) ?? new Map<string, string>();
      const place = view.placement.places.get(locationId);
      if ((routed.length === 0 && named.size === 0) || view.foreign.has(hc) || !place) continue;
      const addNames = () => {
        for (const [service, name] of named) names.set(name, { locationId, hybridConnection: hc, service });
      };
      if (settings.relayAuth) {
        // Entra ID: the gateways' own identity is the credential; nothing to issue or renew.
        entries.set(
          hc,
          gatewayHybridConnectionEntry(place.host, hc, entraAuth(settings.relayAuth.gatewayClientId)),
        );
        for (const service of routed)
          routes.set(
            routeName(locationId, service.name),
            gatewayRoute(decision!.pool, hc, service, ports!.get(service.name)!),
          );
        addNames();
        continue;
      }
      const scope = {
        namespaceHost: place.host,
        hybridConnection: hc,
        rule: 'send' as const,
        ...namespaceField(place),
      };
      const choice = chooseToken(observed, settings, scope, objectAt(currentEntries, hc).sasToken);
      if (choice.kind === 'none') {
        problems.add(locationId, {
          code: 'TOKEN_UNAVAILABLE',
          message: 'no Send token could be issued for the gateways (see ARM_FAILED)',
          severity: 'error',
        });
        continue;
      }
      if (choice.kind === 'stale') {
        problems.add(locationId, {
          code: 'TOKEN_RENEWAL_PENDING',
          message: "the gateways' Send token is due for renewal but no key could be read",
          severity: 'pending',
        });
      }
      entries.set(hc, gatewayHybridConnectionEntry(place.host, hc, choice.token));
      addNames();
      for (const service of routed) {
        routes.set(
          routeName(locationId, service.name),
          gatewayRoute(decision!.pool, hc, service, ports!.get(service.name)!),
        );
      }
      const due = tokenRenewalDueAtMs(choice.token, tokenPolicy(settings));
      if (due !== undefined) renewalDueAtMs.push(due);
    }
    const shared = decision ? sniRoute(decision.pool, names) : undefined;
    if (shared) routes.set(SNI_ROUTE_NAME, shared);
    const target = renderGatewayDocument(settings, current, entries, routes);
    const patch = diffMergePatch(current, target);
    if (!patch) continue;
    const action: WriteGatewayTwin = {
      kind: 'writeGatewayTwin',
      pool: decision ? poolName : undefined,
      deviceId,
      moduleId: module.moduleId,
      etag: module.etag,
      patch,
      locations: affectedLocations(settings, patch),
    };
    if (!observed.failures.has(actionKey(action))) actions.push(action);
  }
  return { actions, renewalDueAtMs, notes };
}

// Every relay-gateway instance twin, by device then module id (writes come in a stable order).
function gatewayInstanceList(view: FleetView): { deviceId: string; module: ObservedModule }[] {
  const list: { deviceId: string; module: ObservedModule }[] = [];
  for (const [deviceId, instances] of view.gatewayInstances)
    for (const module of instances.values()) list.push({ deviceId, module });
  const key = (e: { deviceId: string; module: ObservedModule }) => [e.deviceId, e.module.moduleId];
  return list.sort((a, b) => {
    const [da, ma] = key(a);
    const [db, mb] = key(b);
    return da! < db! ? -1 : da! > db! ? 1 : ma! < mb! ? -1 : ma! > mb! ? 1 : 0;
  });
}

// Locations whose credential entry or routes the patch touches (a removed route names its location too).
function affectedLocations(settings: ControllerSettings, patch: JsonObject): string[] {
  const ids = new Set<string>();
  for (const name of Object.keys(objectAt(patch, 'hybridConnections'))) {
    if (isManagedName(settings, name)) ids.add(name.slice(settings.hybridConnectionPrefix.length));
  }
  for (const name of Object.keys(objectAt(patch, 'routes'))) {
    const parsed = parseRouteName(name);
    if (parsed) ids.add(parsed.locationId);
  }
  // The SNI route's entries are keyed like routes: `{location}_{service}`.
  const sni = objectAt(objectAt(objectAt(patch, 'routes'), SNI_ROUTE_NAME), 'sni');
  for (const key of Object.keys(objectAt(sni, 'hosts'))) {
    const parsed = parseRouteName(key);
    if (parsed) ids.add(parsed.locationId);
  }
  return [...ids].sort();
}

import { objectAt } from '../model/json';
import { hybridConnectionName, ownerMetadata, RULES, type RuleName } from '../model/names';
import { keyRef, type Observed } from '../model/observed';
import type { LocationProblem } from '../model/status';
import type { ControllerSettings } from '../settings';
import { actionKey, type Action } from './actions';
import { namespaceField } from './namespace-placement';
import type { PoolDecision } from './pools';
import { needsNewToken } from './tokens';
import type { FleetView } from './view';

/** ARM work for this pass, and locations held up by ARM failures earlier in this reconcile. */
export interface ArmPlan {
  readonly actions: readonly Action[];
  readonly problems: ReadonlyMap<string, readonly LocationProblem[]>;
}

/**
 * What must happen in the Relay namespace before the twins can be written: each location's hybrid connection
 * (created with both rules), and the keys of the rules whose tokens are due. An action that already failed in
 * this reconcile is not repeated; the location gets an ARM_FAILED problem instead and the others go on.
 */
export function planArm(
  view: FleetView,
  observed: Observed,
  settings: ControllerSettings,
  pools: ReadonlyMap<string, PoolDecision>,
): ArmPlan {
  const actions: Action[] = [];
  const problems = new Map<string, LocationProblem[]>();
  // An action that failed earlier in this reconcile is not repeated; its location reports why.
  const failed = (locationId: string, a: Action): boolean => {
    const f = observed.failures.get(actionKey(a));
    if (f) {
      const what = 'rule' in a ? `${a.kind} (${a.rule})` : a.kind;
      const problem: LocationProblem = {
        code: 'ARM_FAILED',
        message: `${what}: ${f.message}`,
        severity: 'error',
      };
      problems.set(locationId, [...(problems.get(locationId) ?? []), problem]);
    }
    return f !== undefined;
  };
  for (const [locationId, spec] of view.locations) {
    const hc = hybridConnectionName(settings, locationId);
    const place = view.placement.places.get(locationId);
    // Refused by every namespace (NAMESPACE_CAPACITY), or the name is someone else's there: nothing to do.
    if (!place || view.foreign.has(hc)) continue;
    const ns = namespaceField(place);
    if (!place.exists) {
      const group: Action[] = [
        {
          kind: 'createHybridConnection',
          ...ns,
          location: locationId,
          hybridConnection: hc,
          userMetadata: ownerMetadata(settings, locationId, spec.deviceId),
        },
      ];
      // With Entra ID no SAS rule exists: a namespace with disableLocalAuth would refuse them anyway.
      for (const rule of settings.relayAuth ? [] : (Object.keys(RULES) as RuleName[])) {
        group.push({
          kind: 'createAuthorizationRule',
          ...ns,
          location: locationId,
          hybridConnection: hc,
          rule,
          rights: [...RULES[rule].rights],
        });
      }
      for (const rule of settings.relayAuth ? [] : (Object.keys(RULES) as RuleName[]))
        group.push({ kind: 'fetchKeys', ...ns, location: locationId, hybridConnection: hc, rule });
      if (!group.some((a) => failed(locationId, a))) actions.push(...group);
      continue;
    }
    for (const rule of settings.relayAuth ? [] : rulesNeeded(view, observed, settings, pools, locationId)) {
      const ref = keyRef(hc, rule, ns.namespace);
      if (observed.keys.has(ref)) continue;
      const fetch: Action = { kind: 'fetchKeys', ...ns, location: locationId, hybridConnection: hc, rule };
      if (observed.missingRules.has(ref)) {
        const create: Action = {
          kind: 'createAuthorizationRule',
          ...ns,
          location: locationId,
          hybridConnection: hc,
          rule,
          rights: [...RULES[rule].rights],
        };
        if (!failed(locationId, create) && !failed(locationId, fetch)) actions.push(create, fetch);
      } else if (!failed(locationId, fetch)) {
        actions.push(fetch);
      }
    }
  }
  return { actions, problems };
}

/** The rules of a location whose tokens are due somewhere: `listen` for its forwarder, `send` for its pool's gateways. */
function rulesNeeded(
  view: FleetView,
  observed: Observed,
  settings: ControllerSettings,
  pools: ReadonlyMap<string, PoolDecision>,
  locationId: string,
): RuleName[] {
  const spec = view.locations.get(locationId)!;
  const hc = hybridConnectionName(settings, locationId);
  const place = view.placement.places.get(locationId)!;
  const scope = (rule: RuleName) => ({
    namespaceHost: place.host,
    hybridConnection: hc,
    rule,
    ...namespaceField(place),
  });
  const rules: RuleName[] = [];
  const forwarder = view.forwarders.get(spec.deviceId);
  if (forwarder) {
    const entry = objectAt(objectAt(forwarder.desired, 'hybridConnections'), hc);
    if (needsNewToken(observed, settings, scope('listen'), entry.sasToken)) rules.push('listen');
  }
  const pool = pools.get(spec.pool);
  const ports = pool?.ports.get(locationId);
  if (pool && spec.services.some((s) => ports?.has(s.name))) {
    const moduleId = pool.shards.get(locationId);
    const due = pool.gateways.some((deviceId) => {
      const module = moduleId === undefined ? undefined : view.gatewayInstances.get(deviceId)?.get(moduleId);
      if (!module) return false;
      const entry = objectAt(objectAt(module.desired, 'hybridConnections'), hc);
      return needsNewToken(observed, settings, scope('send'), entry.sasToken);
    });
    if (due) rules.push('send');
  }
  return rules;
}

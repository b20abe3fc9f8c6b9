import { diffMergePatch, isJsonObject, type JsonObject } from '../model/json';
import { STATUS_TAG } from '../model/location';
import { hybridConnectionName } from '../model/names';
import type { Observed } from '../model/observed';
import { locationState, renderStatusTag, type LocationOutcome } from '../model/status';
import type { ControllerSettings } from '../settings';
import { actionKey, type WriteLocationStatus } from './actions';
import type { PoolDecision } from './pools';
import type { ProblemBook } from './problems';
import type { FleetView } from './view';

/**
 * The outcome of every device that is (or was) a location: ports, hybrid connection and problems. Devices that
 * are refused get their reason; gateways and devices without relay tags get none (their old status is removed).
 */
export function locationOutcomes(
  view: FleetView,
  settings: ControllerSettings,
  pools: ReadonlyMap<string, PoolDecision>,
  problems: ProblemBook,
): Map<string, LocationOutcome> {
  const outcomes = new Map<string, LocationOutcome>();
  for (const [locationId, spec] of view.locations) {
    const decision = pools.get(spec.pool)!;
    const hc = hybridConnectionName(settings, locationId);
    const list = [...problems.of(locationId)];
    for (const [service, reason] of spec.invalidServices) {
      list.push({ code: 'INVALID_SERVICE', message: `${service}: ${reason}`, severity: 'error' });
    }
    if (view.foreign.has(hc)) {
      list.push({
        code: 'HYBRID_CONNECTION_NOT_OWNED',
        message: `hybrid connection "${hc}" exists but was not created by this controller; it is left alone`,
        severity: 'error',
      });
    }
    const replicas = view.replicas.get(locationId) ?? [];
    const place = view.placement.places.get(locationId);
    const shared = {
      locationId,
      pool: spec.pool,
      hybridConnection: hc,
      // The placement record: with it a lost hybrid connection is re-created where it was.
      ...(place && settings.namespaces && { namespace: place.namespace }),
      ports: decision.ports.get(locationId) ?? new Map<string, number>(),
      ...(decision.pool.publicHost !== undefined && { publicHost: decision.pool.publicHost }),
      ...namesOf(decision, locationId),
    };
    // Each forwarder device carries the location's outcome; only its own missing module is its own problem.
    const withModule = (deviceId: string) =>
      view.forwarders.has(deviceId)
        ? list
        : [
            ...list,
            {
              code: 'FORWARDER_MODULE_MISSING',
              message: `device "${deviceId}" has no ${settings.forwarderModuleId} module yet (deployment pending)`,
              severity: 'pending' as const,
            },
          ];
    outcomes.set(spec.deviceId, {
      deviceId: spec.deviceId,
      ...shared,
      problems: withModule(spec.deviceId),
      ...(replicas.length > 0 && { replicas }),
    });
    for (const deviceId of replicas)
      outcomes.set(deviceId, {
        deviceId,
        ...shared,
        problems: withModule(deviceId),
        replicaOf: spec.deviceId,
      });
  }
  for (const [deviceId, problem] of view.refused) {
    outcomes.set(deviceId, { deviceId, ports: new Map(), problems: [problem] });
  }
  return outcomes;
}

// The location's server names and the port they share, when it has any.
function namesOf(decision: PoolDecision, locationId: string) {
  const names = decision.names.get(locationId);
  if (!names || names.size === 0 || decision.pool.sni === undefined) return {};
  return { names, sniPort: decision.pool.sni.publicPort ?? decision.pool.sni.port };
}

/** Status-tag writes: each outcome's tag where it differs, and removal where a device has none any more. */
export function planStatuses(
  view: FleetView,
  observed: Observed,
  outcomes: ReadonlyMap<string, LocationOutcome>,
): WriteLocationStatus[] {
  const actions: WriteLocationStatus[] = [];
  for (const [deviceId, device] of [...view.devices].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const outcome = outcomes.get(deviceId);
    const current = device.tags[STATUS_TAG];
    let patch: JsonObject | undefined;
    if (!outcome) {
      if (current !== undefined && current !== null) patch = { [STATUS_TAG]: null };
    } else {
      const next = renderStatusTag(outcome);
      const diff = isJsonObject(current) ? diffMergePatch(current, next) : next;
      if (diff) patch = { [STATUS_TAG]: diff };
    }
    if (!patch) continue;
    const location = outcome?.locationId ?? view.previous.get(deviceId)?.locationId;
    const action: WriteLocationStatus = {
      kind: 'writeLocationStatus',
      location,
      deviceId,
      etag: device.etag,
      patch,
      ...(outcome && {
        state: locationState(outcome.problems),
        problems: outcome.problems.map((p) => p.code),
      }),
    };
    if (!observed.failures.has(actionKey(action))) actions.push(action);
  }
  return actions;
}

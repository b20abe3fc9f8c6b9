import { entraAuth, forwarderEntry, renderForwarderDocument } from '../model/documents';
import { diffMergePatch, isJsonObject, objectAt, type JsonObject } from '../model/json';
import { hybridConnectionName, isManagedName } from '../model/names';
import type { Observed } from '../model/observed';
import { tokenRenewalDueAtMs } from '../model/tokens';
import type { ControllerSettings } from '../settings';
import { actionKey, type WriteForwarderTwin } from './actions';
import { namespaceField } from './namespace-placement';
import type { ProblemBook } from './problems';
import { chooseToken, tokenPolicy } from './tokens';
import type { FleetView } from './view';

/**
 * Renders every relay-forwarder twin: a location's forwarder gets one entry (its hybrid connection, a Listen
 * token, its services); a forwarder on a device that is no longer a location loses the controller's entries.
 * Returns the writes for twins that differ, and the earliest time a written token falls due.
 */
export function planForwarders(
  view: FleetView,
  observed: Observed,
  settings: ControllerSettings,
  problems: ProblemBook,
): { actions: WriteForwarderTwin[]; renewalDueAtMs: number[] } {
  const actions: WriteForwarderTwin[] = [];
  const renewalDueAtMs: number[] = [];
  for (const [deviceId, module] of [...view.forwarders].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const current = module.desired;
    const currentEntries = objectAt(current, 'hybridConnections');
    const managed = new Map<string, JsonObject>();
    const locationId = view.locationOfDevice.get(deviceId);
    const hc = locationId === undefined ? undefined : hybridConnectionName(settings, locationId);
    // A location no namespace had room for (NAMESPACE_CAPACITY) gets no entry, like a foreign name.
    const place = locationId === undefined ? undefined : view.placement.places.get(locationId);
    const entra = settings.relayAuth;
    if (place && entra && locationId !== undefined && hc !== undefined && !view.foreign.has(hc)) {
      // Entra ID: the forwarder's own identity is the credential; nothing to issue or renew.
      const spec = view.locations.get(locationId)!;
      const auth = entraAuth(entra.forwarderClientId);
      managed.set(hc, forwarderEntry(place.host, hc, auth, spec.services, settings.forwarderListeners));
    } else if (place && locationId !== undefined && hc !== undefined && !view.foreign.has(hc)) {
      const spec = view.locations.get(locationId)!;
      const scope = {
        namespaceHost: place.host,
        hybridConnection: hc,
        rule: 'listen' as const,
        ...namespaceField(place),
      };
      const choice = chooseToken(observed, settings, scope, objectAt(currentEntries, hc).sasToken);
      if (choice.kind === 'none') {
        problems.add(locationId, {
          code: 'TOKEN_UNAVAILABLE',
          message: 'no Listen token could be issued for the forwarder (see ARM_FAILED)',
          severity: 'error',
        });
        if (isJsonObject(currentEntries[hc])) managed.set(hc, currentEntries[hc]);
      } else {
        if (choice.kind === 'stale') {
          problems.add(locationId, {
            code: 'TOKEN_RENEWAL_PENDING',
            message: "the forwarder's Listen token is due for renewal but no key could be read",
            severity: 'pending',
          });
        }
        managed.set(
          hc,
          forwarderEntry(place.host, hc, choice.token, spec.services, settings.forwarderListeners),
        );
        const due = tokenRenewalDueAtMs(choice.token, tokenPolicy(settings));
        if (due !== undefined) renewalDueAtMs.push(due);
      }
    }
    const target = renderForwarderDocument(settings, current, managed);
    const patch = diffMergePatch(current, target);
    if (!patch) continue;
    const action: WriteForwarderTwin = {
      kind: 'writeForwarderTwin',
      location: locationId ?? formerLocation(settings, currentEntries) ?? deviceId,
      deviceId,
      moduleId: module.moduleId,
      etag: module.etag,
      patch,
      changes: describeChanges(patch),
    };
    if (!observed.failures.has(actionKey(action))) actions.push(action);
  }
  return { actions, renewalDueAtMs };
}

function formerLocation(settings: ControllerSettings, entries: JsonObject): string | undefined {
  const name = Object.keys(entries).find((n) => isManagedName(settings, n));
  return name?.slice(settings.hybridConnectionPrefix.length);
}

// `added`/`removed` for whole entries, else the fields that changed (`sasToken` means a renewal).
function describeChanges(patch: JsonObject): string[] {
  const changes: string[] = [];
  if ('schemaVersion' in patch) changes.push('schemaVersion');
  for (const [name, entry] of Object.entries(objectAt(patch, 'hybridConnections'))) {
    if (entry === null) changes.push(`removed ${name}`);
    else if (isJsonObject(entry) && 'path' in entry && 'namespace' in entry) changes.push(`added ${name}`);
    else if (isJsonObject(entry)) changes.push(...Object.keys(entry).map((k) => `${name}.${k}`));
  }
  return changes;
}

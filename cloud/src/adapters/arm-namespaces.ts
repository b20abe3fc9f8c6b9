import type { RelayAPI } from '@azure/arm-relay';
import { ControllerError } from '../errors';
import type { ControllerSettings } from '../settings';
import { ArmRelayAdmin } from './relay-admin';
import type { RelayNamespaces } from './relay-namespaces';

/** One Relay namespace in ARM; resource group and subscription default to the controller's. */
export interface ArmNamespaceRef {
  readonly namespace: string;
  readonly resourceGroup?: string;
  readonly subscriptionId?: string;
}

/**
 * An ArmRelayAdmin per configured namespace, in settings.namespaces order, each on the RelayAPI client of its
 * subscription. Every namespace of the settings needs an ARM reference and every reference a namespace.
 */
export function armRelayNamespaces(
  settings: ControllerSettings,
  refs: readonly ArmNamespaceRef[],
  defaults: { readonly resourceGroup: string; readonly subscriptionId?: string },
  clientOf: (subscriptionId: string | undefined) => RelayAPI,
): RelayNamespaces {
  const byName = new Map(refs.map((r) => [r.namespace, r]));
  const names = (settings.namespaces ?? []).map((n) => n.name);
  const unknown = [
    ...names.filter((n) => !byName.has(n)),
    ...refs.map((r) => r.namespace).filter((n) => !names.includes(n)),
  ];
  if (unknown.length > 0)
    throw new ControllerError(
      'CONTROLLER_BAD_SETTINGS',
      `the settings' namespaces and the ARM namespaces differ: ${unknown.join(', ')}`,
      false,
    );
  const clients = new Map<string, RelayAPI>();
  const admins = new Map<string, ArmRelayAdmin>();
  for (const name of names) {
    const ref = byName.get(name)!;
    const subscription = ref.subscriptionId ?? defaults.subscriptionId ?? '';
    if (!clients.has(subscription)) clients.set(subscription, clientOf(ref.subscriptionId));
    admins.set(
      name,
      new ArmRelayAdmin(clients.get(subscription)!, {
        resourceGroup: ref.resourceGroup ?? defaults.resourceGroup,
        namespace: name,
      }),
    );
  }
  return admins;
}

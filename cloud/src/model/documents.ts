import type { ControllerSettings, PoolSettings } from '../settings';
import { isJsonObject, objectAt, type JsonObject } from './json';
import { isManagedName } from './names';
import type { ServiceSpec } from './location';

/** Schema version of both module documents. */
export const SCHEMA_VERSION = 1;

/** How an entry proves its right: a SAS token (a string), or an Entra ID `auth` object. */
export type EntryCredential = string | JsonObject;

/** The `auth` object of an Entra ID entry for an identity (`clientId` absent: the system-assigned identity). */
export function entraAuth(clientId: string | undefined): JsonObject {
  return { type: 'entra', ...(clientId !== undefined && { clientId }) };
}

const credentialFields = (credential: EntryCredential): JsonObject =>
  typeof credential === 'string' ? { sasToken: credential } : { auth: credential };

/** A forwarder's entry for its location's hybrid connection: where to listen, the Listen credential, the services. */
export function forwarderEntry(
  namespaceHost: string,
  hybridConnection: string,
  credential: EntryCredential,
  services: readonly ServiceSpec[],
  listeners?: number,
): JsonObject {
  const servicesDoc: JsonObject = {};
  for (const s of services) servicesDoc[s.name] = { target: s.target };
  return {
    namespace: namespaceHost,
    path: hybridConnection,
    ...credentialFields(credential),
    ...(listeners !== undefined && { listeners }),
    services: servicesDoc,
  };
}

/** A gateway's credential entry for one hybrid connection (Send token or Entra ID auth). */
export function gatewayHybridConnectionEntry(
  namespaceHost: string,
  hybridConnection: string,
  credential: EntryCredential,
): JsonObject {
  return { namespace: namespaceHost, path: hybridConnection, ...credentialFields(credential) };
}

/** A gateway route: a public port tunnelled to one service of one hybrid connection. */
export function gatewayRoute(
  pool: PoolSettings,
  hybridConnection: string,
  service: ServiceSpec,
  port: number,
): JsonObject {
  return {
    port,
    ...(pool.bindAddress !== undefined && { bindAddress: pool.bindAddress }),
    hybridConnection,
    service: service.name,
    allow: [...(service.allow ?? pool.allow)],
  };
}

/**
 * The forwarder's desired document: the current one with `schemaVersion` set and the controller's entries
 * (names with its prefix) replaced by `managed`; entries and settings it does not manage are left alone.
 */
export function renderForwarderDocument(
  settings: ControllerSettings,
  current: JsonObject,
  managed: ReadonlyMap<string, JsonObject>,
): JsonObject {
  return {
    ...current,
    schemaVersion: SCHEMA_VERSION,
    hybridConnections: replaceManaged(settings, objectAt(current, 'hybridConnections'), managed),
  };
}

/**
 * A gateway's desired document: the current one with `schemaVersion` set, the controller's credential entries
 * replaced by `hybridConnections`, and the routes that point at a managed hybrid connection replaced by `routes`.
 */
export function renderGatewayDocument(
  settings: ControllerSettings,
  current: JsonObject,
  hybridConnections: ReadonlyMap<string, JsonObject>,
  routes: ReadonlyMap<string, JsonObject>,
): JsonObject {
  const keptRoutes: JsonObject = {};
  for (const [name, route] of Object.entries(objectAt(current, 'routes'))) {
    if (!isManagedRoute(settings, route) && !routes.has(name)) keptRoutes[name] = route;
  }
  for (const [name, route] of [...routes].sort(([a], [b]) => (a < b ? -1 : 1))) keptRoutes[name] = route;
  return {
    ...current,
    schemaVersion: SCHEMA_VERSION,
    hybridConnections: replaceManaged(settings, objectAt(current, 'hybridConnections'), hybridConnections),
    routes: keptRoutes,
  };
}

/** True for a route the controller manages: it points at a hybrid connection with the controller's prefix. */
export function isManagedRoute(settings: ControllerSettings, route: unknown): boolean {
  return (
    isJsonObject(route) &&
    typeof route.hybridConnection === 'string' &&
    isManagedName(settings, route.hybridConnection)
  );
}

/** Size of a document as IoT Hub's 32 KB desired-properties limit is checked here: UTF-8 JSON bytes. */
export function documentBytes(document: JsonObject): number {
  return Buffer.byteLength(JSON.stringify(document));
}

function replaceManaged(
  settings: ControllerSettings,
  current: JsonObject,
  managed: ReadonlyMap<string, JsonObject>,
): JsonObject {
  const out: JsonObject = {};
  for (const [name, entry] of Object.entries(current)) {
    if (!isManagedName(settings, name)) out[name] = entry;
  }
  for (const [name, entry] of [...managed].sort(([a], [b]) => (a < b ? -1 : 1))) out[name] = entry;
  return out;
}

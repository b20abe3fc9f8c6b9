import { parseRelayConnectionString, type RelayConnectionString } from '../hc/connection-string';
import { parseSasToken, type SasTokenFields } from '../hc/sas';
import type { ConfigProblem } from './schema-validator';
import { asRecord, type Unchecked } from './unchecked';

/**
 * How a module proves its relay right (Send or Listen): a SAS key it signs tokens with, a pre-issued token, or its
 * own Microsoft Entra ID identity (managed identity, Azure Arc or workload identity) holding an Azure Relay role.
 */
export type RelayCredential =
  | { readonly kind: 'key'; readonly keyName: string; readonly key: string }
  | { readonly kind: 'token'; readonly token: string; readonly expiresAtMs: number }
  | { readonly kind: 'entra'; readonly clientId?: string; readonly tenantId?: string };

/** The `auth` object of a hybrid connection entry: Entra ID instead of SAS. */
export interface RelayAuthDocument {
  readonly type: 'entra';
  readonly clientId?: string;
  readonly tenantId?: string;
}

/** The credential fields of a hybrid connection entry (hybrid-connection.schema.json), as written. */
export interface HybridConnectionCredentialsDocument {
  readonly connectionString?: string;
  readonly namespace?: string;
  readonly path?: string;
  readonly sasToken?: string;
  readonly auth?: RelayAuthDocument;
}


/** What resolveRelayCredentials found; a field is undefined when it could not be resolved. */
export interface ResolvedRelayCredentials {
  readonly namespace?: string;
  readonly path?: string;
  readonly credential?: RelayCredential;
}

/** How resolveRelayCredentials treats a namespace or path that disagrees with the connection string. */
export interface ResolveCredentialsOptions {
  /**
   * `keep` (the gateway): report it and go on with the connection string's namespace and the given path, so
   * the token is also checked against them. `drop` (the forwarder): report it and leave that field unresolved.
   */
  readonly onMismatch: 'keep' | 'drop';
}

/**
 * Resolves an entry's namespace, path and credential, adding a problem (at `at(field)`) for each thing a schema
 * cannot check: a bad connection string, a token given twice, a malformed or expired token, a token for another
 * entity, namespace/path disagreeing with the connection string, and no path at all (the path comes from `path`,
 * else EntityPath, else the entity the token was issued for; never from the map key, so a typo cannot silently
 * point at another hybrid connection).
 */
export function resolveRelayCredentials(
  entry: Unchecked<HybridConnectionCredentialsDocument>,
  nowMs: number,
  at: (field: string) => string,
  problems: ConfigProblem[],
  options: ResolveCredentialsOptions,
): ResolvedRelayCredentials {
  if (entry.auth !== undefined) return resolveEntraEntry(entry, at, problems);
  let cs: RelayConnectionString | undefined;
  if (typeof entry.connectionString === 'string') {
    try {
      cs = parseRelayConnectionString(entry.connectionString);
    } catch (err) {
      problems.push({ path: at('connectionString'), message: (err as Error).message });
    }
    if (typeof entry.sasToken === 'string')
      problems.push({ path: at('sasToken'), message: 'give the token in "connectionString" or "sasToken", not both' });
  }

  const token = cs ? cs.sharedAccessSignature : typeof entry.sasToken === 'string' ? entry.sasToken : undefined;
  const tokenAt = cs ? at('connectionString') : at('sasToken');
  let tokenFields: SasTokenFields | undefined;
  let credential: RelayCredential | undefined;
  if (token !== undefined) {
    tokenFields = checkToken(token, nowMs, tokenAt, problems);
    if (tokenFields) credential = { kind: 'token', token, expiresAtMs: tokenFields.expiresAtSec * 1000 };
  } else if (cs?.sharedAccessKeyName !== undefined && cs.sharedAccessKey !== undefined) {
    credential = { kind: 'key', keyName: cs.sharedAccessKeyName, key: cs.sharedAccessKey };
  }

  const keep = options.onMismatch === 'keep';
  let namespace: string | undefined;
  const givenNamespace = typeof entry.namespace === 'string' ? entry.namespace : undefined;
  if (cs && givenNamespace !== undefined && givenNamespace.toLowerCase() !== cs.namespace.toLowerCase()) {
    problems.push({
      path: at('namespace'),
      message: `namespace "${givenNamespace}" differs from the connection string's Endpoint "${cs.namespace}"`,
    });
    if (keep) namespace = cs.namespace;
  } else {
    namespace = cs?.namespace ?? givenNamespace;
  }

  let path: string | undefined;
  const givenPath = typeof entry.path === 'string' ? entry.path : undefined;
  if (givenPath !== undefined && cs?.entityPath !== undefined && givenPath !== cs.entityPath) {
    problems.push({
      path: at('path'),
      message: `path "${givenPath}" differs from the connection string's EntityPath "${cs.entityPath}"`,
    });
    if (keep) path = givenPath;
  } else {
    path = givenPath ?? cs?.entityPath ?? (tokenFields && entityOfResource(tokenFields.resource));
    if (path === undefined && (cs !== undefined || tokenFields !== undefined))
      problems.push({
        path: at('path'),
        message: 'missing hybrid connection path: give "path" or EntityPath in the connection string',
      });
  }

  if (tokenFields && namespace !== undefined && path !== undefined)
    checkTokenCoversEntity(tokenFields, namespace, path, tokenAt, problems);
  return {
    ...(namespace !== undefined && { namespace }),
    ...(path !== undefined && { path }),
    ...(credential !== undefined && { credential }),
  };
}

// Entra ID: the module's identity is the credential, so the entry names only where to go.
function resolveEntraEntry(
  entry: Unchecked<HybridConnectionCredentialsDocument>,
  at: (field: string) => string,
  problems: ConfigProblem[],
): ResolvedRelayCredentials {
  for (const field of ['connectionString', 'sasToken'] as const)
    if (entry[field] !== undefined)
      problems.push({ path: at(field), message: `give "auth" (Entra ID) or "${field}" (SAS), not both` });
  const auth: Unchecked<RelayAuthDocument> = asRecord(entry.auth) ?? {};
  if (auth.type !== 'entra') {
    problems.push({ path: at('auth/type'), message: 'auth.type must be "entra"' });
    return {};
  }
  const namespace = typeof entry.namespace === 'string' ? entry.namespace : undefined;
  const path = typeof entry.path === 'string' ? entry.path : undefined;
  if (namespace === undefined) problems.push({ path: at('namespace'), message: 'auth "entra" needs "namespace"' });
  if (path === undefined) problems.push({ path: at('path'), message: 'auth "entra" needs "path"' });
  const credential: RelayCredential = {
    kind: 'entra',
    ...(typeof auth.clientId === 'string' && { clientId: auth.clientId }),
    ...(typeof auth.tenantId === 'string' && { tenantId: auth.tenantId }),
  };
  return { ...(namespace !== undefined && { namespace }), ...(path !== undefined && { path }), credential };
}

function checkToken(token: string, nowMs: number, at: string, problems: ConfigProblem[]): SasTokenFields | undefined {
  let fields: SasTokenFields;
  try {
    fields = parseSasToken(token);
  } catch (err) {
    problems.push({ path: at, message: (err as Error).message });
    return undefined;
  }
  // An expired token still names its entity: keep the fields so the path check does not add a second, false problem.
  if (fields.expiresAtSec * 1000 <= nowMs)
    problems.push({ path: at, message: `the SAS token expired at ${new Date(fields.expiresAtSec * 1000).toISOString()}` });
  return fields;
}

// A token signed for http://ns/hc names its entity; one signed for the whole namespace does not.
function entityOfResource(resource: string): string | undefined {
  const entity = splitResource(resource).path;
  return entity === '' ? undefined : entity;
}

// A token for another entity would be refused with 403 on every connection and reconnect: say so when the
// configuration arrives. Hosts compare without their port, since an issuer may sign the namespace name and
// connect through a port.
function checkTokenCoversEntity(
  token: SasTokenFields,
  namespace: string,
  path: string,
  at: string,
  problems: ConfigProblem[],
): void {
  const granted = splitResource(token.resource.toLowerCase());
  const wantedHost = hostWithoutPort(namespace.toLowerCase());
  const wantedPath = path.toLowerCase().replace(/^\/+|\/+$/g, '');
  const pathOk = granted.path === '' || granted.path === wantedPath || wantedPath.startsWith(`${granted.path}/`);
  if (granted.host !== wantedHost || !pathOk)
    problems.push({
      path: at,
      message: `the SAS token was issued for "${token.resource}", which does not cover ${namespace}/${path}`,
    });
}

function splitResource(resource: string): { host: string; path: string } {
  const withoutScheme = resource.replace(/^[a-z]+:\/\//i, '');
  const slash = withoutScheme.indexOf('/');
  const host = slash < 0 ? withoutScheme : withoutScheme.slice(0, slash);
  const path = slash < 0 ? '' : withoutScheme.slice(slash + 1).replace(/^\/+|\/+$/g, '');
  return { host: hostWithoutPort(host), path };
}

function hostWithoutPort(host: string): string {
  return host.replace(/:[0-9]+$/, '');
}

/** True when two credentials are the same key (name and value) or the same token. */
export function sameRelayCredential(a: RelayCredential, b: RelayCredential): boolean {
  if (a.kind === 'key' && b.kind === 'key') return a.keyName === b.keyName && a.key === b.key;
  if (a.kind === 'token' && b.kind === 'token') return a.token === b.token;
  if (a.kind === 'entra' && b.kind === 'entra') return a.clientId === b.clientId && a.tenantId === b.tenantId;
  return false;
}

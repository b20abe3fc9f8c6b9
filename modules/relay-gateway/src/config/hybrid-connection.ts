import type { ConfigProblem } from '../../../common/src/config/schema-validator';
import { parseRelayConnectionString, type RelayConnectionString } from '../../../common/src/hc/connection-string';
import { parseSasToken, type SasTokenFields } from '../../../common/src/hc/sas';
import { jsonPointer } from './pointer';
import type { GatewayCredential, GatewayHybridConnection, HybridConnectionDocument } from './types';

// Semantic checks see the document before the schema has vouched for it: every field may have any type.
type Unchecked<T> = { readonly [K in keyof T]?: unknown };

/**
 * Resolves one `hybridConnections` entry to namespace, path and credential, adding a problem for each thing a
 * schema cannot check: a bad connection string, a malformed or expired token, a token for another entity,
 * namespace/path disagreeing with the connection string, and no path at all (the path comes from `path`, else
 * EntityPath, else the entity the token was issued for; never from the map key, so a typo cannot silently
 * point at another hybrid connection). Returns undefined when the entry is unusable.
 */
export function resolveHybridConnection(
  name: string,
  entry: Unchecked<HybridConnectionDocument>,
  nowMs: number,
  problems: ConfigProblem[],
): GatewayHybridConnection | undefined {
  const at = (field: string): string => jsonPointer('hybridConnections', name, field);
  const before = problems.length;

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
  let credential: GatewayCredential | undefined;
  if (token !== undefined) {
    tokenFields = checkToken(token, nowMs, tokenAt, problems);
    if (tokenFields) credential = { kind: 'token', token, expiresAtMs: tokenFields.expiresAtSec * 1000 };
  } else if (cs?.sharedAccessKeyName !== undefined && cs.sharedAccessKey !== undefined) {
    credential = { kind: 'key', keyName: cs.sharedAccessKeyName, key: cs.sharedAccessKey };
  }

  const givenNamespace = typeof entry.namespace === 'string' ? entry.namespace : undefined;
  if (cs && givenNamespace !== undefined && givenNamespace.toLowerCase() !== cs.namespace.toLowerCase())
    problems.push({
      path: at('namespace'),
      message: `namespace "${givenNamespace}" differs from the connection string's Endpoint "${cs.namespace}"`,
    });
  const namespace = cs?.namespace ?? givenNamespace;

  const givenPath = typeof entry.path === 'string' ? entry.path : undefined;
  if (givenPath !== undefined && cs?.entityPath !== undefined && givenPath !== cs.entityPath)
    problems.push({
      path: at('path'),
      message: `path "${givenPath}" differs from the connection string's EntityPath "${cs.entityPath}"`,
    });
  const path = givenPath ?? cs?.entityPath ?? (tokenFields && entityOfResource(tokenFields.resource));
  if (path === undefined && (cs !== undefined || tokenFields !== undefined))
    problems.push({
      path: at('path'),
      message: 'missing hybrid connection path: give "path" or EntityPath in the connection string',
    });

  if (tokenFields && namespace !== undefined && path !== undefined)
    checkTokenCoversEntity(tokenFields, namespace, path, tokenAt, problems);
  if (problems.length > before || !credential || namespace === undefined || path === undefined) return undefined;
  return { name, namespace, path, credential };
}

function checkToken(token: string, nowMs: number, at: string, problems: ConfigProblem[]): SasTokenFields | undefined {
  let fields: SasTokenFields;
  try {
    fields = parseSasToken(token);
  } catch (err) {
    problems.push({ path: at, message: (err as Error).message });
    return undefined;
  }
  if (fields.expiresAtSec * 1000 <= nowMs)
    problems.push({ path: at, message: `the SAS token expired at ${new Date(fields.expiresAtSec * 1000).toISOString()}` });
  return fields;
}

// A token signed for http://ns/hc names its entity; one signed for the whole namespace does not.
function entityOfResource(resource: string): string | undefined {
  const entity = splitResource(resource).path;
  return entity === '' ? undefined : entity;
}

// Every connection would be refused with 403: say so when the configuration arrives, not per client.
// Hosts compare without their port, since an issuer may sign the namespace name and connect through a port.
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

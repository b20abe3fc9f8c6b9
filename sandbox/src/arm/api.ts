import type { RelayRight } from '../../../modules/common/src/hc/sas';
import { SandboxRelayError } from '../relay/errors';
import type { KeyType, NamespaceRegistry } from '../relay/namespace-registry';
import { ArmError } from './errors';
import { pageOf, SKIP_TOKEN } from './paging';
import { parseArmPath, type ArmPath, type RelayResourceKind } from './paths';
import {
  accessKeys,
  authorizationRuleResource,
  hybridConnectionResource,
  namespaceResource,
  type ArmJson,
  type NamespaceInfo,
} from './resources';

/** API versions of Microsoft.Relay the sandbox answers (the SDK pins 2017-04-01). */
export const SUPPORTED_API_VERSIONS: readonly string[] = [
  '2016-07-01',
  '2017-04-01',
  '2021-11-01',
  '2024-01-01',
];

/** A request as the API sees it (already authenticated by the server). */
export interface ArmRequest {
  readonly method: string;
  readonly pathname: string;
  readonly query: URLSearchParams;
  readonly body: unknown;
}

/** A reply before serialization. */
export interface ArmReply {
  readonly status: number;
  readonly body?: ArmJson;
  /** Extra response headers (`retry-after` while a long-running operation is in progress). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** What the API serves: one subscription, one resource group, one namespace backed by a relay registry. */
export interface RelayArmApiConfig {
  readonly registry: NamespaceRegistry;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly namespace: NamespaceInfo;
  readonly listenerCount: (hybridConnection: string) => number;
  /** Absolute base URL for nextLinks, e.g. `https://127.0.0.1:PORT`. */
  readonly baseUrl: () => string;
  readonly pageSize: number;
}

const RIGHTS: readonly RelayRight[] = ['Listen', 'Send', 'Manage'];
const same = (a: string | undefined, b: string): boolean => a?.toLowerCase() === b.toLowerCase();

/**
 * The Relay subset of Azure Resource Manager that `@azure/arm-relay` calls: namespaces (read), hybrid
 * connections and authorization rules (namespace and entity level) with listKeys/regenerateKeys. Answers in
 * ARM's order: subscription, resource group, resource type, api-version, then the resource itself.
 */
export class RelayArmApi {
  constructor(private readonly cfg: RelayArmApiConfig) {}

  /** Serves one request; throws ArmError for every refusal. */
  handle(req: ArmRequest): ArmReply {
    const path = checkArmRequest(req, { ...this.cfg, location: this.cfg.namespace.location });
    if (path.kind === 'namespaces') return this.listNamespaces(req, path);
    if (!same(path.namespace, this.cfg.namespace.name))
      throw namespaceNotFound(path.namespace, path.resourceGroup);
    try {
      return this.dispatch(req, path);
    } catch (err) {
      throw toArmError(err);
    }
  }

  private dispatch(req: ArmRequest, path: ArmPath): ArmReply {
    const ns = this.cfg.namespace;
    const m = req.method;
    switch (path.kind) {
      case 'namespace':
        if (m === 'GET') return ok(namespaceResource(ns, this.cfg.subscriptionId));
        break;
      case 'hybridConnections':
        if (m === 'GET') {
          const all = this.cfg.registry
            .listHybridConnections()
            .map((hc) => hybridConnectionResource(ns, hc, this.cfg.listenerCount(hc.name)));
          return ok(this.page(req, all));
        }
        break;
      case 'hybridConnection':
        return this.hybridConnection(m, path.hybridConnection ?? '', req.body);
      case 'authorizationRules':
        if (m === 'GET') {
          const scope = this.scope(path);
          const all = this.cfg.registry
            .listAuthorizationRules(scope)
            .map((r) => authorizationRuleResource(ns, scope, r));
          return ok(this.page(req, all));
        }
        break;
      case 'authorizationRule':
        return this.rule(m, this.scope(path), path.authorizationRule ?? '', req.body);
      case 'listKeys':
        if (m === 'POST') {
          const scope = this.scope(path);
          return ok(accessKeys(ns, scope, this.findRule(scope, path.authorizationRule ?? '')));
        }
        break;
      case 'regenerateKeys':
        if (m === 'POST') return this.regenerate(this.scope(path), path.authorizationRule ?? '', req.body);
        break;
      default:
        break;
    }
    throw new ArmError(
      405,
      'MethodNotAllowed',
      `The requested resource does not support http method '${m}'.`,
    );
  }

  private hybridConnection(method: string, name: string, body: unknown): ArmReply {
    const registry = this.cfg.registry;
    if (method === 'GET') return ok(this.hcResource(this.findHc(name).name));
    if (method === 'PUT') {
      const props = propertiesOf(body);
      const requiresClientAuthorization = optional(props, 'requiresClientAuthorization', 'boolean');
      const userMetadata = optional(props, 'userMetadata', 'string');
      const hc = registry.createHybridConnection(name, {
        ...(requiresClientAuthorization !== undefined && { requiresClientAuthorization }),
        ...(userMetadata !== undefined && { userMetadata }),
      });
      // The 2017-04-01 contract declares only 200 for this PUT (core-client treats any other 2xx as an error).
      return ok(this.hcResource(hc.name));
    }
    if (method === 'DELETE') return { status: registry.deleteHybridConnection(name) ? 200 : 204 };
    throw new ArmError(
      405,
      'MethodNotAllowed',
      `The requested resource does not support http method '${method}'.`,
    );
  }

  private rule(method: string, scope: string | undefined, name: string, body: unknown): ArmReply {
    const ns = this.cfg.namespace;
    const registry = this.cfg.registry;
    if (method === 'GET') return ok(authorizationRuleResource(ns, scope, this.findRule(scope, name)));
    if (method === 'PUT') {
      const rights = rightsOf(propertiesOf(body));
      return ok(authorizationRuleResource(ns, scope, registry.createAuthorizationRule(scope, name, rights)));
    }
    if (method === 'DELETE') return { status: registry.deleteAuthorizationRule(scope, name) ? 200 : 204 };
    throw new ArmError(
      405,
      'MethodNotAllowed',
      `The requested resource does not support http method '${method}'.`,
    );
  }

  private regenerate(scope: string | undefined, name: string, body: unknown): ArmReply {
    const fields = isObject(body) ? body : {};
    const keyType = fields.keyType;
    if (keyType !== 'PrimaryKey' && keyType !== 'SecondaryKey')
      throw new ArmError(400, 'BadRequest', "keyType must be 'PrimaryKey' or 'SecondaryKey'.");
    const key = optional(fields, 'key', 'string');
    this.findRule(scope, name);
    const rule = this.cfg.registry.regenerateKey(scope, name, keyType as KeyType, key);
    return ok(accessKeys(this.cfg.namespace, scope, rule));
  }

  private listNamespaces(req: ArmRequest, _path: ArmPath): ArmReply {
    if (req.method !== 'GET')
      throw new ArmError(
        405,
        'MethodNotAllowed',
        `The requested resource does not support http method '${req.method}'.`,
      );
    return ok({ value: [namespaceResource(this.cfg.namespace, this.cfg.subscriptionId)] });
  }

  private scope(path: ArmPath): string | undefined {
    if (path.hybridConnection === undefined) return undefined;
    return this.findHc(path.hybridConnection).name;
  }

  private findHc(name: string): { name: string } {
    const hc = this.cfg.registry.getHybridConnection(name);
    if (!hc) {
      throw new ArmError(
        404,
        'NotFound',
        `The messaging entity '${this.cfg.namespace.name}:HybridConnection:${name}' could not be found.`,
      );
    }
    return hc;
  }

  private findRule(scope: string | undefined, name: string) {
    const rule = this.cfg.registry.findAuthorizationRule(scope, name);
    if (!rule) {
      const where =
        scope === undefined ? `namespace '${this.cfg.namespace.name}'` : `hybrid connection '${scope}'`;
      throw new ArmError(404, 'NotFound', `The authorization rule '${name}' could not be found on ${where}.`);
    }
    return rule;
  }

  private hcResource(name: string): ArmJson {
    const hc = this.cfg.registry.getHybridConnection(name);
    if (!hc) throw new ArmError(404, 'NotFound', `hybrid connection '${name}' could not be found.`);
    return hybridConnectionResource(this.cfg.namespace, hc, this.cfg.listenerCount(hc.name));
  }

  private page(req: ArmRequest, all: ArmJson[]): ArmJson {
    const version = req.query.get('api-version') ?? '';
    const next = (offset: number): string => {
      const q = new URLSearchParams({ 'api-version': version, [SKIP_TOKEN]: String(offset) });
      return `${this.cfg.baseUrl()}${req.pathname}?${q.toString()}`;
    };
    return { ...pageOf(all, req.query.get(SKIP_TOKEN), this.cfg.pageSize, next) };
  }
}

/** Where a request's subscription, resource group and api-version must point (one resource group is served). */
export interface ArmScope {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  /** Region named in ARM's unknown api-version message. */
  readonly location: string;
}

/**
 * ARM's checks before a Relay resource is looked at, in ARM's order: subscription, resource group, resource type,
 * api-version. Returns the parsed path (its `kind` set) or throws the ArmError ARM would answer with.
 */
export function checkArmRequest(req: ArmRequest, scope: ArmScope): ArmPath & { kind: RelayResourceKind } {
  const path = parseArmPath(req.pathname);
  if (!path)
    throw new ArmError(
      404,
      'NotFound',
      `No HTTP resource was found that matches the request URI '${req.pathname}'.`,
    );
  if (!same(path.subscriptionId, scope.subscriptionId))
    throw new ArmError(
      404,
      'SubscriptionNotFound',
      `The subscription '${path.subscriptionId}' could not be found.`,
    );
  if (path.resourceGroup !== undefined && !same(path.resourceGroup, scope.resourceGroup))
    throw new ArmError(
      404,
      'ResourceGroupNotFound',
      `Resource group '${path.resourceGroup}' could not be found.`,
    );
  if (!path.kind)
    throw new ArmError(
      404,
      'InvalidResourceType',
      `The resource type could not be found for '${req.pathname}'.`,
    );
  const version = req.query.get('api-version');
  if (!version) {
    throw new ArmError(
      400,
      'MissingApiVersionParameter',
      'The api-version query parameter (?api-version=) is required for all requests.',
    );
  }
  if (!SUPPORTED_API_VERSIONS.includes(version)) {
    throw new ArmError(
      400,
      'NoRegisteredProviderFound',
      `No registered resource provider found for location '${scope.location}' and API version '${version}' for type 'namespaces'. The supported api-versions are '${SUPPORTED_API_VERSIONS.join(', ')}'.`,
    );
  }
  return path as ArmPath & { kind: RelayResourceKind };
}

/** The 404 ARM answers for a namespace that does not exist in the resource group. */
export function namespaceNotFound(
  namespace: string | undefined,
  resourceGroup: string | undefined,
): ArmError {
  return new ArmError(
    404,
    'ResourceNotFound',
    `The Resource 'Microsoft.Relay/namespaces/${namespace}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );
}

function ok(body: ArmJson): ArmReply {
  return { status: 200, body };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function propertiesOf(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (!isObject(body))
    throw new ArmError(400, 'InvalidRequestContent', 'The request content is not a JSON object.');
  const props = body.properties;
  if (props === undefined) return {};
  if (!isObject(props))
    throw new ArmError(400, 'InvalidRequestContent', "'properties' must be a JSON object.");
  return props;
}

function optional<T extends 'string' | 'boolean'>(
  obj: Record<string, unknown>,
  name: string,
  type: T,
): (T extends 'string' ? string : boolean) | undefined {
  const v = obj[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== type) throw new ArmError(400, 'InvalidRequestContent', `'${name}' must be a ${type}.`);
  return v as T extends 'string' ? string : boolean;
}

function rightsOf(props: Record<string, unknown>): RelayRight[] {
  const rights = props.rights;
  if (!Array.isArray(rights) || rights.length === 0 || rights.some((r) => !RIGHTS.includes(r as RelayRight)))
    throw new ArmError(
      400,
      'BadRequest',
      "properties.rights must be a non-empty list of 'Listen', 'Send', 'Manage'.",
    );
  return rights as RelayRight[];
}

/** Maps the registry's errors to ARM's codes; everything unexpected becomes a 500. */
export function toArmError(err: unknown): ArmError {
  if (err instanceof ArmError) return err;
  if (err instanceof SandboxRelayError) {
    if (err.code === 'SANDBOX_RELAY_NOT_FOUND') return new ArmError(404, 'NotFound', err.message);
    if (err.code === 'SANDBOX_RELAY_INVALID') return new ArmError(400, 'BadRequest', err.message);
    if (err.code === 'SANDBOX_RELAY_QUOTA') return new ArmError(409, 'QuotaExceeded', err.message);
  }
  return new ArmError(500, 'InternalServerError', (err as Error).message ?? String(err));
}

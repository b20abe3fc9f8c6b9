import type { IncomingMessage } from 'node:http';
import {
  parseSasToken,
  relayResourceUri,
  resourceCovers,
  verifySasToken,
  type RelayRight,
  type SasTokenFields,
} from '../../../modules/common/src/hc/sas';
import { authorizeBearer, isBearerToken, localAuthDisabled } from './entra-auth';
import type { AuthorizationRule, NamespaceRegistry } from './namespace-registry';

/** The header the relay reads a token from (the documented alternative to `sb-hc-token`). */
export const SERVICE_BUS_AUTHORIZATION_HEADER = 'servicebusauthorization';

/** A token found on a request, and where. */
export interface PresentedToken {
  readonly token: string;
  /** Header name (lower case) or query parameter the token came from; it is stripped before forwarding. */
  readonly source: 'servicebusauthorization' | 'authorization' | 'sb-hc-token';
}

/** Outcome of a token check: the rights granted, or the HTTP status and reason to refuse with. */
export type AuthorizeResult =
  | {
      readonly ok: true;
      readonly ruleName: string;
      readonly rights: readonly RelayRight[];
      readonly expiresAtMs: number;
    }
  | { readonly ok: false; readonly status: 401 | 403; readonly reason: string };

/**
 * Finds the token the way the service does: `sb-hc-token` in the query, else the `ServiceBusAuthorization`
 * header, else (documented for HTTP requests; accepted here too) a SAS token in `Authorization`.
 */
export function findToken(req: IncomingMessage, query: URLSearchParams): PresentedToken | undefined {
  const fromQuery = query.get('sb-hc-token');
  if (fromQuery) return { token: fromQuery, source: 'sb-hc-token' };
  const header = req.headers[SERVICE_BUS_AUTHORIZATION_HEADER];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  if (fromHeader) return { token: fromHeader, source: 'servicebusauthorization' };
  const authorization = req.headers.authorization;
  if (authorization?.startsWith('SharedAccessSignature '))
    return { token: authorization, source: 'authorization' };
  return undefined;
}

/** What a token must grant: a right on a hybrid connection, or (entity undefined) on the namespace. */
export interface AuthorizeRequest {
  readonly namespace: string;
  /** Hybrid connection name; undefined for namespace-level operations (the admin API). */
  readonly entity?: string;
  readonly right: RelayRight;
  readonly nowMs?: number;
}

/**
 * Checks a SAS token against the registry's rules. A rule may sign for its own scope or anything below
 * it ("must be configured on the entity specified by this URI, or by one of its hierarchical parents"),
 * either key of a rule is accepted, and Manage implies Listen and Send.
 * 401: missing, malformed, unknown rule, bad signature or expired. 403: valid but for another path or
 * without the right.
 */
export function authorize(
  registry: NamespaceRegistry,
  token: string | undefined,
  request: AuthorizeRequest,
): AuthorizeResult {
  if (!token) return deny(401, 'MissingToken: no sb-hc-token or ServiceBusAuthorization was given');
  if (isBearerToken(token)) return authorizeBearer(registry, token, request);
  if (localAuthDisabled(registry))
    return deny(401, 'LocalAuthDisabled: SAS is disabled for this namespace; use a Microsoft Entra ID token');
  token = decodeWholeToken(token);
  let fields: SasTokenFields;
  try {
    fields = parseSasToken(token);
  } catch (err) {
    return deny(401, `MalformedToken: ${(err as Error).message}`);
  }
  const resource = relayResourceUri(request.namespace, request.entity);
  const candidates = candidateRules(registry, request, fields);
  if (candidates.length === 0)
    return deny(401, `InvalidSignature: no authorization rule "${fields.keyName}" applies to this resource`);

  let refusal: AuthorizeResult | undefined;
  for (const rule of candidates) {
    for (const key of [rule.primaryKey, rule.secondaryKey]) {
      const verdict = verifySasToken(token, { resource, keyFor: () => key, nowMs: request.nowMs });
      if (verdict.ok) {
        if (grants(rule.rights, request.right))
          return {
            ok: true,
            ruleName: rule.name,
            rights: rule.rights,
            expiresAtMs: fields.expiresAtSec * 1000,
          };
        refusal = deny(
          403,
          `Unauthorized: the token does not grant the ${request.right} claim for this action`,
        );
      } else if (verdict.reason === 'expired') {
        refusal ??= deny(
          401,
          `ExpiredToken: the token expired at ${new Date(fields.expiresAtSec * 1000).toISOString()}`,
        );
      } else if (verdict.reason === 'wrong-resource') {
        refusal = deny(403, 'InvalidAudience: the token is not valid for this path');
      }
    }
  }
  return refusal ?? deny(401, 'InvalidSignature: the token signature does not match any key of the rule');
}

/** True when `rights` include `needed`; Manage implies every right. */
export function grants(rights: readonly RelayRight[], needed: RelayRight): boolean {
  return rights.includes(needed) || rights.includes('Manage');
}

function candidateRules(
  registry: NamespaceRegistry,
  request: AuthorizeRequest,
  fields: SasTokenFields,
): AuthorizationRule[] {
  const rules: AuthorizationRule[] = [];
  const namespaceRule = registry.findAuthorizationRule(undefined, fields.keyName);
  if (namespaceRule) rules.push(namespaceRule);
  if (request.entity !== undefined) {
    // An entity's rule may only sign for that entity (or below), never for the whole namespace.
    const entityUri = relayResourceUri(request.namespace, request.entity);
    if (resourceCovers(entityUri, fields.resource)) {
      const entityRule = registry.findAuthorizationRule(request.entity, fields.keyName);
      if (entityRule) rules.push(entityRule);
    }
  }
  return rules;
}

// Some clients percent-encode the whole token once more (the docs call it "URL-encoded"); accept both.
function decodeWholeToken(token: string): string {
  if (token.startsWith('SharedAccessSignature ')) return token;
  try {
    const decoded = decodeURIComponent(token);
    return decoded.startsWith('SharedAccessSignature ') ? decoded : token;
  } catch {
    return token;
  }
}

function deny(status: 401 | 403, reason: string): AuthorizeResult {
  return { ok: false, status, reason };
}

/** Query parameters the protocol reserves; a sender's other parameters travel to the listener. */
export const HC_PARAM_PREFIX = 'sb-hc-';

/** Where a `/$hc/…` request points and what it asks for. */
export interface HcRequestTarget {
  /** Decoded path after `/$hc/`, without a trailing slash; may carry a suffix after the registered name. */
  readonly entityPath: string;
  /** `sb-hc-action` (listen, connect, accept), when given. */
  readonly action?: string;
  /** `sb-hc-id`, when given. */
  readonly id?: string;
  /** The whole query string, parsed. */
  readonly query: URLSearchParams;
  /** The query without any `sb-hc-*` parameter, serialised (empty when none): passed on to the listener. */
  readonly forwardedQuery: string;
}

/**
 * Parses a request target under `/$hc/`; undefined when the path is elsewhere, empty, or not valid
 * percent-encoding (the caller answers 404, "the base URL is malformed").
 */
export function parseHcTarget(requestUrl: string | undefined): HcRequestTarget | undefined {
  if (!requestUrl) return undefined;
  let url: URL;
  let pathname: string;
  try {
    url = new URL(requestUrl, 'https://sandbox.invalid');
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return undefined;
  }
  const prefix = '/$hc/';
  if (!pathname.startsWith(prefix)) return undefined;
  const entityPath = pathname.slice(prefix.length).replace(/\/+$/, '');
  if (entityPath === '' || entityPath.split('/').some((segment) => segment === '')) return undefined;

  const forwarded = new URLSearchParams();
  for (const [name, value] of url.searchParams) {
    if (!name.toLowerCase().startsWith(HC_PARAM_PREFIX)) forwarded.append(name, value);
  }
  const action = url.searchParams.get('sb-hc-action') ?? undefined;
  const id = url.searchParams.get('sb-hc-id') ?? undefined;
  return {
    entityPath,
    ...(action !== undefined && { action }),
    ...(id !== undefined && { id }),
    query: url.searchParams,
    forwardedQuery: forwarded.toString(),
  };
}

/** Encodes a path for a URL segment by segment, so '/' stays a separator. */
export function encodeEntityPath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

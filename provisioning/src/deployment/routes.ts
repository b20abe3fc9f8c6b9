/** One edgeHub route, taken apart: `FROM <source> [WHERE <condition>] INTO <sink>`. */
export interface ParsedRoute {
  readonly source: string;
  /** Module named in the source (`/messages/modules/<id>/…`), if any. */
  readonly sourceModule?: string;
  readonly condition?: string;
  readonly sink: string;
  /** Module named in a `BrokeredEndpoint("/modules/<id>/inputs/<input>")` sink, if any. */
  readonly sinkModule?: string;
}

/** Result of parseRoute: the route, or why it is not one. */
export type RouteParse =
  { readonly ok: true; readonly route: ParsedRoute } | { readonly ok: false; readonly error: string };

const ROUTE = /^\s*FROM\s+(\S+)\s+(?:WHERE\s+(.+?)\s+)?INTO\s+(.+?)\s*$/is;
const ID = '[A-Za-z0-9_-]+';
const OUTPUT = '[^/\\s*]+';
// The sources the IoT Edge documentation lists ("Declare routes" → Source).
const FIXED_SOURCES = new Set(['/*', '/twinChangeNotifications', '/messages/*', '/messages/modules/*']);
const MODULE_SOURCE = new RegExp(`^/messages/modules/(${ID})/(?:\\*|outputs/\\*|outputs/${OUTPUT})$`);
const BROKERED = new RegExp(`^BrokeredEndpoint\\(\\s*"/modules/(${ID})/inputs/${OUTPUT}"\\s*\\)$`);

/** Parses an edgeHub route string; pure, never throws. */
export function parseRoute(text: string): RouteParse {
  const match = ROUTE.exec(text);
  if (!match) return { ok: false, error: 'expected "FROM <source> [WHERE <condition>] INTO <sink>"' };
  const [, source = '', condition, sink = ''] = match;
  let sourceModule: string | undefined;
  if (!FIXED_SOURCES.has(source)) {
    const moduleSource = MODULE_SOURCE.exec(source);
    if (!moduleSource) {
      return {
        ok: false,
        error: `unknown source "${source}" (expected /*, /twinChangeNotifications, /messages/*, /messages/modules/*, or /messages/modules/<id>/*, /outputs/*, /outputs/<output>)`,
      };
    }
    sourceModule = moduleSource[1];
  }
  let sinkModule: string | undefined;
  if (sink !== '$upstream') {
    const brokered = BROKERED.exec(sink);
    if (!brokered) {
      return {
        ok: false,
        error: `unknown sink "${sink}" (expected $upstream or BrokeredEndpoint("/modules/<id>/inputs/<input>"))`,
      };
    }
    sinkModule = brokered[1];
  }
  if (condition !== undefined && condition.trim() === '')
    return { ok: false, error: 'WHERE needs a condition' };
  return {
    ok: true,
    route: {
      source,
      sink,
      ...(sourceModule !== undefined ? { sourceModule } : {}),
      ...(condition !== undefined ? { condition } : {}),
      ...(sinkModule !== undefined ? { sinkModule } : {}),
    },
  };
}

/** The route string of a routes entry, which is either the string itself or `{ route, priority, timeToLiveSecs }`. */
export function routeText(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry;
  if (
    entry !== null &&
    typeof entry === 'object' &&
    typeof (entry as { route?: unknown }).route === 'string'
  ) {
    return (entry as { route: string }).route;
  }
  return undefined;
}

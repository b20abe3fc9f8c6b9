import { createHash } from 'node:crypto';
import { IotHubError } from '../errors';
import { twinView } from '../identity';
import { JsonObject } from '../json';
import { Registry } from '../registry';
import { matches, project } from './evaluate';
import { parseQuery } from './parser';

/** Page sizes: IoT Hub's default, and the most the sandbox hands out at once. */
export const QUERY_PAGE = { defaultItems: 100, maxItems: 1000 };

/** One page of query results and the token for the next page, if any. */
export interface QueryPage {
  items: JsonObject[];
  continuationToken?: string;
}

/**
 * Runs a twin query over the registry. Results are ordered by device id then module id so that the
 * stateless continuation token (an offset bound to the query text) pages consistently.
 */
export function runQuery(
  registry: Registry,
  text: string,
  options: { pageSize?: number; continuationToken?: string } = {},
): QueryPage {
  const query = parseQuery(text);
  const rows: JsonObject[] = [];
  for (const { record, device } of registry.identities()) {
    const isModule = record.moduleId !== undefined;
    if (isModule !== (query.from === 'devices.modules')) continue;
    const row = twinView(record, device);
    if (matches(query.where, row)) rows.push(row);
  }
  const all = project(query, rows);
  const pageSize = Math.min(Math.max(options.pageSize ?? QUERY_PAGE.defaultItems, 1), QUERY_PAGE.maxItems);
  const offset = options.continuationToken ? readToken(options.continuationToken, text) : 0;
  const items = all.slice(offset, offset + pageSize);
  const next = offset + items.length;
  return next < all.length ? { items, continuationToken: makeToken(next, text) } : { items };
}

function queryHash(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 16);
}

function makeToken(offset: number, text: string): string {
  return Buffer.from(JSON.stringify({ o: offset, q: queryHash(text) })).toString('base64url');
}

function readToken(token: string, text: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      o?: unknown;
      q?: unknown;
    };
    if (
      typeof parsed.o === 'number' &&
      Number.isInteger(parsed.o) &&
      parsed.o >= 0 &&
      parsed.q === queryHash(text)
    ) {
      return parsed.o;
    }
  } catch {
    // fall through to the error below
  }
  throw new IotHubError('ArgumentInvalid', 'continuation token does not belong to this query');
}

import { ArmError } from './errors';

/** One page of a list answer: `value` plus `nextLink` when more follow. */
export interface ArmPage<T> {
  value: T[];
  nextLink?: string;
}

/** The query parameter carrying where the next page starts (ARM's usual continuation parameter). */
export const SKIP_TOKEN = '$skipToken';

/**
 * Cuts `items` (already in a stable order) into pages of `pageSize`. `skipToken` is the offset the previous
 * page's nextLink carried; `nextLink(offset)` builds the absolute URL of the following page.
 */
export function pageOf<T>(
  items: readonly T[],
  skipToken: string | null,
  pageSize: number,
  nextLink: (offset: number) => string,
): ArmPage<T> {
  const start = skipToken === null ? 0 : Number(skipToken);
  if (!Number.isInteger(start) || start < 0) throw new ArmError(400, 'BadRequest', `invalid ${SKIP_TOKEN}`);
  const end = start + pageSize;
  const page: ArmPage<T> = { value: items.slice(start, end) };
  if (end < items.length) page.nextLink = nextLink(end);
  return page;
}

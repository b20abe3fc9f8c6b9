// Semantic checks of a configuration run on the document before the schema has vouched for it, so one round
// trip shows every problem: these helpers read such a document without trusting its types.
import type { ConfigProblem } from './schema-validator';

/** A document part before the schema has vouched for it: every field may have any type. */
export type Unchecked<T> = { readonly [K in keyof T]?: unknown };

/** The value as a plain object, or undefined when it is not one (null and arrays are not). */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** The value when it is a number, else `fallback` (the schema default). */
export function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

/** Problems ordered by JSON pointer (stable: one path's problems keep the order they were found in). */
export function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

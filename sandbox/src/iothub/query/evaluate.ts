import { getAtPath, isJsonObject, jsonEqual, JsonObject, JsonValue } from '../json';
import { CompareOp, Expr, Query } from './ast';

/** Three-valued logic as in IoT Hub's SQL: comparisons with a missing property are `undefined`, not false. */
type Truth = boolean | undefined;

/** True when `row` satisfies `expr` (undefined counts as not matching, like a WHERE clause). */
export function matches(expr: Expr | undefined, row: JsonObject): boolean {
  return expr === undefined || truth(expr, row) === true;
}

function value(expr: Expr, row: JsonObject): JsonValue | undefined {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'path':
      return getAtPath(row, expr.path);
    default: {
      const t = truth(expr, row);
      return t === undefined ? undefined : t;
    }
  }
}

function truth(expr: Expr, row: JsonObject): Truth {
  switch (expr.kind) {
    case 'literal':
    case 'path': {
      const v = value(expr, row);
      return typeof v === 'boolean' ? v : undefined;
    }
    case 'and': {
      const l = truth(expr.left, row);
      if (l === false) return false;
      const r = truth(expr.right, row);
      if (r === false) return false;
      return l === true && r === true ? true : undefined;
    }
    case 'or': {
      const l = truth(expr.left, row);
      if (l === true) return true;
      const r = truth(expr.right, row);
      if (r === true) return true;
      return l === false && r === false ? false : undefined;
    }
    case 'not': {
      const t = truth(expr.expr, row);
      return t === undefined ? undefined : !t;
    }
    case 'compare':
      return compare(expr.op, value(expr.left, row), value(expr.right, row));
    case 'in': {
      const v = value(expr.left, row);
      if (v === undefined) return undefined;
      const found = expr.values.some((candidate) => jsonEqual(v, candidate));
      return expr.negated ? !found : found;
    }
    case 'call':
      return call(expr, row);
  }
}

function call(expr: Extract<Expr, { kind: 'call' }>, row: JsonObject): Truth {
  const args = expr.args.map((a) => value(a, row));
  switch (expr.name) {
    case 'IS_DEFINED':
      return args[0] !== undefined;
    case 'IS_NULL':
      return args[0] === undefined ? undefined : args[0] === null;
    case 'STARTSWITH':
    case 'ENDSWITH': {
      const [s, affix] = args;
      if (typeof s !== 'string' || typeof affix !== 'string') return undefined;
      return expr.name === 'STARTSWITH' ? s.startsWith(affix) : s.endsWith(affix);
    }
  }
}

function compare(op: CompareOp, a: JsonValue | undefined, b: JsonValue | undefined): Truth {
  if (a === undefined || b === undefined) return undefined;
  if (op === '=' || op === '!=') {
    // Different primitive types never compare equal or unequal: the result is undefined.
    if (typeOf(a) !== typeOf(b)) return undefined;
    const eq = jsonEqual(a, b);
    return op === '=' ? eq : !eq;
  }
  if (typeof a === 'number' && typeof b === 'number') return order(op, a - b);
  if (typeof a === 'string' && typeof b === 'string') return order(op, a < b ? -1 : a > b ? 1 : 0);
  return undefined;
}

function typeOf(v: JsonValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return isJsonObject(v) ? 'object' : typeof v;
}

function order(op: CompareOp, diff: number): boolean {
  switch (op) {
    case '<':
      return diff < 0;
    case '>':
      return diff > 0;
    case '<=':
      return diff <= 0;
    default:
      return diff >= 0;
  }
}

/** Applies the SELECT list to the rows that matched; COUNT() collapses them into one row. */
export function project(query: Query, rows: readonly JsonObject[]): JsonObject[] {
  if (query.select === '*') return [...rows];
  const items = query.select;
  if (items.some((i) => i.kind === 'count')) {
    const out: JsonObject = {};
    for (const item of items) if (item.kind === 'count') out[item.alias] = rows.length;
    return [out];
  }
  return rows.map((row) => {
    const out: JsonObject = {};
    for (const item of items) {
      if (item.kind !== 'path') continue;
      const v = getAtPath(row, item.path);
      if (v !== undefined) out[item.alias] = v;
    }
    return out;
  });
}

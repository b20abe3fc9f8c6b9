import { JsonValue } from '../json';

/** Comparison operators of the query language. */
export type CompareOp = '=' | '!=' | '<' | '>' | '<=' | '>=';

/** Functions the sandbox evaluates. */
export type FunctionName = 'IS_DEFINED' | 'IS_NULL' | 'STARTSWITH' | 'ENDSWITH';

/** An expression in a WHERE clause or a target condition. */
export type Expr =
  | { kind: 'literal'; value: JsonValue }
  | { kind: 'path'; path: string[] }
  | { kind: 'compare'; op: CompareOp; left: Expr; right: Expr }
  | { kind: 'in'; negated: boolean; left: Expr; values: JsonValue[] }
  | { kind: 'and' | 'or'; left: Expr; right: Expr }
  | { kind: 'not'; expr: Expr }
  | { kind: 'call'; name: FunctionName; args: Expr[] };

/** One item of a SELECT list. */
export type SelectItem = { kind: 'path'; path: string[]; alias: string } | { kind: 'count'; alias: string };

/** Collections a query can read. */
export type QuerySource = 'devices' | 'devices.modules';

/** A parsed `SELECT … FROM … [WHERE …]`. */
export interface Query {
  select: '*' | SelectItem[];
  from: QuerySource;
  where?: Expr;
}

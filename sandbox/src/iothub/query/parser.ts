import { JsonValue } from '../json';
import { CompareOp, Expr, FunctionName, Query, QuerySource, SelectItem } from './ast';
import { syntax, Token, tokenize } from './lexer';

const COMPARE_OPS: Record<string, CompareOp> = {
  '=': '=',
  '!=': '!=',
  '<>': '!=',
  '<': '<',
  '>': '>',
  '<=': '<=',
  '>=': '>=',
};
const FUNCTIONS: readonly FunctionName[] = ['IS_DEFINED', 'IS_NULL', 'STARTSWITH', 'ENDSWITH'];

/** Parses a device/module query (`SELECT * FROM devices WHERE tags.site = 'x'`); throws ArgumentInvalid. */
export function parseQuery(text: string): Query {
  const p = new Parser(tokenize(text));
  p.keyword('SELECT');
  const select = p.selectList();
  p.keyword('FROM');
  const from = p.source();
  let where: Expr | undefined;
  if (p.acceptKeyword('WHERE')) where = p.expression();
  p.end();
  return where ? { select, from, where } : { select, from };
}

/**
 * Parses a configuration target condition: a bare WHERE expression (`tags.site='x' AND …`), optionally
 * written as `FROM devices.modules WHERE …` for module configurations; `*` targets everything.
 */
export function parseTargetCondition(text: string): { from: QuerySource; where?: Expr } {
  const trimmed = text.trim();
  if (trimmed === '*') return { from: 'devices' };
  const p = new Parser(tokenize(trimmed));
  let from: QuerySource = 'devices';
  if (p.acceptKeyword('FROM')) {
    from = p.source();
    p.keyword('WHERE');
  }
  const where = p.expression();
  p.end();
  return { from, where };
}

/** Parses a bare WHERE expression. */
export function parseExpression(text: string): Expr {
  const p = new Parser(tokenize(text));
  const expr = p.expression();
  p.end();
  return expr;
}

class Parser {
  private i = 0;

  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i] ?? { kind: 'eof', pos: -1 };
  }

  private next(): Token {
    const t = this.peek();
    this.i += 1;
    return t;
  }

  private isKeyword(word: string): boolean {
    const t = this.peek();
    return t.kind === 'ident' && t.text.toUpperCase() === word;
  }

  acceptKeyword(word: string): boolean {
    if (!this.isKeyword(word)) return false;
    this.i += 1;
    return true;
  }

  keyword(word: string): void {
    if (!this.acceptKeyword(word)) throw syntax(`expected ${word} at ${this.peek().pos}`);
  }

  private acceptOp(op: string): boolean {
    const t = this.peek();
    if (t.kind !== 'op' || t.text !== op) return false;
    this.i += 1;
    return true;
  }

  private op(op: string): void {
    if (!this.acceptOp(op)) throw syntax(`expected '${op}' at ${this.peek().pos}`);
  }

  end(): void {
    const t = this.peek();
    if (t.kind !== 'eof') throw syntax(`unexpected input at ${t.pos}`);
  }

  selectList(): '*' | SelectItem[] {
    if (this.acceptOp('*')) return '*';
    const items: SelectItem[] = [];
    do {
      if (this.isKeyword('COUNT')) {
        this.i += 1;
        this.op('(');
        this.op(')');
        items.push({ kind: 'count', alias: this.alias() ?? 'numberOfDevices' });
      } else {
        const path = this.path();
        items.push({ kind: 'path', path, alias: this.alias() ?? path[path.length - 1] ?? '' });
      }
    } while (this.acceptOp(','));
    return items;
  }

  private alias(): string | undefined {
    if (!this.acceptKeyword('AS')) return undefined;
    const t = this.next();
    if (t.kind !== 'ident') throw syntax(`expected an alias at ${t.pos}`);
    return t.text;
  }

  source(): QuerySource {
    const t = this.next();
    if (t.kind !== 'ident' || t.text.toLowerCase() !== 'devices')
      throw syntax(`unsupported collection at ${t.pos}`);
    if (this.acceptOp('.')) {
      const m = this.next();
      if (m.kind !== 'ident' || m.text.toLowerCase() !== 'modules')
        throw syntax(`unsupported collection at ${m.pos}`);
      return 'devices.modules';
    }
    return 'devices';
  }

  expression(): Expr {
    let left = this.conjunction();
    while (this.acceptKeyword('OR')) left = { kind: 'or', left, right: this.conjunction() };
    return left;
  }

  private conjunction(): Expr {
    let left = this.negation();
    while (this.acceptKeyword('AND')) left = { kind: 'and', left, right: this.negation() };
    return left;
  }

  private negation(): Expr {
    if (this.acceptKeyword('NOT')) return { kind: 'not', expr: this.negation() };
    return this.predicate();
  }

  private predicate(): Expr {
    if (this.acceptOp('(')) {
      const inner = this.expression();
      this.op(')');
      return inner;
    }
    const left = this.operand();
    const t = this.peek();
    if (t.kind === 'op' && COMPARE_OPS[t.text]) {
      this.i += 1;
      return { kind: 'compare', op: COMPARE_OPS[t.text] as CompareOp, left, right: this.operand() };
    }
    const negated = this.acceptKeyword('NIN') || (this.isKeyword('NOT') && this.lookaheadIn());
    if (negated || this.acceptKeyword('IN')) return { kind: 'in', negated, left, values: this.list() };
    if (left.kind === 'call' || left.kind === 'literal' || left.kind === 'path') return left;
    throw syntax(`expected a comparison at ${t.pos}`);
  }

  private lookaheadIn(): boolean {
    const after = this.tokens[this.i + 1];
    if (after?.kind === 'ident' && after.text.toUpperCase() === 'IN') {
      this.i += 2;
      return true;
    }
    return false;
  }

  private list(): JsonValue[] {
    const close = this.acceptOp('[') ? ']' : (this.op('('), ')');
    const values: JsonValue[] = [];
    if (!this.acceptOp(close)) {
      do values.push(this.literal());
      while (this.acceptOp(','));
      this.op(close);
    }
    return values;
  }

  private operand(): Expr {
    const t = this.peek();
    if (t.kind === 'ident') {
      const upper = t.text.toUpperCase();
      if ((FUNCTIONS as readonly string[]).includes(upper) && this.tokens[this.i + 1]?.kind === 'op') {
        this.i += 1;
        this.op('(');
        const args: Expr[] = [];
        if (!this.acceptOp(')')) {
          do args.push(this.operand());
          while (this.acceptOp(','));
          this.op(')');
        }
        return { kind: 'call', name: upper as FunctionName, args };
      }
      if (upper === 'TRUE' || upper === 'FALSE' || upper === 'NULL')
        return { kind: 'literal', value: this.literal() };
      return { kind: 'path', path: this.path() };
    }
    return { kind: 'literal', value: this.literal() };
  }

  private literal(): JsonValue {
    const t = this.next();
    if (t.kind === 'string' || t.kind === 'number') return t.value;
    if (t.kind === 'ident') {
      const upper = t.text.toUpperCase();
      if (upper === 'TRUE') return true;
      if (upper === 'FALSE') return false;
      if (upper === 'NULL') return null;
    }
    throw syntax(`expected a literal at ${t.pos}`);
  }

  private path(): string[] {
    const first = this.next();
    if (first.kind !== 'ident') throw syntax(`expected a property name at ${first.pos}`);
    const path = [first.text];
    for (;;) {
      if (this.acceptOp('.')) {
        const t = this.next();
        if (t.kind !== 'ident') throw syntax(`expected a property name at ${t.pos}`);
        path.push(t.text);
      } else if (this.peek().kind === 'op' && (this.peek() as { text: string }).text === '[') {
        this.i += 1;
        const t = this.next();
        if (t.kind !== 'string') throw syntax(`expected a quoted property name at ${t.pos}`);
        path.push(t.value);
        this.op(']');
      } else {
        return path;
      }
    }
  }
}

/**
 * Reading ARM templates in tests: a small evaluator for the template-expression subset our resource names use
 * (format, concat, toLower, parameters, variables (copy-loop variables too), uniqueString, guid, resourceId,
 * subscriptionResourceId, add, sub, mul, div, min, max, length, if, equals, union, createArray, createObject, string,
 * `[index]` and `.property` access; copyIndex and reference from `$copyIndex`/`$reference` in the parameter values),
 * and helpers to walk a template.
 * Functions it does not know throw, so a name built another way fails the test instead of passing unchecked.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** An ARM template as JSON. */
export type ArmTemplate = {
  parameters: Record<
    string,
    { type: string; defaultValue?: unknown; maxLength?: number; minLength?: number }
  >;
  variables: Record<string, unknown>;
  resources: ArmResource[];
  outputs: Record<string, { type: string; value: unknown }>;
};

/** One resource of a template. */
export type ArmResource = { type: string; apiVersion: string; name: string } & Record<string, unknown>;

/** Repository root. */
export const ROOT = path.resolve(__dirname, '../..');

/** Reads a JSON file under the repository root. */
export function readJson<T = unknown>(relative: string): T {
  return JSON.parse(readFileSync(path.join(ROOT, relative), 'utf8')) as T;
}

/** Every string anywhere in a JSON value. */
export function stringsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => stringsIn(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => stringsIn(v, out));
  return out;
}

type Value = string | number | boolean | Value[] | { [k: string]: Value };

/** Evaluates `[expr]` strings (other values as they are) with the given parameter values. */
export function evaluate(template: ArmTemplate, value: unknown, params: Record<string, Value>): Value {
  if (typeof value !== 'string' || !value.startsWith('[') || value.startsWith('[[')) return value as Value;
  const parser = new Parser(value.slice(1, -1), template, params);
  const result = parser.expression();
  parser.end();
  return result;
}

class Parser {
  private i = 0;
  constructor(
    private readonly text: string,
    private readonly template: ArmTemplate,
    private readonly params: Record<string, Value>,
  ) {}

  end(): void {
    this.space();
    if (this.i !== this.text.length)
      throw new Error(`unexpected "${this.text.slice(this.i)}" in [${this.text}]`);
  }

  expression(): Value {
    this.space();
    const c = this.text[this.i];
    if (c === "'") return this.string();
    if (c !== undefined && /[-0-9]/.test(c)) {
      const m = /^-?[0-9]+/.exec(this.text.slice(this.i)) as RegExpExecArray;
      this.i += m[0].length;
      return Number(m[0]);
    }
    const m = /^[A-Za-z][A-Za-z0-9]*/.exec(this.text.slice(this.i));
    if (!m) throw new Error(`cannot parse [${this.text}] at ${this.i}`);
    this.i += m[0].length;
    const args: Value[] = [];
    this.expect('(');
    this.space();
    if (this.text[this.i] !== ')') {
      for (;;) {
        args.push(this.expression());
        this.space();
        if (this.text[this.i] === ',') this.i++;
        else break;
      }
    }
    this.expect(')');
    let result = this.call(m[0], args);
    // Property and index access: resourceGroup().id, variables('names')[copyIndex()]
    for (;;) {
      const p = /^\.([A-Za-z]+)/.exec(this.text.slice(this.i));
      if (p) {
        this.i += p[0].length;
        result = (result as Record<string, Value>)[p[1] as string] as Value;
      } else if (this.text[this.i] === '[') {
        this.i++;
        const index = this.expression();
        this.expect(']');
        if (!Array.isArray(result) || typeof index !== 'number' || index < 0 || index >= result.length)
          throw new Error(`index ${String(index)} out of range in [${this.text}]`);
        result = result[index] as Value;
      } else return result;
    }
  }

  private call(name: string, args: Value[]): Value {
    const s = (n: number) => String(args[n]);
    switch (name.toLowerCase()) {
      case 'parameters': {
        if (!(s(0) in this.params)) throw new Error(`no value for parameter ${s(0)}`);
        return this.params[s(0)] as Value;
      }
      case 'variables': {
        // A copy-loop variable is the array of its input evaluated at each index.
        const loops = (this.template.variables.copy ?? []) as {
          name: string;
          count: unknown;
          input: unknown;
        }[];
        const loop = loops.find((c) => c.name === s(0));
        if (loop) {
          const count = Number(evaluate(this.template, loop.count, this.params));
          return Array.from({ length: count }, (_, i) =>
            evaluate(this.template, loop.input, { ...this.params, $copyIndex: i }),
          );
        }
        if (!(s(0) in this.template.variables)) throw new Error(`no variable ${s(0)}`);
        return evaluate(this.template, this.template.variables[s(0)], this.params);
      }
      case 'format':
        return s(0).replace(/\{(\d+)\}/g, (_, n: string) => String(args[Number(n) + 1]));
      case 'concat':
        return args.map(String).join('');
      case 'tolower':
        return s(0).toLowerCase();
      case 'add':
        return Number(args[0]) + Number(args[1]);
      case 'sub':
        return Number(args[0]) - Number(args[1]);
      case 'mul':
        return Number(args[0]) * Number(args[1]);
      case 'div':
        if (Number(args[1]) === 0) throw new Error(`div by zero in [${this.text}]`);
        return Math.trunc(Number(args[0]) / Number(args[1]));
      case 'min':
        return Math.min(...args.map(Number));
      case 'max':
        return Math.max(...args.map(Number));
      case 'length':
        return Array.isArray(args[0]) || typeof args[0] === 'string'
          ? args[0].length
          : Object.keys(args[0] as object).length;
      case 'if':
        return args[0] === true ? (args[1] as Value) : (args[2] as Value);
      case 'equals':
        return JSON.stringify(args[0]) === JSON.stringify(args[1]);
      case 'greater':
        return Number(args[0]) > Number(args[1]);
      case 'and':
        return args.every((a) => a === true);
      case 'empty':
        return args[0] === '' || (Array.isArray(args[0]) && args[0].length === 0);
      case 'union':
        return Object.assign({}, ...(args as object[])) as Value;
      case 'uniquestring':
        return 'abcdefghijklm'; // 13 lower-case letters and digits, like the real hash
      case 'resourceid':
        return `/subscriptions/s/resourceGroups/rg/providers/${args.map(String).join('/')}`;
      case 'subscriptionresourceid':
        return `/subscriptions/s/providers/${args.map(String).join('/')}`;
      case 'createarray':
        return args;
      case 'createobject': {
        const obj: Record<string, Value> = {};
        for (let i = 0; i + 1 < args.length; i += 2) obj[String(args[i])] = args[i + 1] as Value;
        return obj;
      }
      case 'string':
        return typeof args[0] === 'string' ? args[0] : JSON.stringify(args[0]);
      // Deployment-time values come from the caller: params.$copyIndex, params.$reference.
      case 'copyindex':
        return this.params.$copyIndex as Value;
      case 'reference':
        return this.params.$reference as Value;
      case 'guid': {
        // Deterministic in its arguments like ARM's (not the same values): distinct inputs, distinct names.
        const h = createHash('sha256').update(JSON.stringify(args)).digest('hex');
        return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
      }
      case 'resourcegroup':
        return { id: '/subscriptions/s/resourceGroups/rg', location: 'westeurope', name: 'rg' };
      default:
        throw new Error(`the test evaluator does not know ${name}()`);
    }
  }

  private string(): string {
    let out = '';
    this.i++;
    for (;;) {
      const c = this.text[this.i++];
      if (c === undefined) throw new Error(`unterminated string in [${this.text}]`);
      if (c === "'") {
        if (this.text[this.i] === "'") {
          out += "'";
          this.i++;
        } else return out;
      } else out += c;
    }
  }

  private expect(c: string): void {
    this.space();
    if (this.text[this.i] !== c) throw new Error(`expected "${c}" at ${this.i} in [${this.text}]`);
    this.i++;
  }

  private space(): void {
    while (this.text[this.i] === ' ') this.i++;
  }
}

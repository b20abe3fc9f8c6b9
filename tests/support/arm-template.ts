/**
 * Reading ARM templates in tests: a small evaluator for the template-expression subset our resource names use
 * (format, concat, toLower, parameters, variables, uniqueString, guid, resourceId, add, sub, createArray,
 * createObject, string; copyIndex and reference from `$copyIndex`/`$reference` in the parameter values), and helpers to walk a template.
 * Functions it does not know throw, so a name built another way fails the test instead of passing unchecked.
 */
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
    // Property access: resourceGroup().id
    for (
      let p = /^\.([A-Za-z]+)/.exec(this.text.slice(this.i));
      p;
      p = /^\.([A-Za-z]+)/.exec(this.text.slice(this.i))
    ) {
      this.i += p[0].length;
      result = (result as Record<string, Value>)[p[1] as string] as Value;
    }
    return result;
  }

  private call(name: string, args: Value[]): Value {
    const s = (n: number) => String(args[n]);
    switch (name.toLowerCase()) {
      case 'parameters': {
        if (!(s(0) in this.params)) throw new Error(`no value for parameter ${s(0)}`);
        return this.params[s(0)] as Value;
      }
      case 'variables':
        return evaluate(this.template, this.template.variables[s(0)], this.params);
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
      case 'uniquestring':
        return 'abcdefghijklm'; // 13 lower-case letters and digits, like the real hash
      case 'resourceid':
        return `/subscriptions/s/resourceGroups/rg/providers/${args.map(String).join('/')}`;
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
      case 'guid':
        return '00000000-0000-0000-0000-000000000000';
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

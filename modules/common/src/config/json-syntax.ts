/** Where a JSON text first breaks the grammar, 1-based, with a message that never quotes the text. */
export interface JsonSyntaxProblem {
  /** Offset in UTF-16 code units from the start of the text. */
  readonly offset: number;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

const MAX_DEPTH = 512;

/**
 * Finds the first syntax error of a JSON text (RFC 8259), or undefined when it is valid.
 * Used after JSON.parse fails: V8's messages may quote the document (which can hold a secret) and
 * do not always give a position, so the position and wording come from this small scanner instead.
 */
export function locateJsonSyntaxError(text: string): JsonSyntaxProblem | undefined {
  const scanner = new Scanner(text);
  try {
    scanner.skipWhitespace();
    if (scanner.atEnd()) scanner.fail('the document is empty');
    scanner.value(0);
    scanner.skipWhitespace();
    if (!scanner.atEnd()) scanner.fail('unexpected text after the end of the JSON value');
    return undefined;
  } catch (err) {
    if (err instanceof SyntaxStop) return positionOf(text, err.offset, err.message);
    throw err;
  }
}

/** The 1-based line and column of an offset (a CRLF counts as one line break). */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function positionOf(text: string, offset: number, message: string): JsonSyntaxProblem {
  return { offset, ...lineAndColumn(text, offset), message };
}

class SyntaxStop extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

class Scanner {
  private pos = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  fail(message: string, offset = this.pos): never {
    throw new SyntaxStop(offset, message);
  }

  skipWhitespace(): void {
    while (!this.atEnd()) {
      const c = this.text[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') this.pos++;
      else if (c === '/' && (this.text[this.pos + 1] === '/' || this.text[this.pos + 1] === '*'))
        this.fail('comments are not allowed in JSON');
      else return;
    }
  }

  value(depth: number): void {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
    if (this.atEnd()) this.fail('unexpected end of the document: a value is missing');
    const c = this.text[this.pos];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    for (const literal of ['true', 'false', 'null']) {
      if (this.text.startsWith(literal, this.pos)) {
        this.pos += literal.length;
        return;
      }
    }
    if (c === "'") this.fail('strings must use double quotes');
    this.fail('expected a value (object, array, string, number, true, false or null)');
  }

  private object(depth: number): void {
    this.pos++;
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.atEnd()) this.fail('unexpected end of the document inside an object');
      if (this.text[this.pos] === '}') this.fail('trailing comma before "}"');
      if (this.text[this.pos] !== '"') this.fail('expected a double-quoted property name');
      this.string();
      this.skipWhitespace();
      if (this.text[this.pos] !== ':') this.fail('expected ":" after the property name');
      this.pos++;
      this.skipWhitespace();
      this.value(depth + 1);
      this.skipWhitespace();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === '}') {
        this.pos++;
        return;
      }
      if (this.atEnd()) this.fail('unexpected end of the document inside an object');
      this.fail('expected "," or "}" after a property value');
    }
  }

  private array(depth: number): void {
    this.pos++;
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] === ']') this.fail('trailing comma before "]"');
      this.value(depth + 1);
      this.skipWhitespace();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === ']') {
        this.pos++;
        return;
      }
      if (this.atEnd()) this.fail('unexpected end of the document inside an array');
      this.fail('expected "," or "]" after an array element');
    }
  }

  private string(): void {
    const start = this.pos;
    this.pos++;
    while (!this.atEnd()) {
      const code = this.text.charCodeAt(this.pos);
      if (code === 0x22) {
        this.pos++;
        return;
      }
      if (code < 0x20) this.fail('control character (such as a line break) inside a string');
      if (code === 0x5c) {
        const escape = this.text[this.pos + 1];
        if (escape === 'u') {
          if (!/^[0-9A-Fa-f]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6)))
            this.fail('"\\u" must be followed by four hex digits');
          this.pos += 6;
          continue;
        }
        if (escape === undefined || !'"\\/bfnrt'.includes(escape)) this.fail('invalid escape sequence in a string');
        this.pos += 2;
        continue;
      }
      this.pos++;
    }
    this.fail('unterminated string', start);
  }

  private number(): void {
    const start = this.pos;
    const match = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(this.text.slice(this.pos, this.pos + 400));
    if (!match) this.fail('invalid number', start);
    this.pos += match[0].length;
    const next = this.text[this.pos];
    if (next !== undefined && /[0-9A-Za-z.]/.test(next)) this.fail('invalid number', start);
  }
}

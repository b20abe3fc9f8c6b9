import { IotHubError } from '../errors';

/** One token of the IoT Hub query language. */
export type Token =
  | { kind: 'ident'; text: string; pos: number }
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'number'; value: number; pos: number }
  | { kind: 'op'; text: string; pos: number }
  | { kind: 'eof'; pos: number };

const OPERATORS = ['<=', '>=', '!=', '<>', '=', '<', '>', '(', ')', '[', ']', ',', '.', '*'];

/** Splits a query into tokens; throws ArgumentInvalid on a stray character or an unterminated string. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text.charAt(i);
    if (/\s/.test(ch)) {
      i += 1;
    } else if (ch === "'" || ch === '"') {
      const start = i;
      let value = '';
      i += 1;
      for (;;) {
        if (i >= text.length) throw syntax(`unterminated string at ${start}`);
        const c = text.charAt(i);
        // A doubled quote inside a string stands for the quote itself (SQL style).
        if (c === ch && text.charAt(i + 1) === ch) {
          value += ch;
          i += 2;
        } else if (c === ch) {
          i += 1;
          break;
        } else {
          value += c;
          i += 1;
        }
      }
      tokens.push({ kind: 'string', value, pos: start });
    } else if (/[0-9]/.test(ch) || (ch === '-' && /[0-9]/.test(text.charAt(i + 1)))) {
      const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
      if (!m) throw syntax(`bad number at ${i}`);
      tokens.push({ kind: 'number', value: Number(m[0]), pos: i });
      i += m[0].length;
    } else if (/[A-Za-z_$]/.test(ch)) {
      const m = /^[A-Za-z_$][A-Za-z0-9_$-]*/.exec(text.slice(i));
      const word = m ? m[0] : ch;
      tokens.push({ kind: 'ident', text: word, pos: i });
      i += word.length;
    } else {
      const op = OPERATORS.find((o) => text.startsWith(o, i));
      if (!op) throw syntax(`unexpected '${ch}' at ${i}`);
      tokens.push({ kind: 'op', text: op, pos: i });
      i += op.length;
    }
  }
  tokens.push({ kind: 'eof', pos: text.length });
  return tokens;
}

/** A query syntax error as IoT Hub reports it (400). */
export function syntax(message: string): IotHubError {
  return new IotHubError('ArgumentInvalid', `Query syntax error: ${message}`);
}

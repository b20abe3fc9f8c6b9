import fc from 'fast-check';
import { parseAcceptMessage } from '../../../../../modules/common/src/hc/accept-message';
import {
  formatRelayConnectionString,
  parseRelayConnectionString,
} from '../../../../../modules/common/src/hc/connection-string';
import { RelayError } from '../../../../../modules/common/src/hc/errors';
import { createSasToken, parseSasToken, verifySasToken } from '../../../../../modules/common/src/hc/sas';

// Fixed seed and run count: the same cases every run, fast enough for npm test.
const RUNS = { seed: 1010, numRuns: 400 };

/** Runs `fn`; when it throws, the error must be a RelayError with `code`. */
function throwsOnly(code: string, fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RelayError);
    expect((err as RelayError).code).toBe(code);
  }
}

// Strings built from the connection-string alphabet hit the parser's branches far more often than random text.
const csPiece = fc.constantFrom(
  'Endpoint=',
  'sb://',
  'https://',
  'ns.servicebus.windows.net',
  '127.0.0.1:5671',
  '/',
  ';',
  '=',
  'SharedAccessKeyName=',
  'SharedAccessKey=',
  'SharedAccessSignature=',
  'SharedAccessSignature sr=',
  'EntityPath=',
  'send',
  'c2VjcmV0',
  ' ',
  '%',
  '',
);
const csLike = fc.oneof(
  fc.array(csPiece, { maxLength: 14 }).map((p) => p.join('')),
  fc.string({ maxLength: 120 }),
);

const tokenPiece = fc.constantFrom(
  'SharedAccessSignature ',
  'sr=',
  'sig=',
  'se=',
  'skn=',
  '&',
  '=',
  'http%3A%2F%2Fns%2Fhc',
  '%E0%A4%A',
  '%',
  '1893456000',
  '1e3',
  '-1',
  'abc',
  '',
);
const tokenLike = fc.oneof(
  fc.array(tokenPiece, { maxLength: 14 }).map((p) => p.join('')),
  fc.string({ maxLength: 120 }),
);

describe('connection strings (property)', () => {
  it('any text parses or fails with RELAY_BAD_CONNECTION_STRING', () => {
    fc.assert(
      fc.property(csLike, (text) =>
        throwsOnly('RELAY_BAD_CONNECTION_STRING', () => parseRelayConnectionString(text)),
      ),
      RUNS,
    );
  });

  it('never echoes a key in its error, wherever the key sits', () => {
    const key = 'U2VjcmV0S2V5VmFsdWVUaGF0TXVzdE5vdExlYWs=';
    const secret = fc.constantFrom(`SharedAccessKey=${key}`, key, `SharedAccessSignature=${key}`);
    fc.assert(
      fc.property(fc.array(csPiece, { maxLength: 8 }), fc.nat(8), secret, (pieces, at, inserted) => {
        const parts: string[] = [...pieces];
        parts.splice(at % (parts.length + 1), 0, inserted);
        try {
          parseRelayConnectionString(parts.join(''));
        } catch (err) {
          expect((err as Error).message).not.toContain(key);
        }
      }),
      RUNS,
    );
  });

  it('format then parse gives the same parts', () => {
    const word = fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/);
    fc.assert(
      fc.property(
        word,
        word,
        fc.base64String({ minLength: 4, maxLength: 44 }),
        fc.option(word, { nil: undefined }),
        (host, rule, key, path) => {
          const cs = {
            namespace: host.toLowerCase(),
            sharedAccessKeyName: rule,
            sharedAccessKey: key,
            ...(path && { entityPath: path }),
          };
          fc.pre(/^[a-z0-9]/.test(cs.namespace) && !/\.\.|[._-]$/.test(cs.namespace));
          expect(parseRelayConnectionString(formatRelayConnectionString(cs))).toEqual(cs);
        },
      ),
      RUNS,
    );
  });
});

describe('SAS tokens (property)', () => {
  it('any text parses or fails with RELAY_BAD_TOKEN; verify never throws', () => {
    fc.assert(
      fc.property(tokenLike, (text) => {
        throwsOnly('RELAY_BAD_TOKEN', () => parseSasToken(text));
        const verdict = verifySasToken(text, { resource: 'http://ns/hc', keyFor: () => 'key' });
        expect(typeof verdict.ok).toBe('boolean');
      }),
      RUNS,
    );
  });

  it('a token verifies for its own resource and key, and only with that key', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        (path, rule, key, otherKey) => {
          const resource = `http://ns.example/${path}`;
          const token = createSasToken({
            resource,
            keyName: rule,
            key,
            lifetimeMs: 60_000,
            nowMs: 1_000_000,
          });
          expect(parseSasToken(token)).toMatchObject({ resource, keyName: rule });
          expect(verifySasToken(token, { resource, keyFor: () => key, nowMs: 1_000_000 }).ok).toBe(true);
          if (otherKey !== key)
            expect(
              verifySasToken(token, { resource, keyFor: () => otherKey, nowMs: 1_000_000 }),
            ).toMatchObject({ ok: false });
        },
      ),
      RUNS,
    );
  });
});

describe('accept messages (property)', () => {
  it('any JSON value gives a well-typed AcceptRequest or undefined', () => {
    const acceptish = fc.record(
      {
        accept: fc.oneof(
          fc.anything(),
          fc.record(
            {
              address: fc.oneof(fc.string(), fc.anything()),
              id: fc.anything(),
              connectHeaders: fc.anything(),
              remoteEndpoint: fc.anything(),
            },
            { requiredKeys: [] },
          ),
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.jsonValue(), acceptish), (message) => {
        const request = parseAcceptMessage(message);
        if (request === undefined) return;
        expect(typeof request.address).toBe('string');
        expect(request.address).not.toBe('');
        expect(typeof request.id).toBe('string');
        for (const value of Object.values(request.connectHeaders)) expect(typeof value).toBe('string');
      }),
      RUNS,
    );
  });
});

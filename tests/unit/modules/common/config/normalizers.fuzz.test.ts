import fc from 'fast-check';
import { parseConfigText, ConfigFileError } from '../../../../../modules/common/src/config/file-source';
import { normalizeForwarderConfig } from '../../../../../modules/relay-forwarder/src/config/normalize';
import { normalizeGatewayConfig } from '../../../../../modules/relay-gateway/src/config/normalize';

// Fixed seed and run count: the same cases every run, fast enough for npm test.
const RUNS = { seed: 77, numRuns: 300 };
const NOW_MS = Date.UTC(2030, 0, 1);
const CS = 'Endpoint=sb://ns.example/;SharedAccessKeyName=r;SharedAccessKey=a2V5;EntityPath=site-a';

/** A value that is sometimes right for a config field and often wrong in a telling way. */
const fieldValue = fc.oneof(
  fc.constantFrom(CS, 'db.local:1433', 'unix:/run/x.sock', '10.0.0.0/8', '0.0.0.0/0', '::1', 'site-a', 'sql', '', 'debug'),
  fc.integer({ min: -2, max: 70_000 }),
  fc.constantFrom(0, 1, 2, 65535, 65536, 1.5, Number.MAX_SAFE_INTEGER),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.constantFrom('10.0.0.0/8', '0.0.0.0/0', '300.1.1.1/8', 'x', '::/0'), { maxLength: 3 }),
);
const key = fc.constantFrom(
  'schemaVersion',
  'hybridConnections',
  'routes',
  'services',
  'connectionString',
  'sharedAccessSignature',
  'namespace',
  'path',
  'target',
  'port',
  'bindAddress',
  'hybridConnection',
  'service',
  'allow',
  'limits',
  'maxConnections',
  'listeners',
  'drainTimeoutMs',
  'logLevel',
  'enabled',
  'connectTimeoutMs',
  'site-a',
  'sql',
  '__proto__',
  'constructor',
);
/** Config-shaped documents: nested objects over the schema's own words, so checks past the schema run too. */
const configLike = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, fieldValue, tie('object')),
  object: fc.dictionary(key, tie('node'), { maxKeys: 5 }),
})).object;

function expectProblemsOrConfig(result: { ok: boolean; problems?: readonly { path: string; message: string }[] }): void {
  if (result.ok) return;
  expect(result.problems!.length).toBeGreaterThan(0);
  for (const problem of result.problems!) {
    expect(typeof problem.path).toBe('string');
    expect(typeof problem.message).toBe('string');
    expect(problem.message).not.toContain('a2V5');
  }
}

describe('config normalizers (property)', () => {
  it('gateway: any document gives a config or a list of problems with paths, never an exception', () => {
    fc.assert(
      fc.property(fc.oneof(configLike, fc.anything()), (document) => {
        expectProblemsOrConfig(normalizeGatewayConfig(document, { nowMs: NOW_MS }));
      }),
      RUNS,
    );
  });

  it('forwarder: any document gives a config or a list of problems with paths, never an exception', () => {
    fc.assert(
      fc.property(fc.oneof(configLike, fc.anything()), (document) => {
        expectProblemsOrConfig(normalizeForwarderConfig(document, { nowMs: NOW_MS }));
      }),
      RUNS,
    );
  });

  it('configuration text: any text parses or gives a ConfigFileError with a code', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.json().map((j) => j.slice(0, Math.max(0, j.length - 1)))), (text) => {
        const result = parseConfigText(text, 'x.json');
        if (result.ok) return;
        expect(result.error).toBeInstanceOf(ConfigFileError);
        expect(['CONFIG_FILE_EMPTY', 'CONFIG_FILE_INVALID_JSON']).toContain(result.error.code);
      }),
      RUNS,
    );
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { publishedForwarderSchema } from '../../../../../modules/relay-forwarder/src/config/published-schema';
import { publishedGatewaySchema } from '../../../../../modules/relay-gateway/src/config/published-schema';

const DOCS = join(__dirname, '../../../../../docs');

// Each module publishes its schema the same way; one row per module, each with a document it must accept and
// one (credentials without a key or token) it must refuse.
const MODULES = [
  {
    file: 'relay-gateway.schema.json',
    published: publishedGatewaySchema,
    good: {
      schemaVersion: 1,
      hybridConnections: { a: { connectionString: 'Endpoint=sb://ns/;SharedAccessKeyName=s;SharedAccessKey=k;EntityPath=a' } },
      routes: { r: { port: 1433, hybridConnection: 'a', service: 'sql', allow: ['10.0.0.0/8'] } },
    },
    badHybridConnections: { a: { path: 'a' } },
  },
  {
    file: 'relay-forwarder.schema.json',
    published: publishedForwarderSchema,
    good: {
      schemaVersion: 1,
      hybridConnections: {
        a: {
          connectionString: 'Endpoint=sb://ns/;SharedAccessKeyName=s;SharedAccessKey=k;EntityPath=a',
          services: { sql: { target: '10.0.0.5:1433' } },
        },
      },
    },
    badHybridConnections: { a: { path: 'a', services: { sql: { target: '10.0.0.5:1433' } } } },
  },
];

describe.each(MODULES)('docs/$file', ({ file, published, good, badHybridConnections }) => {
  const text = (): string => readFileSync(join(DOCS, file), 'utf8');

  it('is the module schema bundled with the hybrid-connection schema (regenerate with published-schema.ts)', () => {
    expect(JSON.parse(text())).toEqual(published());
  });

  it('validates a document on its own, without the other schema files', () => {
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(text()) as object);
    expect(validate(good)).toBe(true);
    expect(validate({ ...good, hybridConnections: badHybridConnections })).toBe(false);
  });
});

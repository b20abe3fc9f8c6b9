import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { publishedGatewaySchema } from '../../../../../modules/relay-gateway/src/config/published-schema';

const PUBLISHED = join(__dirname, '../../../../../docs/relay-gateway.schema.json');

describe('docs/relay-gateway.schema.json', () => {
  it('is the module schema bundled with the hybrid-connection schema (regenerate with published-schema.ts)', () => {
    expect(JSON.parse(readFileSync(PUBLISHED, 'utf8'))).toEqual(publishedGatewaySchema());
  });

  it('validates a document on its own, without the other schema files', () => {
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(PUBLISHED, 'utf8')) as object);
    const good = {
      schemaVersion: 1,
      hybridConnections: { a: { connectionString: 'Endpoint=sb://ns/;SharedAccessKeyName=s;SharedAccessKey=k;EntityPath=a' } },
      routes: { r: { port: 1433, hybridConnection: 'a', service: 'sql', allow: ['10.0.0.0/8'] } },
    };
    expect(validate(good)).toBe(true);
    expect(validate({ ...good, hybridConnections: { a: { path: 'a' } } })).toBe(false);
  });
});

import { publishedSchema, publishedSchemaText } from '../../../common/src/config/published-schema';
import schema from './schema.json';

/**
 * The forwarder schema as published in docs/relay-forwarder.schema.json (shared schema embedded, see common).
 * Regenerate: `npx ts-node --transpile-only modules/relay-forwarder/src/config/published-schema.ts >
 * docs/relay-forwarder.schema.json && npx prettier --write docs/relay-forwarder.schema.json`
 */
export function publishedForwarderSchema(): object {
  return publishedSchema(schema);
}

if (require.main === module) process.stdout.write(publishedSchemaText(schema));

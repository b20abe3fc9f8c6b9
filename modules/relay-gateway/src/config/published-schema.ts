import { publishedSchema, publishedSchemaText } from '../../../common/src/config/published-schema';
import schema from './schema.json';

/**
 * The gateway schema as published in docs/relay-gateway.schema.json (shared schema embedded, see common).
 * Regenerate: `npx ts-node --transpile-only modules/relay-gateway/src/config/published-schema.ts >
 * docs/relay-gateway.schema.json && npx prettier --write docs/relay-gateway.schema.json`
 */
export function publishedGatewaySchema(): object {
  return publishedSchema(schema);
}

if (require.main === module) process.stdout.write(publishedSchemaText(schema));

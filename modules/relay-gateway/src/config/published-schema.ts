import hybridConnectionSchema from '../../../common/src/config/hybrid-connection.schema.json';
import schema from './schema.json';

/**
 * The gateway schema as published in docs/relay-gateway.schema.json: self-contained, with the shared
 * hybrid-connection schema embedded under $defs (its $id kept, so the $ref resolves inside the file).
 * Regenerate: `npx ts-node --transpile-only modules/relay-gateway/src/config/published-schema.ts >
 * docs/relay-gateway.schema.json && npx prettier --write docs/relay-gateway.schema.json`
 */
export function publishedGatewaySchema(): object {
  return { ...schema, $defs: { ...schema.$defs, hybridConnection: hybridConnectionSchema } };
}

if (require.main === module) process.stdout.write(`${JSON.stringify(publishedGatewaySchema(), null, 2)}\n`);

import hybridConnectionSchema from './hybrid-connection.schema.json';

/** A module's configuration schema as stored beside its code: it refers to the shared schema by $id. */
export interface ModuleSchema {
  readonly $defs?: Record<string, unknown>;
}

/**
 * A module schema as published in docs/<module>.schema.json: self-contained, with the shared hybrid-connection
 * schema embedded under $defs (its $id kept, so the $ref resolves inside the file).
 */
export function publishedSchema(schema: ModuleSchema): object {
  return { ...schema, $defs: { ...schema.$defs, hybridConnection: hybridConnectionSchema } };
}

/** The published file's text (before Prettier): what a module's published-schema.ts prints when run directly. */
export function publishedSchemaText(schema: ModuleSchema): string {
  return `${JSON.stringify(publishedSchema(schema), null, 2)}\n`;
}

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * graphql/schema.graphql at the package root: two levels up from this module,
 * whether it runs as src/graphql/schema-file.ts (tsx) or dist/graphql/schema-file.js.
 */
export const SCHEMA_PATH = fileURLToPath(new URL('../../graphql/schema.graphql', import.meta.url));

/** The schema's SDL, the source of truth of the API. */
export function loadSchemaSource(path: string = SCHEMA_PATH): string {
  return readFileSync(path, 'utf8');
}

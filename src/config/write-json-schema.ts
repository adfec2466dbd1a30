/**
 * Writes otel-config.schema.json at the repository root from the real registry
 * (`npm run schema`). An optional argument gives another output path.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registry } from '../registry.js';
import { buildJsonSchema, formatJsonSchema } from './json-schema.js';

const SCHEMA_FILE = 'otel-config.schema.json';

/** The nearest directory above this script with a package.json: the repository root. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
  return dir;
}

const out = resolve(process.argv[2] ?? join(repoRoot(), SCHEMA_FILE));
writeFileSync(out, formatJsonSchema(buildJsonSchema(registry)));
process.stdout.write(`wrote ${out}\n`);

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { buildJsonSchema, formatJsonSchema } from '../../src/config/json-schema.js';
import { registry } from '../../src/registry.js';
import { REPO_ROOT } from '../helpers/fixtures.js';

it('otel-config.schema.json is up to date with the registry (run `npm run schema`)', () => {
  const committed = readFileSync(join(REPO_ROOT, 'otel-config.schema.json'), 'utf8');
  assert.equal(committed, formatJsonSchema(buildJsonSchema(registry)));
});

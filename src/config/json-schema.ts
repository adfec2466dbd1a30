/**
 * The JSON Schema of a config file, for editors. Built from the registry, so each
 * component's part comes from the same zod schema as its TypeScript config type.
 */
import { z } from 'zod';
import type { ComponentRegistry } from './registry-types.js';
import { SECTION_KEYS, type SectionKey } from './sections.js';
import { LOG_LEVELS, telemetrySchema } from './service-schema.js';

type JsonSchema = Record<string, unknown>;

const DRAFT = 'https://json-schema.org/draft/2020-12/schema';

const SECTION_DESCRIPTION: Record<SectionKey, string> = {
  receivers: 'Where metrics come from. Ids are `type` or `type/name`.',
  processors: 'Transformations applied in pipeline order. Ids are `type` or `type/name`.',
  exporters: 'Where metrics go. Ids are `type` or `type/name`.',
  extensions: 'Components outside the pipelines (health check, status page). Ids are `type` or `type/name`.',
};

export function buildJsonSchema(registry: ComponentRegistry): object {
  const defs: Record<string, JsonSchema> = {};
  const properties: Record<string, JsonSchema> = {};
  for (const key of SECTION_KEYS) properties[key] = sectionSchema(key, registry, defs);
  properties.service = serviceSchema(registry, defs);
  return {
    $schema: DRAFT,
    title: 'runner-metrics configuration',
    type: 'object',
    additionalProperties: false,
    properties,
    required: ['service'],
    ...(Object.keys(defs).length > 0 ? { $defs: defs } : {}),
  };
}

/** The committed file's exact text: two-space indent and a trailing newline. */
export function formatJsonSchema(schema: object): string {
  return JSON.stringify(schema, null, 2) + '\n';
}

function sectionSchema(section: SectionKey, registry: ComponentRegistry, defs: Record<string, JsonSchema>): JsonSchema {
  const patternProperties: Record<string, JsonSchema> = {};
  for (const type of sortedTypes(registry, section)) {
    const schema = registry[section].get(type)!.configSchema;
    const body = componentSchema(schema, `${section}.${type}.`, defs);
    patternProperties[idPattern([type])] = acceptsEmpty(schema) ? { anyOf: [{ type: 'null' }, body] } : body;
  }
  return {
    description: SECTION_DESCRIPTION[section],
    type: ['object', 'null'],
    patternProperties,
    additionalProperties: false,
  };
}

function serviceSchema(registry: ComponentRegistry, defs: Record<string, JsonSchema>): JsonSchema {
  const ids = (section: SectionKey, minItems: number) => idList(sortedTypes(registry, section), minItems);
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      extensions: { description: 'Extensions to start, by id.', ...ids('extensions', 0) },
      telemetry: { description: `The collector's own logs (levels: ${LOG_LEVELS.join(', ')}).`, ...componentSchema(telemetrySchema, 'service.telemetry.', defs) },
      pipelines: {
        description: 'Named pipelines: `metrics` or `metrics/<name>`.',
        type: 'object',
        minProperties: 1,
        patternProperties: {
          '^metrics(/.+)?$': {
            type: 'object',
            additionalProperties: false,
            properties: {
              receivers: ids('receivers', 1),
              processors: { description: 'Applied in this order.', ...ids('processors', 0) },
              exporters: ids('exporters', 1),
            },
            required: ['receivers', 'exporters'],
          },
        },
        additionalProperties: false,
      },
    },
    required: ['pipelines'],
  };
}

function idList(types: string[], minItems: number): JsonSchema {
  const item: JsonSchema = types.length > 0 ? { type: 'string', pattern: idPattern(types) } : { type: 'string' };
  return { type: 'array', items: item, uniqueItems: true, ...(minItems > 0 ? { minItems } : {}) };
}

function sortedTypes(registry: ComponentRegistry, section: SectionKey): string[] {
  return [...registry[section].keys()].sort();
}

function idPattern(types: string[]): string {
  const escaped = types.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return escaped.length === 1 ? `^${escaped[0]}(/.+)?$` : `^(${escaped.join('|')})(/.+)?$`;
}

/** The input side of a zod schema, with any `$defs` moved to the root under a unique prefix. */
function componentSchema(schema: z.ZodType, prefix: string, defs: Record<string, JsonSchema>): JsonSchema {
  const { $schema: _draft, $defs, ...body } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  if (!$defs) return body;
  const renamed = rewriteRefs({ body, $defs }, prefix) as { body: JsonSchema; $defs: Record<string, JsonSchema> };
  for (const [name, def] of Object.entries(renamed.$defs)) defs[prefix + name] = def;
  return renamed.body;
}

function rewriteRefs(node: unknown, prefix: string): unknown {
  if (Array.isArray(node)) return node.map((n) => rewriteRefs(n, prefix));
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] = key === '$ref' && typeof value === 'string' ? value.replace(/^#\/\$defs\//, `#/$defs/${prefix}`) : rewriteRefs(value, prefix);
  }
  return out;
}

/** Whether the component may be written with an empty body (`filter:`). */
function acceptsEmpty(schema: z.ZodType): boolean {
  return schema.safeParse(undefined).success;
}

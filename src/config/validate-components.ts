/** Checks one component section: ids, known types, and each body against its factory's schema. */
import type { Findings } from './findings.js';
import { isPlainObject, type Path } from './paths.js';
import { isSecretPath } from './redact.js';
import type { ComponentRegistry } from './registry-types.js';
import { KIND, parseId, type SectionKey } from './sections.js';
import { didYouMean } from './suggest.js';
import { describeZodIssues } from './zod-issues.js';

/** Returns id → parsed config for the components that are valid. */
export function validateSection(
  section: SectionKey,
  value: unknown,
  registry: ComponentRegistry,
  findings: Findings,
): Record<string, unknown> {
  const parsed: Record<string, unknown> = {};
  if (value === undefined || value === null) return parsed;
  if (!isPlainObject(value)) {
    findings.error([section], `must be a map of component ids to their config`);
    return parsed;
  }
  const factories = registry[section];
  for (const [id, body] of Object.entries(value)) {
    const parts = parseId(id);
    if (!parts) {
      findings.error([section, id], `invalid component id "${id}": expected "type" or "type/name"`, 'key');
      continue;
    }
    const factory = factories.get(parts.type);
    if (!factory) {
      const known = [...factories.keys()].sort();
      findings.error(
        [section, id],
        `unknown ${KIND[section]} type "${parts.type}"` +
          didYouMean(parts.type, known) +
          `; known types: ${known.length > 0 ? known.join(', ') : '(none)'}`,
        'key',
      );
      continue;
    }
    // An empty body (`filter:`) reaches the factory as undefined, so its defaults apply.
    const input = body ?? undefined;
    const result = factory.configSchema.safeParse(input);
    if (result.success) {
      parsed[id] = result.data;
      for (const advice of factory.configWarnings?.(result.data, input) ?? []) {
        findings.warn([section, id, ...advice.path], advice.message);
      }
    } else {
      const isSecret = (path: Path) => isSecretPath(path, factory.secretKeys);
      for (const issue of describeZodIssues(result.error.issues, factory.configSchema, input, isSecret)) {
        findings.error([section, id, ...issue.path], issue.message, issue.anchor);
      }
    }
  }
  return parsed;
}

/** Validates the merged config tree against the registry and builds the typed config. */
import type { Findings } from './findings.js';
import { isPlainObject } from './paths.js';
import type { ComponentRegistry } from './registry-types.js';
import { SECTION_KEYS, type SectionKey } from './sections.js';
import { didYouMean } from './suggest.js';
import type { CollectorConfig } from './types.js';
import { validateSection } from './validate-components.js';
import { validateService, warnUnused } from './validate-service.js';

const TOP_LEVEL_KEYS: readonly string[] = [...SECTION_KEYS, 'service'];

/** Every problem is recorded in `findings`; the returned config is only meaningful when there are no errors. */
export function validateConfig(raw: unknown, registry: ComponentRegistry, findings: Findings): CollectorConfig {
  const root = raw ?? {};
  if (!isPlainObject(root)) {
    findings.error([], 'the config must be a map with receivers, processors, exporters, extensions and service');
    return emptyConfig();
  }
  for (const key of Object.keys(root)) {
    if (!TOP_LEVEL_KEYS.includes(key)) {
      findings.error([key], `unknown top-level key "${key}"` + didYouMean(key, TOP_LEVEL_KEYS) + `; allowed: ${TOP_LEVEL_KEYS.join(', ')}`, 'key');
    }
  }

  const config = emptyConfig();
  const defined = {} as Record<SectionKey, Set<string>>;
  for (const key of SECTION_KEYS) {
    config[key] = validateSection(key, root[key], registry, findings);
    defined[key] = new Set(isPlainObject(root[key]) ? Object.keys(root[key]) : []);
  }
  config.service = validateService(root.service, defined, findings);
  warnUnused(defined, config.service, findings);
  return config;
}

function emptyConfig(): CollectorConfig {
  return {
    receivers: {},
    processors: {},
    exporters: {},
    extensions: {},
    service: { extensions: [], telemetry: { logs: { level: 'info' } }, pipelines: {} },
  };
}

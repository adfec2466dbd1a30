/** Checks the `service` section: its keys, telemetry, enabled extensions and every pipeline. */
import type { Findings } from './findings.js';
import { formatPath, isPlainObject, type PathSegment } from './paths.js';
import { PIPELINE_NAME, type SectionKey } from './sections.js';
import { PIPELINE_KEYS, SERVICE_KEYS, telemetrySchema } from './service-schema.js';
import { didYouMean } from './suggest.js';
import type { PipelineConfig, ServiceConfig } from './types.js';
import { describeZodIssues } from './zod-issues.js';

/** The ids each section defines, valid or not, so one bad body does not also break every reference to it. */
export type DefinedIds = Record<SectionKey, ReadonlySet<string>>;

export function validateService(value: unknown, defined: DefinedIds, findings: Findings): ServiceConfig {
  const service: ServiceConfig = { extensions: [], telemetry: { logs: { level: 'info' } }, pipelines: {} };
  if (value === undefined || value === null) {
    findings.error(['service'], 'missing: define at least one pipeline under service.pipelines');
    return service;
  }
  if (!isPlainObject(value)) {
    findings.error(['service'], 'must be a map with pipelines');
    return service;
  }
  checkKeys(value, SERVICE_KEYS, ['service'], findings);

  const telemetry = telemetrySchema.safeParse(value.telemetry);
  if (telemetry.success) {
    service.telemetry = telemetry.data;
  } else {
    for (const issue of describeZodIssues(telemetry.error.issues, telemetrySchema, value.telemetry)) {
      findings.error(['service', 'telemetry', ...issue.path], issue.message, issue.anchor);
    }
  }

  service.extensions = idList(value.extensions, ['service', 'extensions'], 'extensions', defined, findings);
  service.pipelines = validatePipelines(value.pipelines, defined, findings);
  return service;
}

function validatePipelines(value: unknown, defined: DefinedIds, findings: Findings): Record<string, PipelineConfig> {
  const pipelines: Record<string, PipelineConfig> = {};
  const path = ['service', 'pipelines'];
  if (value !== undefined && value !== null && !isPlainObject(value)) {
    findings.error(path, 'must be a map of pipeline names to pipelines');
    return pipelines;
  }
  const entries = Object.entries(value ?? {});
  if (entries.length === 0) {
    findings.error(path, 'at least one pipeline is required');
    return pipelines;
  }
  for (const [name, body] of entries) {
    const at = [...path, name];
    if (!PIPELINE_NAME.test(name)) {
      findings.error(at, `invalid pipeline name "${name}": only metrics pipelines exist, named "metrics" or "metrics/<name>"`, 'key');
      continue;
    }
    if (!isPlainObject(body)) {
      findings.error(at, 'must be a map with receivers, processors and exporters');
      continue;
    }
    checkKeys(body, PIPELINE_KEYS, at, findings);
    pipelines[name] = {
      receivers: idList(body.receivers, [...at, 'receivers'], 'receivers', defined, findings, true),
      processors: idList(body.processors, [...at, 'processors'], 'processors', defined, findings),
      exporters: idList(body.exporters, [...at, 'exporters'], 'exporters', defined, findings, true),
    };
  }
  return pipelines;
}

/** A list of component ids that must all be defined in `section`; the valid ones are returned. */
function idList(
  value: unknown,
  path: PathSegment[],
  section: SectionKey,
  defined: DefinedIds,
  findings: Findings,
  required = false,
): string[] {
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) {
    if (required) findings.error(path, `at least one of ${section} is required`);
    return [];
  }
  if (!Array.isArray(value)) {
    findings.error(path, `must be a list of ${section} ids`);
    return [];
  }
  const ids: string[] = [];
  value.forEach((id, i) => {
    const at = [...path, i];
    if (typeof id !== 'string') {
      findings.error(at, `must be a component id (a string)`);
    } else if (!defined[section].has(id)) {
      findings.error(at, `references "${id}", which is not defined under ${section}` + didYouMean(id, defined[section]));
    } else if (ids.includes(id)) {
      findings.error(at, `lists "${id}" more than once`);
    } else {
      ids.push(id);
    }
  });
  return ids;
}

function checkKeys(map: Record<string, unknown>, allowed: readonly string[], path: PathSegment[], findings: Findings): void {
  for (const key of Object.keys(map)) {
    if (!allowed.includes(key)) {
      findings.error([...path, key], `unknown key "${key}"` + didYouMean(key, allowed) + `; allowed in ${formatPath(path)}: ${allowed.join(', ')}`, 'key');
    }
  }
}

/** Components that no pipeline uses do nothing; say so, since it is usually a mistake. */
export function warnUnused(defined: DefinedIds, service: ServiceConfig, findings: Findings): void {
  const used = new Set<string>();
  for (const p of Object.values(service.pipelines)) {
    for (const section of PIPELINE_KEYS) {
      for (const id of p[section]) used.add(`${section}\0${id}`);
    }
  }
  for (const section of PIPELINE_KEYS) {
    for (const id of defined[section]) {
      if (!used.has(`${section}\0${id}`)) findings.warn([section, id], 'defined but not used in any pipeline', 'key');
    }
  }
  for (const id of defined.extensions) {
    if (!service.extensions.includes(id)) findings.warn(['extensions', id], 'defined but not enabled in service.extensions', 'key');
  }
}

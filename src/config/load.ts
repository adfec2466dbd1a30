/**
 * Loading a config: parse each file (keeping positions), expand `${env:…}`,
 * merge the files in order, then validate everything against the registry.
 * Every issue found is reported at once, as one ConfigError.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, sortIssues, type ConfigIssue } from './errors.js';
import { expandSource } from './expand.js';
import { Findings } from './findings.js';
import { Locator } from './locator.js';
import { mergeConfigs } from './merge.js';
import type { ComponentRegistry } from './registry-types.js';
import type { LoadedConfig } from './types.js';
import { validateConfig } from './validate.js';
import { parseYamlSource, type YamlSource } from './yaml-source.js';
import { secretValuesOf } from './secret-values.js';
import { isSecretConfigPath } from './redact.js';
import { registerSecrets } from '../telemetry/secrets.js';

export type { CollectorConfig, LoadedConfig, PipelineConfig, ServiceConfig } from './types.js';

export interface ConfigText {
  /** Shown in issues, usually the file path. */
  name: string;
  text: string;
}

/** Reads and loads config files; later files override earlier ones. Throws ConfigError. */
export function loadConfig(files: string[], registry: ComponentRegistry, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const sources: ConfigText[] = [];
  const unreadable: ConfigIssue[] = [];
  for (const file of files) {
    try {
      sources.push({ name: file, text: readFileSync(file, 'utf8') });
    } catch (e) {
      const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot read file: ${(e as Error).message}`;
      unreadable.push({ file, path: '', message: reason });
    }
  }
  if (unreadable.length > 0) throw new ConfigError(unreadable);
  return loadConfigFromText(sources, registry, env);
}

/** Same as loadConfig, from text already in memory. */
export function loadConfigFromText(
  sources: ConfigText[],
  registry: ComponentRegistry,
  env: NodeJS.ProcessEnv = process.env,
): LoadedConfig {
  const files = sources.map((s) => s.name);
  if (sources.length === 0) throw new ConfigError([{ path: '', message: 'no config file given' }]);
  const fail = (issues: ConfigIssue[]) => new ConfigError(sortIssues(issues, files));

  const parsed: YamlSource[] = [];
  const syntaxErrors: ConfigIssue[] = [];
  for (const { name, text } of sources) {
    const { source, issues } = parseYamlSource(name, text);
    parsed.push(source);
    syntaxErrors.push(...issues);
  }
  if (syntaxErrors.length > 0) throw fail(syntaxErrors);

  const expansionErrors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  for (const source of parsed) {
    const result = expandSource(source, env, (path) => isSecretConfigPath(path, registry));
    expansionErrors.push(...result.errors);
    warnings.push(...result.warnings);
  }
  if (expansionErrors.length > 0) throw fail(expansionErrors);

  const trees: unknown[] = [];
  for (const source of parsed) {
    try {
      trees.push(source.doc.toJS({ maxAliasCount: 100 }));
    } catch (e) {
      throw fail([{ file: source.name, path: '', message: (e as Error).message }]);
    }
  }
  // Every secret of every file (an overridden one too) is known before any message can quote it.
  for (const tree of trees) registerSecrets(secretValuesOf(tree, registry));
  const raw = mergeConfigs(trees);

  const findings = new Findings(new Locator(parsed));
  const config = validateConfig(raw, registry, findings);
  // An unset variable is often why a value is invalid: say so next to the errors.
  if (findings.errors.length > 0) throw fail([...findings.errors, ...warnings.map((w) => ({ ...w, message: `(warning) ${w.message}` }))]);
  return { config, raw, warnings: sortIssues([...warnings, ...findings.warnings], files), files };
}

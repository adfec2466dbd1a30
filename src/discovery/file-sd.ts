/**
 * `file_sd`: target groups read from JSON or YAML files in Prometheus' own format
 *
 *   [{"targets": ["127.0.0.1:8080"], "labels": {"backend": "llama.cpp", "model": "qwen"}}]
 *
 * Files are re-read when their directory changes (fs.watch) and every refresh
 * interval. A file that cannot be read or parsed keeps its last good groups and
 * is reported once, with its file and line; a file that is gone gives none.
 */
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import { parseYamlSource, positionOf } from '../config/yaml-source.js';
import { GlobDiscoverer } from './glob-discoverer.js';
import { expandGlob, globProblem } from './glob.js';
import type { TargetGroup } from './target-group.js';
import type { DiscoveryErrorReason, DiscoveryTelemetry } from './telemetry.js';

export interface FileSdOptions {
  readonly files: readonly string[];
  readonly refreshMs: number;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const EXTENSIONS = /\.(json|ya?ml)$/i;

/** For the config: why a file_sd path cannot be used, or undefined. */
export function fileSdPathProblem(path: string): string | undefined {
  const problem = globProblem(path);
  if (problem !== undefined) return problem;
  return EXTENSIONS.test(path) ? undefined : `"${path}" must end in .json, .yml or .yaml (or a pattern such as *.json)`;
}

export class FileSdError extends Error {
  constructor(
    message: string,
    readonly reason: DiscoveryErrorReason,
  ) {
    super(message);
  }
}

interface FileState {
  /** The text last read, to skip parsing an unchanged file. */
  text: string | undefined;
  /** The last good groups (kept while the file is broken). */
  groups: TargetGroup[];
}

export class FileSdDiscoverer extends GlobDiscoverer {
  readonly mechanism = 'file_sd';
  private readonly files = new Map<string, FileState>();

  constructor(
    opts: FileSdOptions,
    private readonly telemetry: DiscoveryTelemetry,
  ) {
    super(opts.files, opts.refreshMs);
  }

  /** Re-reads every matching file; the union of their groups. */
  protected async look(): Promise<TargetGroup[]> {
    const paths = new Set<string>();
    for (const glob of this.globs) {
      try {
        for (const p of await expandGlob(glob)) paths.add(p);
      } catch (err) {
        // An unreadable directory: keep what its files gave until it can be listed again.
        this.telemetry.error(this.mechanism, 'read', glob.text, `${glob.text}: ${(err as Error).message}`, { files: glob.text });
        for (const p of this.files.keys()) if (p.startsWith(glob.dir + '/')) paths.add(p);
        continue;
      }
      this.telemetry.clear(glob.text, this.mechanism, { files: glob.text });
    }
    for (const path of [...this.files.keys()]) {
      if (paths.has(path)) continue;
      this.files.delete(path);
      this.telemetry.clear(path, this.mechanism, { file: path });
    }
    for (const path of paths) await this.readFile(path);
    return [...paths].sort().flatMap((p) => this.files.get(p)?.groups ?? []);
  }

  private async readFile(path: string): Promise<void> {
    let state = this.files.get(path);
    if (!state) {
      state = { text: undefined, groups: [] };
      this.files.set(path, state);
    }
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return void this.files.delete(path); // removed since the listing
      this.telemetry.error(this.mechanism, 'read', path, `${path}: ${(err as Error).message}`, { file: path });
      return;
    }
    if (text === state.text) return;
    state.text = text;
    try {
      state.groups = parseTargetGroups(text, path);
      this.telemetry.clear(path, this.mechanism, { file: path });
    } catch (err) {
      const e = err instanceof FileSdError ? err : new FileSdError(`${path}: ${String(err)}`, 'parse');
      this.telemetry.error(this.mechanism, e.reason, path, e.message, { file: path, kept_targets: state.groups.reduce((n, g) => n + g.targets.length, 0) });
    }
  }
}

/**
 * Parses a file_sd file (JSON is read as YAML, of which it is a subset, so both
 * give positions). Errors name `file:line:col`.
 */
export function parseTargetGroups(text: string, file: string): TargetGroup[] {
  const { source, issues } = parseYamlSource(file, text);
  if (issues.length > 0) {
    const i = issues[0]!;
    throw new FileSdError(`${file}:${i.line}:${i.column}: ${i.message}`, 'parse');
  }
  const root = source.doc.contents as Node | null;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) return [];
  const fail = (node: Node | null | undefined, message: string): never => {
    const at = (node && positionOf(source, node)) ?? positionOf(source, root) ?? { line: 1, column: 1 };
    throw new FileSdError(`${file}:${at.line}:${at.column}: ${message}`, 'invalid');
  };
  if (!isSeq(root)) fail(root, 'expected a list of target groups ({targets: [...], labels: {...}})');
  const groups: TargetGroup[] = [];
  (root as { items: unknown[] }).items.forEach((item, index) => {
    if (!isMap(item)) return fail(item as Node, `target group ${index} is not a map with "targets" and "labels"`);
    let targets: string[] | undefined;
    const labels: Record<string, string> = {};
    for (const pair of item.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const value = pair.value as Node | null;
      if (key === 'targets') {
        if (!isSeq(value)) return fail(value ?? (pair.key as Node), `"targets" of group ${index} must be a list of host:port strings`);
        targets = value.items.map((t) => {
          if (!isScalar(t) || typeof t.value !== 'string' || t.value.trim() === '') return fail(t as Node, `a target of group ${index} must be a non-empty string`);
          return (t.value as string).trim();
        });
      } else if (key === 'labels') {
        if (value === null || (isScalar(value) && value.value === null)) continue;
        if (!isMap(value)) return fail(value ?? (pair.key as Node), `"labels" of group ${index} must be a map of label names to strings`);
        for (const label of value.items) {
          const name = isScalar(label.key) ? String(label.key.value) : '';
          if (!LABEL_NAME.test(name)) return fail(label.key as Node, `label name "${name}" is not a valid Prometheus label name`);
          const v = label.value as Node | null;
          if (!isScalar(v) || v.value === null || typeof v.value === 'object') return fail(v ?? (label.key as Node), `label "${name}" must have a string value`);
          labels[name] = String(v.value);
        }
      } else {
        return fail(pair.key as Node, `unknown key "${key}" in target group ${index} (expected targets and labels)`);
      }
    }
    if (targets === undefined) return fail(item, `target group ${index} has no "targets"`);
    groups.push({ targets, labels, source: file });
  });
  return groups;
}

/** Config mistakes are values a user can act on: each names the key, the file and the position. */

export interface ConfigIssue {
  file?: string;
  /** 1-based. */
  line?: number;
  /** 1-based. */
  column?: number;
  /** Dotted path of the offending key, e.g. `receivers.prometheus/llama.scrape_interval`; empty for the whole file. */
  path: string;
  message: string;
}

/** `file:line:column: path: message`, leaving out the parts that are unknown. */
export function formatIssue(issue: ConfigIssue): string {
  let where = issue.file ?? '';
  if (issue.line !== undefined) where += `:${issue.line}` + (issue.column !== undefined ? `:${issue.column}` : '');
  const parts = [where, issue.path, issue.message].filter((p) => p !== '');
  return parts.join(': ');
}

/** Orders issues by file (in the order the files were given), then by position. */
export function sortIssues(issues: readonly ConfigIssue[], files: readonly string[] = []): ConfigIssue[] {
  const fileRank = (f: string | undefined) => {
    if (f === undefined) return Number.MAX_SAFE_INTEGER;
    const i = files.indexOf(f);
    return i < 0 ? files.length : i;
  };
  return [...issues].sort(
    (a, b) =>
      fileRank(a.file) - fileRank(b.file) ||
      (a.file ?? '').localeCompare(b.file ?? '') ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0),
  );
}

/** Thrown by the loader; carries every issue found, one per line of the message. */
export class ConfigError extends Error {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

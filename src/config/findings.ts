/** Collects errors and warnings during validation, each placed at its file and position. */
import type { ConfigIssue } from './errors.js';
import type { Locator } from './locator.js';
import type { Path } from './paths.js';
import type { Anchor } from './yaml-source.js';

export class Findings {
  readonly errors: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];

  constructor(private readonly locator: Locator) {}

  error(path: Path, message: string, anchor: Anchor = 'value'): void {
    this.errors.push(this.locator.issue(path, message, anchor));
  }

  warn(path: Path, message: string, anchor: Anchor = 'value'): void {
    this.warnings.push(this.locator.issue(path, message, anchor));
  }
}

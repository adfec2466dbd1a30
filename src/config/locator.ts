/**
 * Maps a path in the merged config back to a file and position: the last file
 * that defines the path supplied its value, so that is where an issue belongs.
 */
import type { ConfigIssue } from './errors.js';
import { formatPath, type Path } from './paths.js';
import { findNode, positionOf, type Anchor, type YamlSource } from './yaml-source.js';

export class Locator {
  constructor(private readonly sources: readonly YamlSource[]) {}

  /** An issue at `path`, placed at the nearest node that exists (the path itself, else a parent's key). */
  issue(path: Path, message: string, anchor: Anchor = 'value'): ConfigIssue {
    return { ...this.locate(path, anchor), path: formatPath(path), message };
  }

  locate(path: Path, anchor: Anchor): Pick<ConfigIssue, 'file' | 'line' | 'column'> {
    for (let depth = path.length; depth > 0; depth--) {
      const prefix = path.slice(0, depth);
      const at = depth === path.length ? anchor : 'key';
      for (let i = this.sources.length - 1; i >= 0; i--) {
        const source = this.sources[i]!;
        const node = findNode(source, prefix, at);
        const pos = node && positionOf(source, node);
        if (pos) return { file: source.name, line: pos.line, column: pos.column };
      }
    }
    const last = this.sources[this.sources.length - 1];
    return last ? { file: last.name, line: 1, column: 1 } : {};
  }
}

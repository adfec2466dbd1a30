/**
 * One config file parsed with positions. The Document is kept after parsing so
 * any issue found later, even after merging, can point back at its line.
 */
import { Document, LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, visit, type Node, type YAMLError } from 'yaml';
import type { ConfigIssue } from './errors.js';
import type { Path } from './paths.js';

export interface YamlSource {
  readonly name: string;
  readonly doc: Document;
  readonly lines: LineCounter;
}

export interface Position {
  line: number;
  column: number;
}

/** Which end of a `key: value` pair an issue is about. */
export type Anchor = 'key' | 'value';

/** Parses one file; syntax errors and duplicate keys come back as issues. */
export function parseYamlSource(name: string, text: string): { source: YamlSource; issues: ConfigIssue[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  // After a syntax error the parser's further errors are mostly echoes of it: report the first only.
  const syntax = doc.errors.filter((e) => e.code !== 'DUPLICATE_KEY');
  const reported = syntax.length > 0 ? syntax.slice(0, 1) : doc.errors;
  const issues = reported.map((e): ConfigIssue => {
    const { line, col } = lines.linePos(e.pos[0]);
    return { file: name, line, column: col, path: '', message: yamlMessage(doc, e) + flowReferenceHint(text, line) };
  });
  return { source: { name, doc, lines }, issues };
}

function yamlMessage(doc: Document, error: YAMLError): string {
  if (error.code === 'DUPLICATE_KEY') {
    const key = duplicateKeyAt(doc, error.pos[0]);
    return key === undefined ? 'duplicate key' : `duplicate key ${JSON.stringify(key)}`;
  }
  // The parser may quote the token it stopped at: a value, perhaps a secret, whose position is given anyway.
  const first = error.message.split('\n')[0]!.replace(/: "[^"]{3,}"$/, '');
  return `YAML syntax error: ${first}`;
}

/**
 * `{ model: ${env:M} }`: inside a flow map or list, YAML reads `{` as the start
 * of a nested map, so an unquoted reference breaks the syntax. Says so, with
 * the quoted form, when the line in error has a reference inside `{…}` or `[…]`.
 */
function flowReferenceHint(text: string, line: number): string {
  const source = text.split(/\r?\n/)[line - 1] ?? '';
  const ref = /[[{,][^'"\n]*?(\$\{[^}\s]*\})/.exec(source)?.[1];
  return ref ? `; a \${…} inside { } or [ ] must be quoted: write "${ref}"` : '';
}

/** The parser's error only points at the second occurrence; the key's text comes from the node there. */
function duplicateKeyAt(doc: Document, offset: number): string | undefined {
  let key: string | undefined;
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
        key = String(pair.key.value);
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return key;
}

export function positionOf(source: YamlSource, node: Node): Position | undefined {
  if (!node.range) return undefined; // nodes created in code have no position
  const { line, col } = source.lines.linePos(node.range[0]);
  return { line, column: col };
}

/**
 * The node at `path` in one file: the key node or the value node of the last
 * step. An empty value (`filter:`) has no useful position, so its key stands in.
 */
export function findNode(source: YamlSource, path: Path, anchor: Anchor): Node | undefined {
  let node: unknown = source.doc.contents;
  let key: Node | undefined;
  for (const seg of path) {
    key = undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return undefined;
      key = pair.key as Node;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      if (node === undefined) return undefined;
    } else {
      return undefined;
    }
  }
  if (anchor === 'key' && key) return key;
  if (key && (node === null || node === undefined || isEmptyScalar(node))) return key;
  return (node ?? undefined) as Node | undefined;
}

function isEmptyScalar(node: unknown): boolean {
  return isScalar(node) && node.value === null && !!node.range && node.range[0] === node.range[1];
}

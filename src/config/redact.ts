/**
 * Secret redaction for print-config: the keys each factory declares secret,
 * plus anything that looks like a credential wherever it appears.
 */
import { isPlainObject, setOwn, type Path, type PathSegment } from './paths.js';
import type { ComponentRegistry } from './registry-types.js';
import { SECTION_KEYS, parseId, type SectionKey } from './sections.js';
import { REDACTED, redactUrlText } from '../telemetry/secrets.js';

export { REDACTED };

/** Key names that hold credentials in any component (`max_tokens` does not). `*_file` keys hold a path, not the secret. */
const SECRET_KEY = /password|passwd|token(?!s)|secret|api[_-]?key|authorization|bearer|credential/i;
const PATH_KEY = /_(file|path)$/i;

/** HTTP headers that carry credentials, inside any `headers:` map. */
const SECRET_HEADER = /^(authorization|proxy-authorization|cookie|x-.*-(key|token|secret))$/i;

export function redactConfig(raw: unknown, registry: ComponentRegistry): unknown {
  const copy = redactTree(raw);
  if (!isPlainObject(copy)) return copy;
  for (const section of SECTION_KEYS) {
    const bodies = copy[section];
    if (!isPlainObject(bodies)) continue;
    for (const [id, body] of Object.entries(bodies)) {
      const type = parseId(id)?.type;
      const secretKeys = type === undefined ? undefined : registry[section].get(type)?.secretKeys;
      for (const dotted of secretKeys ?? []) redactPath(body, dotted.split('.'));
    }
  }
  return copy;
}

/**
 * Whether the value at `path` inside one component's body is a credential, by
 * the same rules print-config redacts with: a key the factory declares secret
 * (or anything under it), a credential-looking key, or a credential header.
 */
export function isSecretPath(path: Path, secretKeys: readonly string[] = []): boolean {
  for (const [i, seg] of path.entries()) {
    if (typeof seg !== 'string') continue;
    if (SECRET_KEY.test(seg) && !PATH_KEY.test(seg)) return true;
    if (path[i - 1] === 'headers' && SECRET_HEADER.test(seg)) return true;
  }
  // Declared keys step over lists, as redactPath does.
  const keys = path.filter((seg) => typeof seg === 'string');
  return secretKeys.some((dotted) => dotted.split('.').every((part, i) => keys[i] === part));
}

/**
 * Whether the value at `path` from the root of a config is a credential: a
 * secret path of its component (see isSecretPath), or any header value.
 */
export function isSecretConfigPath(path: Path, registry: ComponentRegistry): boolean {
  const [section, id, ...rest] = path;
  if (path[path.length - 2] === 'headers') return true;
  if (!(SECTION_KEYS as readonly PathSegment[]).includes(section ?? '') || typeof id !== 'string') return isSecretPath(path);
  const type = parseId(id)?.type;
  const secretKeys = type === undefined ? undefined : registry[section as SectionKey].get(type)?.secretKeys;
  return isSecretPath(rest, secretKeys);
}

/** A value that starts like a URL. */
const URL_START = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * A string value with a URL's password (even one holding `@`, even in a URL
 * that does not parse) and its query parameter values (`?api_key=…`) hidden.
 */
export function redactString(value: string): string {
  return URL_START.test(value) ? redactUrlText(value) : value;
}

function hasValue(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

/** Redacts a declared secret; a list on the way applies the rest of the path to each item. */
function redactPath(node: unknown, path: string[]): void {
  if (Array.isArray(node)) {
    for (const item of node) redactPath(item, path);
    return;
  }
  if (!isPlainObject(node) || path.length === 0) return;
  const [head, ...rest] = path as [string, ...string[]];
  if (!Object.hasOwn(node, head)) return;
  if (rest.length === 0) {
    if (hasValue(node[head])) node[head] = REDACTED;
  } else {
    redactPath(node[head], rest);
  }
}

/** A deep copy with credential-looking values replaced. */
function redactTree(node: unknown, inHeaders = false): unknown {
  if (Array.isArray(node)) return node.map((item) => redactTree(item));
  if (typeof node === 'string') return redactString(node);
  if (!isPlainObject(node)) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    const secret = (SECRET_KEY.test(key) && !PATH_KEY.test(key)) || (inHeaders && SECRET_HEADER.test(key));
    const redacted = secret && hasValue(value) ? REDACTED : redactTree(value, key === 'headers');
    setOwn(out, key, redacted);
  }
  return out;
}

/**
 * Every secret value in a config tree, for the process-wide scrubber: values at
 * secret paths (a factory's declared keys, credential-looking keys), every
 * header value, the password and query values of every URL, and the Basic
 * credentials a client derives from a user name and password.
 */
import { isPlainObject, type PathSegment } from './paths.js';
import { isSecretPath } from './redact.js';
import type { ComponentRegistry } from './registry-types.js';
import { SECTION_KEYS, parseId, type SectionKey } from './sections.js';
import { basicCredentials, secretsOfHeaderValue, secretsOfUrl } from '../telemetry/secrets.js';

const URL_START = /^\s*[a-z][a-z0-9+.-]*:\/\//i;

export function secretValuesOf(tree: unknown, registry: ComponentRegistry): string[] {
  const out: string[] = [];
  if (!isPlainObject(tree)) return out;
  for (const [key, value] of Object.entries(tree)) {
    if ((SECTION_KEYS as readonly string[]).includes(key) && isPlainObject(value)) {
      for (const [id, body] of Object.entries(value)) {
        const type = parseId(id)?.type;
        const secretKeys = type === undefined ? undefined : registry[key as SectionKey].get(type)?.secretKeys;
        collect(body, [], secretKeys ?? [], out);
      }
    } else {
      collect(value, [key], [], out);
    }
  }
  return out;
}

function collect(node: unknown, path: PathSegment[], secretKeys: readonly string[], out: string[]): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => collect(item, [...path, i], secretKeys, out));
    return;
  }
  if (isPlainObject(node)) {
    const { username, password } = node;
    if (isScalar(username) && isScalar(password)) out.push(...basicCredentials(String(username), String(password)));
    for (const [key, value] of Object.entries(node)) collect(value, [...path, key], secretKeys, out);
    return;
  }
  if (!isScalar(node)) return;
  const text = String(node);
  if (path[path.length - 2] === 'headers') out.push(...secretsOfHeaderValue(text));
  else if (isSecretPath(path, secretKeys)) out.push(text);
  if (typeof node === 'string' && URL_START.test(node)) out.push(...secretsOfUrl(node.trim()));
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

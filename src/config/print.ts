/**
 * print-config: the merged, expanded config as YAML, with secrets redacted.
 * A `$` left after expansion is written as `$$`, so the output loads back as printed.
 * Each value also passes the process-wide scrubber, so a secret the key-based
 * redaction misses (one repeated under an ordinary key) is hidden too.
 */
import { stringify } from 'yaml';
import { isPlainObject, setOwn } from './paths.js';
import { redactConfig } from './redact.js';
import type { ComponentRegistry } from './registry-types.js';
import type { LoadedConfig } from './types.js';
import { scrubSecrets } from '../telemetry/secrets.js';

export function printConfig(loaded: LoadedConfig, registry: ComponentRegistry): string {
  return stringify(escapeDollars(redactConfig(loaded.raw, registry)), { lineWidth: 0, nullStr: '' });
}

function escapeDollars(node: unknown): unknown {
  if (typeof node === 'string') return scrubSecrets(node).replaceAll('$', '$$$$');
  if (Array.isArray(node)) return node.map(escapeDollars);
  if (!isPlainObject(node)) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    setOwn(out, key, escapeDollars(value));
  }
  return out;
}

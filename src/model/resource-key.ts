import type { Attributes } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';

const keyCache = new WeakMap<Resource, string>();

/**
 * A stable identity for a resource: its attributes, sorted by key. Exporters keep
 * the latest snapshot per key, so a target's new scrape replaces its previous one.
 * Cached per Resource object, since receivers and processors reuse them across scrapes.
 */
export function resourceKey(resource: Resource): string {
  let key = keyCache.get(resource);
  if (key === undefined) {
    key = attributesKey(resource.attributes);
    keyCache.set(resource, key);
  }
  return key;
}

export function attributesKey(attributes: Attributes): string {
  const keys = Object.keys(attributes).sort();
  return JSON.stringify(keys.map((k) => [k, attributes[k]]));
}

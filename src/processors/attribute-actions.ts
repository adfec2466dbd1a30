/**
 * The attribute actions the Collector's `resource` and `attributes` processors
 * share (`insert`, `update`, `upsert`, `delete`, with `value` or
 * `from_attribute`): one schema and one implementation for both, so a rename
 * written for a resource reads the same written for a series.
 */
import { z } from 'zod';
import type { Attributes } from '../model/batch.js';
import { attributeValue } from '../config/schema-helpers.js';
import { getAttribute, setAttribute } from '../model/attributes.js';

export const attributeAction = z
  .strictObject({
    key: z.string().min(1),
    value: attributeValue.optional(),
    from_attribute: z.string().optional(),
    action: z.enum(['insert', 'update', 'upsert', 'delete']),
  })
  .refine((a) => a.action === 'delete' || a.value !== undefined || a.from_attribute !== undefined, {
    message: '`value` or `from_attribute` is required unless action is delete',
  });

export type AttributeAction = z.output<typeof attributeAction>;

/** Applies the actions in order to a copy of the attributes. */
export function applyAttributeActions(input: Attributes, actions: readonly AttributeAction[]): Attributes {
  const out: Attributes = { ...input }; // spread defines properties: an own `__proto__` is copied as one
  for (const a of actions) {
    const present = Object.hasOwn(out, a.key);
    if (a.action === 'delete') {
      delete out[a.key];
      continue;
    }
    const value = a.value !== undefined ? a.value : getAttribute(out, a.from_attribute!);
    if (value === undefined) continue;
    if (a.action === 'insert' && present) continue;
    if (a.action === 'update' && !present) continue;
    setAttribute(out, a.key, value);
  }
  return out;
}

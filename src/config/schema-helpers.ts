/** Zod building blocks shared by every component's config schema. */
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { parseListenAddress } from '../net/listen-address.js';

/** A duration (`5s`, `1m`, `250ms`, or a YAML number of milliseconds), parsed to milliseconds. */
export function duration() {
  return z
    .union([z.string(), z.number().nonnegative()])
    .transform((v, ctx) => {
      if (typeof v === 'number') return v;
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `invalid duration "${v}" (expected e.g. 500ms, 5s, 1m, 1h30m)` });
        return z.NEVER;
      }
      return ms;
    })
    .meta({ description: 'Duration such as 500ms, 5s, 1m, 1h30m, or a number of milliseconds' });
}

/** A byte size (`10MiB`, `512KB`, `1048576`), parsed to bytes. */
export function byteSize() {
  return z
    .union([z.string(), z.number().int().nonnegative()])
    .transform((v, ctx) => {
      if (typeof v === 'number') return v;
      const m = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?\s*$/i.exec(v);
      if (!m) {
        ctx.addIssue({ code: 'custom', message: `invalid size "${v}" (expected e.g. 512KiB, 10MiB)` });
        return z.NEVER;
      }
      const unit = (m[2] ?? 'B').toLowerCase();
      const mult: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };
      return Math.round(Number(m[1]) * mult[unit]!);
    });
}

/** Component bodies may be empty in YAML (`filter:`); treat that as `{}` so defaults apply. */
export function componentConfig<T extends z.ZodRawShape>(shape: T) {
  return z.preprocess((v) => (v === null || v === undefined ? {} : v), z.strictObject(shape));
}

/** Attribute values for resources and labels: strings, numbers and booleans. */
export const attributeValue = z.union([z.string(), z.number(), z.boolean()]);

/** Where a server listens: `host:port`, `[ipv6]:port`, `:port` or `unix:/path.sock`. */
export function listenEndpoint(defaultValue: string) {
  return z
    .string()
    .superRefine((value, ctx) => {
      const parsed = parseListenAddress(value);
      if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.message });
    })
    .default(defaultValue)
    .describe('host:port, [ipv6]:port or unix:/path/to.sock to listen on');
}

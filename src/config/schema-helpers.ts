/** Zod building blocks shared by every component's config schema. */
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { parseListenAddress } from '../net/listen-address.js';

/**
 * A duration (`5s`, `1m`, `250ms`), parsed to milliseconds. As in the Collector
 * and Prometheus a value needs a unit: a bare number would be read as
 * milliseconds, and an environment variable meant as seconds (`INTERVAL=5`)
 * would silently become 5ms. Only 0 may be written without one.
 */
export function duration() {
  return z
    .union([z.string(), z.number()])
    .transform((v, ctx) => {
      const text = String(v).trim();
      if (/^\d+(\.\d+)?$/.test(text)) {
        if (Number(text) === 0) return 0;
        ctx.addIssue({ code: 'custom', message: `duration ${text} has no unit: add a unit, e.g. 5s` });
        return z.NEVER;
      }
      const ms = parseDuration(text);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `invalid duration "${text}" (expected e.g. 500ms, 5s, 1m, 1h30m)` });
        return z.NEVER;
      }
      return ms;
    })
    .meta({ description: 'Duration such as 500ms, 5s, 1m, 1h30m; 0 needs no unit' });
}

/** A duration that must be longer than 0: an interval or a timeout. */
export function positiveDuration() {
  return duration().refine((ms) => ms > 0, { message: 'must be greater than 0 (e.g. 5s)' });
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

/**
 * A string that may be written as a YAML number or boolean and is taken as its
 * text: an instance id, a numeric password, or a token from `${env:…}` that
 * happens to be all digits or `true`.
 */
export function text() {
  return z.union([z.string(), z.number(), z.boolean()]).transform(String);
}

/** An HTTP header name: a token (RFC 9110). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What an HTTP client refuses in a header value (as undici and node:http do). */
const BAD_HEADER_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Request headers (`name: value`). A value a client would refuse to send (a
 * CR/LF, often a newline left by a file or a `|` block, or a control
 * character) is a config error here, not a network error retried at every
 * scrape or push. Messages never quote the value: header values are secrets.
 */
export function httpHeaders() {
  return z.record(
    z.string().regex(HEADER_NAME, "not a valid HTTP header name: use letters, digits and !#$%&'*+-.^_`|~ only"),
    text().superRefine((value, ctx) => {
      if (/[\r\n]/.test(value)) {
        ctx.addIssue({ code: 'custom', message: 'header value contains a line break (CR or LF), which HTTP does not allow: remove it (a trailing newline from a file or a `|` block is a common cause; `>-` or a quoted string has none)' });
      } else if (BAD_HEADER_VALUE_CHAR.test(value)) {
        ctx.addIssue({ code: 'custom', message: 'header value contains a control character or a character above U+00FF, which HTTP does not allow' });
      }
    }),
  );
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

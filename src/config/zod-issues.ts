/**
 * Turns zod issues into messages that name the offending key: unknown keys get
 * one issue each (with a spelling hint), union failures are flattened into the
 * branch that came closest, and type errors say what was found (only its kind
 * for a secret, so an error never prints a credential).
 */
import { z } from 'zod';
import { didYouMean } from './suggest.js';
import { isPlainObject, valueAt, type Path, type PathSegment } from './paths.js';
import { REDACTED, isSecretPath, redactString } from './redact.js';
import type { Anchor } from './yaml-source.js';

export interface PathIssue {
  path: PathSegment[];
  message: string;
  anchor: Anchor;
}

type Issue = z.core.$ZodIssue;

/** Tells whether the value at a path (relative to the parsed input) is a credential. */
export type SecretTest = (path: Path) => boolean;

export function describeZodIssues(
  issues: readonly Issue[],
  schema: z.ZodType,
  input: unknown,
  isSecret: SecretTest = (path) => isSecretPath(path),
): PathIssue[] {
  const ctx: Context = { schema, input, isSecret };
  return issues.flatMap((issue) => describe(issue, [], ctx));
}

interface Context {
  schema: z.ZodType;
  input: unknown;
  isSecret: SecretTest;
}

function describe(issue: Issue, base: PathSegment[], ctx: Context): PathIssue[] {
  const path = [...base, ...issue.path.map(toSegment)];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(ctx.schema, path);
      return issue.keys.map((key) => ({
        path: [...path, key],
        message: `unknown key "${key}"` + didYouMean(key, known),
        anchor: 'key' as const,
      }));
    }
    case 'invalid_union':
      return describeUnion(issue, path, ctx);
    case 'invalid_key':
      // A map key failed its own schema: say why, at the key.
      return issue.issues.flatMap((inner) => describe(inner as Issue, path, ctx)).map((found) => ({ ...found, anchor: 'key' as const }));
    case 'invalid_element':
      // A map or set entry failed its schema: say why, at the entry.
      return issue.issues.flatMap((inner) => describe(inner as Issue, [...path, toSegment(issue.key as PropertyKey)], ctx));
    case 'invalid_type': {
      const value = valueAt(ctx.input, path);
      const expected = TYPE_WORDS[issue.expected] ?? issue.expected;
      if (value === undefined) return [{ path, message: `required key missing (expected ${expected})`, anchor: 'value' }];
      return [{ path, message: `expected ${expected}, received ${kindOf(value, ctx.isSecret(path))}`, anchor: 'value' }];
    }
    default: {
      // A schema's own message is kept; zod's stock wording is replaced by plain words.
      const stock = issue.message === zodDefaultMessage(issue);
      const message = (stock ? plainWords(issue, valueAt(ctx.input, path)) : undefined) ?? issue.message.replace(/^Invalid input: /, '');
      return [{ path, message: ctx.isSecret(path) ? withoutValue(message, valueAt(ctx.input, path)) : message, anchor: 'value' }];
    }
  }
}

/** zod's names of types, as a config author says them. */
const TYPE_WORDS: Record<string, string> = {
  int: 'a whole number',
  array: 'list',
  object: 'map',
  record: 'map',
  map: 'map',
  set: 'list',
  nan: 'NaN',
};

const english = z.locales.en();

function zodDefaultMessage(issue: Issue): string | undefined {
  const made = english.localeError(issue as Parameters<typeof english.localeError>[0]);
  return typeof made === 'string' ? made : made?.message;
}

/** Each zod issue code our schemas can raise, in the words of a config file. */
function plainWords(issue: Issue, value: unknown): string | undefined {
  switch (issue.code) {
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'string') return min <= 1 ? 'must not be empty' : `must be at least ${min} characters long`;
      if (issue.origin === 'array' || issue.origin === 'set') {
        return min <= 1 ? 'must list at least one item (it is empty)' : `must list at least ${min} items`;
      }
      if (issue.inclusive === false) return `must be greater than ${min}`;
      return min === 0 ? 'must be 0 or more (not negative)' : `must be at least ${min}`;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'string') return `must be at most ${max} characters long`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must list at most ${max} items`;
      if (issue.origin === 'int' && max === Number.MAX_SAFE_INTEGER) return `is too large (at most ${max})`;
      return issue.inclusive === false ? `must be less than ${max}` : `must be at most ${max}`;
    }
    case 'invalid_value': {
      const options = issue.values.map((v) => (typeof v === 'string' ? v : String(v)));
      const hint = typeof value === 'string' ? didYouMean(value, options) : '';
      return options.length === 1 ? `must be ${options[0]}` : `must be one of: ${options.join(', ')}${hint}`;
    }
    case 'invalid_format':
      switch (issue.format) {
        case 'regex':
          return `does not have the expected form (must match ${(issue as { pattern?: string }).pattern ?? 'the pattern'})`;
        case 'starts_with':
          return `must start with "${(issue as { prefix?: string }).prefix}"`;
        case 'ends_with':
          return `must end with "${(issue as { suffix?: string }).suffix}"`;
        case 'includes':
          return `must contain "${(issue as { includes?: string }).includes}"`;
        default:
          return `is not a valid ${issue.format}`;
      }
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    default:
      return undefined;
  }
}

function describeUnion(
  issue: Extract<Issue, { code: 'invalid_union' }>,
  path: PathSegment[],
  ctx: Context,
): PathIssue[] {
  const branches = issue.errors;
  const isRootTypeMismatch = (b: readonly Issue[]) => b.length === 1 && b[0]!.code === 'invalid_type' && b[0]!.path.length === 0;
  if (branches.length === 0) return [{ path, message: issue.message, anchor: 'value' }];
  if (branches.every(isRootTypeMismatch)) {
    const expected = [...new Set(branches.map((b) => (b[0] as Extract<Issue, { code: 'invalid_type' }>).expected))];
    const value = valueAt(ctx.input, path);
    const found = value === undefined ? 'nothing' : kindOf(value, ctx.isSecret(path));
    return [{ path, message: `expected ${expected.map((e) => TYPE_WORDS[e] ?? e).join(' or ')}, received ${found}`, anchor: 'value' }];
  }
  // The value had the right shape for some branch: report what went wrong inside the closest one.
  const closest = branches.filter((b) => !isRootTypeMismatch(b)).sort((a, b) => a.length - b.length)[0]!;
  return closest.flatMap((inner) => describe(inner, path, ctx));
}

function toSegment(key: PropertyKey): PathSegment {
  return typeof key === 'number' ? key : String(key);
}

/** A custom check's message on a secret, in case it quotes the value. */
function withoutValue(message: string, value: unknown): string {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return message;
  const text = String(value);
  return text === '' ? message : message.replaceAll(text, REDACTED);
}

/** What was found: the kind, and for a scalar that is not a secret its value too. */
function kindOf(value: unknown, secret: boolean): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (isPlainObject(value)) return 'map';
  if (secret) return typeof value;
  return typeof value === 'string' ? `string "${redactString(value)}"` : `${typeof value} ${String(value)}`;
}

// --- schema introspection, best effort, only for spelling hints ---

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  left?: z.ZodType;
  right?: z.ZodType;
  getter?: () => z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The object schemas a value can be, once wrappers (optional, default, pipe, union…) are seen through. */
function objectsOf(schema: z.ZodType, depth = 0): Def[] {
  if (depth > 20) return [];
  const def = defOf(schema);
  const inner = (s: z.ZodType | undefined) => (s ? objectsOf(s, depth + 1) : []);
  switch (def.type) {
    case 'object':
    case 'record':
    case 'array':
      return [def];
    case 'pipe':
      return [...inner(def.in), ...inner(def.out)];
    case 'union':
      return (def.options ?? []).flatMap((o) => inner(o));
    case 'intersection':
      return [...inner(def.left), ...inner(def.right)];
    case 'lazy':
      return inner(def.getter?.());
    default:
      return inner(def.innerType);
  }
}

/** Keys an object at `path` may have, used to suggest a correction for an unknown key. */
export function knownKeysAt(schema: z.ZodType, path: readonly PathSegment[]): string[] {
  let defs = objectsOf(schema);
  for (const seg of path) {
    defs = defs.flatMap((def) => {
      if (def.type === 'object' && typeof seg === 'string' && def.shape?.[seg]) return objectsOf(def.shape[seg]);
      if (def.type === 'record' && def.valueType) return objectsOf(def.valueType);
      if (def.type === 'array' && typeof seg === 'number' && def.element) return objectsOf(def.element);
      return [];
    });
  }
  return defs.flatMap((def) => (def.type === 'object' && def.shape ? Object.keys(def.shape) : []));
}

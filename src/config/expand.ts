/**
 * `${env:VAR}` expansion, as the Collector does it: applied to scalar values
 * after parsing, so an environment variable can never inject YAML structure.
 *
 *   ${env:VAR}            value of VAR; empty (with a warning) when unset
 *   ${env:VAR:-default}   default when VAR is unset or empty; the default may itself
 *                         hold references: ${env:NEW:-${env:OLD:-x}} reads OLD when
 *                         NEW is unset, so a renamed variable's old name keeps working
 *   $$                    a literal `$`
 */
import { Scalar, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { ConfigIssue } from './errors.js';
import type { Path, PathSegment } from './paths.js';
import { formatPath } from './paths.js';
import { positionOf, type YamlSource } from './yaml-source.js';

export interface Expansion {
  text: string;
  /** True when the whole input was one reference: its result may be re-typed as a number or boolean. */
  singleReference: boolean;
  /** Variables referenced without a default that were not set. */
  unset: string[];
}

/**
 * A malformed reference. `message` quotes the reference; `blind` says the same
 * without any of the value's text, for a secret (whose `$` is more likely a
 * literal dollar in a password than a reference).
 */
export class ExpansionError extends Error {
  constructor(
    message: string,
    readonly blind: string,
  ) {
    super(message);
  }
}

const LITERAL_HINT = '(write $$ for a literal $)';

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function expandText(input: string, env: NodeJS.ProcessEnv): Expansion {
  let text = '';
  let references = 0;
  let whole = false;
  const unset: string[] = [];
  let i = 0;
  while (i < input.length) {
    const dollar = input.indexOf('$', i);
    if (dollar < 0) {
      text += input.slice(i);
      break;
    }
    text += input.slice(i, dollar);
    const next = input[dollar + 1];
    if (next === '$') {
      text += '$';
      i = dollar + 2;
    } else if (next === '{') {
      const close = closingBrace(input, dollar + 2);
      const at = `at character ${dollar + 1} of the value`;
      if (close < 0) {
        throw new ExpansionError(`unterminated reference "${input.slice(dollar)}" ${LITERAL_HINT}`, `unterminated \${ reference ${at} ${LITERAL_HINT}`);
      }
      text += resolveReference(input.slice(dollar + 2, close), env, unset, at);
      references++;
      if (dollar === 0 && close === input.length - 1) whole = true;
      i = close + 1;
    } else {
      text += '$';
      i = dollar + 1;
    }
  }
  const singleReference = references === 1 && whole;
  return { text, singleReference, unset };
}

/** The `}` that closes the reference whose body starts at `from`, past nested `${…}` ones; -1 if none. */
function closingBrace(input: string, from: number): number {
  let depth = 1;
  for (let i = from; i < input.length; i++) {
    const c = input[i];
    if (c === '$' && input[i + 1] === '$') i++;
    else if (c === '$' && input[i + 1] === '{') {
      depth++;
      i++;
    } else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}

function resolveReference(body: string, env: NodeJS.ProcessEnv, unset: string[], at: string): string {
  if (!body.startsWith('env:')) {
    const hint = VAR_NAME.test(body) ? ` (did you mean \${env:${body}}?)` : ` ${LITERAL_HINT}`;
    throw new ExpansionError(
      `unsupported reference "\${${body}}": only \${env:VAR} is supported${hint}`,
      `unsupported reference ${at}: only \${env:VAR} is supported ${LITERAL_HINT}`,
    );
  }
  const spec = body.slice('env:'.length);
  const sep = spec.indexOf(':-');
  const name = sep < 0 ? spec : spec.slice(0, sep);
  if (name === '') throw new ExpansionError(`empty variable name in "\${${body}}"`, `empty variable name in the reference ${at}`);
  if (!VAR_NAME.test(name)) {
    throw new ExpansionError(`invalid variable name "${name}" in "\${${body}}"`, `invalid variable name in the reference ${at} ${LITERAL_HINT}`);
  }
  const value = env[name];
  if (sep >= 0) {
    if (value !== undefined && value !== '') return value;
    const fallback = spec.slice(sep + 2);
    if (!fallback.includes('$')) return fallback;
    const inner = expandText(fallback, env);
    unset.push(...inner.unset);
    return inner.text;
  }
  if (value === undefined) unset.push(name);
  return value ?? '';
}

/**
 * A plain scalar that was exactly one reference is re-typed, so `5` becomes a
 * number and `true` a boolean. Only text that a number or boolean writes back
 * exactly is re-typed: `1.10`, `007`, `1e3`, `0x1F`, `null` and `~` stay
 * strings, so a model name, a version or a secret is never altered. Quoted,
 * tagged or block scalars always stay strings.
 */
function retype(text: string): unknown {
  if (text === 'true') return true;
  if (text === 'false') return false;
  const n = Number(text);
  return text !== '' && Number.isFinite(n) && String(n) === text ? n : text;
}

/** Expands every string value in one file, in place; keys are left as written. */
/** A value in which a `${…}` is more likely part of a credential than a reference: never quoted in errors. */
const URL_WITH_CREDENTIALS = /^\s*[a-z][a-z0-9+.-]*:\/\/[^\s]*[@?]/i;

export function expandSource(
  source: YamlSource,
  env: NodeJS.ProcessEnv,
  isSecret: (path: Path) => boolean = () => false,
): { errors: ConfigIssue[]; warnings: ConfigIssue[] } {
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const at = (node: Scalar, path: Path, message: string): ConfigIssue => ({
    file: source.name,
    ...positionOf(source, node),
    path: formatPath(path),
    message,
  });

  const visit = (node: unknown, path: PathSegment[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (isPair(pair) && isScalar(pair.key)) visit(pair.value, [...path, String(pair.key.value)]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => visit(item, [...path, i]));
    } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('$')) {
      const written = node.value;
      try {
        const result = expandText(written, env);
        for (const name of result.unset) {
          warnings.push(at(node, path, `environment variable ${name} is not set; using an empty string`));
        }
        const plain = node.type === Scalar.PLAIN && node.tag === undefined;
        node.value = result.singleReference && plain ? retype(result.text) : result.text;
      } catch (e) {
        if (!(e instanceof ExpansionError)) throw e;
        const blind = isSecret(path) || URL_WITH_CREDENTIALS.test(written);
        errors.push(at(node, path, blind ? e.blind : e.message));
      }
    }
  };
  visit(source.doc.contents, []);
  return { errors, warnings };
}

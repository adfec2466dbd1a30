/**
 * The process-wide secret scrubber: the last line of defence that keeps every
 * credential out of everything written or served.
 *
 *   registerSecrets(values)   remember secret values (the config loader feeds it
 *                             every password, token, header value, URL password
 *                             and query value of every config it loads)
 *   scrubSecrets(text)        `text` with every registered secret, and anything
 *                             shaped like a credential, replaced by [REDACTED]
 *   redactUrlText(text)       a URL (even one that does not parse) without its
 *                             userinfo password and query values
 *   secretsOfUrl, secretsOfHeaderValue, basicCredentials
 *                             the secret parts of a URL, of a header value, and
 *                             the Basic token of a user and password, to register
 *
 * Everything that writes text a secret could reach passes it through
 * scrubSecrets: the logger (each line), the CLI's stdout/stderr, print-config,
 * and anything served from a component's error (a target's last error on a
 * status page, a label value made from an error). Scrub error texts, not every
 * sample on a hot path: the cost is one regular-expression pass per text.
 *
 * Two layers:
 *  - by value: each registered secret in the forms it may be echoed in (as is,
 *    JSON-escaped, percent-encoded). Values shorter than MIN_SECRET_LENGTH are
 *    not matched by value: they would erase ordinary words from every line.
 *  - by shape: `scheme://user:password@`, query values (`?api_key=…&v=…`),
 *    `password=…`/`"token": "…"` pairs and `Basic …`/`Bearer …` credentials,
 *    whether or not the value was ever registered.
 *
 * Secrets are never forgotten: after a reload the previous config's secrets may
 * still be in an error being written.
 */

export const REDACTED = '[REDACTED]';

/** Shorter values are not matched by value (shape rules still apply). */
export const MIN_SECRET_LENGTH = 4;

const secrets = new Set<string>();
let byValue: RegExp | undefined;
let stale = false;

/** Remembers secret values; every later scrubSecrets hides them. Empty and short values are ignored. */
export function registerSecrets(values: Iterable<string>): void {
  for (const value of values) {
    for (const form of formsOf(value)) {
      if (form.length < MIN_SECRET_LENGTH || secrets.has(form)) continue;
      secrets.add(form);
      stale = true;
    }
  }
}

/** `text` with registered secrets and credential-shaped parts replaced by [REDACTED]. */
export function scrubSecrets(text: string): string {
  if (text === '') return text;
  let out = text;
  const values = valuePattern();
  if (values) out = out.replace(values, REDACTED);
  return scrubShapes(out);
}

/** A URL safe to print, even when it does not parse: no password (a user name stays), no query values. */
export function redactUrlText(text: string): string {
  // A URL that parses has userinfo only if the parser saw some (`@` may also be in its path).
  const parsed = URL.canParse(text) ? new URL(text) : undefined;
  const withoutUser = parsed && parsed.username === '' && parsed.password === '' ? text : redactUserinfo(text);
  return redactQueryValues(withoutUser);
}

/**
 * The secrets inside one URL-looking value: its password (also a lone user
 * name, which may be a token), its query values that may be secrets (see
 * mayBeSecretParam), and the Basic credentials a client derives from its
 * userinfo. Works on text that does not parse as a URL.
 */
export function secretsOfUrl(text: string): string[] {
  const out: string[] = [];
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text);
  const rest = scheme ? text.slice(scheme[0].length) : text;
  const parsed = URL.canParse(text) ? new URL(text) : undefined;
  const at = parsed && parsed.username === '' && parsed.password === '' ? -1 : rest.lastIndexOf('@');
  if (at >= 0) {
    // Taken up to the last `@` of the whole text, so a password holding `@`, `/` or `#` is still found whole.
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(':');
    const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    const password = colon < 0 ? '' : userinfo.slice(colon + 1);
    if (password !== '') out.push(password, safeDecode(password));
    else out.push(user, safeDecode(user));
    out.push(...basicCredentials(safeDecode(user), safeDecode(password)));
  }
  const q = rest.indexOf('?');
  if (q >= 0) {
    const hash = rest.indexOf('#', q);
    for (const param of rest.slice(q + 1, hash < 0 ? undefined : hash).split('&')) {
      const eq = param.indexOf('=');
      if (eq < 0) continue;
      const value = safeDecode(param.slice(eq + 1).replaceAll('+', ' '));
      if (mayBeSecretParam(safeDecode(param.slice(0, eq)), value)) out.push(param.slice(eq + 1), value);
    }
  }
  return out.filter((v) => v !== '');
}

/**
 * A query value worth hiding by value everywhere: one under a credential-like
 * name, or one that does not read as a word. `?format=prometheus` is not:
 * hiding "prometheus" from every line would hide component names. (The shape
 * rules still hide every query value wherever a URL is written.)
 */
function mayBeSecretParam(name: string, value: string): boolean {
  if (/key|token|secret|pass|pwd|auth|sig|credential|session|code/i.test(name)) return true;
  return value.length >= 16 || (/[0-9]/.test(value) && /[A-Za-z]/.test(value)) || /[^A-Za-z0-9 ._-]/.test(value);
}

/** The forms a Basic-auth pair travels in: the base64 token and `user:password`. */
export function basicCredentials(username: string, password: string): string[] {
  if (username === '' && password === '') return [];
  const pair = `${username}:${password}`;
  return [Buffer.from(pair).toString('base64'), pair];
}

/** A header value's secret parts: the whole value, the token after its scheme, and a Basic token's password. */
export function secretsOfHeaderValue(value: string): string[] {
  const out = [value];
  const m = /^\s*([A-Za-z][A-Za-z0-9-]*)\s+(\S.*?)\s*$/.exec(value);
  if (m) {
    const token = m[2]!;
    out.push(token);
    if (m[1]!.toLowerCase() === 'basic') {
      const decoded = Buffer.from(token, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon >= 0 && Buffer.from(decoded).toString('base64').replace(/=+$/, '') === token.replace(/=+$/, '')) {
        out.push(decoded, decoded.slice(colon + 1));
      }
    }
  }
  return out;
}

// --- by value ---

/** A secret as written, and as it reads once JSON-escaped or percent-encoded. */
function formsOf(value: string): string[] {
  const forms = new Set([value]);
  forms.add(JSON.stringify(value).slice(1, -1));
  forms.add(encodeURIComponent(value));
  forms.add(new URLSearchParams({ v: value }).toString().slice(2));
  return [...forms];
}

function valuePattern(): RegExp | undefined {
  if (stale) {
    stale = false;
    // Longest first, so a secret that contains another is replaced whole.
    const sorted = [...secrets].sort((a, b) => b.length - a.length);
    byValue = sorted.length > 0 ? new RegExp(sorted.map(escapeRegExp).join('|'), 'g') : undefined;
  }
  return byValue;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// --- by shape ---

/** `scheme://user:password@` or `scheme://token@`, up to the last `@` before the path (a password may hold `@`). */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#"'<>]*@)/gi;

/** `?name=value` and `&name=value`: every query value, whatever its name. */
const QUERY_VALUE = /([?&][A-Za-z0-9_.~%[\]-]+=)(?!\[REDACTED\])[^&\s"'#<>,;)]+/g;

/**
 * `password=…`, `"api_key": "…"`, `Authorization: Bearer …`, `Authorization:[Basic …]`.
 * Not a dotted config path (`exporters.otlphttp.auth.basic.password: must not be
 * empty`): what follows it is a message about the key, not its value.
 */
const SECRET_PAIR =
  /(?<![.\w-])([A-Za-z0-9_-]*(?:key|token|secret|password|passwd|pwd|authorization|signature|credentials?|cookie))(\\?["']?\s*[=:]\s*[\\[("']*\s*)(?:(Basic|Bearer|Token|Digest|ApiKey)\s+)?(?!\[?REDACTED\])[^\s"'&,;)\]}\\]+/gi;

/** `Basic dXNlcjpw…`, `Bearer eyJ…`: a credential scheme and a token (with a digit or symbol, unlike a word). */
const SCHEME_TOKEN = /\b(Basic|Bearer)\s+(?!\[REDACTED\])(?=[A-Za-z0-9._~-]*[0-9+/=_])[A-Za-z0-9._~+/=-]{6,}/gi;

function scrubShapes(text: string): string {
  if (!/[:=]|Basic|Bearer/i.test(text)) return text;
  return text
    .replace(USERINFO, redactUserinfoMatch)
    .replace(QUERY_VALUE, `$1${REDACTED}`)
    .replace(SECRET_PAIR, (_m, key: string, sep: string, scheme: string | undefined) => `${key}${sep}${scheme ? scheme + ' ' : ''}${REDACTED}`)
    .replace(SCHEME_TOKEN, `$1 ${REDACTED}`);
}

function redactUserinfoMatch(_m: string, scheme: string, userinfo: string): string {
  const colon = userinfo.indexOf(':');
  return colon < 0 ? `${scheme}${REDACTED}@` : `${scheme}${userinfo.slice(0, colon + 1)}${REDACTED}@`;
}

/** For one URL (not free text): everything between `://` and the last `@` is userinfo. */
function redactUserinfo(url: string): string {
  const scheme = /^\s*[a-z][a-z0-9+.-]*:\/\//i.exec(url);
  const start = scheme ? scheme[0].length : 0;
  const at = url.lastIndexOf('@');
  if (at < start) return url;
  const userinfo = url.slice(start, at);
  const colon = userinfo.indexOf(':');
  const kept = colon < 0 ? '' : userinfo.slice(0, colon + 1);
  return `${url.slice(0, start)}${kept}${REDACTED}${url.slice(at)}`;
}

/** For one URL: `?token=abc&v=2#top` → `?token=[REDACTED]&v=[REDACTED]#top`, names kept so it still reads. */
function redactQueryValues(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return url;
  const hash = url.indexOf('#', start);
  const end = hash < 0 ? url.length : hash;
  const params = url
    .slice(start + 1, end)
    .split('&')
    .map((param) => {
      const eq = param.indexOf('=');
      return eq < 0 || eq === param.length - 1 ? param : `${param.slice(0, eq + 1)}${REDACTED}`;
    });
  return `${url.slice(0, start + 1)}${params.join('&')}${url.slice(end)}`;
}

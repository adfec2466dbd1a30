/**
 * The headers a client sends: configured ones, lower-cased (HTTP names are
 * case-insensitive, and a client given `Authorization` and `authorization`
 * sends both), plus an `authorization` derived from credentials only when none
 * was configured, in whatever case it was written.
 */
export function requestHeaders(
  configured: Readonly<Record<string, string>>,
  derivedAuthorization?: string,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(configured)) headers[name.toLowerCase()] = value;
  if (derivedAuthorization !== undefined && headers['authorization'] === undefined) headers['authorization'] = derivedAuthorization;
  return headers;
}

/** `Basic …` for a user name and password, as a client sends URL credentials or `basic_auth`. */
export function basicAuthorization(username: string, password: string): string {
  return 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64');
}

/** The `Basic …` header that a URL's credentials stand for, and the URL without them (clients do not send them). */
export function splitUrlCredentials(url: URL): { url: URL; authorization: string | undefined } {
  if (url.username === '' && url.password === '') return { url, authorization: undefined };
  const bare = new URL(url);
  bare.username = '';
  bare.password = '';
  return { url: bare, authorization: basicAuthorization(decodeURIComponent(url.username), decodeURIComponent(url.password)) };
}

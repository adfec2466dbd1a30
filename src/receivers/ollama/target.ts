/**
 * Where an Ollama server is: its base URL, and the URL of each endpoint under it.
 * URL checks and credentials (`http://user:pass@host` → Basic auth, kept out of
 * logs) are the prometheus receiver's, so both kinds of target behave alike.
 */
import { resolveTarget } from '../prometheus/target.js';

export interface OllamaAddress {
  /** Base URL without credentials, query or trailing slash; a path prefix (a proxy's) is kept. */
  readonly base: string;
  /** Prometheus' `instance` label: `host:port`. */
  readonly instance: string;
  /** Safe to log. */
  readonly display: string;
  readonly authorization: string | undefined;
}

export function resolveOllamaTarget(url: string): OllamaAddress {
  const address = resolveTarget({ url, attributes: {} }, '/');
  const base = new URL(address.url);
  base.search = '';
  base.hash = '';
  base.pathname = base.pathname.replace(/\/+$/, '');
  const text = base.toString().replace(/\/+$/, '');
  return { base: text, instance: address.instance, display: text, authorization: address.authorization };
}

/** `http://host:11434` + `/api/ps`, keeping any path prefix of the base. */
export function endpointUrl(address: OllamaAddress, path: string): string {
  return address.base + (path.startsWith('/') ? path : '/' + path);
}

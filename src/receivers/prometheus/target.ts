/**
 * Where a target is: a TCP URL, or a Unix socket plus an HTTP path. Docker Model
 * Runner listens on `model-runner.sock` unless a TCP port is set, so a target may
 * name both and the URL's port decides (port 0 = "no TCP port configured").
 */
import type { TargetConfig } from './config.js';
import { redactUrl } from '../../telemetry/logger.js';
import { splitUrlCredentials } from '../../net/request-headers.js';
import { missingScheme } from '../../net/url-hints.js';

export interface TargetAddress {
  /** The URL requested; for a socket target its host is only the Host header. */
  readonly url: string;
  readonly socketPath: string | undefined;
  /** Prometheus' `instance` label: `host:port` or the socket path. */
  readonly instance: string;
  /** Safe to log: no credentials or query string. */
  readonly display: string;
  /** `Basic …` from credentials in the URL (`http://user:pass@host/…`), as Prometheus' basic_auth would send. */
  readonly authorization: string | undefined;
}

export function resolveTarget(target: Omit<TargetConfig, 'runner'>, metricsPath: string): TargetAddress {
  const url = target.url ? parseTargetUrl(target.url, metricsPath) : undefined;
  const useSocket = Boolean(target.unix_socket) && (!url || url.port === '0');
  if (useSocket) {
    const socketPath = target.unix_socket!;
    const path = target.path ?? metricsPath;
    return {
      url: `http://localhost${path.startsWith('/') ? path : '/' + path}`,
      socketPath,
      instance: socketPath,
      display: `unix:${socketPath}:${path}`,
      authorization: undefined,
    };
  }
  if (!url) throw new Error('a target needs `url` or `unix_socket`');
  if (url.port === '0') throw new Error(`target ${redactUrl(url.toString())} has port 0 and no unix_socket`);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  // fetch clients do not send URL credentials: turn them into a header and keep them out of the URL.
  const { url: bare, authorization } = splitUrlCredentials(url);
  return { url: bare.toString(), socketPath: undefined, instance: `${bare.hostname}:${port}`, display: redactUrl(bare.toString()), authorization };
}

function parseTargetUrl(text: string, metricsPath: string): URL {
  // `localhost:8080` parses as a URL of scheme `localhost:`: a missing scheme is said first.
  const missing = missingScheme(text);
  if (missing) throw new Error(`target url "${redactUrl(text)}" has no scheme: ${missing}`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`target url "${redactUrl(text)}" is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`target url "${redactUrl(text)}" must be http:// or https://`);
  }
  if (url.pathname === '' || url.pathname === '/') url.pathname = metricsPath;
  return url;
}

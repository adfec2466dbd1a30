/**
 * Where a target is: a TCP URL, or a Unix socket plus an HTTP path. Docker Model
 * Runner listens on `model-runner.sock` unless a TCP port is set, so a target may
 * name both and the URL's port decides (port 0 = "no TCP port configured").
 */
import type { TargetConfig } from './config.js';
import { redactUrl } from '../../telemetry/logger.js';

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
  let authorization: string | undefined;
  if (url.username || url.password) {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    authorization = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
    url.username = '';
    url.password = '';
  }
  return { url: url.toString(), socketPath: undefined, instance: `${url.hostname}:${port}`, display: redactUrl(url.toString()), authorization };
}

function parseTargetUrl(text: string, metricsPath: string): URL {
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

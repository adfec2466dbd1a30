/**
 * Where the model runner is: a TCP base URL, or a Unix socket; plus the path
 * prefix of Docker Desktop's Docker socket. Unset, it is found the way the
 * `docker model` CLI finds it (MODEL_RUNNER_PORT, else MODEL_RUNNER_SOCK).
 */
import { modelRunnerFromEnv } from '../../runners/docker-model-runner.js';
import { resolveTarget } from '../prometheus/target.js';

export interface DmrAddress {
  /** `http://host:port` (or `http://localhost` for a socket) plus the path prefix, no trailing slash. */
  readonly base: string;
  readonly socketPath: string | undefined;
  /** Prometheus' `instance`: `host:port` or the socket path. */
  readonly instance: string;
  /** Safe to log. */
  readonly display: string;
  readonly authorization: string | undefined;
}

export interface DmrTargetConfig {
  readonly url?: string | undefined;
  readonly unix_socket?: string | undefined;
  readonly path_prefix: string;
}

export function resolveDmrTarget(config: DmrTargetConfig, env: NodeJS.ProcessEnv): DmrAddress {
  let url = config.url;
  let socket = config.unix_socket;
  if (url === undefined && socket === undefined) {
    const found = modelRunnerFromEnv(env);
    if ('url' in found) url = found.url;
    else socket = found.unixSocket;
  }
  const address = resolveTarget({ url, unix_socket: socket, path: '/', attributes: {} }, '/');
  const prefix = config.path_prefix.replace(/\/+$/, '');
  if (address.socketPath) {
    return { base: `http://localhost${prefix}`, socketPath: address.socketPath, instance: address.instance, display: `unix:${address.socketPath}${prefix}`, authorization: undefined };
  }
  const base = new URL(address.url);
  base.search = '';
  base.hash = '';
  const text = (base.origin + base.pathname.replace(/\/+$/, '') + prefix).replace(/\/+$/, '');
  return { base: text, socketPath: undefined, instance: address.instance, display: text, authorization: address.authorization };
}

export function endpointUrl(address: DmrAddress, path: string): string {
  return address.base + path;
}

/**
 * The two probes of local discovery, as cheap as they can be: a bare TCP (or
 * Unix socket) connect, closed at once, and one small GET on a connection of its
 * own (`Connection: close`, no pooling), so a runner keeps no idle connection
 * from discovery. A refused connect, or a socket path that is gone, is `closed`:
 * the normal case for a port with nothing on it, not an error.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { VERSION } from '../../version.js';

/** Where a candidate listens. */
export type ProbeAddress = { readonly host: string; readonly port: number } | { readonly socketPath: string };

export type ProbeFailure = { readonly outcome: 'closed' } | { readonly outcome: 'error'; readonly reason: 'timeout' | 'connect'; readonly message: string };
export type HttpAnswer = { readonly outcome: 'answer'; readonly status: number; readonly body: string };

const USER_AGENT = `runner-metrics/${VERSION} (discovery)`;
/** Enough for any identifying answer; a longer /metrics page is read from its start. */
const BODY_LIMIT = 1024 * 1024;
const CLOSED = new Set(['ECONNREFUSED', 'ENOENT', 'ENOTSOCK']);

export function connectProbe(address: ProbeAddress, timeoutMs: number): Promise<{ readonly outcome: 'open' } | ProbeFailure> {
  return new Promise((resolve) => {
    const socket = 'socketPath' in address ? connect({ path: address.socketPath }) : connect({ host: address.host, port: address.port });
    const done = (result: { outcome: 'open' } | ProbeFailure) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ outcome: 'error', reason: 'timeout', message: `connect timed out after ${timeoutMs}ms` }), timeoutMs);
    socket.once('connect', () => done({ outcome: 'open' }));
    socket.once('error', (err) => done(failure(err)));
  });
}

/** One GET of `path` (the base path included); the body is read up to 1 MiB, whatever the status. */
export function httpProbe(address: ProbeAddress, path: string, timeoutMs: number): Promise<HttpAnswer | ProbeFailure> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: HttpAnswer | ProbeFailure) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(result);
    };
    const req = request({
      ...('socketPath' in address ? { socketPath: address.socketPath } : { host: address.host, port: address.port }),
      path,
      method: 'GET',
      agent: false,
      headers: { accept: 'application/json, text/plain;q=0.9, */*;q=0.1', connection: 'close', 'user-agent': USER_AGENT },
    });
    const timer = setTimeout(() => finish({ outcome: 'error', reason: 'timeout', message: `GET ${path} timed out after ${timeoutMs}ms` }), timeoutMs);
    req.once('error', (err) => finish(failure(err)));
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const answer = () => finish({ outcome: 'answer', status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= BODY_LIMIT) answer();
      });
      res.once('end', answer);
      res.once('error', answer);
    });
    req.end();
  });
}

function failure(err: NodeJS.ErrnoException): ProbeFailure {
  const code = err.code ?? '';
  if (CLOSED.has(code)) return { outcome: 'closed' };
  return { outcome: 'error', reason: 'connect', message: `${err.message}${code && !err.message.includes(code) ? ` (${code})` : ''}` };
}

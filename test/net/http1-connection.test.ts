/**
 * The scrape client against real sockets whose bytes each test writes itself: every
 * way a server may frame an answer, answers split anywhere, kept-alive connections
 * reused (and re-opened when the server closed them while idle), and every way an
 * answer can go wrong, each with its reason.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Http1Connection, Http1Error, requestHead, type Http1Endpoint } from '../../src/net/http1-connection.js';
import { createPageClient } from '../../src/receivers/prometheus/page-client.js';
import { ScrapeError } from '../../src/receivers/prometheus/fetch.js';
import { createDispatcher } from '../../src/receivers/prometheus/fetch.js';

/** What the server does with each request it reads: the n-th request on the m-th connection. */
type Answer = (socket: Socket, request: string, n: { connection: number; request: number }) => void;

interface RawServer {
  readonly endpoint: Http1Endpoint;
  readonly url: string;
  readonly requests: string[];
  connections: number;
  close(): Promise<void>;
}

const servers: Server[] = [];
const connections: Http1Connection[] = [];
after(() => {
  connections.forEach((c) => c.close());
  servers.forEach((s) => s.close());
});

/** A connection closed after the tests, whatever they do. */
function connection(endpoint: Http1Endpoint): Http1Connection {
  const c = new Http1Connection(endpoint);
  connections.push(c);
  return c;
}

async function rawServer(answer: Answer, socketPath?: string): Promise<RawServer> {
  const state = { connections: 0, requests: [] as string[] };
  const server = createServer((socket) => {
    const connection = ++state.connections;
    let requestNo = 0;
    let buffered = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n\r\n')) >= 0) {
        const request = buffered.slice(0, end + 4);
        buffered = buffered.slice(end + 4);
        state.requests.push(request);
        answer(socket, request, { connection, request: ++requestNo });
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => (socketPath ? server.listen(socketPath, resolve) : server.listen(0, '127.0.0.1', resolve)));
  const port = socketPath ? 0 : (server.address() as { port: number }).port;
  return {
    endpoint: socketPath ? { socketPath } : { host: '127.0.0.1', port },
    url: socketPath ? 'http://localhost/metrics' : `http://127.0.0.1:${port}/metrics`,
    requests: state.requests,
    get connections() {
      return state.connections;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const HEAD = requestHead('/metrics', 'localhost', {});
const get = (c: Http1Connection, over: Partial<{ timeoutMs: number; bodyLimit: number }> = {}) =>
  c.get({ head: HEAD, timeoutMs: over.timeoutMs ?? 2_000, bodyLimit: over.bodyLimit ?? 0 });

/** Writes `bytes` a few at a time, each on its own tick: the client must not care where reads end. */
function trickle(socket: Socket, bytes: Buffer | string, step = 3): void {
  const data = Buffer.from(bytes);
  let at = 0;
  const next = () => {
    if (socket.destroyed) return;
    socket.write(data.subarray(at, at + step));
    at += step;
    if (at < data.length) setImmediate(next);
  };
  next();
}

async function failure(promise: Promise<unknown>): Promise<Http1Error> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof Http1Error, `expected an Http1Error, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a failure');
}

describe('Http1Connection framing', () => {
  it('reads Content-Length, chunked (extensions, trailers) and close-delimited bodies', async () => {
    const bodies: Record<number, string> = {
      1: 'HTTP/1.1 200 OK\r\nContent-Length: 11\r\nContent-Type: text/plain\r\n\r\nhello world',
      2: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n',
      3: 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello world',
    };
    const server = await rawServer((socket, _r, n) => {
      socket.write(bodies[n.request]!);
      if (n.request === 3) socket.end();
    });
    const c = connection(server.endpoint);
    for (let i = 1; i <= 3; i++) {
      const res = await get(c);
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'hello world', `answer ${i}`);
    }
    assert.equal(server.connections, 1, 'the first two answers left the connection open for the next');
    const res = await get(c);
    assert.equal(server.connections, 2, 'a close-delimited answer is the connection’s last');
    assert.equal(res.body.toString(), 'hello world');
    c.close();
  });

  it('reads answers split at every byte, and skips interim 1xx answers', async () => {
    const body = '# TYPE a counter\na_total 1\n'.repeat(50);
    const zipped = gzipSync(body);
    const server = await rawServer((socket, _r, n) => {
      if (n.request === 1) trickle(socket, `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nX-A: 1\r\nx-a: 2\r\n\r\n${body}`, 1);
      else if (n.request === 2) {
        const head = Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${zipped.length.toString(16)}\r\n`);
        trickle(socket, Buffer.concat([head, zipped, Buffer.from('\r\n0\r\n\r\n')]), 2);
      } else {
        // A transfer coding other than a final chunked does not frame the body: it runs to the close.
        socket.end(`HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 2\r\n\r\n${body}`);
      }
    });
    const c = connection(server.endpoint);
    const first = await get(c);
    assert.equal(first.body.toString(), body);
    assert.equal(first.headers.get('x-a'), '1, 2', 'repeated headers joined, names lower-cased');
    assert.deepEqual((await get(c)).body, zipped);
    assert.equal((await get(c)).body.toString(), body);
    assert.equal(server.connections, 1);
  });

  it('keeps each answer whole while other connections read in between (they share one read buffer)', async () => {
    // Heads, chunk lines and bodies split across reads of three connections at once, each
    // answer with bytes of its own: a kept view of the shared buffer would read another's.
    const answers = ['a', 'b', 'c'].map((letter, i) => {
      const body = `${letter}_total ${i}\n`.repeat(400 + 50 * i);
      return i === 1
        ? { body, bytes: `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Who: ${letter}\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n` }
        : { body, bytes: `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nX-Who: ${letter}\r\n\r\n${body}` };
    });
    const servers = await Promise.all(answers.map((a, i) => rawServer((socket) => trickle(socket, a.bytes, i + 1))));
    const got = await Promise.all(servers.map((server) => get(connection(server.endpoint))));
    got.forEach((response, i) => {
      assert.equal(response.headers.get('x-who'), ['a', 'b', 'c'][i]);
      assert.equal(response.body.toString(), answers[i]!.body);
    });
  });

  it('reads the next answer into the buffer of a released one, and never into one still held', async () => {
    const server = await rawServer((socket, _r, n) => {
      const body = `page_${n.request}_total ${n.request}\n`.repeat(100);
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    });
    const c = connection(server.endpoint);
    const first = await get(c);
    const held = await get(c);
    assert.notEqual(held.body.buffer, first.body.buffer, 'the first answer is not released yet: the second gets its own buffer');
    const firstText = first.body.toString();
    first.release();
    first.release(); // twice is once: the buffer goes back to the pool one time
    const third = await get(c);
    const fourth = await get(c);
    assert.equal(third.body.buffer, first.body.buffer, 'the third answer reuses the released buffer');
    assert.notEqual(fourth.body.buffer, third.body.buffer, 'a buffer released twice is still lent only once');
    assert.equal(firstText, 'page_1_total 1\n'.repeat(100));
    assert.equal(held.body.toString(), 'page_2_total 2\n'.repeat(100), 'a held answer is untouched by later ones');
    assert.equal(third.body.toString(), 'page_3_total 3\n'.repeat(100));
    [held, third, fourth].forEach((r) => r.release());
  });

  it('reads a body of 200,000 one-byte chunks into one buffer, and a lying Content-Length costs no huge allocation', async () => {
    const text = 'abcdefghij'.repeat(20_000);
    const chunked = Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${[...text].map((c) => `1\r\n${c}\r\n`).join('')}0\r\n\r\n`);
    const server = await rawServer((socket, _r, n) => {
      if (n.request === 1) socket.write(chunked);
      // Declares 2^50 bytes, sends 5 and closes: no limit is set, so only the framing fails it.
      else socket.end('HTTP/1.1 200 OK\r\nContent-Length: 1125899906842624\r\n\r\nshort');
    });
    const c = connection(server.endpoint);
    const res = await get(c, { timeoutMs: 10_000 });
    assert.equal(res.body.length, text.length);
    assert.equal(res.body.toString(), text);
    const e = await failure(get(c));
    assert.equal(e.kind, 'io', e.message);
  });

  it('keeps one connection for many scrapes, and opens a new one when the server closed the idle one', async () => {
    const server = await rawServer((socket, _r, n) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n${n.request}\n`);
      // The server drops idle connections after its second answer, as keep-alive limits do.
      if (n.request === 2) setTimeout(() => socket.destroy(), 20);
    });
    const c = connection(server.endpoint);
    await get(c);
    await get(c);
    await new Promise((r) => setTimeout(r, 100));
    const third = await get(c);
    assert.equal(third.body.toString(), '1\n', 'asked on a new connection');
    assert.equal(server.connections, 2);
    c.close();
  });

  it('asks once more on a new connection when a kept-alive one is closed as the request goes out', async () => {
    // The second request's connection is closed without an answer (the race with a keep-alive timeout).
    const server = await rawServer((socket, _r, n) => {
      if (n.connection === 1 && n.request === 2) socket.destroy();
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n');
    });
    const c = connection(server.endpoint);
    await get(c);
    assert.equal((await get(c)).body.toString(), 'ok\n');
    assert.equal(server.connections, 2);
    assert.equal(server.requests.length, 3);
    c.close();
  });

  it('serves HTTP/1.0 answers, reusing the connection only when the server says keep-alive', async () => {
    const server = await rawServer((socket, _r, n) => {
      if (n.connection === 1) socket.write('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nA\n');
      else socket.end('HTTP/1.0 200 OK\r\n\r\nB\n');
    });
    const c = connection(server.endpoint);
    assert.equal((await get(c)).body.toString(), 'A\n');
    // Same connection (the server answers B only on later connections, so A again here).
    assert.equal((await get(c)).body.toString(), 'A\n');
    assert.equal(server.connections, 1);
    c.close();
  });

  it('works over a Unix socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'http1-'));
    try {
      const server = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nunix\n'), join(dir, 's.sock'));
      const c = connection(server.endpoint);
      assert.equal((await get(c)).body.toString(), 'unix\n');
      assert.equal((await get(c)).body.toString(), 'unix\n');
      assert.equal(server.connections, 1);
      c.close();
      await server.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Http1Connection failures', () => {
  it('gives each fault its reason, and the next request still works', async () => {
    const faults: Record<number, (s: Socket) => void> = {
      1: (s) => s.write('SSH-2.0-OpenSSH_9.6\r\n\r\n'),
      2: (s) => s.write('HTTP/1.1 200 OK\r\nbad header line\r\n\r\n'),
      3: (s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n'),
      4: (s) => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'),
      5: (s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial'),
      6: (s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n'),
      7: (s) => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n' + 'x'.repeat(1024) + '\r\n400\r\n'),
      8: (s) => s.write('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n' + 'y'.repeat(3000)),
      9: () => undefined,
      10: (s) => s.write('HTTP/1.1 200 OK\r\n' + 'x-filler: y\r\n'.repeat(6_000)),
      11: (s) => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' + '1;' + 'e'.repeat(70_000)),
    };
    const expected: Record<number, string> = {
      1: 'protocol',
      2: 'protocol',
      3: 'protocol',
      4: 'protocol',
      5: 'io',
      6: 'too_large',
      7: 'too_large',
      8: 'too_large',
      9: 'timeout',
      10: 'protocol',
      11: 'protocol',
    };
    let fault = 0;
    const server = await rawServer((socket, _r, n) => {
      if (n.request !== 1) return;
      fault = n.connection;
      faults[fault]!(socket);
      if (fault === 5) setTimeout(() => socket.destroy(), 20);
    });
    const c = connection(server.endpoint);
    for (let i = 1; i <= 11; i++) {
      const e = await failure(get(c, { bodyLimit: 1500, timeoutMs: 400 }));
      assert.equal(e.kind, expected[i], `fault ${i}: ${e.message}`);
      assert.equal(fault, i, 'each fault closed its connection: the next request opened a new one');
    }
    c.close();
  });

  it('a refused connection and a connection closed before any answer fail as connect', async () => {
    const refused = await rawServer(() => undefined);
    await refused.close();
    const e1 = await failure(get(connection(refused.endpoint)));
    assert.equal(e1.kind, 'connect');
    assert.equal(e1.code, 'ECONNREFUSED');
    const slam = await rawServer((socket) => socket.destroy());
    const c = connection(slam.endpoint);
    const e2 = await failure(get(c));
    assert.equal(e2.kind, 'connect');
    assert.equal(slam.connections, 1, 'a new connection is not asked twice');
    c.close();
  });

  it('refuses a header that would smuggle another line', () => {
    assert.throws(() => requestHead('/m', 'h', { 'x-a': 'v\r\nx-b: w' }), /invalid value of request header x-a/);
    assert.throws(() => requestHead('/m', 'h', { 'x a': 'v' }), /invalid request header name/);
    assert.match(requestHead('/m?x=1', 'h:1', { authorization: 'Bearer t' }), /^GET \/m\?x=1 HTTP\/1\.1\r\nhost: h:1\r\nauthorization: Bearer t\r\n\r\n$/);
  });
});

describe('page client', () => {
  it('sends the scrape headers, gunzips within the body limit, and reports HTTP statuses', async () => {
    const page = '# TYPE x gauge\nx 1\n'.repeat(100);
    const zipped = gzipSync(page);
    const server = await rawServer((socket, _r, n) => {
      if (n.request === 1) {
        socket.write(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: ${zipped.length}\r\n\r\n`);
        socket.write(zipped);
      } else socket.write('HTTP/1.1 503 Unavailable\r\nContent-Length: 4\r\n\r\nbusy');
    });
    const dispatcher = createDispatcher(undefined, 1_000);
    const client = createPageClient({ url: server.url, socketPath: undefined, dispatcher, timeoutMs: 1_000, bodyLimit: 0, headers: { authorization: 'Bearer s3cret' } });
    const fetched = await client.fetch();
    assert.equal(fetched.body, page);
    assert.equal(fetched.contentType, 'text/plain; version=0.0.4');
    assert.equal(fetched.wireBytes, zipped.length);
    assert.match(server.requests[0]!, /\r\naccept-encoding: gzip\r\n/);
    assert.match(server.requests[0]!, /\r\nauthorization: Bearer s3cret\r\n/);
    assert.match(server.requests[0]!, /^GET \/metrics HTTP\/1\.1\r\nhost: 127\.0\.0\.1:\d+\r\n/);
    await assert.rejects(client.fetch(), (e: unknown) => e instanceof ScrapeError && e.reason === 'http_status' && e.status === 503);
    client.close();

    // A gzip bomb stops at the limit.
    const bomb = await rawServer((socket) => {
      const z = gzipSync(Buffer.alloc(1_000_000, 'a'));
      socket.write(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${z.length}\r\n\r\n`);
      socket.write(z);
    });
    const limited = createPageClient({ url: bomb.url, socketPath: undefined, dispatcher, timeoutMs: 1_000, bodyLimit: 10_000, headers: {} });
    await assert.rejects(limited.fetch(), (e: unknown) => e instanceof ScrapeError && e.reason === 'body_too_large');
    limited.close();
    await dispatcher.close();
  });
});

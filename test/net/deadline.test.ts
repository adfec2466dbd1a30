/**
 * A request's deadline is judged after what arrived in time has been read: an event
 * loop held past the deadline (by another target's page) must not fail a request
 * whose answer was already waiting in its socket. Both scrape clients: our HTTP/1.1
 * connection and undici's, for the requests that go through it.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { after, describe, it } from 'node:test';
import { Deadline } from '../../src/net/deadline.js';
import { Http1Connection, requestHead } from '../../src/net/http1-connection.js';
import { createDispatcher, fetchPage, ScrapeError } from '../../src/receivers/prometheus/fetch.js';

const PAGE = '# TYPE up gauge\nup 1\n';
const ANSWER = `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${PAGE.length}\r\n\r\n${PAGE}`;
const DEADLINE_MS = 40;
const HELD_MS = 150;

const servers: Server[] = [];
after(() => servers.forEach((s) => s.close()));

/** Holds the event loop, as converting a huge page does. */
function holdEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

/**
 * A server in this process that answers each request at once, then holds the event
 * loop well past the client's deadline: the answer is in the client's socket before
 * the deadline, and read only after it. `answer: false` never answers.
 */
async function server(answer = true): Promise<number> {
  const s = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.on('data', () => {
      if (!answer) return;
      socket.write(ANSWER, () => holdEventLoop(HELD_MS));
    });
  });
  servers.push(s);
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  return (s.address() as { port: number }).port;
}

describe('Deadline', () => {
  it('expires after its time unless cleared first', async () => {
    let expired = 0;
    const cleared = new Deadline(5, () => expired++);
    cleared.clear();
    const started = performance.now();
    const fired = new Promise<number>((resolve) => new Deadline(20, () => resolve(performance.now() - started)));
    const after = await fired;
    assert.ok(after >= 19, `expired after ${after} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(expired, 0, 'a cleared deadline never expires');
  });
});

describe('a deadline passed while the event loop was held', () => {
  it('our HTTP/1.1 client reads the answer that arrived in time', async () => {
    const port = await server();
    const connection = new Http1Connection({ host: '127.0.0.1', port });
    try {
      const started = performance.now();
      const res = await connection.get({ head: requestHead('/metrics', 'localhost', {}), timeoutMs: DEADLINE_MS, bodyLimit: 0 });
      assert.ok(performance.now() - started >= HELD_MS, 'the loop was held past the deadline');
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), PAGE);
    } finally {
      connection.close();
    }
  });

  it('undici, through fetchPage, reads the answer that arrived in time', async () => {
    const port = await server();
    const dispatcher = createDispatcher(undefined, DEADLINE_MS);
    try {
      const started = performance.now();
      const page = await fetchPage({ url: `http://127.0.0.1:${port}/metrics`, dispatcher, timeoutMs: DEADLINE_MS, bodyLimit: 0, headers: {} });
      assert.ok(performance.now() - started >= HELD_MS, 'the loop was held past the deadline');
      assert.equal(page.body, PAGE);
    } finally {
      await dispatcher.close();
    }
  });

  it('an answer that never comes still times out, on both clients', async () => {
    const port = await server(false);
    const connection = new Http1Connection({ host: '127.0.0.1', port });
    const dispatcher = createDispatcher(undefined, DEADLINE_MS);
    try {
      await assert.rejects(connection.get({ head: requestHead('/metrics', 'localhost', {}), timeoutMs: DEADLINE_MS, bodyLimit: 0 }), { kind: 'timeout' });
      await assert.rejects(
        fetchPage({ url: `http://127.0.0.1:${port}/metrics`, dispatcher, timeoutMs: DEADLINE_MS, bodyLimit: 0, headers: {} }),
        (err: unknown) => err instanceof ScrapeError && err.reason === 'timeout',
      );
    } finally {
      connection.close();
      await dispatcher.destroy();
    }
  });
});

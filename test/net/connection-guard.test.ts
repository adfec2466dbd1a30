/**
 * The HTTP listener under slow or silent clients: a real scraper is still
 * served when the connection cap is reached, and waiting connections go first.
 */
import assert from 'node:assert/strict';
import { request, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { HttpListener, type HttpListenerOptions } from '../../src/net/http-listener.js';

async function listening(options: HttpListenerOptions, handler: (res: ServerResponse) => void = (res) => void res.end('ok\n')) {
  const listener = new HttpListener((_req, res) => handler(res), options);
  const address = await listener.listen({ kind: 'tcp', host: '127.0.0.1', port: 0 });
  assert.equal(address.kind, 'tcp');
  return { listener, port: address.port };
}

/** A connection that sends nothing (or what it is told), with a promise of its close. */
async function silent(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  // Read whatever comes: when Node's own head timeout wins the race with the guard, it
  // answers 408 before closing, and unread bytes would hold back the 'close' event.
  socket.resume();
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  // Connected, or already closed by the server (on a loaded machine the guard may be that quick).
  await Promise.race([new Promise<void>((resolve) => socket.once('connect', () => resolve())), closed]);
  return { socket, closed };
}

/** Resolves with `promise`, or fails the test after `ms`: a wait never hangs the test file. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('HttpListener connection guard', { timeout: 60_000 }, () => {
  it('at the cap, closes the oldest waiting connection so a real request is served', async () => {
    const { listener, port } = await listening({ maxConnections: 4, headersTimeoutMs: 60_000 });
    const idle = [];
    try {
      for (let i = 0; i < 4; i++) idle.push(await silent(port));
      // One of them sends half a request head, byte by byte as slowloris does: still waiting.
      idle[1]!.socket.write('GET / HTTP/1.1\r\nHo');
      await until(() => listener.connections === 4, 'four connections');
      let oldestClosed = false;
      void idle[0]!.closed.then(() => (oldestClosed = true));

      assert.deepEqual(await get(port), { status: 200, body: 'ok\n' });
      await within(idle[0]!.closed, 10_000, 'the oldest waiting connection to be closed');
      assert.ok(oldestClosed);
      // The others, younger, were left alone.
      assert.equal(idle.slice(1).filter((c) => c.socket.destroyed).length, 0);
      assert.ok(listener.connections <= 4);
    } finally {
      for (const c of idle) c.socket.destroy();
      await listener.close();
    }
  });

  it('closes a connection that has not sent its request head within the timeout, silent or byte by byte', async () => {
    const { listener, port } = await listening({ headersTimeoutMs: 300 });
    const quiet = await silent(port);
    const slow = await silent(port);
    const head = 'GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ' + 'a'.repeat(200) + '\r\n\r\n';
    let sent = 0;
    const dribble = setInterval(() => {
      if (slow.socket.destroyed || sent >= head.length) return;
      slow.socket.write(head[sent++]!);
    }, 20);
    try {
      await within(quiet.closed, 10_000, 'the silent connection to be closed');
      await within(slow.closed, 10_000, 'the slow connection to be closed');
      assert.ok(sent < head.length, 'closed before the slow head was complete');
    } finally {
      clearInterval(dribble);
      quiet.socket.destroy();
      slow.socket.destroy();
      await listener.close();
    }
  });

  it('refuses a new connection only when every open one is being served', async () => {
    const held: ServerResponse[] = [];
    const { listener, port } = await listening({ maxConnections: 2 }, (res) => void held.push(res));
    try {
      const inFlight = [get(port), get(port)];
      await until(() => held.length === 2, 'two requests in progress');
      await assert.rejects(get(port), /ECONNRESET|socket hang up/);
      for (const res of held) res.end('done\n');
      for (const r of await Promise.all(inFlight)) assert.equal(r.status, 200);
    } finally {
      await listener.close();
    }
  });
});

/** The disk queue across a SIGKILL: a second process sends everything the first had queued, once. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { DiskQueue } from '../../../src/exporters/otlphttp/disk-queue.js';
import { OtlpReceiver, points } from './receiver.js';

const CHILD = fileURLToPath(new URL('./disk-queue-child.js', import.meta.url));

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'otlphttp-queue-'));
});
after(() => rm(dir, { recursive: true, force: true }));

function startChild(args: string[]): ChildProcess {
  return spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

/** Resolves when the child prints `line` on stdout. */
async function waitForLine(child: ChildProcess, line: string): Promise<void> {
  let out = '';
  for await (const chunk of child.stdout!) {
    out += chunk;
    if (out.split('\n').includes(line)) return;
  }
  throw new Error(`child exited before printing "${line}"`);
}

describe('otlphttp disk queue', () => {
  test('SIGKILL during an outage, restart: every queued point arrives exactly once', async () => {
    const receiver = await OtlpReceiver.start();
    try {
      const PUSHES = 6;
      let down = true;
      receiver.responder = () => (down ? { status: 503 } : undefined);

      const first = startChild(['fill', receiver.endpoint, dir, String(PUSHES)]);
      await waitForLine(first, 'queued');
      await receiver.waitFor(() => receiver.attempts >= 1); // a request was in flight when killed
      first.kill('SIGKILL');
      await once(first, 'exit');
      assert.equal((await readdir(dir)).filter((f) => f.endsWith('.otlp')).length, PUSHES);

      down = false;
      const second = startChild(['drain', receiver.endpoint, dir]);
      await waitForLine(second, 'started');
      await receiver.waitFor(() => receiver.accepted.length >= PUSHES);
      second.kill('SIGTERM');
      const [code] = await once(second, 'exit');
      assert.equal(code, 0);

      const seen = [...points(receiver.accepted)].map((p) => `${p.instance} ${p.metric.name} ${p.point.timeUnixNano}`);
      assert.equal(seen.length, PUSHES * 2 * 5);
      assert.equal(new Set(seen).size, seen.length, 'a point arrived twice');
      const counters = [...points(receiver.accepted)]
        .filter((p) => p.metric.name === 'llamacpp:prompt_tokens_total' && p.instance === 'runner-1')
        .map((p) => p.point.asDouble);
      assert.deepEqual(counters, [1001, 1002, 1003, 1004, 1005, 1006]);
      assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.otlp')), []);
    } finally {
      await receiver.close();
    }
  });

  test('half-written and unreadable files are discarded on open; order and capacity hold', async () => {
    const d = await mkdtemp(join(tmpdir(), 'otlphttp-queue-'));
    try {
      const q = new DiskQueue(d, 2);
      await q.open();
      for (let i = 0; i < 3; i++) {
        const evicted = await q.push({ body: Buffer.from(`req-${i}`), points: i + 1, encoding: 'proto', compression: 'none' });
        assert.deepEqual(evicted.map((e) => e.points), i === 2 ? [1] : []);
      }
      await writeFile(join(d, '0000000000000099.otlp.tmp'), 'partial');
      await writeFile(join(d, '0000000000000050.otlp'), 'garbage');
      const corrupt: string[] = [];
      const reopened = new DiskQueue(d, 2, (file) => corrupt.push(file));
      assert.deepEqual(await reopened.open(), []);
      assert.deepEqual(corrupt, ['0000000000000050.otlp']);
      const a = reopened.shift()!;
      assert.equal(Buffer.from(await reopened.body(a)).toString(), 'req-1');
      await reopened.ack(a);
      const b = reopened.shift()!;
      assert.equal(Buffer.from(await reopened.body(b)).toString(), 'req-2');
      assert.deepEqual((await readdir(d)).sort(), ['0000000000000002.otlp']);
      // New requests continue the sequence after what is on disk.
      await reopened.push({ body: Buffer.from('req-3'), points: 1, encoding: 'json', compression: 'gzip' });
      assert.deepEqual((await readdir(d)).sort(), ['0000000000000002.otlp', '0000000000000051.otlp']);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});

/**
 * Finding a runner's process on this host from /proc by its listening port or
 * Unix socket, and reading its figures, against real child processes (node
 * HTTP servers standing in for llama-server: /proc does not care what they serve).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess, stopProcess, type Running } from '../helpers/processes.js';
import { until } from '../helpers/until.js';
import { ProcessFinder, tcpListener, unixListener } from '../../src/insight/process-finder.js';
import { cpuPercent, readCommandLine, readProcessSample, readTotalMemory, readWorkingDirectory } from '../../src/insight/process-stats.js';

const linux = process.platform === 'linux';

/** A node HTTP server listening on a free TCP port or on a socket path; it prints where once listening, and burns 0.3 s of CPU on /burn. */
function server(listen: string): Running {
  const script = `
    const http = require('node:http');
    const s = http.createServer((req, res) => {
      // 300 ms of CPU time (not wall time: the machine may be busy), as the process itself counts it.
      if (req.url === '/burn') { const start = process.cpuUsage(); for (;;) { const d = process.cpuUsage(start); if (d.user + d.system >= 300000) break; } }
      res.end('ok');
    });
    const where = process.argv[1];
    s.listen(where === 'tcp' ? { host: '127.0.0.1', port: 0 } : where, () => console.log('LISTENING ' + (where === 'tcp' ? s.address().port : where)));`;
  return startProcess(process.execPath, ['-e', script, listen]);
}

async function listening(p: Running): Promise<string> {
  await until(() => /LISTENING (\S+)/.test(p.output()), 'the child listens', 10_000);
  return /LISTENING (\S+)/.exec(p.output())![1]!;
}

test('a child listening on a TCP port: found by the port, its memory, threads, CPU and command line read', { skip: !linux && 'needs /proc' }, async () => {
  const child = server('tcp');
  try {
    const port = Number(await listening(child));
    const finder = new ProcessFinder();
    const pid = await finder.find({ port });
    assert.equal(pid, child.child.pid, 'the listening process, not the test runner');
    assert.equal(await finder.find({ port }), child.child.pid, 'again, from the remembered inode');

    const first = await readProcessSample(pid!, performance.now());
    assert.ok(first);
    // Same figures as the kernel's own status file says (read here independently).
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const threads = Number(/^Threads:\s+(\d+)/m.exec(status)![1]);
    assert.equal(first.threads, threads);
    const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)![1]);
    assert.ok(Math.abs(first.rssBytes! - rssKb * 1024) < 8 * 1024 * 1024, `RSS ${first.rssBytes} near ${rssKb} kB`);
    assert.ok(first.rssBytes! > 1024 * 1024, 'a node process has more than 1 MiB resident');
    assert.equal(cpuPercent(undefined, first), undefined, 'no CPU figure from one sample');

    // 0.3 s of CPU time in the child between two samples: /proc's utime+stime grew by at least that (ticks of 10 ms, less one for rounding).
    await fetch(`http://127.0.0.1:${port}/burn`).then((r) => r.text());
    const second = await readProcessSample(pid!, performance.now());
    const percent = cpuPercent(first, second!);
    assert.ok(percent !== undefined && percent > 0, `CPU ${percent}%`);
    assert.ok(second!.cpuTicks - first.cpuTicks >= 29, `at least 0.29 s of CPU (${second!.cpuTicks - first.cpuTicks} ticks)`);

    assert.deepEqual((await readCommandLine(pid!))?.slice(-1), ['tcp']);
    assert.equal(await readWorkingDirectory(pid!), process.cwd());
    const total = await readTotalMemory();
    assert.equal(total, Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024);
  } finally {
    await stopProcess(child);
  }
  // Gone: nothing listens there any more.
  assert.equal(await new ProcessFinder().find({ port: 1 }), undefined);
});

test('a child listening on a Unix socket: found by the socket path', { skip: !linux && 'needs /proc' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-proc-'));
  const path = join(dir, 'llama.sock');
  const child = server(path);
  try {
    await listening(child);
    assert.equal(await new ProcessFinder().find({ socketPath: path }), child.child.pid);
    assert.equal(await new ProcessFinder().find({ socketPath: join(dir, 'other.sock') }), undefined);
  } finally {
    await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('socket tables: only listeners count; a relative bound path matches the end of the target path', () => {
  // Real /proc/net/tcp layout: 127.0.0.1:8080 LISTEN (0A) inode 4242, and an ESTABLISHED (01) one on the same port.
  const tcp = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:1F90 00000000:0000 01 00000000:00000000 00:00000000 00000000     0        0 1111 1 0000000000000000 100 0 0 10 0',
    '   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0',
  ].join('\n');
  assert.equal(tcpListener(tcp, 8080), 4242);
  assert.equal(tcpListener(tcp, 8081), undefined);
  const unix = [
    'Num       RefCount Protocol Flags    Type St Inode Path',
    '0000000000000000: 00000002 00000000 00010000 0001 01 5555 models/llama.sock',
    '0000000000000000: 00000003 00000000 00000000 0001 03 6666 /run/a.sock',
    '0000000000000000: 00000002 00000000 00010000 0001 01 7777 /run/a.sock',
  ].join('\n');
  assert.equal(unixListener(unix, '/srv/llama/models/llama.sock'), 5555);
  assert.equal(unixListener(unix, '/run/a.sock'), 7777, 'the listening one, not a connection');
  assert.equal(unixListener(unix, '/run/b.sock'), undefined);
});

test('a scrape’s /proc reads of a known listener take no event-loop turn: a loop busy with another target cannot hold them back', { skip: !linux && 'needs /proc' }, async () => {
  const child = server('tcp');
  try {
    const port = Number(await listening(child));
    const finder = new ProcessFinder();
    const pid = (await finder.find({ port }))!; // the first lookup walks /proc/*/fd; later ones only read the socket table
    assert.equal(pid, child.child.pid);
    // A callback queued for the next turn of the event loop: it must not run before the reads are done.
    let turned = false;
    setImmediate(() => (turned = true));
    const found = await finder.find({ port });
    const sample = await readProcessSample(pid, performance.now());
    const [args, cwd] = await Promise.all([readCommandLine(pid), readWorkingDirectory(pid)]);
    const memory = await readTotalMemory();
    assert.equal(found, pid);
    assert.ok(sample && args && cwd && memory, 'every figure was read');
    assert.equal(turned, false, 'the reads waited for an event-loop turn');
  } finally {
    await stopProcess(child);
  }
});

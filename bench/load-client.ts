/**
 * The client side of bench/load.ts, run in its own process (forked), so the
 * server's event loop and the client's do not share a thread. One job per
 * process, given as JSON in argv[2], result sent back over IPC:
 *  - `throughput`: `concurrency` keep-alive loops scraping for `durationMs`;
 *  - `probe`: a real scraper, a new connection per scrape every `everyMs`;
 *  - `attack`: slowloris, holding up to `connections` connections that send
 *    nothing or a request head a byte at a time, reopened when the server
 *    closes them, opened at most `openPerSecond` a second.
 */
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export type ClientJob =
  | { kind: 'throughput'; port: number; durationMs: number; concurrency: number; gzip: boolean }
  | { kind: 'probe'; port: number; durationMs: number; everyMs: number; timeoutMs: number }
  | { kind: 'attack'; port: number; connections: number; openPerSecond: number };

export interface LatencyResult {
  readonly requests: number;
  readonly failures: number;
  readonly seconds: number;
  readonly bytes: number;
  /** Milliseconds, sorted. */
  readonly latencies: number[];
  readonly firstError?: string;
}

export interface AttackStatus {
  readonly open: number;
  readonly opened: number;
  readonly closedByServer: number;
}

function scrapeOnce(port: number, agent: Agent | false, gzip: boolean, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: 'text/plain;version=0.0.4' };
    if (gzip) headers['accept-encoding'] = 'gzip';
    const req = request({ host: '127.0.0.1', port, path: '/metrics', agent, headers, timeout: timeoutMs }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(bytes) : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

async function throughput(job: Extract<ClientJob, { kind: 'throughput' }>): Promise<LatencyResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency });
  const latencies: number[] = [];
  let failures = 0;
  let bytes = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const end = started + job.durationMs;
  const loop = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        bytes += await scrapeOnce(job.port, agent, job.gzip, 10_000);
        latencies.push(performance.now() - t0);
      } catch (error) {
        failures++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, loop));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { requests: latencies.length, failures, seconds, bytes, latencies: latencies.sort((a, b) => a - b), firstError };
}

async function probe(job: Extract<ClientJob, { kind: 'probe' }>): Promise<LatencyResult> {
  const latencies: number[] = [];
  let failures = 0;
  let bytes = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const pending: Promise<void>[] = [];
  while (performance.now() - started < job.durationMs) {
    const t0 = performance.now();
    pending.push(
      scrapeOnce(job.port, false, true, job.timeoutMs).then(
        (n) => {
          bytes += n;
          latencies.push(performance.now() - t0);
        },
        (error: Error) => {
          failures++;
          firstError ??= error.message;
        },
      ),
    );
    await new Promise((r) => setTimeout(r, job.everyMs));
  }
  await Promise.all(pending);
  const seconds = (performance.now() - started) / 1000;
  return { requests: latencies.length, failures, seconds, bytes, latencies: latencies.sort((a, b) => a - b), firstError };
}

/** Runs until the parent disconnects; answers every 'status' message with an AttackStatus. */
function attack(job: Extract<ClientJob, { kind: 'attack' }>): void {
  const head = 'GET /metrics HTTP/1.1\r\nHost: localhost\r\nUser-Agent: slow\r\nX-Padding: ' + 'x'.repeat(4000) + '\r\n\r\n';
  const open = new Set<Socket>();
  let opened = 0;
  let closedByServer = 0;
  let due = 0;
  let stopping = false;
  // Half send nothing; half send their head a byte every 2 s, never finishing it (one timer for all).
  const dribblers = new Map<Socket, number>();
  let turn = 0;
  const DRIBBLE_TICKS = 20;
  setInterval(() => {
    turn = (turn + 1) % DRIBBLE_TICKS;
    let i = 0;
    for (const [socket, sent] of dribblers) {
      if (i++ % DRIBBLE_TICKS !== turn || !socket.writable || sent >= head.length - 4) continue;
      socket.write(head[sent]!);
      dribblers.set(socket, sent + 1);
    }
  }, 2_000 / DRIBBLE_TICKS);
  const openOne = (index: number) => {
    const socket = connect(job.port, '127.0.0.1');
    opened++;
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      open.add(socket);
      if (index % 2 === 1) dribblers.set(socket, 0);
    });
    socket.once('close', () => {
      dribblers.delete(socket);
      if (open.delete(socket)) closedByServer++;
      if (!stopping) due++;
    });
  };
  due = job.connections;
  let index = 0;
  // Open what is due, paced: `openPerSecond` spread over 10 ms ticks.
  const perTick = Math.max(1, Math.round(job.openPerSecond / 100));
  setInterval(() => {
    for (let i = 0; i < perTick && due > 0 && open.size < job.connections; i++) {
      due--;
      openOne(index++);
    }
  }, 10);
  process.on('message', (message) => {
    if (message === 'status') process.send!({ open: open.size, opened, closedByServer } satisfies AttackStatus);
  });
  process.on('disconnect', () => {
    stopping = true;
    for (const s of open) s.destroy();
    process.exit(0);
  });
}

const job = JSON.parse(process.argv[2] ?? '{}') as ClientJob;
if (job.kind === 'attack') attack(job);
else process.send!(await (job.kind === 'throughput' ? throughput(job) : probe(job)), undefined, {}, () => process.exit(0));

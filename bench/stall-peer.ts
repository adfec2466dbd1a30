/**
 * The other side of bench/stall.ts, in its own process so that its timers run
 * whatever the collector's event loop is doing: it serves a healthy runner page and
 * a pathological one over HTTP, and probes the collector's /metrics every few
 * milliseconds, one request at a time, recording how long each answer took.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { farmPage } from './farm.js';

export type PathologicalKind = 'labels' | 'braces' | 'values' | 'escapes' | 'long-keys' | 'new-series';

/** Messages from the bench to this process. */
export type PeerCommand =
  | { type: 'page'; kind: PathologicalKind | 'none' }
  | { type: 'probe-start'; url: string }
  | { type: 'probe-stop' }
  | { type: 'exit' };

/** Messages from this process to the bench. */
export type PeerReport =
  | { type: 'ready'; port: number }
  | { type: 'page-set'; bytes: number }
  | { type: 'probe'; latenciesMs: number[]; failures: number };

const PROBE_EVERY_MS = 5;

/** About 1 MB (more for `braces`) of the shape that once cost quadratic time or a long stall. */
export function pathologicalPage(kind: PathologicalKind, round: number): string {
  const lines: string[] = [];
  switch (kind) {
    case 'labels':
      // 30,000 labels per series, three series.
      for (let s = 0; s < 3; s++) lines.push(`wide_${s}{${Array.from({ length: 30_000 }, (_, i) => `l${i}="v"`).join(',')}} ${round}`);
      break;
    case 'braces':
      // 200,000 lines with an empty label set: no quote after them on the page.
      for (let i = 0; i < 200_000; i++) lines.push(`b${i}{} ${round}`);
      break;
    case 'values':
      // One label value of 1 MB.
      lines.push(`big{v="${'x'.repeat(1_000_000)}"} ${round}`);
      break;
    case 'escapes':
      // A label value of 1 MB made of escapes, and HELP text likewise.
      lines.push(`# HELP esc ${'\\\\\\n'.repeat(100_000)}`, `esc{v="${'\\\\\\"\\n'.repeat(150_000)}"} ${round}`);
      break;
    case 'long-keys':
      // 60 series whose keys are longer than V8 hashes strings by content.
      for (let i = 0; i < 60; i++) lines.push(`long{v="${'k'.repeat(17_000)}${String(i).padStart(4, '0')}"} ${round}`);
      break;
    case 'new-series':
      // 45,000 series (within the default sample_limit), all new on every scrape: the cold path each time.
      for (let i = 0; i < 45_000; i++) lines.push(`churn{i="${i}",round="${round}"} ${i}`);
      break;
  }
  return lines.join('\n') + '\n';
}

function main(): void {
  let kind: PathologicalKind | 'none' = 'none';
  let round = 0;
  // Pages are built ahead (two rounds, alternating) so serving them costs this process little.
  let pages: string[] = [];
  const healthy = [farmPage(0, 200, 1), farmPage(0, 200, 2)];
  let healthyRound = 0;

  const server = createServer((req, res) => {
    if (req.url === '/healthy') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(healthy[healthyRound++ % 2]);
    } else if (req.url === '/pathological' && pages.length > 0) {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(pages[round++ % pages.length]);
    } else {
      res.writeHead(404).end();
    }
  });

  let probing = false;
  let latencies: number[] = [];
  let failures = 0;
  const probe = (url: string): void => {
    if (!probing) return;
    const started = performance.now();
    const req = request(url, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200) latencies.push(performance.now() - started);
        else failures++;
        setTimeout(() => probe(url), PROBE_EVERY_MS);
      });
    });
    req.on('error', () => {
      failures++;
      setTimeout(() => probe(url), PROBE_EVERY_MS);
    });
    req.end();
  };

  const send = (report: PeerReport): void => void process.send!(report);
  process.on('message', (command: PeerCommand) => {
    switch (command.type) {
      case 'page':
        kind = command.kind;
        pages = kind === 'none' ? [] : [pathologicalPage(kind, 1), pathologicalPage(kind, 2)];
        send({ type: 'page-set', bytes: pages[0]?.length ?? 0 });
        break;
      case 'probe-start':
        probing = true;
        latencies = [];
        failures = 0;
        probe(command.url);
        break;
      case 'probe-stop':
        probing = false;
        send({ type: 'probe', latenciesMs: latencies, failures });
        break;
      case 'exit':
        server.closeAllConnections();
        server.close(() => process.exit(0));
        break;
    }
  });
  server.listen(0, '127.0.0.1', () => send({ type: 'ready', port: (server.address() as AddressInfo).port }));
}

if (process.send !== undefined && process.argv.includes('--stall-peer')) main();

/**
 * The runner farm of `npm run bench -- peers`, run as its own process so that its
 * CPU is never counted against a scraper: T llama.cpp-like targets of S series,
 * one HTTP server (port) each, values changing on every request.
 *
 * Building a page costs next to nothing: each target's page is laid out once with
 * fixed-width values (10-digit integers, `0.NN` ratios), and a request only
 * rewrites those digits in place. Two buffers per target take turns, so a page
 * still being written to a slow socket is never changed under it.
 *
 * Usage: node peer-farm.js T S; prints `{"urls":[…]}` on one line when listening,
 * then serves until killed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const BUCKETS = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];
/** Width of an integer value: 10 digits, starting at 1e9 so every value has all of them. */
const WIDTH = 10;
const BASE = 1_000_000_000;

/** Where each value sits in a page and how it changes. */
interface Layout {
  readonly text: string;
  /** Offsets of 10-digit counter values; value = BASE + request * 7 + index. */
  readonly counters: number[];
  /** Offsets of the two digits after `0.` of gauge ratios; value = (request + index) % 100 / 100. */
  readonly ratios: number[];
  /** Offsets of the histogram's cumulative bucket values, `_count` last; bucket i = BASE + request * (i + 1). */
  readonly buckets: number[];
  /** Offset of `_sum`'s 10 integer digits (the fraction is fixed). */
  readonly sum: number;
}

/** One target's page layout: about S series, llama.cpp's names, one histogram. */
export function farmLayout(target: number, seriesPerTarget: number): Layout {
  const histogramSeries = BUCKETS.length + 2;
  const rest = Math.max(2, seriesPerTarget - histogramSeries);
  const slots = Math.floor(rest / 2);
  let text = '';
  const counters: number[] = [];
  const ratios: number[] = [];
  const buckets: number[] = [];
  const pad = '0'.repeat(WIDTH);
  text += '# HELP llamacpp:tokens_predicted_total Number of generation tokens processed.\n';
  text += '# TYPE llamacpp:tokens_predicted_total counter\n';
  for (let s = 0; s < slots; s++) {
    text += `llamacpp:tokens_predicted_total{slot="${s}",target="t${target}"} `;
    counters.push(text.length);
    text += pad + '\n';
  }
  text += '# HELP llamacpp:kv_cache_usage_ratio KV-cache usage. 1 means 100 percent usage.\n';
  text += '# TYPE llamacpp:kv_cache_usage_ratio gauge\n';
  for (let s = 0; s < rest - slots; s++) {
    text += `llamacpp:kv_cache_usage_ratio{slot="${s}",target="t${target}"} 0.`;
    ratios.push(text.length);
    text += '00\n';
  }
  text += '# HELP llamacpp:request_latency_seconds Request latency.\n';
  text += '# TYPE llamacpp:request_latency_seconds histogram\n';
  for (const le of BUCKETS) {
    text += `llamacpp:request_latency_seconds_bucket{target="t${target}",le="${le}"} `;
    buckets.push(text.length);
    text += pad + '\n';
  }
  text += `llamacpp:request_latency_seconds_sum{target="t${target}"} `;
  const sum = text.length;
  text += pad + '.25\n';
  text += `llamacpp:request_latency_seconds_count{target="t${target}"} `;
  buckets.push(text.length);
  text += pad + '\n';
  return { text, counters, ratios, buckets, sum };
}

/** Series on one target's page (what a scraper should report). */
export function farmSeries(seriesPerTarget: number): number {
  const rest = Math.max(2, seriesPerTarget - (BUCKETS.length + 2));
  return rest + BUCKETS.length + 2;
}

function writeDigits(page: Buffer, at: number, value: number, width: number): void {
  for (let i = at + width - 1; i >= at; i--) {
    page[i] = 48 + (value % 10);
    value = Math.floor(value / 10);
  }
}

/** A target's page for its `request`th scrape, written into `page` (laid out by farmLayout). */
export function fillPage(page: Buffer, layout: Layout, request: number): void {
  const { counters, ratios, buckets } = layout;
  for (let i = 0; i < counters.length; i++) writeDigits(page, counters[i]!, BASE + ((request * 7 + i) % BASE), WIDTH);
  for (let i = 0; i < ratios.length; i++) writeDigits(page, ratios[i]!, (request + i) % 100, 2);
  // Cumulative buckets: bucket i grows by i + 1 per request; +Inf and _count are equal.
  for (let i = 0; i < buckets.length; i++) writeDigits(page, buckets[i]!, BASE + ((request * Math.min(i + 1, BUCKETS.length)) % BASE), WIDTH);
  writeDigits(page, layout.sum, BASE + (request % BASE), WIDTH);
}

async function serveTarget(target: number, seriesPerTarget: number): Promise<{ server: Server; url: string }> {
  const layout = farmLayout(target, seriesPerTarget);
  const pages = [Buffer.from(layout.text, 'latin1'), Buffer.from(layout.text, 'latin1')];
  const headers = { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': String(pages[0]!.length) };
  let requests = 0;
  const server = createServer((req, res) => {
    // Only /metrics, as a runner's exporter: anything else is not there.
    if (req.url !== '/metrics') return void res.writeHead(404, { 'content-length': '0' }).end();
    requests++;
    const page = pages[requests & 1]!;
    fillPage(page, layout, requests);
    res.writeHead(200, headers).end(page);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics` };
}

async function main(): Promise<void> {
  const targets = Number(process.argv[2]);
  const series = Number(process.argv[3]);
  if (!(targets > 0 && series > 0)) throw new Error('usage: peer-farm.js TARGETS SERIES_PER_TARGET');
  const urls: string[] = [];
  for (let t = 0; t < targets; t++) urls.push((await serveTarget(t, series)).url);
  process.stdout.write(JSON.stringify({ urls }) + '\n');
  process.on('SIGTERM', () => process.exit(0));
}

if (process.argv[1]?.endsWith('peer-farm.js')) await main();

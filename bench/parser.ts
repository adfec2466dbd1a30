/**
 * Exposition parser throughput, on Prometheus' own benchmark page and on a synthetic
 * llama.cpp runner farm. Every figure is set beside two baselines measured in the same
 * run: `parseFamilies` (the whole-body API) and a naive split-and-regex parser.
 *
 *   (a) fast path: next() + seriesKey() + value — a scrape where every series is cached;
 *       label sets are only scanned for their end, as a cache validates new keys only
 *   (b) next() + seriesKey() + labels() + value — a scrape where every series is new;
 *       every label set is also validated
 */
import { parseFamilies } from '../src/prometheus/families.js';
import { ExpositionParser } from '../src/prometheus/parser.js';
import { readFixture } from '../test/helpers/fixtures.js';

interface Page {
  name: string;
  text: string;
  bytes: number;
  samples: number;
}

interface Method {
  name: string;
  parse: (text: string) => number; // returns the number of samples read
}

/** Keeps results alive so the optimiser cannot drop the work. */
let sink = 0;

const FAST_PATH: Method = {
  name: '(a) next+seriesKey+value',
  parse(text) {
    const parser = new ExpositionParser(text);
    let samples = 0;
    for (let kind = parser.next(); kind !== 'eof'; kind = parser.next()) {
      if (kind !== 'series') continue;
      sink += parser.seriesKey().length + parser.value;
      samples++;
    }
    return samples;
  },
};

const WITH_LABELS: Method = {
  name: '(b) (a) + labels()',
  parse(text) {
    const parser = new ExpositionParser(text);
    let samples = 0;
    for (let kind = parser.next(); kind !== 'eof'; kind = parser.next()) {
      if (kind !== 'series') continue;
      sink += parser.seriesKey().length + parser.labels().length + parser.value;
      samples++;
    }
    return samples;
  },
};

const PARSE_FAMILIES: Method = {
  name: 'parseFamilies',
  parse(text) {
    let samples = 0;
    for (const family of parseFamilies(text)) samples += family.samples.length;
    return samples;
  },
};

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?[ \t]+(\S+)(?:[ \t]+(-?\d+))?[ \t]*\r?$/;
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** What one might write first: split into lines, one regex per line, one per label pair. */
const NAIVE: Method = {
  name: 'naive split+regex',
  parse(text) {
    let samples = 0;
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const match = SAMPLE_LINE.exec(line);
      if (match === null) throw new Error(`cannot parse: ${line}`);
      const labels: string[] = [];
      if (match[2] !== undefined) {
        for (const pair of match[2].matchAll(LABEL_PAIR)) labels.push(pair[1]!, pair[2]!.replace(/\\(.)/g, '$1'));
      }
      const raw = match[3]!;
      const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
      sink += match[1]!.length + labels.length + value;
      samples++;
    }
    return samples;
  },
};

/** A Docker Model Runner-style /metrics page: many llama.cpp runners, colon names, one histogram. */
function syntheticLlamaCppBody(targetSamples: number): string {
  const counters = ['prompt_tokens_total', 'prompt_seconds_total', 'tokens_predicted_total', 'tokens_predicted_seconds_total', 'n_decode_total', 'n_busy_slots_per_decode'];
  const gauges = ['prompt_tokens_seconds', 'predicted_tokens_seconds', 'kv_cache_usage_ratio', 'requests_processing', 'requests_deferred'];
  const buckets = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];
  const perRunner = counters.length + gauges.length + buckets.length + 2;
  const runners = Math.ceil(targetSamples / perRunner);
  const labels = Array.from(
    { length: runners },
    (_, i) => `backend="llama.cpp",model="ai/smollm2:360M-Q4_K_M-${i % 50}",mode="${i % 3 === 0 ? 'embedding' : 'completion'}",instance="runner-${i}"`,
  );
  const lines: string[] = [];
  const scalar = (name: string, type: string, value: (i: number) => string): void => {
    lines.push(`# HELP llamacpp:${name} ${name.replace(/_/g, ' ')}.`, `# TYPE llamacpp:${name} ${type}`);
    for (let i = 0; i < runners; i++) lines.push(`llamacpp:${name}{${labels[i]}} ${value(i)}`);
  };
  for (const name of counters) scalar(name, 'counter', (i) => String(1000 + i * 7));
  for (const name of gauges) scalar(name, 'gauge', (i) => (i * 0.37 + 0.0371).toFixed(4));
  const histogram = 'llamacpp:request_duration_seconds';
  lines.push(`# HELP ${histogram} Request duration.`, `# TYPE ${histogram} histogram`);
  for (let i = 0; i < runners; i++) {
    buckets.forEach((le, b) => lines.push(`${histogram}_bucket{${labels[i]},le="${le}"} ${(b + 1) * 3}`));
    lines.push(`${histogram}_sum{${labels[i]}} ${(i * 1.25).toFixed(3)}`, `${histogram}_count{${labels[i]}} 36`);
  }
  return lines.join('\n') + '\n';
}

/**
 * Seconds per parse for each method. After a warm-up (so the JIT has optimised everything),
 * methods take turns in short rounds and each keeps its best round: on a shared machine that
 * is the figure least disturbed by other work.
 */
function measure(methods: readonly Method[], page: Page, rounds: number, roundSeconds: number): Map<Method, number> {
  for (const method of methods) runFor(method, page, 0.3);
  const best = new Map(methods.map((m) => [m, Infinity]));
  for (let round = 0; round < rounds; round++) {
    for (const method of methods) {
      (globalThis as { gc?: () => void }).gc?.();
      best.set(method, Math.min(best.get(method)!, runFor(method, page, roundSeconds)));
    }
  }
  return best;
}

/** Parses the page repeatedly for about `seconds`; returns seconds per parse. */
function runFor(method: Method, page: Page, seconds: number): number {
  let iterations = 0;
  const start = performance.now();
  let now = start;
  while (now - start < seconds * 1000) {
    if (method.parse(page.text) !== page.samples) throw new Error(`${method.name} miscounted ${page.name}`);
    iterations++;
    now = performance.now();
  }
  return (now - start) / 1000 / iterations;
}

function page(name: string, body: string): Page {
  // A body decoded from bytes, as a scrape gets it: one flat string rather than the rope join() builds.
  const text = Buffer.from(body).toString('utf8');
  return { name, text, bytes: Buffer.byteLength(text), samples: PARSE_FAMILIES.parse(text) };
}

const fixed = (n: number, digits = 2): string => n.toFixed(digits);

export async function run(): Promise<void> {
  const pages = [
    page('alltypes.237mfs.prom.txt', readFixture('prometheus-textparse', 'alltypes.237mfs.prom.txt')),
    page('synthetic llama.cpp farm', syntheticLlamaCppBody(100_000)),
  ];
  const methods = [FAST_PATH, WITH_LABELS, PARSE_FAMILIES, NAIVE];
  console.log('exposition parser: samples/s and MB/s per method (best of 15 rounds); ratios against parseFamilies and the naive parser');
  for (const p of pages) {
    console.log(`\n${p.name}: ${p.samples} samples, ${fixed(p.bytes / 1e6, 3)} MB`);
    const times = measure(methods, p, 15, 0.1);
    const baseline = times.get(PARSE_FAMILIES)!;
    const naive = times.get(NAIVE)!;
    for (const [method, time] of times) {
      console.log(
        [
          `  ${method.name.padEnd(26)}`,
          `${fixed(p.samples / time / 1e6).padStart(6)} M samples/s`,
          `${fixed(p.bytes / time / 1e6, 1).padStart(7)} MB/s`,
          `${fixed((time * 1e6) / p.samples, 3)} µs/sample`,
          `x${fixed(baseline / time)} vs parseFamilies`,
          `x${fixed(naive / time)} vs naive`,
        ].join('  '),
      );
    }
  }
  if (sink === 0.5) console.log(''); // never true; keeps `sink` observable
}

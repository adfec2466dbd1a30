/**
 * Property test: whatever runners send, every body /metrics serves is valid.
 *
 * Random pages and mutated fixture pages (random names with UTF-8, quotes,
 * newlines and braces; names that collide once escaped; families whose sample
 * names clash) go through the real receiver conversion (ScrapeState) into the
 * PrometheusExporter, which renders them in both formats under every escaping
 * scheme. Each body must parse with our parser with one HELP/TYPE per family,
 * contiguous family blocks, no duplicate label names or series, valid UTF-8, and
 * legacy names only unless the scraper allowed UTF-8. Text bodies with legacy names
 * must also pass the real `promtool check metrics` (Prometheus 2.x): exit 1 is a
 * parse error and fails the test; exit 3 only reports lint advice (naming
 * conventions, missing HELP), which runners' own names may well deserve.
 *
 * The PRNG is seeded: the seed is printed, and VALID_OUTPUT_SEED=<seed> replays a
 * run (VALID_OUTPUT_CASES=<n> runs more cases).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Attributes } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { PrometheusExporter } from '../../../src/exporters/prometheus/exporter.js';
import type { ResourceBatch, PrometheusType } from '../../../src/model/batch.js';
import { isLegacyLabelName, isLegacyMetricName } from '../../../src/prometheus/chars.js';
import { parseFamilies, resolveFamily, type MetricFamily, type Sample } from '../../../src/prometheus/families.js';
import { ExpositionParser } from '../../../src/prometheus/parser.js';
import { ESCAPING_SCHEMES, writeFamilies, type EscapingScheme } from '../../../src/prometheus/writer.js';
import { ScrapeState } from '../../../src/receivers/prometheus/scrape-state.js';
import { readFixture } from '../../helpers/fixtures.js';
import { testConfig, testContext } from './batches.js';
import { Rng } from '../../helpers/rng.js';

const SEED = Number(process.env['VALID_OUTPUT_SEED'] ?? Math.floor(Math.random() * 2 ** 32));
const CASES = Number(process.env['VALID_OUTPUT_CASES'] ?? 250);
/** Bodies per promtool run: one process start checks many bodies. */
const PROMTOOL_BATCH = 150;


const NAMES = [
  'a', 'a.b', 'a_b', 'a:b', 'a__b', 'a_dot_b', 'U__a_2e_b', 'h', 'h_bucket', 'h_sum', 'h_count', 'h_created', 'h.count',
  'x', 'x_total', 'x.total', 'x_info', 'x_created', 'x_gcount', '1abc', '_1', '__name__', '花火', 'label with 😱',
  'vllm.requests.running', 'vllm_requests_running', 'vllm:requests_running', '"} 2\ninjected 1\n#', 'a"b', 'a\\b', 'a\nb',
  'a{b}', '{', '}', ' ', '#', 'le', 'quantile', 'a\uFFFDb',
];
const LABEL_NAMES = [
  'a', 'a.b', 'a_b', 'a:b', 'le', 'quantile', '__name__', 'model', 'exported_model', 'exported.model', 'backend',
  'service.name', 'service_name', '1x', '"', '\\', '\n', '{', '}', '=', ',', 'é', '😱', ' x', 'U__a_2e_b', 'l\u00e9',
];
const VALUES = ['', 'x', 'a"b', 'a\\b', 'a\nb', '}', '"} 2\ninjected 1\n#', 'é😱', '\uFFFD', '\\n', 'x\uD800', '\uDC00'];
const HELPS = ['', 'Help.', 'line\nbreak', 'back\\slash', 'quote " here', '\\n literal', '# TYPE x counter', 'x\uD83D'];
const CHARS = ['a', 'b', 'Z', '_', ':', '.', '0', '9', '"', '\\', '\n', '{', '}', ',', '=', ' ', '#', 'é', '😱', '/', '-'];
const TEXT_TYPES: readonly PrometheusType[] = ['counter', 'gauge', 'untyped', 'histogram', 'summary'];
const OM_TYPES: readonly PrometheusType[] = ['counter', 'gauge', 'unknown', 'histogram', 'summary', 'info', 'stateset', 'gaugehistogram'];

const FIXTURES: ReadonlyArray<readonly [file: readonly string[], openMetrics: boolean]> = [
  ...['dmr-aggregated', 'llamacpp-completion', 'llamacpp-embedding', 'llamacpp-legacy-b4750', 'sglang', 'tgi', 'torchserve', 'torchserve-filtered', 'triton', 'vllm'].map(
    (name) => [['runners', `${name}.prom`], false] as const,
  ),
  [['llamacpp-real', 'completion.under-load.metrics.prom'], false],
  [['prometheus-textparse', 'alltypes.5mfs.om.txt'], true],
  [['prometheus-textparse', '1histogram.om.txt'], true],
];
const fixtureFamilies = FIXTURES.map(([file, openMetrics]) => ({ families: parseFamilies(readFixture(...file), { openMetrics }), openMetrics }));

function randomName(rng: Rng, pool: readonly string[]): string {
  if (rng.chance(0.7)) return rng.pick(pool);
  let name = '';
  for (let i = 1 + rng.int(6); i > 0; i--) name += rng.pick(CHARS);
  return name;
}

function randomLabels(rng: Rng): string[] {
  const labels: string[] = [];
  for (let i = rng.int(4); i > 0; i--) labels.push(randomName(rng, LABEL_NAMES), rng.pick(VALUES));
  return labels;
}

/** One family of `type` as a runner would write it, with a few series. */
function randomFamily(rng: Rng, openMetrics: boolean): MetricFamily {
  const type = rng.pick(openMetrics ? OM_TYPES : TEXT_TYPES);
  const name = randomName(rng, NAMES);
  const samples: Sample[] = [];
  for (let s = 1 + rng.int(3); s > 0; s--) {
    const labels = randomLabels(rng);
    const value = rng.int(100);
    switch (type) {
      case 'histogram':
      case 'gaugehistogram': {
        let count = 0;
        for (const le of ['0.5', '1', '+Inf']) samples.push({ name: `${name}_bucket`, labels: [...labels, 'le', le], value: (count += rng.int(5)) });
        const [sum, cnt] = type === 'histogram' ? ['_sum', '_count'] : ['_gsum', '_gcount'];
        samples.push({ name: name + sum, labels, value }, { name: name + cnt, labels, value: count });
        break;
      }
      case 'summary':
        for (const q of ['0.5', '0.9']) samples.push({ name, labels: [...labels, 'quantile', q], value: rng.int(10) });
        samples.push({ name: `${name}_sum`, labels, value }, { name: `${name}_count`, labels, value: 3 });
        break;
      case 'counter':
        samples.push({ name: openMetrics ? `${name}_total` : name, labels, value });
        break;
      case 'info':
        samples.push({ name: `${name}_info`, labels, value: 1 });
        break;
      case 'stateset':
        samples.push({ name, labels: [...labels, name, 'on'], value: rng.int(2) });
        break;
      default:
        samples.push({ name, labels, value });
    }
  }
  const family: MetricFamily = { name, type, samples };
  const help = rng.pick(HELPS);
  if (help !== '') family.help = help;
  return family;
}

/** The family renamed, its samples' names too, suffixes kept. */
function renamed(family: MetricFamily, name: string): MetricFamily {
  const samples = family.samples.map((s) => ({ ...s, name: s.name.startsWith(family.name) ? name + s.name.slice(family.name.length) : s.name }));
  return { ...family, name, samples };
}

/** A fixture page's families changed in a few random ways. */
function mutatedFamilies(rng: Rng, source: readonly MetricFamily[], openMetrics: boolean): MetricFamily[] {
  let families = source.map((f) => ({ ...f, samples: f.samples.map((s) => ({ ...s, labels: [...s.labels] })) }));
  for (let m = 1 + rng.int(4); m > 0 && families.length > 0; m--) {
    const at = rng.int(families.length);
    const family = families[at]!;
    switch (rng.int(8)) {
      case 0: // another name, often one that collides once escaped
        families[at] = renamed(family, rng.chance(0.5) ? family.name.replace(/[_:]/g, () => rng.pick(['.', '_', ':', '/'])) : randomName(rng, NAMES));
        break;
      case 1: // the same family again under a colliding name
        families.push(renamed(family, family.name.replace(/_/g, '.')));
        break;
      case 2: {
        // a label renamed on every series of the family
        const from = family.samples[0]?.labels[0];
        const to = randomName(rng, LABEL_NAMES);
        for (const s of family.samples) for (let i = 0; i < s.labels.length; i += 2) if (s.labels[i] === from) s.labels[i] = to;
        break;
      }
      case 3: {
        const name = randomName(rng, LABEL_NAMES);
        const value = rng.pick(VALUES);
        for (const s of family.samples) s.labels.unshift(name, value);
        break;
      }
      case 4:
        families[at] = { ...family, help: rng.pick(HELPS) };
        break;
      case 5:
        families.push(randomFamily(rng, openMetrics));
        break;
      case 6: {
        // a series again with its labels in another order: the same series to Prometheus
        const sample = family.samples[rng.int(family.samples.length)];
        if (sample === undefined || sample.labels.length < 4) break;
        const pairs: string[][] = [];
        for (let i = 0; i < sample.labels.length; i += 2) pairs.push([sample.labels[i]!, sample.labels[i + 1]!]);
        family.samples.push({ ...sample, labels: pairs.reverse().flat() });
        break;
      }
      default:
        families = families.filter((_, i) => i !== at);
    }
  }
  return families;
}

/** Occasional raw damage (a line repeated, dropped or moved), which the receiver may reject. */
function damaged(rng: Rng, page: string): string {
  if (!rng.chance(0.2)) return page;
  const lines = page.split('\n');
  const i = rng.int(Math.max(1, lines.length - 1));
  const j = rng.int(Math.max(1, lines.length - 1));
  switch (rng.int(3)) {
    case 0:
      lines.splice(i, 0, lines[i]!);
      break;
    case 1:
      lines.splice(i, 1);
      break;
    default:
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  }
  return lines.join('\n');
}

function randomPage(rng: Rng): { page: string; openMetrics: boolean } {
  if (rng.chance(0.5)) {
    const openMetrics = rng.chance(0.25);
    const families = Array.from({ length: 1 + rng.int(6) }, () => randomFamily(rng, openMetrics));
    return { page: damaged(rng, writeFamilies(families, { openMetrics })), openMetrics };
  }
  const { families, openMetrics } = rng.pick(fixtureFamilies);
  return { page: damaged(rng, writeFamilies(mutatedFamilies(rng, families, openMetrics), { openMetrics })), openMetrics };
}

function randomResource(rng: Rng, index: number): Attributes {
  const attributes: Attributes = { 'service.instance.id': String(index) };
  for (const key of ['backend', 'model', 'mode', 'service.name', 'a.b', 'a_b', 'exported_model']) {
    if (rng.chance(0.5)) attributes[key] = rng.chance(0.8) ? rng.pick(['llama.cpp', 'vllm', 'm', 'completion']) : rng.pick(VALUES);
  }
  return attributes;
}

function randomConfig(rng: Rng): Record<string, unknown> {
  const labels = ['backend', 'model', 'mode', 'service.name', 'a.b', 'a_b', 'exported_model', 'weird name'].filter(() => rng.chance(0.5));
  const constLabels = Object.fromEntries([['env', 'dev'], ['model', 'const'], ['a_b', 'c']].filter(() => rng.chance(0.3)));
  return { resource_attributes_as_labels: labels, const_labels: constLabels, honor_labels: rng.chance(0.3) };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `body` is not a valid exposition, or undefined when it is. */
function problem(body: string, openMetrics: boolean, escaping: EscapingScheme): string | undefined {
  if (LONE_SURROGATE.test(body)) return 'not valid UTF-8 (lone surrogate)';
  const legacyOnly = escaping !== 'allow-utf-8';
  const parser = new ExpositionParser(body, { openMetrics });
  const declared = new Map<string, PrometheusType>();
  const help = new Set<string>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: string | undefined;
  const enter = (family: string): string | undefined => {
    if (family === current) return undefined;
    if (closed.has(family)) return `family ${JSON.stringify(family)} written in two blocks`;
    if (current !== undefined) closed.add(current);
    current = family;
    return undefined;
  };
  try {
    for (let kind = parser.next(); kind !== 'eof'; kind = parser.next()) {
      if (kind === 'help' || kind === 'type') {
        const name = parser.familyName();
        if (legacyOnly && !isLegacyMetricName(name)) return `line ${parser.line}: quoted family name ${JSON.stringify(name)}`;
        const seen = kind === 'help' ? help : declared;
        if (seen.has(name)) return `line ${parser.line}: second ${kind.toUpperCase()} for ${JSON.stringify(name)}`;
        if (kind === 'help') help.add(name);
        else declared.set(name, parser.familyType());
        const why = enter(name);
        if (why) return `line ${parser.line}: ${why}`;
      } else if (kind === 'series') {
        const name = parser.metricName();
        const labels = parser.labels();
        const family = resolveFamily(name, declared).family;
        if (!declared.has(family)) return `line ${parser.line}: sample ${JSON.stringify(name)} of no declared family`;
        if (family !== current) return `line ${parser.line}: sample ${JSON.stringify(name)} outside its family's block`;
        if (legacyOnly && !isLegacyMetricName(name)) return `line ${parser.line}: quoted metric name ${JSON.stringify(name)}`;
        const pairs: string[] = [];
        const names = new Set<string>();
        for (let i = 0; i < labels.length; i += 2) {
          const label = labels[i]!;
          if (names.has(label)) return `line ${parser.line}: label ${JSON.stringify(label)} twice`;
          if (label === '' || label === '__name__') return `line ${parser.line}: label name ${JSON.stringify(label)}`;
          if (legacyOnly && !isLegacyLabelName(label)) return `line ${parser.line}: quoted label name ${JSON.stringify(label)}`;
          names.add(label);
          pairs.push(JSON.stringify([label, labels[i + 1]]));
        }
        const key = name + pairs.sort().join('');
        if (series.has(key)) return `line ${parser.line}: series ${key} twice`;
        series.add(key);
      }
    }
  } catch (error) {
    return `does not parse: ${(error as Error).message}`;
  }
  return undefined;
}

/** Writes a failing body and the pages it came from to a file, for a failure message too long to hold them. */
function keep(where: string, body: string, pages: readonly string[]): string {
  const file = join(tmpdir(), `valid-output-${SEED}-${where.replace(/\W+/g, '-')}.txt`);
  writeFileSync(file, `${body}\n==== from pages:\n${pages.join('\n==== next page:\n')}`);
  return file;
}

interface Body {
  readonly where: string;
  readonly body: string;
}

/**
 * `promtool check metrics` over many bodies at once: each body's names get a prefix
 * of their own (uniform within a body, so clashes inside it are kept), and a parse
 * error's line number tells which body failed.
 */
function promtoolProblems(bodies: readonly Body[]): string[] {
  const problems: string[] = [];
  for (let start = 0; start < bodies.length; start += PROMTOOL_BATCH) {
    const batch = bodies.slice(start, start + PROMTOOL_BATCH);
    const lines: string[] = [];
    const firstLine: number[] = [];
    batch.forEach(({ body }, b) => {
      firstLine.push(lines.length + 1);
      for (const line of body.split('\n')) {
        if (line === '') continue;
        const meta = /^# (HELP|TYPE) /.exec(line);
        lines.push(meta ? meta[0] + `b${b}_` + line.slice(meta[0].length) : `b${b}_` + line);
      }
    });
    const run = spawnSync('promtool', ['check', 'metrics'], { input: lines.join('\n') + '\n', encoding: 'utf8' });
    // promtool stops reading at a parse error, so a large input may then meet a closed pipe.
    if (run.error && (run.error as NodeJS.ErrnoException).code !== 'EPIPE') throw run.error;
    if (run.status === 0 || run.status === 3) continue; // 3: lint advice only
    const line = Number(/line (\d+)/.exec(run.stderr)?.[1] ?? 0);
    let b = 0;
    while (b + 1 < batch.length && firstLine[b + 1]! <= line) b++;
    const context = lines.slice(Math.max(firstLine[b]! - 1, line - 30), line + 3).join('\n');
    problems.push(`promtool (exit ${run.status}) on ${batch[b]?.where}: ${run.stderr.trim()}\n${context}`);
  }
  return problems;
}

describe('every body served is valid, whatever the runners send', () => {
  it(`${CASES} random and mutated pages through ScrapeState and the exporter (seed ${SEED})`, (t) => {
    t.diagnostic(`seed ${SEED} (replay with VALID_OUTPUT_SEED=${SEED})`);
    console.log(`valid-output: seed ${SEED}, ${CASES} cases (replay with VALID_OUTPUT_SEED=${SEED})`);
    const rng = new Rng(SEED);
    const problems: string[] = [];
    const forPromtool: Body[] = [];
    let pagesAccepted = 0;
    let pagesTried = 0;
    let bodies = 0;
    for (let c = 0; c < CASES && problems.length < 5; c++) {
      const batches: ResourceBatch[] = [];
      const pages: string[] = [];
      for (let r = 1 + rng.int(3); r > 0; r--) {
        const state = new ScrapeState(resourceFromAttributes(randomResource(rng, r)));
        // Sometimes a second scrape, so that cached series meet a changed page.
        for (let scrapes = rng.chance(0.3) ? 2 : 1; scrapes > 0; scrapes--) {
          const { page, openMetrics } = randomPage(rng);
          pagesTried++;
          pages.push(page);
          try {
            batches.push(state.convert(page, openMetrics ? 'application/openmetrics-text; version=1.0.0' : 'text/plain; version=0.0.4', 1_700_000_000_000 + scrapes).batch);
            pagesAccepted++;
          } catch {
            // A page the receiver rejects never reaches the exporter.
          }
        }
      }
      const exporter = new PrometheusExporter(testConfig(randomConfig(rng)), testContext());
      exporter.consume(batches);
      for (const format of ['text', 'openmetrics'] as const) {
        for (const escaping of ESCAPING_SCHEMES) {
          const body = exporter.render({ format, escaping });
          bodies++;
          const where = `case ${c} (${format}, ${escaping})`;
          const why = problem(body, format === 'openmetrics', escaping);
          if (why) problems.push(`${where}: ${why}\n(body and pages in full: ${keep(where, body, pages)})\n${body.slice(0, 2000)}`);
          else if (format === 'text' && escaping !== 'allow-utf-8') forPromtool.push({ where, body });
        }
      }
    }
    problems.push(...promtoolProblems(forPromtool));
    t.diagnostic(`${pagesAccepted} of ${pagesTried} pages accepted by the receiver, ${bodies} bodies checked, ${forPromtool.length} by promtool`);
    assert.deepEqual(problems.slice(0, 3), [], `seed ${SEED}`);
    // The test means something only if most pages reach the exporter.
    assert.ok(pagesAccepted > pagesTried / 3, `${pagesAccepted} of ${pagesTried} pages accepted`);
  });
});

/**
 * Feeds mutated fixture pages through the exposition parser and the receiver's
 * conversion, several scrapes in a row on one ScrapeState so that state carried
 * between scrapes is fuzzed too. A page may be rejected (a ParseError from the
 * parser; a ScrapeError of reason `parse`, with a line number, or a limit from the
 * conversion); any other exception, an accepted batch that breaks the model's
 * shape, or a page read otherwise than a fresh ScrapeState reads it (start times
 * aside: what earlier pages said must never change how this one reads), is a failure: reported with its session seed and saved, with every page
 * of its session, to a JSON file that `--replay` runs again.
 *
 * With `render`, every accepted batch is also served as /metrics would serve it
 * (text and OpenMetrics) and the body must parse again: one exposition writer,
 * whose output parses whatever a runner sent.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ParseError } from '../../src/prometheus/errors.js';
import { parseFamilies } from '../../src/prometheus/families.js';
import { ScrapeError } from '../../src/receivers/prometheus/fetch.js';
import { ScrapeState } from '../../src/receivers/prometheus/scrape-state.js';
import { DataPointType, SUMMARY, type ResourceBatch } from '../../src/model/batch.js';
import { renderExposition } from '../../src/exporters/prometheus/exposition.js';
import { SeriesLabels } from '../../src/exporters/prometheus/series-labels.js';
import { Rng, basePage, mutate, type Corpus } from './pages.js';

const TEXT = 'text/plain; version=0.0.4; charset=utf-8';
const OPENMETRICS = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
const resource = resourceFromAttributes({ backend: 'fuzz' });

export interface FuzzOptions {
  readonly seed: number;
  /** Pages to run (the last session may run a few more). */
  readonly pages: number;
  /** Stop earlier once this much time has passed. */
  readonly maxMs?: number;
  readonly corpus: Corpus;
  /** Where failing sessions are saved. */
  readonly outDir: string;
  /** Stop after this many failures. */
  readonly maxFailures?: number;
  /** Also render each accepted batch as /metrics and parse the body again. */
  readonly render?: boolean;
  readonly log?: (line: string) => void;
  /** Log a progress line every this many pages. */
  readonly progressEvery?: number;
}

export interface FuzzFailure {
  readonly sessionSeed: number;
  readonly page: number;
  readonly error: string;
  readonly file: string;
}

export interface FuzzReport {
  readonly pages: number;
  readonly sessions: number;
  /** Pages the conversion accepted and rejected (as it may: parse errors, limits). */
  readonly accepted: number;
  readonly rejected: number;
  readonly failures: FuzzFailure[];
  readonly elapsedMs: number;
}

/** One session as saved: the pages given to one ScrapeState, in order. */
export interface Session {
  readonly seed: number;
  readonly sessionSeed: number;
  readonly sampleLimit: number;
  readonly pages: Array<{ readonly contentType: string; readonly body: string }>;
}

interface SessionResult {
  accepted: number;
  rejected: number;
  failure?: { page: number; error: string };
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  const master = new Rng(options.seed);
  const failures: FuzzFailure[] = [];
  let pages = 0;
  let sessions = 0;
  let accepted = 0;
  let rejected = 0;
  while (pages < options.pages && failures.length < (options.maxFailures ?? 10)) {
    if (options.maxMs !== undefined && performance.now() - started > options.maxMs) break;
    const session = makeSession(options.seed, master.next(), options.corpus);
    const result = await runSession(session, options.render === true);
    sessions++;
    const before = pages;
    pages += session.pages.length;
    const every = options.progressEvery ?? 0;
    if (every > 0 && Math.floor(pages / every) > Math.floor(before / every)) {
      const seconds = (performance.now() - started) / 1000;
      options.log?.(`  ${pages} pages, ${failures.length} exceptions, ${Math.round(pages / seconds)} pages/s`);
    }
    accepted += result.accepted;
    rejected += result.rejected;
    if (result.failure) {
      mkdirSync(options.outDir, { recursive: true });
      const file = join(options.outDir, `fuzz-${options.seed}-${session.sessionSeed}.json`);
      writeFileSync(file, JSON.stringify({ ...session, failingPage: result.failure.page, error: result.failure.error }, null, 1));
      const failure = { sessionSeed: session.sessionSeed, page: result.failure.page, error: result.failure.error, file };
      failures.push(failure);
      options.log?.(`FAILURE seed=${options.seed} session=${failure.sessionSeed} page=${failure.page}: ${failure.error}\n  input saved to ${file}`);
    }
  }
  return { pages, sessions, accepted, rejected, failures, elapsedMs: performance.now() - started };
}

/** A session's pages: mutations of one base page (so the cache sees the same series again), now and then another. */
export function makeSession(seed: number, sessionSeed: number, corpus: Corpus): Session {
  const rng = new Rng(sessionSeed);
  const sampleLimit = rng.chance(0.1) ? 1 + rng.int(50) : 0;
  let openMetrics = rng.chance(0.3);
  let base = basePage(rng, corpus);
  let previous = base;
  const pages: Session['pages'] = [];
  for (let n = 1 + rng.int(8); n > 0; n--) {
    const roll = rng.int(10);
    let body: string;
    if (roll < 6) body = mutate(base, rng, corpus);
    else if (roll < 8) body = mutate(previous, rng, corpus);
    else if (roll < 9) body = base;
    else body = base = basePage(rng, corpus);
    if (rng.chance(0.15)) openMetrics = !openMetrics;
    if (openMetrics && !body.includes('# EOF') && rng.chance(0.8)) body += body.endsWith('\n') ? '# EOF\n' : '\n# EOF\n';
    pages.push({ contentType: openMetrics ? OPENMETRICS : TEXT, body });
    previous = body;
  }
  return { seed, sessionSeed, sampleLimit, pages };
}

/** Runs one session's pages through the parser and one ScrapeState; the first failure ends it. */
export async function runSession(session: Session, render = false): Promise<SessionResult> {
  const state = new ScrapeState(resource, session.sampleLimit);
  const result: SessionResult = { accepted: 0, rejected: 0 };
  for (let i = 0; i < session.pages.length; i++) {
    const { contentType, body } = session.pages[i]!;
    const openMetrics = contentType.includes('openmetrics');
    try {
      parseFamilies(body, { openMetrics });
    } catch (err) {
      if (!(err instanceof ParseError)) return { ...result, failure: { page: i, error: `parser: ${describe(err)}` } };
    }
    const time = 1_700_000_000_000 + i * 15_000;
    let batch: ResourceBatch;
    try {
      // Awaited, so that an asynchronous convert() is fuzzed the same way.
      batch = (await state.convert(body, contentType, time)).batch;
    } catch (err) {
      const problem = rejectionProblem(err);
      if (problem !== undefined) return { ...result, failure: { page: i, error: `convert: ${problem}` } };
      let fresh: unknown;
      try {
        await new ScrapeState(resource, session.sampleLimit).convert(body, contentType, time);
      } catch (freshErr) {
        fresh = freshErr;
      }
      if (fresh === undefined) return { ...result, failure: { page: i, error: `convert rejected the page, which a fresh state accepts: ${describe(err)}` } };
      result.rejected++;
      continue;
    }
    const problem =
      batchProblem(batch) ??
      (await freshProblem(batch, body, contentType, time, session.sampleLimit)) ??
      (render ? renderProblem(batch) : undefined);
    if (problem !== undefined) return { ...result, failure: { page: i, error: `convert accepted the page but ${problem}` } };
    result.accepted++;
  }
  return result;
}

/** Why an exception from convert() is not an allowed rejection, or undefined when it is one. */
function rejectionProblem(err: unknown): string | undefined {
  if (!(err instanceof ScrapeError)) return describe(err);
  if (err.reason === 'parse') return /line \d+/.test(err.message) ? undefined : `parse error without a line number: ${err.message}`;
  if (err.reason.includes('limit')) return undefined;
  return `ScrapeError of reason ${err.reason}: ${err.message}`;
}

/** What is wrong with an accepted batch's shape, or undefined. */
function batchProblem(batch: ResourceBatch): string | undefined {
  const names = new Set<string>();
  for (const scope of batch.scopeMetrics) {
    for (const m of scope.metrics) {
      const name = m.descriptor.name;
      if (names.has(name)) return `metric ${name} appears twice`;
      names.add(name);
      if (m.dataPoints.some((p) => typeof p.attributes !== 'object' || p.attributes === null)) return `a point of ${name} has no attributes`;
      const series = new Set(m.dataPoints.map((p) => JSON.stringify(p.attributes)));
      if (series.size !== m.dataPoints.length) return `${name} has two points with the same attributes`;
      if (m.dataPointType === DataPointType.GAUGE || m.dataPointType === DataPointType.SUM) {
        const bad = m.dataPoints.find((p) => typeof p.value !== 'number');
        if (bad) return `${name} (${m.prometheus?.type}) has a point whose value is ${typeof bad.value}`;
      } else if (m.dataPointType === DataPointType.HISTOGRAM) {
        for (const { value } of m.dataPoints) {
          const { boundaries, counts } = value.buckets;
          if (counts.length !== boundaries.length + 1) return `histogram ${name} has ${counts.length} counts for ${boundaries.length} boundaries`;
          if (counts.some((c) => !(c >= 0))) return `histogram ${name} has a negative or NaN bucket count`;
          if (value.boundaryLabels !== undefined && value.boundaryLabels.length !== boundaries.length) {
            return `histogram ${name} has bound labels out of step with its boundaries`;
          }
        }
      } else if (m.dataPointType === SUMMARY) {
        for (const { value } of m.dataPoints) {
          if (!Array.isArray(value.quantiles) || value.quantiles.some((q) => typeof q.value !== 'number')) return `summary ${name} has malformed quantiles`;
        }
      } else {
        return `${name} has point type ${m.dataPointType}`;
      }
    }
  }
  return undefined;
}

/** Whether a fresh ScrapeState reads the page as the session's state did, start times aside. */
async function freshProblem(batch: ResourceBatch, body: string, contentType: string, time: number, sampleLimit: number): Promise<string | undefined> {
  let fresh: ResourceBatch;
  try {
    fresh = (await new ScrapeState(resource, sampleLimit).convert(body, contentType, time)).batch;
  } catch (err) {
    return `a fresh state rejects it: ${describe(err)}`;
  }
  const cached = reading(batch);
  const expected = reading(fresh);
  if (cached === expected) return undefined;
  let at = 0;
  while (cached[at] === expected[at]) at++;
  const around = (text: string) => text.slice(Math.max(0, at - 100), at + 100);
  return `it reads otherwise than a fresh state:\n  cached: …${around(cached)}…\n  fresh:  …${around(expected)}…`;
}

/**
 * A batch as text, without start times; numbers that JSON cannot hold (NaN, ±Inf, -0)
 * spelled out; attributes in name order (a series written with its labels in another
 * order is the same series, and keeps the attributes it was first read with).
 */
function reading(batch: ResourceBatch): string {
  return JSON.stringify(batch.scopeMetrics, (key, value: unknown) => {
    if (key === 'startTime') return undefined;
    if (key === 'attributes' && value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    if (typeof value === 'number' && (!Number.isFinite(value) || Object.is(value, -0))) return String(value);
    return value;
  });
}

const labelsConfig = { resourceAttributes: ['backend'], constLabels: {}, honorLabels: false };

/** Whether /metrics would serve the batch as a body that parses, in both formats. */
function renderProblem(batch: ResourceBatch): string | undefined {
  const labels = new SeriesLabels(batch.resource, labelsConfig);
  for (const format of ['text', 'openmetrics'] as const) {
    let body: string;
    try {
      body = renderExposition([{ batch, labels }], { format });
    } catch (err) {
      return `rendering it as ${format} threw ${describe(err)}`;
    }
    try {
      parseFamilies(body, { openMetrics: format === 'openmetrics' });
    } catch (err) {
      const line = err instanceof ParseError ? body.split('\n')[err.line - 1] : '';
      return `its ${format} rendering does not parse: ${describe(err)}\n  ${line}`;
    }
  }
  return undefined;
}

function describe(err: unknown): string {
  if (err instanceof ParseError) return `ParseError: ${err.message}`;
  return err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
}

/** Runs a saved session again; returns its failure, if it still fails. */
export async function replay(file: string, render = false): Promise<SessionResult> {
  const session = JSON.parse(readFileSync(file, 'utf8')) as Session;
  return runSession(session, render);
}

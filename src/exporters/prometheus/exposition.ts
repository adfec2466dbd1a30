/**
 * Renders the latest snapshot of every resource as one exposition: one family
 * block per written family name across all resources (`# HELP` / `# TYPE` once),
 * families sorted by that name, resources in the order given, a resource's series
 * as received.
 *
 * Whatever the runners sent, the body stays valid: names and label names are
 * escaped for the scraper (src/prometheus/writer.ts writes every name and value),
 * and what escaping or the runners themselves make ambiguous is left out, first
 * come first served:
 *  - runner names that escape alike (`a.b`, `a_b`) share one block when they write
 *    the same samples, else the later one is left out;
 *  - a family whose name or sample names another family already writes (`h_count`
 *    beside histogram `h`) is left out;
 *  - a series whose labels another series of its family already has is left out.
 */
import { DataPointType } from '@opentelemetry/sdk-metrics';
import { SUMMARY, type DataPoint, type HistogramValue, type ResourceBatch, type SummaryValue } from '../../model/batch.js';
import { DEFAULT_ESCAPING, formatValue, helpLine, isFloatText, joinSeries, typeLine, writeLabelPair, type EscapingScheme } from '../../prometheus/writer.js';
import { BodyWriter } from './body-writer.js';
import { familyNaming, type ExpositionFormat, type FamilyNaming } from './family-naming.js';
import { planFamily, WRITTEN, type FamilyPlan, type PlanMember, type RenderCache } from './family-plan.js';
import type { SeriesLabels } from './series-labels.js';

export interface ExpositionSource {
  readonly batch: ResourceBatch;
  readonly labels: SeriesLabels;
}

export interface ExpositionOptions {
  readonly format: ExpositionFormat;
  /** How names outside the legacy charsets are written; `underscores` when not given. */
  readonly escaping?: EscapingScheme | undefined;
  /** Family names asked for with `name[]`; undefined means every family. */
  readonly names?: ReadonlySet<string> | undefined;
  /** Told of each runner family left out of this body because its names clash with another's. */
  readonly onLeftOut?: ((name: string, reason: string) => void) | undefined;
  /** Plans and sizes remembered from earlier renders of the same exporter; none renders from scratch. */
  readonly cache?: RenderCache | undefined;
}

interface Family {
  readonly naming: FamilyNaming;
  readonly members: PlanMember[];
}

/** The body as a string (tests, the fuzzer); scrapes are served writeExposition's bytes. */
export function renderExposition(sources: Iterable<ExpositionSource>, options: ExpositionOptions): string {
  return writeExposition(sources, options).toString('utf8');
}

/**
 * The body as the UTF-8 bytes a scrape is served. `sources` must already be in
 * output order (the store sorts them by resource key).
 */
export function writeExposition(sources: Iterable<ExpositionSource>, options: ExpositionOptions): Buffer {
  const escaping = options.escaping ?? DEFAULT_ESCAPING;
  const openMetrics = options.format === 'openmetrics';
  const { cache } = options;
  const families = writtenFamilies(byRunnerName(sources, escaping), options, escaping);
  const shape = `${options.format}\u0000${escaping}\u0000${options.names === undefined ? 'all' : 'some'}`;
  cache?.begin();
  const out = writer.begin(cache ? cache.sizeHint(shape) + (cache.sizeHint(shape) >> 4) : 64 * 1024);
  const claimed = new Set<string>();
  for (const name of [...families.keys()].sort()) {
    const { naming, members } = families.get(name)!;
    const taken = naming.claims.find((claim) => claimed.has(claim));
    if (taken !== undefined) {
      for (const member of members) options.onLeftOut?.(member.metric.descriptor.name, `another family already writes ${taken}`);
      continue;
    }
    for (const claim of naming.claims) claimed.add(claim);
    // Resources may disagree on a family's type or help; the first one in output order wins.
    const help = members[0]!.metric.descriptor.description;
    if (help) out.text(helpLine(naming.family, help, openMetrics));
    out.text(typeLine(naming.family, naming.type));
    const plan = cache ? cache.plan(`${options.format}\u0000${escaping}\u0000${name}`, members) : planFamily(members);
    // A family's type, and so its sample names, may change under one name: the texts follow them.
    const namesKey = `${naming.value}\u0000${naming.bucket}\u0000${naming.sum}\u0000${naming.count}`;
    const texts = plan.derived(namesKey, () => seriesTexts(members, plan, sampleNames(naming)));
    writeSeries(out, members, plan, texts);
  }
  if (openMetrics) out.text('# EOF\n');
  cache?.end(shape, out.length);
  return out.finish();
}

/**
 * The one writer every render uses (a render runs to its end before the next
 * starts). Why not a new one per render: a hidden class lives only while an object
 * has it, so when a full GC found no writer alive, V8 dropped the writer's class
 * and with it the optimized code of every write loop that checked it; after each
 * such GC the render ran deoptimized, about twice as slow, until V8 optimized again.
 */
const writer = new BodyWriter();

/** Every resource's metrics grouped by the runner's name, in output order, with their resource's labels for `escaping`. */
function byRunnerName(sources: Iterable<ExpositionSource>, escaping: EscapingScheme): Map<string, PlanMember[]> {
  const groups = new Map<string, PlanMember[]>();
  for (const source of sources) {
    const labels = source.labels.forScheme(escaping);
    for (const scope of source.batch.scopeMetrics) {
      for (const metric of scope.metrics) {
        const name = metric.descriptor.name;
        const members = groups.get(name);
        if (members) members.push({ metric, labels });
        else groups.set(name, [{ metric, labels }]);
      }
    }
  }
  return groups;
}

/** Groups metrics by the family name they are written under; runner names are taken in sorted order. */
function writtenFamilies(byName: Map<string, PlanMember[]>, options: ExpositionOptions, escaping: EscapingScheme): Map<string, Family> {
  const families = new Map<string, Family>();
  for (const name of [...byName.keys()].sort()) {
    // Members of one name almost always share a type: name them once per type,
    // and look the naming up only when a member's type differs from the one before.
    const namings = new Map<string, FamilyNaming | undefined>();
    let last: { type: unknown; pointType: unknown; monotonic: boolean; naming: FamilyNaming | undefined } | undefined;
    for (const member of byName.get(name)!) {
      const { metric } = member;
      const type = metric.prometheus?.type;
      const pointType = metric.dataPointType;
      const monotonic = pointType === DataPointType.SUM && metric.isMonotonic;
      let naming: FamilyNaming | undefined;
      if (last !== undefined && last.type === type && last.pointType === pointType && last.monotonic === monotonic) {
        naming = last.naming;
      } else {
        const key = `${type}/${pointType}/${monotonic}`;
        naming = namings.get(key);
        if (!namings.has(key)) {
          naming = familyNaming(name, metric, options.format, escaping);
          namings.set(key, naming);
        }
        last = { type, pointType, monotonic, naming };
      }
      if (naming === undefined) continue; // not writable: exponential histogram or empty name
      if (options.names !== undefined && !isRequested(name, naming, options.names)) continue;
      const family = families.get(naming.claims[0]!);
      if (family === undefined) {
        families.set(naming.claims[0]!, { naming, members: [member] });
      } else if (family.naming.shape === naming.shape) {
        family.members.push(member);
      } else {
        options.onLeftOut?.(name, `family ${naming.claims[0]} is already written with other samples`);
      }
    }
  }
  return families;
}

/**
 * `name[]` takes family names, as the runner or the scraper spells them; a histogram
 * or summary is also found by its `_bucket`, `_sum` or `_count`.
 */
function isRequested(name: string, naming: FamilyNaming, names: ReadonlySet<string>): boolean {
  if (names.has(name)) return true;
  for (const claim of naming.claims) if (names.has(claim)) return true;
  return false;
}

const LF = 0x0a;

/** A sample name's text before its labels: `name{` and, for a series without labels, `name` (or `{"name",` and `{"name"}`). */
interface SampleName {
  readonly open: string;
  readonly bare: string;
}

function sampleName(written: string): SampleName {
  return { open: joinSeries(written, '{'), bare: joinSeries(written, '') };
}

interface SampleNames {
  readonly value: SampleName;
  readonly bucket: SampleName;
  readonly sum: SampleName;
  readonly count: SampleName;
}

function sampleNames(naming: FamilyNaming): SampleNames {
  return { value: sampleName(naming.value), bucket: sampleName(naming.bucket), sum: sampleName(naming.sum), count: sampleName(naming.count) };
}

/**
 * The text of each written series up to its value, per point of a family plan:
 * `first` is a number's `name{labels} `, or the `name_bucket{labels,` (quantile:
 * `name{labels,`) its buckets' labels follow; `sum` and `count` are
 * `name_sum{labels} ` and `name_count{labels} `. Made once per plan and sample
 * names, so a render copies one text per line where it joined three or four.
 */
interface SeriesTexts {
  readonly first: readonly Buffer[];
  readonly sum: readonly Buffer[];
  readonly count: readonly Buffer[];
}

const NO_TEXT = Buffer.alloc(0);

function seriesTexts(members: readonly PlanMember[], plan: FamilyPlan, names: SampleNames): SeriesTexts {
  const size = plan.states.length;
  const first = new Array<Buffer>(size).fill(NO_TEXT);
  const sum = new Array<Buffer>(size).fill(NO_TEXT);
  const count = new Array<Buffer>(size).fill(NO_TEXT);
  let at = 0;
  for (const { metric } of members) {
    const type = metric.dataPointType;
    for (let i = 0; i < metric.dataPoints.length; i++, at++) {
      if (plan.states[at] !== WRITTEN) continue;
      const body = plan.bodies[at]!;
      if (type === DataPointType.SUM || type === DataPointType.GAUGE) {
        first[at] = closedText(names.value, body);
      } else if (type === DataPointType.HISTOGRAM || type === SUMMARY) {
        first[at] = openText(type === SUMMARY ? names.value : names.bucket, body);
        sum[at] = closedText(names.sum, body);
        count[at] = closedText(names.count, body);
      }
    }
  }
  return { first, sum, count };
}

/** `name{labels} ` or `name `, for a label body from SchemeLabels.body: the value follows. */
function closedText(name: SampleName, body: Buffer): Buffer {
  return body.length === 0 ? Buffer.from(name.bare + ' ', 'utf8') : joined(name.open, body, '} ');
}

/** `name{labels,` or `name{`: a bucket's or quantile's label follows. */
function openText(name: SampleName, body: Buffer): Buffer {
  return body.length === 0 ? Buffer.from(name.open, 'utf8') : joined(name.open, body, ',');
}

function joined(head: string, body: Buffer, tail: string): Buffer {
  const headLength = Buffer.byteLength(head, 'utf8');
  const text = Buffer.allocUnsafe(headLength + body.length + tail.length);
  text.write(head, 0, 'utf8');
  text.set(body, headLength);
  text.write(tail, headLength + body.length, 'latin1');
  return text;
}

/**
 * Every member's series the plan writes, members in order, each metric's points
 * in order. One small function per point type, each called per member: V8 keeps
 * each one's loop optimized on its own types, where one function for all types
 * kept being deoptimized.
 */
function writeSeries(out: BodyWriter, members: readonly PlanMember[], plan: FamilyPlan, texts: SeriesTexts): void {
  let at = 0;
  for (const { metric } of members) {
    switch (metric.dataPointType) {
      case DataPointType.SUM:
      case DataPointType.GAUGE:
        writeNumbers(out, metric.dataPoints as DataPoint<number>[], plan, at, texts);
        break;
      case DataPointType.HISTOGRAM:
        writeHistograms(out, metric.dataPoints as DataPoint<HistogramValue>[], plan, at, texts);
        break;
      case SUMMARY:
        writeSummaries(out, metric.dataPoints as DataPoint<SummaryValue>[], plan, at, texts);
        break;
      default:
        break;
    }
    at += metric.dataPoints.length;
  }
}

function writeNumbers(out: BodyWriter, points: readonly DataPoint<number>[], plan: FamilyPlan, at: number, texts: SeriesTexts): void {
  const { states } = plan;
  const { first } = texts;
  for (let i = 0; i < points.length; i++) {
    if (states[at + i] === WRITTEN) out.line(first[at + i]!, points[i]!.value);
  }
}

function writeHistograms(out: BodyWriter, points: readonly DataPoint<HistogramValue>[], plan: FamilyPlan, at: number, texts: SeriesTexts): void {
  const { states } = plan;
  for (let i = 0; i < points.length; i++) if (states[at + i] === WRITTEN) writeHistogram(out, points[i]!.value, texts, at + i);
}

function writeSummaries(out: BodyWriter, points: readonly DataPoint<SummaryValue>[], plan: FamilyPlan, at: number, texts: SeriesTexts): void {
  const { states } = plan;
  for (let i = 0; i < points.length; i++) if (states[at + i] === WRITTEN) writeSummary(out, points[i]!.value, texts, at + i);
}

/** Point `p` of the plan: its buckets, `_sum` and `_count`. */
function writeHistogram(out: BodyWriter, value: HistogramValue, texts: SeriesTexts, p: number): void {
  const { boundaries, counts } = value.buckets;
  const les = leLabels(boundaries, value.boundaryLabels);
  const open = texts.first[p]!;
  // The SDK stores per-bucket counts; the exposition wants them cumulative.
  let cumulative = 0;
  for (let i = 0; i < boundaries.length; i++) {
    cumulative += counts[i] ?? 0;
    const le = les[i];
    if (le === null) continue;
    out.line2(open, le!, cumulative);
  }
  cumulative += counts[boundaries.length] ?? 0;
  out.line2(open, INF_LABEL, cumulative);
  writeSumAndCount(out, value.sum, value.count, texts, p);
}

function writeSummary(out: BodyWriter, value: SummaryValue, texts: SeriesTexts, p: number): void {
  const { quantiles } = value;
  const open = texts.first[p]!;
  for (let i = 0; i < quantiles.length; i++) {
    const label = quantileText(quantiles[i]!);
    // A quantile given twice would be a duplicate series: the first one is kept.
    if (quantiles.findIndex((q) => quantileText(q) === label) < i) continue;
    out.bytes(open);
    out.text(label);
    out.value(quantiles[i]!.value);
    out.byte(LF);
  }
  writeSumAndCount(out, value.sum, value.count, texts, p);
}

function writeSumAndCount(out: BodyWriter, sum: number | undefined, count: number, texts: SeriesTexts, p: number): void {
  if (sum !== undefined) out.line(texts.sum[p]!, sum);
  out.line(texts.count[p]!, count);
}

const INF_LABEL = Buffer.from('le="+Inf"} ');

/**
 * The `le` label of each bucket, `le="0.5"} `, or null for a bucket not written
 * (`+Inf` among the finite bounds, written last; a bound given twice). The
 * runner's own `le` texts when the point was scraped: Prometheus keys the series
 * by them, so `1.0` must not come back as `1`. Receivers reuse a target's bounds
 * arrays from scrape to scrape, so the labels are kept per array.
 */
function leLabels(boundaries: readonly number[], texts: readonly string[] | undefined): readonly (Buffer | null)[] {
  const cached = leLabelsCache.get(boundaries);
  if (cached !== undefined && cached.texts === texts) return cached.labels;
  const labels: (Buffer | null)[] = [];
  for (let i = 0; i < boundaries.length; i++) {
    const text = texts?.[i];
    const le = text ? textLabel(leTextCache, 'le', text, boundaries[i]!) : leLabel(boundaries[i]!);
    const skip = boundaries[i] === Infinity || (i > 0 && sameBound(boundaries[i]!, boundaries[i - 1]!) && repeatsBound(boundaries, texts, i, le));
    labels.push(skip ? null : Buffer.from(le, 'utf8'));
  }
  leLabelsCache.set(boundaries, { texts, labels });
  return labels;
}

const leLabelsCache = new WeakMap<readonly number[], { texts: readonly string[] | undefined; labels: readonly (Buffer | null)[] }>();

function quantileText(q: SummaryValue['quantiles'][number]): string {
  return q.label ? textLabel(quantileTextCache, 'quantile', q.label, q.quantile) : quantileLabel(q.quantile);
}

function sameBound(a: number, b: number): boolean {
  return a === b || (a !== a && b !== b);
}

/**
 * Whether bucket `i`'s `le` label (`le`) was already written for this point: only
 * bounds equal in number can share a text (`1` and `1.0` do not), and boundaries
 * are sorted, so only the run of equal bounds before `i` is searched.
 */
function repeatsBound(boundaries: readonly number[], texts: readonly string[] | undefined, i: number, le: string): boolean {
  for (let j = i - 1; j >= 0 && sameBound(boundaries[j]!, boundaries[i]!); j--) {
    const text = texts?.[j];
    if ((text ? textLabel(leTextCache, 'le', text, boundaries[j]!) : leLabel(boundaries[j]!)) === le) return true;
  }
  return false;
}

/**
 * The closing label of a bucket or quantile sample, `le="0.5"} `, cached because
 * the same few boundaries repeat on every histogram point: by number for points
 * without label texts, by text for the runner's own. Bounded, so odd inputs cannot
 * grow them without limit.
 */
const MAX_CACHED_BOUNDS = 4096;
const leCache = new Map<number, string>();
const quantileCache = new Map<number, string>();
const leTextCache = new Map<string, string>();
const quantileTextCache = new Map<string, string>();

function leLabel(bound: number): string {
  return cachedLabel(leCache, 'le', bound);
}

function quantileLabel(quantile: number): string {
  return cachedLabel(quantileCache, 'quantile', quantile);
}

function cachedLabel(cache: Map<number, string>, name: string, value: number): string {
  let text = cache.get(value);
  if (text === undefined) {
    text = writeLabelPair(name, formatValue(value)) + '} ';
    if (cache.size < MAX_CACHED_BOUNDS) cache.set(value, text);
  }
  return text;
}

/** The runner's text when Prometheus can read it as a float; any other text (`""`, `0x10`) gives way to the number. */
function textLabel(cache: Map<string, string>, name: string, value: string, bound: number): string {
  let text = cache.get(value);
  if (text === undefined) {
    if (!isFloatText(value)) return cachedLabel(name === 'le' ? leCache : quantileCache, name, bound);
    text = writeLabelPair(name, value) + '} ';
    if (cache.size < MAX_CACHED_BOUNDS) cache.set(value, text);
  }
  return text;
}

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
import { SUMMARY, type DataPoint, type Metric, type ResourceBatch, type SummaryValue } from '../../model/batch.js';
import { DEFAULT_ESCAPING, formatValue, helpLine, isFloatText, joinSeries, typeLine, writeLabelPair, type EscapingScheme } from '../../prometheus/writer.js';
import { familyNaming, type ExpositionFormat, type FamilyNaming } from './family-naming.js';
import { labelSetKey, labelText, type SchemeLabels, type SeriesLabels, type SeriesText } from './series-labels.js';

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
}

interface Member {
  readonly metric: Metric;
  readonly labels: SeriesLabels;
}

interface Family {
  readonly naming: FamilyNaming;
  readonly members: Member[];
}

/** `sources` must already be in output order (the store sorts them by resource key). */
export function renderExposition(sources: Iterable<ExpositionSource>, options: ExpositionOptions): string {
  const escaping = options.escaping ?? DEFAULT_ESCAPING;
  const openMetrics = options.format === 'openmetrics';
  const families = writtenFamilies(byRunnerName(sources), options, escaping);
  const claimed = new Set<string>();
  const out: string[] = [];
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
    if (help) out.push(helpLine(naming.family, help, openMetrics));
    out.push(typeLine(naming.family, naming.type));
    const seen = new Set<string>();
    for (const member of members) writeMetric(out, member.metric, member.labels.forScheme(escaping), naming, seen);
  }
  if (openMetrics) out.push('# EOF\n');
  return out.join('');
}

/** Every resource's metrics grouped by the runner's name, in output order. */
function byRunnerName(sources: Iterable<ExpositionSource>): Map<string, Member[]> {
  const groups = new Map<string, Member[]>();
  for (const { batch, labels } of sources) {
    for (const scope of batch.scopeMetrics) {
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
function writtenFamilies(byName: Map<string, Member[]>, options: ExpositionOptions, escaping: EscapingScheme): Map<string, Family> {
  const families = new Map<string, Family>();
  for (const name of [...byName.keys()].sort()) {
    // Members of one name almost always share a type: name them once per type.
    const namings = new Map<string, FamilyNaming | undefined>();
    for (const member of byName.get(name)!) {
      const { metric } = member;
      const key = `${metric.prometheus?.type}/${metric.dataPointType}/${metric.dataPointType === DataPointType.SUM && metric.isMonotonic}`;
      let naming = namings.get(key);
      if (!namings.has(key)) {
        naming = familyNaming(name, metric, options.format, escaping);
        namings.set(key, naming);
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

function writeMetric(out: string[], metric: Metric, labels: SchemeLabels, naming: FamilyNaming, seen: Set<string>): void {
  switch (metric.dataPointType) {
    case DataPointType.SUM:
    case DataPointType.GAUGE:
      for (const point of metric.dataPoints) {
        if (typeof point.value !== 'number') continue; // malformed point: see isWellShaped
        const series = labels.series(point.attributes);
        if (isRepeat(seen, series)) continue;
        const closed = labelText(series);
        out.push(joinSeries(naming.value, closed) + ' ' + formatValue(point.value) + '\n');
      }
      return;
    case DataPointType.HISTOGRAM:
      for (const point of metric.dataPoints) {
        if (!isWellShaped(point.value, 'buckets')) continue;
        const series = labels.series(point.attributes, 'le');
        if (isRepeat(seen, series)) continue;
        const closed = labelText(series);
        const bucket = joinSeries(naming.bucket, labels.openText(point.attributes, 'le'));
        const { boundaries, counts } = point.value.buckets;
        // The runner's own `le` texts when the point was scraped: Prometheus keys the
        // series by them, so `1.0` must not come back as `1`.
        const texts = point.value.boundaryLabels;
        // The SDK stores per-bucket counts; the exposition wants them cumulative.
        let cumulative = 0;
        for (let i = 0; i < boundaries.length; i++) {
          cumulative += counts[i] ?? 0;
          const text = texts?.[i];
          const le = text ? textLabel(leTextCache, 'le', text, boundaries[i]!) : leLabel(boundaries[i]!);
          // `+Inf` is the overflow bucket, written last; a bound given twice is written once.
          if (boundaries[i] === Infinity) continue;
          if (i > 0 && sameBound(boundaries[i]!, boundaries[i - 1]!) && repeatsBound(boundaries, texts, i, le)) continue;
          out.push(bucket + le + formatValue(cumulative) + '\n');
        }
        cumulative += counts[boundaries.length] ?? 0;
        out.push(bucket + 'le="+Inf"} ' + formatValue(cumulative) + '\n');
        writeSumAndCount(out, point.value.sum, point.value.count, closed, naming);
      }
      return;
    case SUMMARY:
      for (const point of metric.dataPoints as DataPoint<SummaryValue>[]) {
        if (!isWellShaped(point.value, 'quantiles')) continue;
        const series = labels.series(point.attributes, 'quantile');
        if (isRepeat(seen, series)) continue;
        const closed = labelText(series);
        const quantile = joinSeries(naming.value, labels.openText(point.attributes, 'quantile'));
        const { quantiles } = point.value;
        for (let i = 0; i < quantiles.length; i++) {
          const label = quantileText(quantiles[i]!);
          // A quantile given twice would be a duplicate series: the first one is kept.
          if (quantiles.findIndex((q) => quantileText(q) === label) < i) continue;
          out.push(quantile + label + formatValue(quantiles[i]!.value) + '\n');
        }
        writeSumAndCount(out, point.value.sum, point.value.count, closed, naming);
      }
      return;
    default:
      return;
  }
}

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
 * Whether a histogram or summary point holds what its type promises. A point of
 * another shape (a source that mislabelled it) is left out rather than written as
 * `undefined` or failing the whole render.
 */
function isWellShaped(value: unknown, field: 'buckets' | 'quantiles'): boolean {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[field] === 'object';
}

/** True when a series with this label set was already written in this family; records it otherwise. */
function isRepeat(seen: Set<string>, series: SeriesText): boolean {
  const before = seen.size;
  seen.add(labelSetKey(series));
  return seen.size === before;
}

function writeSumAndCount(out: string[], sum: number | undefined, count: number, labels: string, naming: FamilyNaming): void {
  if (sum !== undefined) out.push(joinSeries(naming.sum, labels) + ' ' + formatValue(sum) + '\n');
  out.push(joinSeries(naming.count, labels) + ' ' + formatValue(count) + '\n');
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

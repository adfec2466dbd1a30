/**
 * Renders the latest snapshot of every resource as one exposition: one family
 * block per metric name across all resources (`# HELP` / `# TYPE` once), families
 * sorted by name, resources in the order given, a resource's series as received.
 */
import { DataPointType } from '@opentelemetry/sdk-metrics';
import { SUMMARY, type DataPoint, type Metric, type ResourceBatch, type SummaryValue } from '../../model/batch.js';
import { escapeHelp, escapeLabelValue, formatValue } from '../../prometheus/writer.js';
import { familyNaming, familyType, type ExpositionFormat, type FamilyNaming } from './family-naming.js';
import type { SeriesLabels } from './series-labels.js';

export interface ExpositionSource {
  readonly batch: ResourceBatch;
  readonly labels: SeriesLabels;
}

export interface ExpositionOptions {
  readonly format: ExpositionFormat;
  /** Family names asked for with `name[]`; undefined means every family. */
  readonly names?: ReadonlySet<string> | undefined;
}

interface Member {
  readonly metric: Metric;
  readonly labels: SeriesLabels;
}

/** `sources` must already be in output order (the store sorts them by resource key). */
export function renderExposition(sources: Iterable<ExpositionSource>, options: ExpositionOptions): string {
  const families = groupFamilies(sources, options.names);
  const openMetrics = options.format === 'openmetrics';
  // OpenMetrics also escapes `"` in HELP, exactly as in label values.
  const escape = openMetrics ? escapeLabelValue : escapeHelp;
  const out: string[] = [];
  for (const name of [...families.keys()].sort()) {
    const members = families.get(name)!;
    // Resources may disagree on a family's type or help; the first one in output order wins.
    const first = members[0]!.metric;
    const naming = familyNaming(name, familyType(first)!, options.format);
    const help = first.descriptor.description;
    if (help) out.push(`# HELP ${naming.family} ${escape(help)}\n`);
    out.push(`# TYPE ${naming.family} ${naming.type}\n`);
    for (const member of members) writeMetric(out, member.metric, member.labels, naming);
  }
  if (openMetrics) out.push('# EOF\n');
  return out.join('');
}

function groupFamilies(sources: Iterable<ExpositionSource>, names: ReadonlySet<string> | undefined): Map<string, Member[]> {
  const families = new Map<string, Member[]>();
  for (const { batch, labels } of sources) {
    for (const scope of batch.scopeMetrics) {
      for (const metric of scope.metrics) {
        if (familyType(metric) === undefined) continue;
        const name = metric.descriptor.name;
        if (names !== undefined && !isRequested(metric, names)) continue;
        const members = families.get(name);
        if (members) members.push({ metric, labels });
        else families.set(name, [{ metric, labels }]);
      }
    }
  }
  return families;
}

/** `name[]` takes family names; a histogram or summary is also found by its `_bucket`, `_sum` or `_count`. */
function isRequested(metric: Metric, names: ReadonlySet<string>): boolean {
  const name = metric.descriptor.name;
  if (names.has(name)) return true;
  if (metric.dataPointType !== DataPointType.HISTOGRAM && metric.dataPointType !== SUMMARY) return false;
  return names.has(`${name}_bucket`) || names.has(`${name}_sum`) || names.has(`${name}_count`);
}

function writeMetric(out: string[], metric: Metric, labels: SeriesLabels, naming: FamilyNaming): void {
  switch (metric.dataPointType) {
    case DataPointType.SUM:
    case DataPointType.GAUGE:
      for (const point of metric.dataPoints) {
        out.push(naming.value + labels.closedText(point.attributes) + ' ' + formatValue(point.value) + '\n');
      }
      return;
    case DataPointType.HISTOGRAM:
      for (const point of metric.dataPoints) {
        const open = labels.openText(point.attributes);
        const { boundaries, counts } = point.value.buckets;
        // The runner's own `le` texts when the point was scraped: Prometheus keys the
        // series by them, so `1.0` must not come back as `1`.
        const texts = point.value.boundaryLabels;
        // The SDK stores per-bucket counts; the exposition wants them cumulative.
        let cumulative = 0;
        for (let i = 0; i < boundaries.length; i++) {
          cumulative += counts[i] ?? 0;
          const text = texts?.[i];
          const le = text ? textLabel(leTextCache, 'le', text) : leLabel(boundaries[i]!);
          out.push(naming.bucket + open + le + formatValue(cumulative) + '\n');
        }
        cumulative += counts[boundaries.length] ?? 0;
        out.push(naming.bucket + open + 'le="+Inf"} ' + formatValue(cumulative) + '\n');
        writeSumAndCount(out, point.value.sum, point.value.count, labels.closedText(point.attributes), naming);
      }
      return;
    case SUMMARY:
      for (const point of metric.dataPoints as DataPoint<SummaryValue>[]) {
        const open = labels.openText(point.attributes);
        for (const q of point.value.quantiles) {
          const label = q.label ? textLabel(quantileTextCache, 'quantile', q.label) : quantileLabel(q.quantile);
          out.push(naming.value + open + label + formatValue(q.value) + '\n');
        }
        writeSumAndCount(out, point.value.sum, point.value.count, labels.closedText(point.attributes), naming);
      }
      return;
    default:
      return;
  }
}

function writeSumAndCount(out: string[], sum: number | undefined, count: number, labels: string, naming: FamilyNaming): void {
  if (sum !== undefined) out.push(naming.sum + labels + ' ' + formatValue(sum) + '\n');
  out.push(naming.count + labels + ' ' + formatValue(count) + '\n');
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
    text = `${name}="${formatValue(value)}"} `;
    if (cache.size < MAX_CACHED_BOUNDS) cache.set(value, text);
  }
  return text;
}

function textLabel(cache: Map<string, string>, name: string, value: string): string {
  let text = cache.get(value);
  if (text === undefined) {
    text = `${name}="${escapeLabelValue(value)}"} `;
    if (cache.size < MAX_CACHED_BOUNDS) cache.set(value, text);
  }
  return text;
}

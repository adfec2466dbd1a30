/**
 * Grouping samples into metric families, by Prometheus' rules: a sample belongs to
 * the longest declared family whose type owns its name's suffix; any other sample
 * is an `untyped` family of its own.
 */
import type { PrometheusType } from '../model/batch.js';
import { ExpositionParser, type ParserOptions } from './parser.js';
import { StringKeyMap } from '../model/string-key-map.js';

export type Labels = string[]; // flat [n0, v0, n1, v1, ...]

export interface Sample {
  name: string;
  labels: Labels;
  value: number;
  /** Milliseconds since the epoch. */
  timestamp?: number;
}

export interface MetricFamily {
  name: string;
  type: PrometheusType;
  help?: string;
  unit?: string;
  samples: Sample[];
}

/** Which family a sample belongs to, and its role, given the TYPEs declared so far in this body. */
export type SampleRole = 'value' | 'bucket' | 'sum' | 'count' | 'created' | 'gcount' | 'gsum' | 'info';

export interface ResolvedFamily {
  family: string;
  type: PrometheusType;
  role: SampleRole;
}

type Suffix = '' | '_total' | '_created' | '_bucket' | '_sum' | '_count' | '_gcount' | '_gsum' | '_info';

/** The sample names each family type owns, as suffixes of the family name. */
const OWNED: Readonly<Record<PrometheusType, Partial<Record<Suffix, SampleRole>>>> = {
  // `foo_total` is the OpenMetrics counter sample; a 0.0.4 counter declared as `foo_total` owns it via ''.
  counter: { '': 'value', _total: 'value', _created: 'created' },
  gauge: { '': 'value' },
  untyped: { '': 'value' },
  unknown: { '': 'value' },
  stateset: { '': 'value' },
  histogram: { _bucket: 'bucket', _sum: 'sum', _count: 'count', _created: 'created' },
  gaugehistogram: { _bucket: 'bucket', _gcount: 'gcount', _gsum: 'gsum' },
  summary: { '': 'value', _sum: 'sum', _count: 'count', _created: 'created' },
  info: { '': 'info', _info: 'info' },
};

// No two of these end one another, so a name has at most one of them besides the empty suffix.
const SUFFIXES: readonly Suffix[] = ['_total', '_created', '_bucket', '_sum', '_count', '_gcount', '_gsum', '_info'];

/** The suffixes that tie a sample name to a family stem (`_bucket`, `_sum`, …). */
export const SAMPLE_SUFFIXES: readonly string[] = SUFFIXES;

/** The TYPE declared for a name so far in a body, if any: a Map, or any view with the same `get`. */
export interface DeclaredTypes {
  get(name: string): PrometheusType | undefined;
}

/**
 * The one family name other than its own that a sample name can belong to: the name
 * without its suffix (`foo` for `foo_bucket`), or undefined when it has none. A
 * sample's family depends on the TYPEs declared for these two names only.
 */
export function familyStem(sampleName: string): string | undefined {
  for (const suffix of SUFFIXES) {
    if (sampleName.length > suffix.length && sampleName.endsWith(suffix)) return sampleName.slice(0, sampleName.length - suffix.length);
  }
  return undefined;
}

export function resolveFamily(sampleName: string, declared: DeclaredTypes): ResolvedFamily {
  // The sample's own name is the longest candidate: try it first.
  const own = declared.get(sampleName);
  const ownRole = own === undefined ? undefined : OWNED[own][''];
  if (own !== undefined && ownRole !== undefined) return { family: sampleName, type: own, role: ownRole };

  const family = familyStem(sampleName);
  if (family !== undefined) {
    const type = declared.get(family);
    const role = type === undefined ? undefined : OWNED[type][sampleName.slice(family.length) as Suffix];
    if (type !== undefined && role !== undefined) return { family, type, role };
  }
  return { family: sampleName, type: 'untyped', role: 'value' };
}

/**
 * The metric name Prometheus stores a sample under when it scrapes the page: a
 * counter's or info's value sample keeps its own name (`foo_total` and `foo_info`
 * of OpenMetrics family `foo`, `a_total` of a 0.0.4 counter declared as `a`,
 * TorchServe's bare `Requests2XX`). Every other single-valued sample is named as
 * its family already, and a histogram's or summary's parts are one metric named
 * after the family.
 */
export function storedName(sampleName: string, resolved: ResolvedFamily): string {
  return resolved.role === 'value' || resolved.role === 'info' ? sampleName : resolved.family;
}

/** Parses a whole body into families, in the order they first appear. Throws ParseError. */
export function parseFamilies(text: string, options?: ParserOptions): MetricFamily[] {
  const parser = new ExpositionParser(text, options);
  const families: MetricFamily[] = [];
  // Names can be longer than V8 hashes by content: see StringKeyMap.
  const byName = new StringKeyMap<MetricFamily>();
  const declared = new StringKeyMap<PrometheusType>();

  const familyNamed = (name: string, type: PrometheusType): MetricFamily => {
    let family = byName.get(name);
    if (family === undefined) {
      family = { name, type, samples: [] };
      byName.set(name, family);
      families.push(family);
    }
    return family;
  };

  // Consecutive samples mostly share a name: remember the last one's family.
  let lastName: string | undefined;
  let lastFamily: MetricFamily | undefined;

  for (let kind = parser.next(); kind !== 'eof'; kind = parser.next()) {
    switch (kind) {
      case 'series': {
        const name = parser.metricName();
        if (name !== lastName || lastFamily === undefined) {
          const resolved = resolveFamily(name, declared);
          lastFamily = familyNamed(resolved.family, resolved.type);
          lastName = name;
        }
        const sample: Sample = { name, labels: parser.labels(), value: parser.value };
        const timestamp = parser.timestamp;
        if (timestamp !== undefined) sample.timestamp = timestamp;
        lastFamily.samples.push(sample);
        break;
      }
      case 'help':
        familyNamed(parser.familyName(), 'untyped').help = parser.helpText();
        break;
      case 'type': {
        const name = parser.familyName();
        const type = parser.familyType();
        declared.set(name, type);
        familyNamed(name, type).type = type;
        lastName = undefined; // a new declaration may claim the next sample name
        break;
      }
      case 'unit':
        familyNamed(parser.familyName(), 'untyped').unit = parser.unitText();
        break;
      case 'comment':
        break;
    }
  }
  return families;
}

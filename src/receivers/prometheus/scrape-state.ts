/**
 * Turns one target's exposition pages into batches, keeping per-series state
 * between scrapes:
 *  - Series are cached by their raw text (`name{labels}`), after Prometheus'
 *    scrapeCache: an unchanged series costs one map lookup (or one string comparison
 *    when it is where it was on the last page), no label parsing and no new
 *    attributes object (exporters cache their rendering per attributes object).
 *    Only a new raw text has its labels parsed, and so validated: the parser's
 *    next() checks just the line's structure.
 *  - Counters, histograms and summaries carry start times: when the series was
 *    first seen, its `_created` value when the runner sends one, or the scrape at
 *    which a reset (value going down, e.g. a runner restart) was detected.
 *  - A cached series remembers the TYPE declarations it was resolved against (those
 *    of its own name and of its family stem): when the page declares either name
 *    differently, the series is resolved again, so a family changing type between
 *    scrapes (gauge → summary) never reuses the old grouping. Within one page, a TYPE
 *    line that would regroup samples already read, or two families that would both
 *    be stored under one metric name, fail the page with a parse error.
 *  - A scrape is committed only when the whole page parsed: one bad line fails the
 *    scrape (as in Prometheus) and leaves the previous state untouched.
 *  - The work is linear in the page, and convertInSlices() does it in slices of a few
 *    milliseconds, so one large page cannot hold up other targets or /metrics.
 */
import type { Resource } from '@opentelemetry/resources';
import { ExpositionParser, LabelLimitError, ParseError, type LabelLimits } from '../../prometheus/parser.js';
import { SAMPLE_SUFFIXES, familyStem, resolveFamily, storedName, type DeclaredTypes, type SampleRole } from '../../prometheus/families.js';
import {
  DataPointType,
  SUMMARY,
  millisToHrTime,
  type Attributes,
  type DataPoint,
  type HrTime,
  type Metric,
  type PrometheusType,
  type ResourceBatch,
} from '../../model/batch.js';
import { TYPE_CORRECTIONS } from './quirks.js';
import { ownCopy } from '../../model/own-copy.js';
import { pointsHeld } from '../../model/point-holds.js';
import { getAttribute, setAttribute } from '../../model/attributes.js';
import { VERSION } from '../../version.js';
import { ScrapeError } from './fetch.js';
import { StringKeyMap, type StringLookup } from '../../model/string-key-map.js';
import { Slicer } from './slicer.js';
import { PageSamples } from './page-samples.js';
import { DEFAULT_LABEL_LIMITS, DEFAULT_SAMPLE_LIMIT } from './page-limits.js';
import { AlternatingBatch, familyMetric, type HistogramPoint, type MetricFamily, type SummaryPoint } from './scrape-output.js';

export const RECEIVER_SCOPE = { name: 'runner-metrics/receiver/prometheus', version: VERSION };

/** One metric of the batch, named as Prometheus stores it (`foo_total`, not OpenMetrics family `foo`). */
interface FamilyState extends MetricFamily {
  readonly name: string;
  /** The family its `# HELP`, `# TYPE` and `# UNIT` lines name: `foo` for OpenMetrics counter samples `foo_total`. */
  declaredAs: string;
  type: PrometheusType;
  /** The convert() call whose first series of this metric set `type` and `declaredAs`; all others must agree. */
  readIn: number;
  help: string;
  unit: string;
  /** Scrape number in which this family last had samples; its per-scrape lists are reset lazily. */
  scrapeId: number;
  /** Series (counter/gauge) or groups (histogram/summary) seen in the current scrape, in page order: the first `memberCount`. */
  members: Array<SeriesState | GroupState>;
  /** Members of the current scrape; the array keeps its capacity from scrape to scrape (see PageSamples). */
  memberCount: number;
  /** The resolutions its series share; a few (one per role), rebuilt when declarations churn. */
  resolutions: Resolution[];
  /** Its points' lists of even and odd scrapes (see SeriesState.evenPoint and scrape-output.ts). */
  evenPoints: ScrapedPoint[];
  oddPoints: ScrapedPoint[];
}

type ScrapedPoint = DataPoint<number> | HistogramPoint | SummaryPoint;

/**
 * What the page being read declares for one name. Kept across scrapes (one per name
 * that a live series or this page's TYPE lines use), so that a cached series checks
 * with two field reads that the declarations it was resolved against still hold.
 */
interface Declaration {
  readonly name: string;
  /** The type declared in convert() call `declaredIn`; in any other call the name is undeclared. */
  type: PrometheusType;
  declaredIn: number;
  /** The call in which a sample of exactly this name was read. */
  sampledIn: number;
  /** The call in which a sample whose family stem is this name was read (`foo_sum` for `foo`). */
  stemSampledIn: number;
  /** The last call that used it, for sweeping. */
  usedIn: number;
}

/**
 * How a series was resolved: the family that declares it, its type and the sample's
 * role in it, and the declarations of its own name and of its family stem with what
 * they said then. Immutable and shared by all the series of a family resolved alike
 * (FamilyState.resolutions), so a cached series holds one reference instead of eight
 * fields: 56 bytes less per series, and more of RSS, since V8 sizes the old
 * generation as a multiple of what is live.
 */
interface Resolution {
  readonly family: FamilyState;
  readonly declaredAs: string;
  readonly type: PrometheusType;
  readonly role: SampleRole;
  readonly own: Declaration;
  readonly ownType: PrometheusType | undefined;
  readonly stem: Declaration | undefined;
  readonly stemType: PrometheusType | undefined;
}

/** One sample line's series: `foo{a="1"}`, or one bucket/quantile/_sum/_count of a group. */
interface SeriesState {
  /** The raw `name{labels}` text it is cached under. */
  readonly key: string;
  /**
   * Its name and label set, labels sorted (the key itself when written so): `x` and
   * `x{}`, or labels in another order, are other texts of the same series.
   */
  readonly identity: string;
  readonly resolution: Resolution;
  /** The runner's labels, without `le`/`quantile`; shared by every scrape's data point. */
  readonly attributes: Attributes;
  /** `le` or `quantile` bound, for buckets and quantiles. */
  readonly bound: number;
  /**
   * The bound's label text as the runner wrote it (`1.0`, `1e+06`), which Prometheus
   * keys the series by and /metrics must write back verbatim; '' for other series.
   */
  readonly boundText: string;
  /** Histogram/summary group this series belongs to. */
  readonly group: GroupState | undefined;
  startTime: HrTime;
  previous: number;
  lastSeen: number;
  /** The convert() call that last read this series: a second sighting in one page is a duplicate. */
  readIn: number;
  /**
   * A counter's or gauge's data point of the even and of the odd scrapes, rewritten
   * in place. Handing on a new object per series and scrape made most of what the
   * young generation promoted (each batch lives until the next scrape replaces it),
   * and so most of RSS. Two take turns, so the batch exporters hold keeps its values
   * while the next scrape is read: a batch is unchanged until its target's second
   * scrape after it (the contract in model/batch.ts).
   */
  evenPoint: MutablePoint | undefined;
  oddPoint: MutablePoint | undefined;
}

/**
 * A counter's or gauge's point, rewritten in place. Its own class, with no field
 * declarations that would emit `undefined` first: V8 gives a field the
 * representation of the first value stored in it, and one that began as
 * `undefined` (or shared its hidden class with histogram points, whose `value` is an
 * object, as a literal of the same keys does) stays tagged, so every fractional
 * value written to it was a new 16-byte heap number. It lived as long as the point,
 * two scrapes, and so was promoted: most of what the young generation promoted.
 * Here `value` is a double field, written in place.
 */
class MutablePoint implements DataPoint<number> {
  declare startTime: HrTime;
  declare endTime: HrTime;
  declare readonly attributes: Attributes;
  declare value: number;

  constructor(startTime: HrTime, endTime: HrTime, attributes: Attributes, value: number) {
    this.startTime = startTime;
    this.endTime = endTime;
    this.attributes = attributes;
    this.value = value;
  }
}

/** A histogram or summary point under construction: all series sharing labels but `le`/`quantile`. */
interface GroupState {
  readonly attributes: Attributes;
  startTime: HrTime;
  previousCount: number;
  scrapeId: number;
  bounds: number[];
  /** Label texts of `bounds`, index for index. */
  boundTexts: string[];
  values: number[];
  sum: number;
  count: number;
  /** The previous scrape's boundaries, reused while unchanged. */
  boundaries: number[];
  /** The `le` texts of `boundaries`, index for index, reused with them. */
  boundaryTexts: string[];
  /** Its point of the even and of the odd scrapes, rewritten in place (scrape-output.ts). */
  evenPoint: HistogramPoint | SummaryPoint | undefined;
  oddPoint: HistogramPoint | SummaryPoint | undefined;
}

export interface ConvertResult {
  readonly batch: ResourceBatch;
  /** Sample lines on the page, duplicates included (Prometheus' `scrape_samples_scraped`). */
  readonly samples: number;
  readonly seriesAdded: number;
  /** Repeats of a series already read from this page: skipped, the first value is kept. */
  readonly duplicates: number;
}

/** How long convertInSlices() keeps the event loop before letting other work run. */
export const SLICE_MS = 5;
/** Work units (see Slicer) of one sample line besides its bytes, of one committed sample, of one point. */
const PER_ENTRY = 64;
const PER_SAMPLE = 32;
const PER_POINT = 32;

export class ScrapeState {
  // Keyed by page text, which can be longer than V8 hashes strings by content.
  /** Series by raw text; within a page, also other texts of the same series (aliases), dropped at commit. */
  private readonly series = new StringKeyMap<SeriesState>();
  /** Series by identity, one entry per series. */
  private readonly identities = new StringKeyMap<SeriesState>();
  private readonly families = new StringKeyMap<FamilyState>();
  private readonly groups = new StringKeyMap<GroupState>();
  private readonly declarations = new StringKeyMap<Declaration>();
  /** The types the page being read has declared so far, as resolveFamily asks for them. */
  private readonly declaredNow: DeclaredTypes = {
    get: (name) => {
      const d = this.declarations.get(name);
      return d !== undefined && d.declaredIn === this.pass ? d.type : undefined;
    },
  };
  private scrapeId = 0;
  /** Counts convert() calls, failed ones too, unlike scrapeId, which only counts committed scrapes. */
  private pass = 0;
  /** Declarations used by the current convert() call, to know when some are left to sweep. */
  private declarationsUsed = 0;
  /** Set while a page is being converted: between slices the state is half updated. */
  private converting = false;
  /**
   * Set when a scrape starts handing on while points are held (point-holds.ts): its
   * batch, metrics, point lists and points are made anew instead of rewriting
   * those of two scrapes ago, which a consumer may still be reading.
   */
  private fresh = false;

  // Per-scrape scratch space, reused to avoid allocating per sample.
  private pending = new PageSamples<SeriesState>();
  /** The last committed scrape's series in page order: the likely series at each position of the next page. */
  private previous = new PageSamples<SeriesState>();
  /** The attributes of the series made last, whose label values the next one reuses when equal. */
  private lastAttributes: Attributes | undefined;
  /** Cached series resolved again in the current call, restored if its page fails. */
  private readonly replaced: SeriesState[] = [];
  private readonly batches = new AlternatingBatch(RECEIVER_SCOPE);

  constructor(
    private readonly resource: Resource,
    private readonly sampleLimit = DEFAULT_SAMPLE_LIMIT,
    private readonly labelLimits: LabelLimits = DEFAULT_LABEL_LIMITS,
  ) {}

  get seriesCount(): number {
    return this.identities.size;
  }

  /** Parses a page and, if it is whole and valid, returns the target's new snapshot; in one go. */
  convert(body: string, contentType: string, scrapeTimeMs: number): ConvertResult {
    const steps = this.steps(body, contentType, scrapeTimeMs, Slicer.NEVER);
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
    }
  }

  /**
   * As convert(), but hands the event loop back after about `sliceMs` of work, so a
   * large page cannot delay other targets' scrapes or a /metrics answer. Calls must not
   * overlap (a target's scrapes never do); the outcome is the same whole page or nothing.
   */
  async convertInSlices(body: string, contentType: string, scrapeTimeMs: number, sliceMs = SLICE_MS): Promise<ConvertResult> {
    const slicer = new Slicer(sliceMs);
    const steps = this.steps(body, contentType, scrapeTimeMs, slicer);
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
      await new Promise<void>((resolve) => setImmediate(resolve));
      slicer.start();
    }
  }

  /** The conversion, pausing (yield) whenever the slicer says its slice is over. */
  private *steps(body: string, contentType: string, scrapeTimeMs: number, slicer: Slicer): Generator<void, ConvertResult, void> {
    if (this.converting) throw new Error('ScrapeState: a page is already being converted');
    this.converting = true;
    try {
      return yield* this.convertPage(body, contentType, scrapeTimeMs, slicer);
    } finally {
      this.converting = false;
    }
  }

  private *convertPage(body: string, contentType: string, scrapeTimeMs: number, slicer: Slicer): Generator<void, ConvertResult, void> {
    const openMetrics = contentType.includes('application/openmetrics-text');
    const scrapeId = this.scrapeId + 1;
    const pass = ++this.pass;
    const now = millisToHrTime(scrapeTimeMs);
    const help = new StringKeyMap<string>();
    const units = new StringKeyMap<string>();
    const pending = this.pending;
    pending.clear();
    this.replaced.length = 0;
    this.declarationsUsed = 0;
    let seriesAdded = 0;
    let duplicates = 0;
    const previous = this.previous;
    const parser = new ExpositionParser(body, { openMetrics, limits: this.labelLimits });
    let offset = 0;
    /** The resolution last checked (stillResolves) and claimed on this page, since its last TYPE line. */
    let checked: Resolution | undefined;
    try {
      if (this.sampleLimit > 0) yield* this.checkSampleLimit(body, openMetrics, slicer);
      for (;;) {
        // Runners write their series in the same order every scrape: the parser compares the
        // line with the series last seen at this position in place, which is cheaper than
        // cutting the key out of the page and hashing it for the map.
        const expected = previous.at(pending.length);
        const kind = parser.next(expected?.key);
        if (kind === 'eof') break;
        if (slicer.due(PER_ENTRY + parser.offset - offset)) yield;
        offset = parser.offset;
        if (kind === 'series') {
          let s = parser.matchedExpected ? expected : undefined;
          if (s === undefined) {
            const key = parser.seriesKey();
            s = this.series.get(key);
            if (s === undefined) {
              s = this.newSeries(ownCopy(key), parser, now, undefined);
              const known = this.identities.get(s.identity);
              if (known === undefined) {
                this.series.set(s.key, s);
                this.identities.set(s.identity, s);
                seriesAdded++;
              } else {
                // Another text of a known series (`x{}` for `x`): an alias until the page is committed.
                this.series.set(s.key, known);
                s = known;
              }
            }
          }
          if (s.readIn === pass) {
            // The same series twice in one page: Prometheus keeps the first sample and
            // rejects the others; writing both would give /metrics a duplicate series.
            duplicates++;
            continue;
          }
          // Series of one family share a resolution: checked and claimed for the first, it
          // holds for the rest until a TYPE line may change what the page declares.
          if (s.resolution !== checked) {
            if (!this.stillResolves(s, pass)) {
              // Marked read: found again at a later position of this page, it is a duplicate.
              s.readIn = pass;
              this.replaced.push(s);
              s = this.newSeries(s.key, parser, now, s);
              this.series.set(s.key, s);
              this.identities.set(s.identity, s);
            }
            this.claim(s, pass, parser.line);
            checked = s.resolution;
          }
          s.readIn = pass;
          pending.push(s, parser.value);
          if (this.sampleLimit > 0 && pending.length > this.sampleLimit) {
            throw new ScrapeError(`more than sample_limit ${this.sampleLimit} samples`, 'sample_limit');
          }
        } else if (kind === 'type') {
          checked = undefined;
          const name = parser.familyName();
          this.declare(name, TYPE_CORRECTIONS.get(name) ?? parser.familyType(), pass, parser.line);
        } else if (kind === 'help') {
          help.set(parser.familyName(), parser.helpText());
        } else if (kind === 'unit') {
          units.set(parser.familyName(), parser.unitText());
        }
      }
    } catch (err) {
      // Series created or resolved again for a page that failed are rolled back with it.
      if (seriesAdded > 0) yield* this.dropUncommitted(slicer);
      for (const s of this.replaced) {
        this.series.set(s.key, s);
        this.identities.set(s.identity, s);
      }
      if (err instanceof LabelLimitError) throw new ScrapeError(err.message, err.limit);
      if (err instanceof ParseError) throw new ScrapeError(`invalid exposition: ${err.message}`, 'parse');
      throw err;
    }
    this.scrapeId = scrapeId;
    const batch = yield* this.commit(scrapeId, now, help, units, slicer);
    yield* this.sweep(scrapeId, pending.length, pass, slicer);
    pending.release();
    this.previous = pending;
    this.pending = previous;
    return { batch, samples: pending.length + duplicates, seriesAdded, duplicates };
  }

  /**
   * Fails a page with more sample lines than sample_limit (duplicates count, as in
   * Prometheus) before any series is made: converting up to the limit and rolling back
   * would churn the heap on every scrape of such a page. Lines bound the samples, so
   * most pages are cleared by a native count of line feeds; only a page with more lines
   * than the limit is parsed (cached path only) to count its samples.
   */
  private *checkSampleLimit(body: string, openMetrics: boolean, slicer: Slicer): Generator<void, void, void> {
    const limit = this.sampleLimit;
    // A sample line takes at least 4 characters (`a 1` and its line feed): a page this
    // short cannot hold more samples than the limit, and needs no count.
    if ((body.length + 1) / 4 <= limit) return;
    let lines = 1;
    for (let at = body.indexOf('\n'); at >= 0 && lines <= limit; at = body.indexOf('\n', at + 1)) lines++;
    if (lines <= limit) return;
    const counter = new ExpositionParser(body, { openMetrics });
    let samples = 0;
    let offset = 0;
    for (let kind = counter.next(); kind !== 'eof'; kind = counter.next()) {
      if (slicer.due(PER_ENTRY + counter.offset - offset)) yield;
      offset = counter.offset;
      if (kind === 'series' && ++samples > limit) throw new ScrapeError(`more than sample_limit ${limit} samples`, 'sample_limit');
    }
  }

  /**
   * Resolves the current sample's series: its family under the TYPEs declared so far,
   * its labels. `previous` is the cached state of the same raw text when it was
   * resolved differently before; its start time and last value carry over when the
   * series is still the same metric (same stored name, type and role).
   */
  private newSeries(key: string, parser: ExpositionParser, now: HrTime, previous: SeriesState | undefined): SeriesState {
    const sampleName = parser.metricName();
    const own = this.declaration(sampleName);
    const stemName = familyStem(sampleName);
    const stem = stemName === undefined ? undefined : this.declaration(stemName);
    const resolved = resolveFamily(sampleName, this.declaredNow);
    const { type, role } = resolved;
    // Both names are own or stem: take the declarations' copies, which do not pin the page.
    const declaredAs = resolved.family === sampleName ? own.name : stem!.name;
    const metricName = storedName(sampleName, resolved) === sampleName ? own.name : declaredAs;
    const family = this.familyFor(metricName, declaredAs, type);
    const labels = parser.labels();
    const identity = identityOf(key, sampleName, labels);
    // Most labels (model, target, instance) repeat from one series to the next: one string each.
    const last = this.lastAttributes;
    const attributes: Attributes = {};
    let bound = NaN;
    let boundText = '';
    const boundLabel = role === 'bucket' ? 'le' : type === 'summary' && role === 'value' ? 'quantile' : undefined;
    for (let i = 0; i < labels.length; i += 2) {
      if (labels[i] === boundLabel) {
        boundText = ownCopy(labels[i + 1]!);
        bound = parseBound(boundText);
      } else {
        const value = labels[i + 1]!;
        const before = last === undefined ? undefined : getAttribute(last, labels[i]!);
        setAttribute(attributes, ownCopy(labels[i]!), before === value ? before : ownCopy(value));
      }
    }
    this.lastAttributes = attributes;
    const grouped = type === 'histogram' || type === 'gaugehistogram' || type === 'summary';
    const group = grouped && role !== 'created' ? this.groupFor(declaredAs, type, attributes, now) : undefined;
    const before = previous?.resolution;
    const same = previous !== undefined && before!.family === family && before!.type === type && before!.role === role;
    const ownType = this.declaredNow.get(own.name);
    const stemType = stem === undefined ? undefined : this.declaredNow.get(stem.name);
    return {
      key,
      identity,
      resolution: sharedResolution(family, declaredAs, type, role, own, ownType, stem, stemType),
      attributes: group ? group.attributes : attributes,
      bound,
      boundText,
      group,
      startTime: same ? previous.startTime : now,
      previous: same ? previous.previous : NaN,
      lastSeen: same ? previous.lastSeen : 0,
      readIn: 0,
      evenPoint: undefined,
      oddPoint: undefined,
    };
  }

  /** Whether the page declares the series' own name and family stem as when it was resolved. */
  private stillResolves(series: SeriesState, pass: number): boolean {
    const s = series.resolution;
    const own = s.own.declaredIn === pass ? s.own.type : undefined;
    if (own !== s.ownType) return false;
    if (s.stem === undefined) return true;
    return (s.stem.declaredIn === pass ? s.stem.type : undefined) === s.stemType;
  }

  /**
   * Marks the series' names as sampled in this page (a later TYPE line may not regroup
   * them) and checks that its metric has one type and one declaring family per page.
   */
  private claim(series: SeriesState, pass: number, line: number): void {
    const s = series.resolution;
    const own = s.own;
    if (own.sampledIn !== pass) {
      own.sampledIn = pass;
      this.use(own, pass);
    }
    const stem = s.stem;
    if (stem !== undefined && stem.stemSampledIn !== pass) {
      stem.stemSampledIn = pass;
      this.use(stem, pass);
    }
    const f = s.family;
    if (f.readIn !== pass) {
      f.readIn = pass;
      f.type = s.type;
      f.declaredAs = s.declaredAs;
    } else if (f.type !== s.type || f.declaredAs !== s.declaredAs) {
      throw new ParseError(
        line,
        `${own.name} (${s.type} ${s.declaredAs}) and the ${f.type} family ${f.declaredAs} would both be metric ${f.name}`,
      );
    }
  }

  /** Records a TYPE line. One that would regroup samples already read from this page fails the page. */
  private declare(name: string, type: PrometheusType, pass: number, line: number): void {
    const d = this.declaration(name);
    this.use(d, pass);
    if (d.declaredIn === pass && d.type === type) return;
    if (d.sampledIn === pass || d.stemSampledIn === pass) {
      const after: DeclaredTypes = { get: (n) => (n === d.name ? type : this.declaredNow.get(n)) };
      for (const sample of this.sampledNames(d, pass)) {
        const before = resolveFamily(sample, this.declaredNow);
        const then = resolveFamily(sample, after);
        if (before.family !== then.family || before.type !== then.type || before.role !== then.role) {
          throw new ParseError(line, `TYPE ${name} ${type} comes after sample ${sample}, which it would regroup; declare a family before its samples`);
        }
      }
    }
    d.type = type;
    d.declaredIn = pass;
  }

  /** The sample names read from this page that the declaration of `d` can regroup: its own, and `d_bucket`… */
  private sampledNames(d: Declaration, pass: number): string[] {
    const names = d.sampledIn === pass ? [d.name] : [];
    if (d.stemSampledIn !== pass) return names;
    for (const suffix of SAMPLE_SUFFIXES) {
      const sampled = this.declarations.get(d.name + suffix);
      if (sampled !== undefined && sampled.sampledIn === pass) names.push(sampled.name);
    }
    return names;
  }

  private declaration(name: string): Declaration {
    let d = this.declarations.get(name);
    if (d === undefined) {
      d = { name: ownCopy(name), type: 'untyped', declaredIn: 0, sampledIn: 0, stemSampledIn: 0, usedIn: 0 };
      this.declarations.set(d.name, d);
    }
    return d;
  }

  private use(d: Declaration, pass: number): void {
    if (d.usedIn !== pass) {
      d.usedIn = pass;
      this.declarationsUsed++;
    }
  }

  private familyFor(name: string, declaredAs: string, type: PrometheusType): FamilyState {
    let f = this.families.get(name);
    if (f === undefined) {
      f = {
        name,
        declaredAs,
        type,
        readIn: 0,
        help: '',
        unit: '',
        scrapeId: 0,
        members: [],
        memberCount: 0,
        resolutions: [],
        evenPoints: [],
        oddPoints: [],
        evenMetric: undefined,
        oddMetric: undefined,
      };
      this.families.set(name, f);
    }
    return f;
  }

  private groupFor(family: string, type: PrometheusType, attributes: Attributes, now: HrTime): GroupState {
    // The type is part of the key: a family that turns from summary into histogram starts afresh.
    const key = family + '\u0000' + type + '\u0000' + JSON.stringify(attributes);
    let g = this.groups.get(key);
    if (g === undefined) {
      g = {
        attributes,
        startTime: now,
        previousCount: NaN,
        scrapeId: 0,
        bounds: [],
        boundTexts: [],
        values: [],
        sum: NaN,
        count: NaN,
        boundaries: [],
        boundaryTexts: [],
        evenPoint: undefined,
        oddPoint: undefined,
      };
      this.groups.set(key, g);
    }
    return g;
  }

  /** Series never committed (lastSeen 0) can only come from the page that just failed. */
  private *dropUncommitted(slicer: Slicer): Generator<void, void, void> {
    for (const [key, s] of this.series) {
      if (s.lastSeen === 0) this.series.delete(key);
      if (slicer.due(PER_SAMPLE)) yield;
    }
    for (const [identity, s] of this.identities) {
      if (s.lastSeen === 0) this.identities.delete(identity);
      if (slicer.due(PER_SAMPLE)) yield;
    }
  }

  /** Applies the parsed values: reset detection, then one Metric per family in page order. */
  private *commit(scrapeId: number, now: HrTime, help: StringLookup<string>, units: StringLookup<string>, slicer: Slicer): Generator<void, ResourceBatch, void> {
    const order: FamilyState[] = [];
    const created = new StringKeyMap<number>();
    const { series, values, length } = this.pending;
    // Whether the last sample's family is a gauge named `*_created`, whose samples are start
    // times: asked once per run of a family's samples, not once per sample.
    let lastFamily: FamilyState | undefined;
    let createdGauge = false;
    for (let i = 0; i < length; i++) {
      if (slicer.due(PER_SAMPLE)) yield;
      const s = series[i]!;
      const v = values[i]!;
      const { family: f, role } = s.resolution;
      s.lastSeen = scrapeId;
      if (role === 'created') {
        // A start time, not a metric: it only feeds its counter's, histogram's or summary's points.
        created.set(createdKey(f.name, s.attributes), v);
        continue;
      }
      if (f.scrapeId !== scrapeId) {
        f.scrapeId = scrapeId;
        f.memberCount = 0;
        const h = help.get(f.declaredAs) ?? '';
        const u = units.get(f.declaredAs) ?? '';
        if (f.help !== h) f.help = ownCopy(h);
        if (f.unit !== u) f.unit = ownCopy(u);
        order.push(f);
      }
      if (f !== lastFamily) {
        lastFamily = f;
        createdGauge = f.type === 'gauge' && f.name.endsWith('_created');
      }
      if (createdGauge) created.set(createdKey(baseName(f.name, '_created'), s.attributes), v);
      const g = s.group;
      if (g === undefined) {
        if (f.type === 'counter' && v < s.previous) s.startTime = now;
        s.previous = v;
        f.members[f.memberCount++] = s;
        continue;
      }
      if (g.scrapeId !== scrapeId) {
        g.scrapeId = scrapeId;
        g.bounds.length = 0;
        g.boundTexts.length = 0;
        g.values.length = 0;
        g.sum = NaN;
        g.count = NaN;
        f.members[f.memberCount++] = g;
      }
      if (role === 'sum' || role === 'gsum') g.sum = v;
      else if (role === 'count' || role === 'gcount') g.count = v;
      else {
        g.bounds.push(s.bound);
        g.boundTexts.push(s.boundText);
        g.values.push(v);
      }
    }
    // Only families with samples become metrics. One declared (HELP/TYPE) without any, as
    // TorchServe writes them, has no points to send or serve; Prometheus stores nothing for it either.
    const odd = (scrapeId & 1) === 1;
    this.fresh = pointsHeld();
    const batch = this.batches.take(odd, this.resource, this.fresh);
    const { metrics } = batch.scopeMetrics[0]!;
    for (const f of order) {
      // Let go of members a longer page left (in place: the array keeps its store).
      if (f.members.length > f.memberCount) f.members.length = f.memberCount;
      if (f.memberCount > 0) metrics.push(this.toMetric(f, now, created));
      if (slicer.due(PER_POINT * f.memberCount)) yield;
    }
    return batch;
  }

  private toMetric(f: FamilyState, now: HrTime, created: StringKeyMap<number>): Metric {
    const odd = (this.scrapeId & 1) === 1;
    const fresh = this.fresh;
    let dataPoints = odd ? f.oddPoints : f.evenPoints;
    if (fresh) {
      dataPoints = [];
      if (odd) f.oddPoints = dataPoints;
      else f.evenPoints = dataPoints;
    }
    dataPoints.length = f.memberCount;
    if (f.type === 'histogram' || f.type === 'gaugehistogram') {
      const groups = f.members as GroupState[];
      for (let i = 0; i < groups.length; i++) dataPoints[i] = this.histogramPoint(f, groups[i]!, odd, fresh, now, created);
      return familyMetric(f, odd, DataPointType.HISTOGRAM, dataPoints);
    }
    if (f.type === 'summary') {
      const groups = f.members as GroupState[];
      for (let i = 0; i < groups.length; i++) dataPoints[i] = this.summaryPoint(f, groups[i]!, odd, fresh, now, created);
      return familyMetric(f, odd, SUMMARY, dataPoints);
    }
    const members = f.members as SeriesState[];
    const isCounter = f.type === 'counter';
    const anyCreated = created.size > 0;
    for (let i = 0; i < members.length; i++) {
      const s = members[i]!;
      const start = isCounter && anyCreated ? createdStart(created, f.name, s.attributes) ?? s.startTime : s.startTime;
      dataPoints[i] = scrapePoint(s, odd, fresh, start, now);
    }
    return familyMetric(f, odd, isCounter ? DataPointType.SUM : DataPointType.GAUGE, dataPoints);
  }

  private histogramPoint(f: FamilyState, g: GroupState, odd: boolean, fresh: boolean, now: HrTime, created: StringKeyMap<number>): HistogramPoint {
    sortByBound(g);
    const n = g.bounds.length;
    const hasInf = n > 0 && g.bounds[n - 1] === Infinity;
    const finite = hasInf ? n - 1 : n;
    // A bound written differently (`1` for `1.0`) is another series with the same number:
    // the texts are compared too, so the point's are always this scrape's.
    if (!sameBoundaries(g.boundaries, g.bounds, finite) || !sameTexts(g.boundaryTexts, g.boundTexts, finite)) {
      g.boundaries = g.bounds.slice(0, finite);
      g.boundaryTexts = g.boundTexts.slice(0, finite);
    }
    const point = groupPoint(g, odd, fresh, emptyHistogramValue) as HistogramPoint;
    // Prometheus buckets are cumulative; the SDK's are per bucket, with the overflow last.
    // A runner's buckets can go down (`le="1"} 5` then `le="+Inf"} 3`) or be NaN: a
    // negative count would be written to OTLP as 2^64-2 and spoil the push that
    // carries every runner, so a bucket below the running maximum counts 0.
    const counts = point.value.buckets.counts;
    counts.length = finite + 1;
    let below = 0;
    for (let i = 0; i < finite; i++) {
      const v = g.values[i]!;
      if (v > below) {
        counts[i] = v - below;
        below = v;
      } else counts[i] = 0;
    }
    const total = hasInf ? g.values[n - 1]! : Number.isNaN(g.count) ? below : g.count;
    counts[finite] = total > below ? total - below : 0;
    const count = Number.isNaN(g.count) ? total : g.count;
    this.detectGroupReset(g, count, now, f.type === 'histogram');
    point.startTime = createdStart(created, f.name, g.attributes) ?? g.startTime;
    point.endTime = now;
    point.value.buckets.boundaries = g.boundaries;
    point.value.boundaryLabels = g.boundaryTexts;
    point.value.sum = Number.isNaN(g.sum) ? undefined : g.sum;
    point.value.count = count;
    return point;
  }

  private summaryPoint(f: FamilyState, g: GroupState, odd: boolean, fresh: boolean, now: HrTime, created: StringKeyMap<number>): SummaryPoint {
    const point = groupPoint(g, odd, fresh, emptySummaryValue) as SummaryPoint;
    const { quantiles } = point.value;
    if (quantiles.length > g.bounds.length) quantiles.length = g.bounds.length;
    for (let i = 0; i < g.bounds.length; i++) {
      const q = quantiles[i];
      if (q === undefined) quantiles.push({ quantile: g.bounds[i]!, value: g.values[i]!, label: g.boundTexts[i]! });
      else {
        q.quantile = g.bounds[i]!;
        q.value = g.values[i]!;
        q.label = g.boundTexts[i]!;
      }
    }
    const count = Number.isNaN(g.count) ? 0 : g.count;
    this.detectGroupReset(g, count, now, true);
    point.startTime = createdStart(created, f.name, g.attributes) ?? g.startTime;
    point.endTime = now;
    point.value.sum = Number.isNaN(g.sum) ? 0 : g.sum;
    point.value.count = count;
    return point;
  }

  private detectGroupReset(g: GroupState, count: number, now: HrTime, cumulative: boolean): void {
    if (cumulative && count < g.previousCount) g.startTime = now;
    g.previousCount = count;
  }

  /** Forgets series the runner stopped exposing, so memory follows the live series set. */
  private *sweep(scrapeId: number, seenThisScrape: number, pass: number, slicer: Slicer): Generator<void, void, void> {
    if (this.declarations.size > this.declarationsUsed) {
      for (const [name, d] of this.declarations) {
        if (d.usedIn !== pass) this.declarations.delete(name);
        if (slicer.due(PER_SAMPLE)) yield;
      }
    }
    if (this.series.size <= seenThisScrape) return;
    // Aliases go too: kept, one would outlive a series that a TYPE change made anew.
    for (const [key, s] of this.series) {
      if (s.lastSeen !== scrapeId || s.key !== key) this.series.delete(key);
      if (slicer.due(PER_SAMPLE)) yield;
    }
    for (const [identity, s] of this.identities) {
      if (s.lastSeen !== scrapeId) this.identities.delete(identity);
      if (slicer.due(PER_SAMPLE)) yield;
    }
    for (const [key, g] of this.groups) if (g.scrapeId !== scrapeId) this.groups.delete(key);
    for (const [key, f] of this.families) {
      if (f.scrapeId !== scrapeId) this.families.delete(key);
      if (slicer.due(PER_SAMPLE)) yield;
    }
  }
}

/** The family's resolution equal to this one, or this one, kept for the next series. */
function sharedResolution(
  family: FamilyState,
  declaredAs: string,
  type: PrometheusType,
  role: SampleRole,
  own: Declaration,
  ownType: PrometheusType | undefined,
  stem: Declaration | undefined,
  stemType: PrometheusType | undefined,
): Resolution {
  const list = family.resolutions;
  for (const r of list) {
    if (r.declaredAs === declaredAs && r.type === type && r.role === role && r.own === own && r.ownType === ownType && r.stem === stem && r.stemType === stemType) {
      return r;
    }
  }
  // Declarations swept and made again leave stale entries behind: start over rather than grow.
  if (list.length >= MAX_SHARED_RESOLUTIONS) list.length = 0;
  const r: Resolution = { family, declaredAs, type, role, own, ownType, stem, stemType };
  list.push(r);
  return r;
}

/** More than a family's roles (value, bucket, sum, count, created) times a few declaration changes. */
const MAX_SHARED_RESOLUTIONS = 16;

/**
 * `name{a="1",b="2"}` with the labels sorted and values written as JSON strings (names
 * too, unless plain): one text per series, whatever order, spacing or escapes the
 * runner used. The raw key when it is already that text, so most series store no other.
 */
function identityOf(key: string, name: string, labels: readonly string[]): string {
  const pairs: string[] = [];
  for (let i = 0; i < labels.length; i += 2) pairs.push(`${plain(labels[i]!, PLAIN_LABEL)}=${JSON.stringify(labels[i + 1]!)}`);
  pairs.sort();
  const metric = plain(name, PLAIN_METRIC);
  const identity = pairs.length === 0 ? metric : `${metric}{${pairs.join(',')}}`;
  // A copy: the pieces are cut from the page, which the identity must not keep alive.
  return identity === key ? key : ownCopy(identity);
}

const PLAIN_METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const PLAIN_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function plain(name: string, pattern: RegExp): string {
  return pattern.test(name) ? name : JSON.stringify(name);
}

function parseBound(text: string): number {
  const v = Number(text);
  if (!Number.isNaN(v)) return v;
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return NaN;
}

/** The series' point of this scrape: its even or odd one, (re)written with this scrape's figures. */
function scrapePoint(s: SeriesState, odd: boolean, fresh: boolean, startTime: HrTime, endTime: HrTime): DataPoint<number> {
  let point = odd ? s.oddPoint : s.evenPoint;
  if (point === undefined || fresh) {
    point = new MutablePoint(startTime, endTime, s.attributes, s.previous);
    if (odd) s.oddPoint = point;
    else s.evenPoint = point;
  } else {
    point.startTime = startTime;
    point.endTime = endTime;
    point.value = s.previous;
  }
  return point;
}

/** The group's point of this scrape's parity, made with `value` the first time or when `fresh` (a group keeps its type). */
function groupPoint(g: GroupState, odd: boolean, fresh: boolean, value: () => HistogramPoint['value'] | SummaryPoint['value']): HistogramPoint | SummaryPoint {
  let point = odd ? g.oddPoint : g.evenPoint;
  if (point === undefined || fresh) {
    point = { startTime: g.startTime, endTime: g.startTime, attributes: g.attributes, value: value() } as HistogramPoint | SummaryPoint;
    if (odd) g.oddPoint = point;
    else g.evenPoint = point;
  }
  return point;
}

const emptyHistogramValue = (): HistogramPoint['value'] => ({ buckets: { boundaries: [], counts: [] }, boundaryLabels: [], sum: undefined, count: 0 });
const emptySummaryValue = (): SummaryPoint['value'] => ({ sum: 0, count: 0, quantiles: [] });

function sortByBound(g: GroupState): void {
  const b = g.bounds;
  for (let i = 1; i < b.length; i++) {
    if (b[i - 1]! > b[i]!) {
      const order = b.map((_, j) => j).sort((x, y) => b[x]! - b[y]!);
      g.bounds = order.map((j) => b[j]!);
      g.boundTexts = order.map((j) => g.boundTexts[j]!);
      g.values = order.map((j) => g.values[j]!);
      return;
    }
  }
}

function sameBoundaries(prev: number[], bounds: number[], n: number): boolean {
  if (prev.length !== n) return false;
  for (let i = 0; i < n; i++) if (prev[i] !== bounds[i]) return false;
  return true;
}

function sameTexts(prev: string[], texts: string[], n: number): boolean {
  if (prev.length !== n) return false;
  for (let i = 0; i < n; i++) if (prev[i] !== texts[i]) return false;
  return true;
}

/**
 * `_created` series give a counter's (histogram's, summary's) true start time.
 * OpenMetrics puts `foo_created` in family `foo`, whose counter samples are
 * `foo_total`; prometheus_client's text format (vLLM) writes it as a separate gauge
 * family `foo_created` beside counter `foo_total`. All of them key on the base
 * name without `_total`, `foo`, so whichever side names it finds the other.
 */
function createdKey(name: string, attributes: Attributes): string {
  return baseName(name, '_total') + '\u0000' + JSON.stringify(attributes);
}

function baseName(name: string, suffix: string): string {
  return name.endsWith(suffix) ? name.slice(0, -suffix.length) : name;
}

function createdStart(created: StringKeyMap<number>, metric: string, attributes: Attributes): HrTime | undefined {
  if (created.size === 0) return undefined;
  const seconds = created.get(createdKey(metric, attributes));
  return seconds === undefined ? undefined : createdToHrTime(seconds);
}

/**
 * `_created` is float seconds since the epoch. A double holds about 16 digits, so
 * below the microsecond its digits are noise (1758000000.123456 would become
 * …123456055 ns): round there.
 */
export function createdToHrTime(seconds: number): HrTime {
  const whole = Math.floor(seconds);
  const micros = Math.round((seconds - whole) * 1e6);
  return micros === 1e6 ? [whole + 1, 0] : [whole, micros * 1000];
}

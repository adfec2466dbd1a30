/**
 * The label text of each series of one resource: the point's own attributes plus
 * the labels this exporter adds (chosen resource attributes and const labels),
 * with every name escaped for the scraper's escaping scheme.
 *
 * Receivers hand over the same `attributes` object for an unchanged series on
 * every scrape, so the rendered text is cached per object and scheme: in steady
 * state a series costs one WeakMap lookup instead of escaping and joining its
 * labels. The text does not depend on the metric, so one cache per resource serves
 * all of its metrics; it goes away with the resource.
 *
 * Names that collide once escaped (`a.b` and `a_b` both `a_b` under underscores)
 * would make a series with two labels of one name, which no parser accepts: the
 * first in attribute order is kept, later ones are left out. `__name__` is left
 * out too, since it is the metric name's label, and so is a runner's own `le` on a
 * histogram's series (`quantile` on a summary's), which its buckets write.
 */
import type { AttributeValue, Attributes } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import { escapeLabelName, writeLabelPair, type EscapingScheme } from '../../prometheus/writer.js';
import { getAttribute } from '../../model/attributes.js';

export interface AddedLabelsConfig {
  /** Resource attributes to copy onto every series, by attribute name. */
  readonly resourceAttributes: readonly string[];
  /** Labels set on every series; they override a same-named resource label. */
  readonly constLabels: Readonly<Record<string, string>>;
  /** Keep the runner's label on a clash instead of renaming it `exported_<name>`. */
  readonly honorLabels: boolean;
}

const METRIC_NAME_LABEL = '__name__';

/** The label a histogram bucket or summary quantile series adds to its point's labels. */
export type BoundLabel = 'le' | 'quantile';

export function attributeText(value: AttributeValue): string {
  return typeof value === 'string' ? value : Array.isArray(value) ? JSON.stringify(value) : String(value);
}

export class SeriesLabels {
  private readonly schemes = new Map<EscapingScheme, SchemeLabels>();

  constructor(
    private readonly resource: Resource,
    private readonly config: AddedLabelsConfig,
  ) {}

  /** The label texts for a scraper reading names under `scheme`. */
  forScheme(scheme: EscapingScheme): SchemeLabels {
    let labels = this.schemes.get(scheme);
    if (labels === undefined) {
      labels = new SchemeLabels(this.resource, this.config, scheme);
      this.schemes.set(scheme, labels);
    }
    return labels;
  }
}

/**
 * A series' label text, `{a="1",b="2"}` or '', and the key of its label set:
 * `{b="2",a="1"}` is the same series to Prometheus. The key lists the runner's
 * labels sorted by name, then the configured added labels in their configured
 * order, so most series (runner labels already sorted, then ours) need no second
 * string: the text is the key.
 */
export type SeriesText = string | { readonly text: string; readonly key: string };

export function labelText(series: SeriesText): string {
  return typeof series === 'string' ? series : series.text;
}

/** Equal for two series exactly when Prometheus sees one label set. */
export function labelSetKey(series: SeriesText): string {
  return typeof series === 'string' ? series : series.key;
}

type Pair = readonly [name: string, pair: string];

export class SchemeLabels {
  /** Added labels in output order, as `name="escaped value"`. */
  private readonly added: readonly Pair[];
  private readonly addedNames: ReadonlySet<string>;
  /** Every added label name the config can give, in output order, whichever a resource has. */
  private readonly addedOrder = new Map<string, number>();
  private readonly closed = new WeakMap<Attributes, SeriesText>();
  /** Per bound label (`le`, `quantile`): texts of histogram and summary points, which leave a runner's label of that name out. */
  private readonly bounded = new Map<BoundLabel, { closed: WeakMap<Attributes, SeriesText>; open: WeakMap<Attributes, string> }>();

  constructor(
    resource: Resource,
    private readonly config: AddedLabelsConfig,
    private readonly scheme: EscapingScheme,
  ) {
    const order = new Set<string>();
    for (const attribute of config.resourceAttributes) order.add(escapeLabelName(attribute, scheme));
    for (const constName of Object.keys(config.constLabels)) {
      const name = escapeLabelName(constName, scheme);
      order.delete(name);
      order.add(name);
    }
    for (const name of order) this.addedOrder.set(name, this.addedOrder.size);
    const values = new Map<string, string>();
    for (const attribute of config.resourceAttributes) {
      const value = getAttribute(resource.attributes, attribute);
      if (value === undefined || value === null) continue;
      const text = attributeText(value);
      const name = escapeLabelName(attribute, scheme);
      // `service.name` and `service_name` may both be listed: the first listed wins.
      if (text !== '' && name !== '' && !values.has(name)) values.set(name, text);
    }
    for (const [constName, value] of Object.entries(config.constLabels)) {
      const name = escapeLabelName(constName, scheme);
      values.delete(name); // re-inserted last, so const labels keep their configured order
      values.set(name, value);
    }
    this.added = [...values].map(([name, value]) => [name, writeLabelPair(name, value)] as const);
    this.addedNames = new Set(values.keys());
  }

  /**
   * `{a="1",backend="x"}` (or '' for a series without labels), with the key of its
   * label set; labelText and labelSetKey read them. For a histogram's or summary's
   * series, `bound` names the label its buckets or quantiles add, which the runner's
   * labels must not also hold.
   */
  series(attributes: Attributes, bound?: BoundLabel): SeriesText {
    const cache = bound === undefined ? this.closed : this.boundCaches(bound).closed;
    let series = cache.get(attributes);
    if (series === undefined) {
      const pairs = this.pairs(attributes, bound);
      const text = pairs.length === 0 ? '' : `{${pairs.map(pairText).join(',')}}`;
      const key = pairs.length === 0 ? '' : `{${[...pairs].sort((a, b) => this.compare(a, b)).map(pairText).join(',')}}`;
      series = key === text ? text : { text, key };
      cache.set(attributes, series);
    }
    return series;
  }

  /**
   * `{a="1",backend="x",` or `{`: the caller appends the `bound` label and the
   * closing brace (`le` of a bucket, `quantile` of a summary).
   */
  openText(attributes: Attributes, bound: BoundLabel): string {
    const cache = this.boundCaches(bound).open;
    let text = cache.get(attributes);
    if (text === undefined) {
      const pairs = this.pairs(attributes, bound);
      text = pairs.length === 0 ? '{' : `{${pairs.map(pairText).join(',')},`;
      cache.set(attributes, text);
    }
    return text;
  }

  /** Key order: other labels by name, then added label names in configured order. */
  private compare(a: Pair, b: Pair): number {
    const ra = this.addedOrder.get(a[0]) ?? -1;
    const rb = this.addedOrder.get(b[0]) ?? -1;
    if (ra !== rb) return ra - rb;
    return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
  }

  private boundCaches(bound: BoundLabel) {
    let caches = this.bounded.get(bound);
    if (caches === undefined) {
      caches = { closed: new WeakMap(), open: new WeakMap() };
      this.bounded.set(bound, caches);
    }
    return caches;
  }

  /** The series' labels in output order: the runner's (escaped, renamed on a clash), then the added ones. */
  private pairs(attributes: Attributes, bound: BoundLabel | undefined): Pair[] {
    // The runner's labels under their escaped names, the first of colliding names kept.
    const own = new Map<string, AttributeValue>();
    for (const key of Object.keys(attributes)) {
      const value = attributes[key];
      if (value === undefined || value === null) continue;
      const name = escapeLabelName(key, this.scheme);
      if (name === '' || name === METRIC_NAME_LABEL || name === bound || own.has(name)) continue;
      own.set(name, value);
    }
    const pairs: Pair[] = [];
    const written = new Set<string>();
    let dropped: Set<string> | undefined;
    for (let [name, value] of own) {
      if (this.addedNames.has(name)) {
        if (this.config.honorLabels) {
          (dropped ??= new Set()).add(name);
        } else {
          // Prometheus' honor_labels=false rule: the target's label steps aside.
          do name = `exported_${name}`;
          while (this.addedNames.has(name) || own.has(name) || written.has(name));
        }
      }
      written.add(name);
      pairs.push([name, writeLabelPair(name, attributeText(value))]);
    }
    for (const added of this.added) if (dropped === undefined || !dropped.has(added[0])) pairs.push(added);
    return pairs;
  }
}

function pairText(pair: Pair): string {
  return pair[1];
}


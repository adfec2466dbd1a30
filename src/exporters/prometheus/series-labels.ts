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

export class SchemeLabels {
  /** Added labels in output order, as `name="escaped value"`. */
  private readonly added: ReadonlyArray<readonly [name: string, pair: string]>;
  private readonly addedNames: ReadonlySet<string>;
  /** All added pairs joined, for the common case where nothing clashes. */
  private readonly addedText: string;
  private readonly closed = new WeakMap<Attributes, string>();
  /** Per bound label (`le`, `quantile`): texts of histogram and summary points, which leave a runner's label of that name out. */
  private readonly bounded = new Map<BoundLabel, { closed: WeakMap<Attributes, string>; open: WeakMap<Attributes, string> }>();

  constructor(
    resource: Resource,
    private readonly config: AddedLabelsConfig,
    private readonly scheme: EscapingScheme,
  ) {
    const values = new Map<string, string>();
    for (const attribute of config.resourceAttributes) {
      const value = resource.attributes[attribute];
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
    this.addedText = this.added.map(([, pair]) => pair).join(',');
  }

  /**
   * `{a="1",backend="x"}`, or the empty string for a series without labels. For the
   * `_sum` and `_count` of a histogram or summary, `bound` names the label its buckets
   * or quantiles add, which the runner's labels must not also hold.
   */
  closedText(attributes: Attributes, bound?: BoundLabel): string {
    const cache = bound === undefined ? this.closed : this.boundCaches(bound).closed;
    let text = cache.get(attributes);
    if (text === undefined) {
      const inner = this.inner(attributes, bound);
      text = inner === '' ? '' : `{${inner}}`;
      cache.set(attributes, text);
    }
    return text;
  }

  /**
   * `{a="1",backend="x",` or `{`: the caller appends the `bound` label and the
   * closing brace (`le` of a bucket, `quantile` of a summary).
   */
  openText(attributes: Attributes, bound: BoundLabel): string {
    const cache = this.boundCaches(bound).open;
    let text = cache.get(attributes);
    if (text === undefined) {
      const inner = this.inner(attributes, bound);
      text = inner === '' ? '{' : `{${inner},`;
      cache.set(attributes, text);
    }
    return text;
  }

  private boundCaches(bound: BoundLabel) {
    let caches = this.bounded.get(bound);
    if (caches === undefined) {
      caches = { closed: new WeakMap(), open: new WeakMap() };
      this.bounded.set(bound, caches);
    }
    return caches;
  }

  private inner(attributes: Attributes, bound: BoundLabel | undefined): string {
    // The runner's labels under their escaped names, the first of colliding names kept.
    const own = new Map<string, AttributeValue>();
    for (const key of Object.keys(attributes)) {
      const value = attributes[key];
      if (value === undefined || value === null) continue;
      const name = escapeLabelName(key, this.scheme);
      if (name === '' || name === METRIC_NAME_LABEL || name === bound || own.has(name)) continue;
      own.set(name, value);
    }
    const parts: string[] = [];
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
      parts.push(writeLabelPair(name, attributeText(value)));
    }
    if (dropped === undefined) {
      if (this.addedText !== '') parts.push(this.addedText);
    } else {
      for (const [name, pair] of this.added) if (!dropped.has(name)) parts.push(pair);
    }
    return parts.join(',');
  }
}

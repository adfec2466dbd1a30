/**
 * The label text of each series of one resource: the point's own attributes plus
 * the labels this exporter adds (chosen resource attributes and const labels),
 * with every name escaped for the scraper's escaping scheme.
 *
 * Receivers hand over the same `attributes` object for an unchanged series on
 * every scrape, so the label text is cached per object and scheme, as the UTF-8
 * bytes the body is made of: in steady state a series costs one WeakMap lookup
 * instead of escaping and joining its labels. The text does not depend on the
 * metric, so one cache per resource serves all of its metrics; it goes away with
 * the resource.
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

type Pair = readonly [name: string, pair: string];

const EMPTY = Buffer.alloc(0);

export class SchemeLabels {
  /** Added labels in output order, as `name="escaped value"`. */
  private readonly added: readonly Pair[];
  private readonly addedNames: ReadonlySet<string>;
  /** Every added label name the config can give, in output order, whichever a resource has. */
  private readonly addedOrder = new Map<string, number>();
  private readonly bodies = new WeakMap<Attributes, Buffer>();
  /** Per bound label (`le`, `quantile`): bodies of histogram and summary points, which leave a runner's label of that name out. */
  private readonly boundBodies = new Map<BoundLabel, WeakMap<Attributes, Buffer>>();
  /** The label-set key of a body whose labels are not in key order; most series have none. */
  private readonly sortedKeys = new WeakMap<Buffer, string>();

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
   * The series' labels as UTF-8, `a="1",backend="x"`, without braces: empty for a
   * series without labels. The caller closes it (`}`) or appends the `bound` label
   * its buckets or quantiles add (`,le="0.5"}`); for a histogram's or summary's
   * series, `bound` names that label, which the runner's labels must not also hold.
   */
  body(attributes: Attributes, bound?: BoundLabel): Buffer {
    const cache = bound === undefined ? this.bodies : this.boundCache(bound);
    let body = cache.get(attributes);
    if (body === undefined) {
      const pairs = this.pairs(attributes, bound);
      body = pairs.length === 0 ? EMPTY : Buffer.from(pairs.map(pairText).join(','), 'utf8');
      const sorted = pairs.length < 2 ? pairs : [...pairs].sort((a, b) => this.compare(a, b));
      if (sorted.some((pair, i) => pair !== pairs[i])) {
        this.sortedKeys.set(body, Buffer.from(sorted.map(pairText).join(','), 'utf8').toString('latin1'));
      }
      cache.set(attributes, body);
    }
    return body;
  }

  /**
   * Equal for two bodies exactly when Prometheus sees one label set: `b="2",a="1"`
   * and `a="1",b="2"` are one series. It lists the runner's labels sorted by name,
   * then the configured added labels in their configured order, so most series
   * (runner labels already sorted, then ours) need no second text: the key is the
   * body's bytes. Computed when asked, not kept: a steady render asks for none.
   */
  key(body: Buffer): string {
    return this.sortedKeys.get(body) ?? body.toString('latin1');
  }

  /** Key order: other labels by name, then added label names in configured order. */
  private compare(a: Pair, b: Pair): number {
    const ra = this.addedOrder.get(a[0]) ?? -1;
    const rb = this.addedOrder.get(b[0]) ?? -1;
    if (ra !== rb) return ra - rb;
    return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
  }

  private boundCache(bound: BoundLabel): WeakMap<Attributes, Buffer> {
    let cache = this.boundBodies.get(bound);
    if (cache === undefined) {
      cache = new WeakMap();
      this.boundBodies.set(bound, cache);
    }
    return cache;
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


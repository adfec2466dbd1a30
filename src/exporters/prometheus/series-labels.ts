/**
 * The label text of each series of one resource: the point's own attributes plus
 * the labels this exporter adds (chosen resource attributes and const labels).
 *
 * Receivers hand over the same `attributes` object for an unchanged series on
 * every scrape, so the rendered text is cached per object: in steady state a
 * series costs one WeakMap lookup instead of escaping and joining its labels.
 * The text does not depend on the metric, so one cache per resource serves all
 * of its metrics; it goes away with the resource.
 */
import type { AttributeValue, Attributes } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import { escapeLabelValue } from '../../prometheus/writer.js';
import { getAttribute } from '../../model/attributes.js';

export interface AddedLabelsConfig {
  /** Resource attributes to copy onto every series, by attribute name. */
  readonly resourceAttributes: readonly string[];
  /** Labels set on every series; they override a same-named resource label. */
  readonly constLabels: Readonly<Record<string, string>>;
  /** Keep the runner's label on a clash instead of renaming it `exported_<name>`. */
  readonly honorLabels: boolean;
}

const VALID_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** `service.name` → `service_name`; anything else outside [a-zA-Z0-9_] becomes `_` too. */
export function sanitizeLabelName(name: string): string {
  if (VALID_LABEL_NAME.test(name)) return name;
  const s = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

export function attributeText(value: AttributeValue): string {
  return typeof value === 'string' ? value : Array.isArray(value) ? JSON.stringify(value) : String(value);
}

export class SeriesLabels {
  /** Added labels in output order, as `name="escaped value"`. */
  private readonly added: ReadonlyArray<readonly [name: string, pair: string]>;
  private readonly addedNames: ReadonlySet<string>;
  /** All added pairs joined, for the common case where nothing clashes. */
  private readonly addedText: string;
  private readonly closed = new WeakMap<Attributes, string>();
  private readonly open = new WeakMap<Attributes, string>();

  constructor(
    resource: Resource,
    private readonly config: AddedLabelsConfig,
  ) {
    const values = new Map<string, string>();
    for (const attribute of config.resourceAttributes) {
      const value = getAttribute(resource.attributes, attribute);
      if (value === undefined || value === null) continue;
      const text = attributeText(value);
      if (text !== '') values.set(sanitizeLabelName(attribute), text);
    }
    for (const [name, value] of Object.entries(config.constLabels)) {
      values.delete(name); // re-inserted last, so const labels keep their configured order
      values.set(name, value);
    }
    this.added = [...values].map(([name, value]) => [name, `${name}="${escapeLabelValue(value)}"`] as const);
    this.addedNames = new Set(values.keys());
    this.addedText = this.added.map(([, pair]) => pair).join(',');
  }

  /** `{a="1",backend="x"}`, or the empty string for a series without labels. */
  closedText(attributes: Attributes): string {
    let text = this.closed.get(attributes);
    if (text === undefined) {
      const inner = this.inner(attributes);
      text = inner === '' ? '' : `{${inner}}`;
      this.closed.set(attributes, text);
    }
    return text;
  }

  /**
   * `{a="1",backend="x",` or `{`: the caller appends one more label and the
   * closing brace (`le` of a bucket, `quantile` of a summary).
   */
  openText(attributes: Attributes): string {
    let text = this.open.get(attributes);
    if (text === undefined) {
      const inner = this.inner(attributes);
      text = inner === '' ? '{' : `{${inner},`;
      this.open.set(attributes, text);
    }
    return text;
  }

  private inner(attributes: Attributes): string {
    const parts: string[] = [];
    let dropped: Set<string> | undefined;
    for (const key of Object.keys(attributes)) {
      const value = attributes[key];
      if (value === undefined || value === null) continue;
      let name = sanitizeLabelName(key);
      if (this.addedNames.has(name)) {
        if (this.config.honorLabels) {
          (dropped ??= new Set()).add(name);
        } else {
          // Prometheus' honor_labels=false rule: the target's label steps aside.
          do name = `exported_${name}`;
          while (this.addedNames.has(name) || Object.hasOwn(attributes, name));
        }
      }
      parts.push(`${name}="${escapeLabelValue(attributeText(value))}"`);
    }
    if (dropped === undefined) {
      if (this.addedText !== '') parts.push(this.addedText);
    } else {
      for (const [name, pair] of this.added) if (!dropped.has(name)) parts.push(pair);
    }
    return parts.join(',');
  }
}

/**
 * The `le` label texts of a histogram point's bucket boundaries, as the runner
 * wrote them (`1.0`, `1e+06`).
 *
 * Why a side table: the SDK's histogram model holds the boundaries as numbers only
 * (`buckets.boundaries: number[]`), and a number does not remember how it was
 * written: `le="1.0"` and `le="1"` are the same bound but different label values,
 * so different series to Prometheus. Re-exposing the runner's buckets with the
 * number formatted afresh would change their series identity versus scraping the
 * runner directly. Rather than widen the SDK type, the receiver registers the texts
 * here, keyed by the boundaries array object itself, and the Prometheus exporter
 * looks them up when writing `le`.
 *
 * Cost: the receiver reuses one boundaries array across scrapes while a
 * histogram's bounds are unchanged, so registration happens only when the bounds
 * change and the exporter's lookup is one WeakMap hit per point. Being weak, the
 * table lets go of the texts with the last point that holds their array.
 *
 * Batches from other sources (own metrics, OTLP-made points, tests) register
 * nothing: consumers then format the number as before. The texts are the
 * finite bounds only, index for index with `boundaries`; the overflow bucket is
 * always `+Inf`. A boundaries array must not be mutated after registration
 * (batches are immutable once emitted).
 */
const table = new WeakMap<readonly number[], readonly string[]>();

/** Records the label texts of `boundaries`, one per element, in the same order. */
export function setBoundLabels(boundaries: readonly number[], texts: readonly string[]): void {
  if (texts.length !== boundaries.length) {
    throw new RangeError(`${texts.length} bound labels for ${boundaries.length} boundaries`);
  }
  table.set(boundaries, texts);
}

/** All label texts registered for `boundaries`, or undefined: one lookup for a whole point. */
export function boundLabels(boundaries: readonly number[]): readonly string[] | undefined {
  return table.get(boundaries);
}

/** The label text of `boundaries[i]`, or undefined when none was registered. */
export function boundLabel(boundaries: readonly number[], i: number): string | undefined {
  return table.get(boundaries)?.[i];
}

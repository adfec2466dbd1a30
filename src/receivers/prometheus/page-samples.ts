/**
 * A page's samples in page order, series and value side by side, reused from page
 * to page. Clearing keeps the capacity: `array.length = 0` would free the backing
 * store and make every page grow it again, a few dozen bytes of garbage per sample
 * at every scrape.
 */
export class PageSamples<S> {
  /** Entries at `length` and beyond are stale, left from a longer page. */
  readonly series: S[] = [];
  values = new Float64Array(256);
  length = 0;

  push(series: S, value: number): void {
    const n = this.length;
    if (n === this.values.length) {
      const grown = new Float64Array(n * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.series[n] = series;
    this.values[n] = value;
    this.length = n + 1;
  }

  /** The series at `index` if the page has one there. */
  at(index: number): S | undefined {
    return index < this.length ? this.series[index] : undefined;
  }

  clear(): void {
    this.length = 0;
  }

  /** Lets go of the stale entries of a page that shrank (in place: the array keeps its store). */
  release(): void {
    if (this.series.length > this.length) this.series.length = this.length;
  }
}

/**
 * The latest snapshot of every resource, keyed by resource identity. A new batch
 * for a resource replaces the old one whole, and JavaScript runs a render to the
 * end before the next consume, so a scrape never sees half of an update.
 */
import { DataPointType } from '@opentelemetry/sdk-metrics';
import type { ResourceBatch } from '../../model/batch.js';
import { resourceKey } from '../../model/resource-key.js';
import type { ExpositionSource } from './exposition.js';
import { SeriesLabels, type AddedLabelsConfig } from './series-labels.js';

interface Entry extends ExpositionSource {
  readonly key: string;
  batch: ResourceBatch;
  arrivedAt: number;
  points: number;
}

export interface SnapshotStoreOptions {
  readonly labels: AddedLabelsConfig;
  /** Milliseconds after which a resource that sent nothing is dropped; 0 keeps it forever. */
  readonly expirationMs: number;
  readonly now: () => number;
}

export class SnapshotStore {
  private readonly entries = new Map<string, Entry>();
  /** Entries sorted by key; rebuilt only when a resource comes or goes. */
  private ordered: Entry[] | undefined;
  private totalPoints = 0;
  /** Counts changes (a batch put, a resource expired), so a rendered body knows when it is stale. */
  private changes = 0;

  constructor(private readonly options: SnapshotStoreOptions) {}

  put(batch: ResourceBatch): void {
    const key = resourceKey(batch.resource);
    const now = this.options.now();
    const points = countPoints(batch);
    const entry = this.entries.get(key);
    this.changes++;
    if (entry) {
      this.totalPoints += points - entry.points;
      entry.batch = batch;
      entry.arrivedAt = now;
      entry.points = points;
      return;
    }
    this.entries.set(key, { key, batch, arrivedAt: now, points, labels: new SeriesLabels(batch.resource, this.options.labels) });
    this.totalPoints += points;
    this.ordered = undefined;
  }

  /** The live snapshots in resource-key order, after dropping expired ones. */
  sources(): readonly ExpositionSource[] {
    this.expire();
    this.ordered ??= [...this.entries.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return this.ordered;
  }

  /** Data points currently held (a histogram or summary point counts once). */
  get points(): number {
    this.expire();
    return this.totalPoints;
  }

  /** Changes so far, after dropping expired resources: equal numbers mean the same data. */
  get version(): number {
    this.expire();
    return this.changes;
  }

  get size(): number {
    return this.entries.size;
  }

  private expire(): void {
    const { expirationMs, now } = this.options;
    if (expirationMs <= 0) return;
    const cutoff = now() - expirationMs;
    for (const [key, entry] of this.entries) {
      if (entry.arrivedAt > cutoff) continue;
      this.entries.delete(key);
      this.totalPoints -= entry.points;
      this.ordered = undefined;
      this.changes++;
    }
  }
}

function countPoints(batch: ResourceBatch): number {
  let n = 0;
  for (const scope of batch.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.dataPointType !== DataPointType.EXPONENTIAL_HISTOGRAM) n += metric.dataPoints.length;
    }
  }
  return n;
}

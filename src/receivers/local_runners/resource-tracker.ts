/**
 * Passes batches on and remembers which resources are being served, so that a
 * runner that goes away can be withdrawn whole, whatever receiver scraped it:
 * each resource still served is handed on once as an empty snapshot, which makes
 * exporters drop its series at once (in `/metrics` and OTLP alike).
 */
import type { Resource } from '@opentelemetry/resources';
import type { Consumer } from '../../component.js';
import type { Batch } from '../../model/batch.js';
import { resourceKey } from '../../model/resource-key.js';

export class ResourceTracker implements Consumer {
  private readonly served = new Map<string, Resource>();
  private closed = false;

  constructor(private readonly next: Consumer) {}

  consume(batch: Batch): void {
    if (this.closed) return;
    for (const rb of batch) {
      const key = resourceKey(rb.resource);
      if (rb.scopeMetrics.length === 0) this.served.delete(key);
      else this.served.set(key, rb.resource);
    }
    this.next.consume(batch);
  }

  /** Withdraws every resource still served; later batches are dropped. */
  withdraw(): void {
    this.closed = true;
    const rest = [...this.served.values()];
    this.served.clear();
    if (rest.length > 0) this.next.consume(rest.map((resource) => ({ resource, scopeMetrics: [] })));
  }
}

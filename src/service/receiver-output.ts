/**
 * The consumer a receiver is built with. It outlives the pipelines behind it: a
 * config reload that keeps the receiver points it at the new pipelines, so the
 * receiver (its listener, timers, cached series and counter start times) goes on
 * as if nothing happened.
 *
 * It remembers the latest snapshot of every resource the receiver produced, so
 * that when what lies behind it changes (a processor added or changed, an
 * exporter replaced, a pipeline removed) it can, in one synchronous step,
 * withdraw those resources from the old pipelines (an empty snapshot, as for a
 * target that went down) and hand the same snapshots to the new ones. A kept
 * `/metrics` exporter then never serves a gap, nor the old pipelines' output
 * until it expires. (Exporters new in this graph skip that replay: see
 * Graph.replaying.)
 */
import { isDeepStrictEqual } from 'node:util';
import type { Consumer } from '../component.js';
import type { Batch, ResourceBatch } from '../model/batch.js';
import { resourceKey } from '../model/resource-key.js';

export class ReceiverOutput implements Consumer {
  private readonly latest = new Map<string, ResourceBatch>();

  /**
   * @param target     the pipelines' heads (guarded: it never throws)
   * @param downstream a plain description of what `target` leads to; equal
   *                   descriptions mean equal processing
   */
  constructor(
    private target: Consumer,
    private downstream: unknown,
  ) {}

  consume(batch: Batch): void {
    for (const rb of batch) {
      if (rb.scopeMetrics.length > 0) this.latest.set(resourceKey(rb.resource), rb);
      else this.latest.delete(resourceKey(rb.resource));
    }
    this.target.consume(batch);
  }

  /** Points the receiver at new pipelines. */
  rewire(target: Consumer, downstream: unknown): void {
    const same = isDeepStrictEqual(downstream, this.downstream);
    if (!same) this.withdraw();
    this.target = target;
    this.downstream = downstream;
    if (!same && this.latest.size > 0) this.target.consume([...this.latest.values()]);
  }

  /**
   * Withdraws every resource from the current pipelines: the receiver is being
   * removed, so its series go at once rather than when they expire.
   */
  withdraw(): void {
    if (this.latest.size === 0) return;
    this.target.consume([...this.latest.values()].map((rb) => ({ resource: rb.resource, scopeMetrics: [] })));
  }
}

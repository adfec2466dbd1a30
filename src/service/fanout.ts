import type { Consumer } from '../component.js';
import type { Batch } from '../model/batch.js';
import type { ComponentFailures } from './component-failures.js';

/**
 * A component's consumer that never throws: a failure inside it is counted and
 * logged for that component, and the caller (a receiver's scrape, the processor
 * before it, a fan-out) carries on as if the batch had been taken. Processors
 * call their next consumer through such a guard too, so a failure is charged to
 * the component that threw, never to the one upstream.
 */
export function guard(consumer: Consumer, failures: ComponentFailures): Consumer {
  return {
    consume(batch: Batch): void {
      try {
        consumer.consume(batch);
      } catch (err) {
        failures.record(err);
      }
    },
  };
}

/**
 * Hands a batch to several consumers (the pipelines a receiver feeds, or the
 * exporters of a pipeline), in order, each guarded by its component's failures
 * (a member without is already guarded). One consumer's failure never keeps the
 * batch from the others, one consumer or many.
 */
export function fanout(consumers: ReadonlyArray<{ consumer: Consumer; failures: ComponentFailures | undefined }>): Consumer {
  const guarded = consumers.map((c) => (c.failures ? guard(c.consumer, c.failures) : c.consumer));
  if (guarded.length === 1) return guarded[0]!;
  return {
    consume(batch: Batch): void {
      for (const c of guarded) c.consume(batch);
    },
  };
}

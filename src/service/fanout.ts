import type { Consumer } from '../component.js';
import type { Batch } from '../model/batch.js';
import type { Logger } from '../telemetry/logger.js';

/**
 * Hands a batch to several consumers (the pipelines a receiver feeds, or the
 * exporters of a pipeline). One consumer's failure never keeps the batch from
 * the others.
 */
export function fanout(consumers: readonly Consumer[], logger: Logger): Consumer {
  if (consumers.length === 1) return consumers[0]!;
  return {
    consume(batch: Batch): void {
      for (const c of consumers) {
        try {
          c.consume(batch);
        } catch (err) {
          logger.error('consumer failed', { error: err });
        }
      }
    },
  };
}

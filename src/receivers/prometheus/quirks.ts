/**
 * Known runner quirks, corrected in one place. Each entry says why.
 */
import type { PrometheusType } from '../../model/batch.js';

/**
 * Families a runner declares with the wrong TYPE. llama-server declares these two
 * as counters, but they go down as well as up (a maximum that resets, and an
 * average); treated as counters they would trigger false reset detection.
 */
export const TYPE_CORRECTIONS: ReadonlyMap<string, PrometheusType> = new Map([
  ['llamacpp:n_busy_slots_per_decode', 'gauge'],
  ['llamacpp:n_tokens_max', 'gauge'],
]);

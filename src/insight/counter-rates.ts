/**
 * Rates from llama-server's counters between two scrapes, not from its
 * throughput gauges (`llamacpp:predicted_tokens_seconds`, …), which every
 * `/metrics` scrape resets, so that two scrapers steal each other's values.
 *
 * - tokens/s = growth of the token counter / seconds between the two scrapes.
 *   llama-server adds a request's tokens when the request finishes (both
 *   versions), so a long request shows up all at once.
 * - batch latency = growth of (prompt_seconds_total + tokens_predicted_seconds_total)
 *   / growth of n_decode_total: time per llama_decode() call. Those seconds are
 *   summed per request, so while several slots decode together each call is
 *   counted once per busy slot: the figure is then up to n_busy_slots_per_decode
 *   times the wall time of a call. No decode call in the window: no figure.
 *
 * A counter that went down (the server restarted) gives no rate for that window.
 */

/** The counters of one scrape, undefined where the page lacked them. */
export interface CounterSample {
  /** When the page was fetched (ms, any monotonic clock). */
  readonly atMs: number;
  readonly promptTokens: number | undefined;
  readonly promptSeconds: number | undefined;
  readonly predictedTokens: number | undefined;
  readonly predictedSeconds: number | undefined;
  readonly decodeCalls: number | undefined;
}

export interface CounterRates {
  readonly generationTokensPerSecond: number | undefined;
  readonly promptTokensPerSecond: number | undefined;
  readonly batchLatencySeconds: number | undefined;
}

export const NO_RATES: CounterRates = { generationTokensPerSecond: undefined, promptTokensPerSecond: undefined, batchLatencySeconds: undefined };

/** Growth of a counter, or undefined when either value is missing or it went down (a restart). */
function growth(before: number | undefined, after: number | undefined): number | undefined {
  if (before === undefined || after === undefined || after < before) return undefined;
  return after - before;
}

export function counterRates(previous: CounterSample | undefined, current: CounterSample): CounterRates {
  if (previous === undefined) return NO_RATES;
  const seconds = (current.atMs - previous.atMs) / 1000;
  if (!(seconds > 0)) return NO_RATES;
  const generated = growth(previous.predictedTokens, current.predictedTokens);
  const prompt = growth(previous.promptTokens, current.promptTokens);
  const decodes = growth(previous.decodeCalls, current.decodeCalls);
  const promptTime = growth(previous.promptSeconds, current.promptSeconds);
  const predictTime = growth(previous.predictedSeconds, current.predictedSeconds);
  // Any counter going down means a restart: none of this window's figures hold.
  const restarted = [
    [previous.predictedTokens, current.predictedTokens],
    [previous.promptTokens, current.promptTokens],
    [previous.decodeCalls, current.decodeCalls],
  ].some(([a, b]) => a !== undefined && b !== undefined && b < a);
  if (restarted) return NO_RATES;
  return {
    generationTokensPerSecond: generated === undefined ? undefined : generated / seconds,
    promptTokensPerSecond: prompt === undefined ? undefined : prompt / seconds,
    batchLatencySeconds: decodes === undefined || decodes === 0 || promptTime === undefined || predictTime === undefined ? undefined : (promptTime + predictTime) / decodes,
  };
}

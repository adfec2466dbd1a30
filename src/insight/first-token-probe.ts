/**
 * The opt-in first-token probe, like a blackbox probe: every `interval` it sends
 * llama-server a one-token streamed completion (`POST /v1/completions`,
 * `max_tokens` 1, `stream` true; a router's model named in the body) and times
 * the first streamed event that carries a token.
 *
 * Off by default, and said so wherever it is configured: it is load (one prompt
 * and one token per interval, counted in the server's own token counters), and a
 * completion wakes a sleeping model and keeps it awake, so with the probe on a
 * model never goes to sleep.
 */
import { request, type Dispatcher } from 'undici';
import type { Logger } from '../telemetry/logger.js';
import { LLAMACPP_PROBE_PATH, probeRequestBody, requestedModel } from '../runners/llamacpp.js';

export interface FirstTokenProbeOptions {
  /** The target's metrics URL: the probe goes to the same origin (a router's `model` goes in the body). */
  readonly metricsUrl: string;
  readonly dispatcher: Dispatcher;
  readonly headers: Readonly<Record<string, string>>;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly prompt: string;
  readonly logger: Logger;
  readonly display: string;
}

export class FirstTokenProbe {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private lastProblem = '';
  /** The latest probe's time to first token, undefined when it failed (or none ran yet). */
  latestSeconds: number | undefined;

  constructor(private readonly opts: FirstTokenProbeOptions) {}

  /** Probes now, then every interval, until stopped. */
  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.probeOnce().finally(() => {
        this.running = undefined;
        this.schedule(this.opts.intervalMs);
      });
    }, delayMs);
    this.timer.unref?.();
  }

  /** One probe; never throws (a failure is logged once per cause and leaves no figure). */
  async probeOnce(): Promise<void> {
    try {
      this.latestSeconds = await timeFirstToken(this.opts);
      if (this.lastProblem !== '') this.opts.logger.info('first-token probe answers again', { target: this.opts.display });
      this.lastProblem = '';
    } catch (err) {
      this.latestSeconds = undefined;
      const problem = String((err as Error)?.message ?? err);
      if (problem !== this.lastProblem) this.opts.logger.warn('first-token probe failed', { target: this.opts.display, reason: problem });
      this.lastProblem = problem;
    }
  }
}

/** Seconds from sending the request to the first `data:` event that is not `[DONE]`. */
export async function timeFirstToken(o: Pick<FirstTokenProbeOptions, 'metricsUrl' | 'dispatcher' | 'headers' | 'timeoutMs' | 'prompt'>): Promise<number> {
  const url = new URL(LLAMACPP_PROBE_PATH, o.metricsUrl).toString();
  const signal = AbortSignal.timeout(o.timeoutMs);
  const started = performance.now();
  const res = await request(url, {
    method: 'POST',
    dispatcher: o.dispatcher,
    signal,
    headers: { ...o.headers, 'content-type': 'application/json', accept: 'text/event-stream' },
    body: probeRequestBody(o.prompt, requestedModel(o.metricsUrl)),
  }).catch((err: unknown) => {
    throw new Error(signal.aborted ? `no answer within ${o.timeoutMs}ms` : String((err as Error)?.message ?? err));
  });
  if (res.statusCode < 200 || res.statusCode > 299) {
    res.body.resume();
    throw new Error(`${LLAMACPP_PROBE_PATH} answered HTTP ${res.statusCode}`);
  }
  let text = '';
  try {
    for await (const chunk of res.body) {
      text += (chunk as Buffer).toString('utf8');
      // SSE events end with a blank line; the first complete one that is data (not [DONE]) is the first token.
      for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
        const event = text.slice(0, end);
        text = text.slice(end + 2);
        const data = event.split('\n').find((l) => l.startsWith('data:'))?.slice(5).trim();
        if (data !== undefined && data !== '[DONE]' && !data.includes('"error"')) {
          const seconds = (performance.now() - started) / 1000;
          res.body.destroy();
          return seconds;
        }
        if (data?.includes('"error"')) throw new Error(`${LLAMACPP_PROBE_PATH} streamed an error`);
      }
      if (text.length > 1024 * 1024) throw new Error(`${LLAMACPP_PROBE_PATH} streamed no event`);
    }
  } catch (err) {
    res.body.destroy();
    if (signal.aborted) throw new Error(`no token within ${o.timeoutMs}ms`);
    throw err;
  }
  throw new Error(`${LLAMACPP_PROBE_PATH} ended without a token`);
}

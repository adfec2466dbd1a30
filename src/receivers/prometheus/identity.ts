/**
 * Who a scrape target is (`backend`, `model`, `mode`), asked of the runner's own
 * endpoints, apart from scraping: the page says which runner it is, the runner
 * module (src/runners/<kind>.ts) says which endpoint tells what.
 *
 *  - Configured attributes always win: only a key the target's `attributes` leave
 *    out (or set to '') is asked. With all three configured nothing is asked.
 *  - Asked at the first successful scrape and again after the target was down
 *    (it may have come back serving another model), then cached. Runners whose
 *    model is a label on the page (vLLM, SGLang) are read again whenever the
 *    page gains series, which is how a model change shows there.
 *  - GET only, a short timeout, never an endpoint that wakes or loads a model.
 *  - Failure or garbage never stops the scraping: the model is `unknown`, one log
 *    line per cause, and the question is asked again after 1, 2, 4, … 32 scrapes.
 */
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { Dispatcher } from 'undici';
import type { Logger } from '../../telemetry/logger.js';
import { ExpositionParser } from '../../prometheus/parser.js';
import { RunnerAnswerError, type RunnerIdentity, type RunnerKind } from '../../runners/identity.js';
import {
  LLAMACPP_BACKEND,
  LLAMACPP_ENDPOINTS,
  LLAMACPP_FAMILY_PREFIX,
  llamacppEndpoint,
  llamacppIdentity,
  parseModels,
  parseProps,
  requestedModel,
} from '../../runners/llamacpp.js';
import { VLLM_BACKEND, VLLM_FAMILY_PREFIX, VLLM_MODEL_LABEL, vllmIdentity } from '../../runners/vllm.js';
import { parseInfo, TGI_BACKEND, TGI_ENDPOINTS, TGI_FAMILY_PREFIX, tgiIdentity } from '../../runners/tgi.js';
import { parseModelInfo, SGLANG_BACKEND, SGLANG_ENDPOINTS, SGLANG_FAMILY_PREFIX, SGLANG_MODEL_LABEL, sglangIdentity } from '../../runners/sglang.js';
import { fetchPage, ScrapeError } from './fetch.js';
import type { TargetAddress } from './target.js';

/** A target's `runner` setting: a kind, `auto` (from `backend` or the page), or `none` (never ask). */
export type RunnerSetting = RunnerKind | 'auto' | 'none';

/** The attributes identity fills in when the target's config leaves them out. */
export const IDENTITY_KEYS = ['backend', 'model', 'mode'] as const satisfies ReadonlyArray<keyof RunnerIdentity>;

/** The model label of a runner that did not say who it is. */
export const UNKNOWN_MODEL = 'unknown';

/** Identity answers are small; a bigger one is not an answer. */
const ANSWER_LIMIT = 4 * 1024 * 1024;
/** Identity requests give up sooner than scrapes: they delay the target's first batch. */
const MAX_IDENTITY_TIMEOUT_MS = 2000;
/** A page labelled by its runner (Docker Model Runner) labels every series: the first ones tell. */
const SCANNED_SERIES = 1000;
const MAX_RETRY_GAP = 32;

const KIND_BY_BACKEND: ReadonlyMap<string, RunnerKind> = new Map([
  [LLAMACPP_BACKEND, 'llamacpp'],
  ['llamacpp', 'llamacpp'],
  [VLLM_BACKEND, 'vllm'],
  [TGI_BACKEND, 'tgi'],
  ['text-generation-inference', 'tgi'],
  [SGLANG_BACKEND, 'sglang'],
]);

const KIND_BY_PREFIX: ReadonlyArray<readonly [string, RunnerKind]> = [
  [LLAMACPP_FAMILY_PREFIX, 'llamacpp'],
  [VLLM_FAMILY_PREFIX, 'vllm'],
  [TGI_FAMILY_PREFIX, 'tgi'],
  [SGLANG_FAMILY_PREFIX, 'sglang'],
];

/** Runners whose model is a label on their own page. */
const MODEL_LABEL: Partial<Record<RunnerKind, string>> = { vllm: VLLM_MODEL_LABEL, sglang: SGLANG_MODEL_LABEL };

export interface TargetIdentityOptions {
  readonly address: TargetAddress;
  readonly runner: RunnerSetting;
  /** `service.name`, `service.instance.id`, `server.address` and the configured attributes ('' = not configured). */
  readonly attributes: Readonly<Record<string, string>>;
  readonly dispatcher: Dispatcher;
  readonly timeoutMs: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly logger: Logger;
}

/** What the page says: which runner wrote it, the model labels, and whether it labels its series with `model` itself. */
export interface PageFacts {
  readonly kind: RunnerKind | undefined;
  readonly labelledModel: boolean;
  readonly modelNames: readonly string[];
}

export class TargetIdentity {
  private current: Resource;
  private readonly configured: Readonly<Record<string, string>>;
  private readonly missing: ReadonlyArray<(typeof IDENTITY_KEYS)[number]>;
  private state: 'unasked' | 'known' | 'failed' = 'unasked';
  private kind: RunnerKind | undefined;
  private retryGap = 1;
  private retryIn = 0;
  /** The failure cause last logged: each is logged once, until identity succeeds. */
  private lastProblem = '';

  constructor(private readonly opts: TargetIdentityOptions) {
    this.configured = withoutEmptyIdentity(opts.attributes);
    this.missing = opts.runner === 'none' ? [] : IDENTITY_KEYS.filter((k) => this.configured[k] === undefined);
    this.current = resourceFromAttributes(this.configured);
  }

  /** The target's resource: configured attributes plus what the runner said. */
  get resource(): Resource {
    return this.current;
  }

  /** Whether anything is ever asked (some identity key is not configured). */
  get asks(): boolean {
    return this.missing.length > 0;
  }

  /** The target went down: when it comes back it may serve another model, so ask again. */
  forget(): void {
    this.state = 'unasked';
    this.retryGap = 1;
  }

  /** Whether this scrape should ask, given how many series the page gained. */
  due(seriesAdded: number): boolean {
    if (!this.asks) return false;
    if (this.state === 'unasked') return true;
    if (this.state === 'failed') return --this.retryIn <= 0;
    return seriesAdded > 0 && this.kind !== undefined && MODEL_LABEL[this.kind] !== undefined;
  }

  /** Asks the runner (the page just scraped is the first witness); the resource changes only if the answer does. */
  async refresh(body: string, contentType: string): Promise<void> {
    const facts = scanPage(body, contentType);
    this.kind = this.resolveKind(facts);
    if (this.kind === undefined) {
      // Not a runner we know, or a page that labels its own series (Docker Model Runner's
      // aggregate of several runners): no one identity to ask for, and nothing to fill in.
      this.settle(this.configured, undefined);
      return;
    }
    const problems: string[] = [];
    const identity = await this.ask(this.kind, facts, problems);
    const attributes: Record<string, string> = { ...this.configured };
    for (const key of this.missing) {
      const value = identity[key];
      if (value !== undefined) attributes[key] = value;
    }
    const known = this.missing.includes('model') ? identity.model !== undefined : true;
    if (!known) attributes['model'] = UNKNOWN_MODEL;
    this.settle(attributes, known ? undefined : problems.join('; ') || 'the runner did not name its model');
    // The model is known but an answer that tells the rest (llama-server's mode is in /v1/models) failed,
    // e.g. timed out on a busy machine: ask again, with the same backoff, instead of keeping it unknown.
    if (known && problems.length > 0 && this.missing.some((k) => attributes[k] === undefined)) this.retryLater();
  }

  private retryLater(): void {
    this.state = 'failed';
    this.retryIn = this.retryGap;
    this.retryGap = Math.min(this.retryGap * 2, MAX_RETRY_GAP);
  }

  private resolveKind(facts: PageFacts): RunnerKind | undefined {
    const setting = this.opts.runner;
    if (setting !== 'auto' && setting !== 'none') return setting;
    // Series labelled with their own model come from several runners (whatever the backend says).
    if (facts.labelledModel) return undefined;
    const backend = this.configured['backend'];
    return backend !== undefined ? KIND_BY_BACKEND.get(backend.toLowerCase()) : facts.kind;
  }

  private async ask(kind: RunnerKind, facts: PageFacts, problems: string[]): Promise<RunnerIdentity> {
    const url = this.opts.address.url;
    switch (kind) {
      case 'llamacpp': {
        const [props, models] = await Promise.all([
          this.answer(llamacppEndpoint(url, LLAMACPP_ENDPOINTS.props), LLAMACPP_ENDPOINTS.props, parseProps, problems),
          this.answer(llamacppEndpoint(url, LLAMACPP_ENDPOINTS.models), LLAMACPP_ENDPOINTS.models, parseModels, problems),
        ]);
        return llamacppIdentity(props, models, requestedModel(url));
      }
      case 'vllm': {
        const identity = vllmIdentity(facts.modelNames);
        if (identity.model === undefined) problems.push(`no "${VLLM_MODEL_LABEL}" label on the page`);
        return identity;
      }
      case 'tgi':
        return tgiIdentity(await this.answer(new URL(TGI_ENDPOINTS.info, url).toString(), TGI_ENDPOINTS.info, parseInfo, problems));
      case 'sglang': {
        const info = await this.answer(new URL(SGLANG_ENDPOINTS.modelInfo, url).toString(), SGLANG_ENDPOINTS.modelInfo, parseModelInfo, problems);
        return sglangIdentity(facts.modelNames, info);
      }
    }
  }

  /** One GET of a JSON endpoint, parsed; a failure is noted in `problems` and answers undefined. */
  private async answer<T>(url: string, endpoint: string, parse: (body: string) => T, problems: string[]): Promise<T | undefined> {
    const o = this.opts;
    try {
      const page = await fetchPage({
        url,
        dispatcher: o.dispatcher,
        timeoutMs: Math.min(o.timeoutMs, MAX_IDENTITY_TIMEOUT_MS),
        bodyLimit: ANSWER_LIMIT,
        headers: { ...o.headers, accept: 'application/json' },
      });
      return parse(page.body);
    } catch (err) {
      // A parser's message already names the endpoint ("/props answered invalid JSON: …").
      if (err instanceof RunnerAnswerError) problems.push(err.message);
      else if (err instanceof ScrapeError) problems.push(`${endpoint}: ${err.message}`);
      else problems.push(`${endpoint}: ${String((err as Error)?.message ?? err)}`);
      return undefined;
    }
  }

  private settle(attributes: Record<string, string>, problem: string | undefined): void {
    const o = this.opts;
    if (problem === undefined) {
      this.state = 'known';
      this.retryGap = 1;
      if (this.lastProblem !== '') o.logger.info('runner identity known again', { target: o.address.display, model: attributes['model'] });
      this.lastProblem = '';
    } else {
      this.state = 'failed';
      this.retryIn = this.retryGap;
      this.retryGap = Math.min(this.retryGap * 2, MAX_RETRY_GAP);
      // Causes carry no timings or ports that change from one try to the next, so "once per cause" holds.
      if (problem !== this.lastProblem) {
        o.logger.warn('runner identity unknown; scraping goes on with model="unknown"', { target: o.address.display, runner: this.kind, reason: problem });
      }
      this.lastProblem = problem;
    }
    if (!sameAttributes(this.current.attributes as Record<string, unknown>, attributes)) {
      this.current = resourceFromAttributes(attributes);
      o.logger.debug('runner identity', { target: o.address.display, runner: this.kind, backend: attributes['backend'], model: attributes['model'], mode: attributes['mode'] });
    }
  }
}

/**
 * Reads what identity needs from a page that already parsed: the runner whose
 * family prefix comes first, the model label values of vLLM/SGLang series, and
 * whether series carry a `model` label of their own. Labels are parsed for the
 * first series only (SCANNED_SERIES), so the cost is bounded whatever the page.
 */
export function scanPage(body: string, contentType: string): PageFacts {
  const parser = new ExpositionParser(body, { openMetrics: contentType.includes('application/openmetrics-text') });
  let kind: RunnerKind | undefined;
  let labelledModel = false;
  const modelNames = new Set<string>();
  let scanned = 0;
  try {
    for (let entry = parser.next(); entry !== 'eof' && scanned < SCANNED_SERIES; entry = parser.next()) {
      if (entry !== 'series') continue;
      scanned++;
      const name = parser.metricName();
      const own = KIND_BY_PREFIX.find(([prefix]) => name.startsWith(prefix))?.[1];
      kind ??= own;
      const labels = parser.labels();
      const modelLabel = own === undefined ? undefined : MODEL_LABEL[own];
      for (let i = 0; i < labels.length; i += 2) {
        if (labels[i] === 'model') labelledModel = true;
        else if (labels[i] === modelLabel) modelNames.add(labels[i + 1]!);
      }
    }
  } catch {
    // The scrape already accepted the page; whatever was read before a surprise still counts.
  }
  return { kind, labelledModel, modelNames: [...modelNames] };
}

/** '' for an identity key means "not configured" (`model: ${env:LLAMACPP_MODEL:-}`): ask the runner. */
export function withoutEmptyIdentity(attributes: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(attributes)) {
    if (v === '' && (IDENTITY_KEYS as readonly string[]).includes(k)) continue;
    out[k] = v;
  }
  return out;
}

function sameAttributes(a: Record<string, unknown>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

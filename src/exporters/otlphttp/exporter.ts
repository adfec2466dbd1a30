/**
 * The otlphttp exporter: keeps the latest snapshot of every resource, and every
 * `export_interval` encodes the resources that reported since the last push
 * into one request, queues it, and a single sender delivers the queue in order
 * with retries.
 *
 * consume() only stores a reference, so the scrape path and the /metrics
 * endpoint never wait on the backend. Encoding and compression happen when a
 * push is queued, so the queue holds immutable bytes (cheap to persist, and a
 * retry re-sends exactly what was first sent).
 *
 * On a reload, a memory queue drains in the background (the service starts the
 * new graph without waiting; what is left at shutdown_timeout is counted as
 * dropped, as on exit), while a disk queue stops at once: what is pending is
 * written to disk, the request in flight is cut, and the files stay for the new
 * exporter, which opens the same directory.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ComponentContext, Exporter, ShutdownReason } from '../../component.js';
import type { Batch, ResourceBatch } from '../../model/batch.js';
import { holdPoints } from '../../model/point-holds.js';
import { resourceKey } from '../../model/resource-key.js';
import { secretsOf, type ExporterReporter } from '../../telemetry/health.js';
import { redactUrl, type Logger } from '../../telemetry/logger.js';
import { SELF_SCOPE } from '../../telemetry/self-metrics.js';
import { basicAuthorization, requestHeaders, splitUrlCredentials } from '../../net/request-headers.js';
import { Backoff } from './backoff.js';
import { metricsUrl, type OtlpHttpExporterConfig } from './config.js';
import { DiskQueue } from './disk-queue.js';
import { HttpSender } from './http-sender.js';
import { ExporterTelemetry } from './own-metrics.js';
import { MemoryQueue, type QueuedRequest, type RequestQueue } from './queue.js';
import { countPoints, RequestBuilder } from './request-builder.js';

/** How a leased request ended: settled (delivered or given up) or interrupted by shutdown. */
type Delivery = 'settled' | 'interrupted';

export class OtlpHttpExporter implements Exporter {
  private readonly url: string;
  private readonly logger: Logger;
  private readonly telemetry: ExporterTelemetry;
  private readonly health: ExporterReporter;
  private readonly builder: RequestBuilder;
  private readonly sender: HttpSender;
  private readonly queue: RequestQueue;

  /** Latest snapshot per resource that has not been pushed yet. */
  private pending = new Map<string, ResourceBatch>();
  private exportChain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  private inFlight: QueuedRequest | undefined;
  private wakeSender: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  private senderDone: Promise<void> | undefined;
  /** Aborted when shutdown_timeout runs out: cuts the request in flight and any backoff wait. */
  private readonly deadline = new AbortController();

  private started = false;
  private stopping = false;
  private shutdownPromise: Promise<void> | undefined;
  /** Cause of the current run of failures, so failing and recovering are each logged once. */
  private failing: string | undefined;

  constructor(
    private readonly config: OtlpHttpExporterConfig,
    context: ComponentContext,
  ) {
    // Clients do not send credentials written in a URL: they become Basic auth, and stay out of the URL.
    const { url, authorization } = splitUrlCredentials(new URL(metricsUrl(config)));
    this.url = url.toString();
    this.logger = context.logger.child({ exporter: context.id });
    const headers = headersFor(config, authorization);
    this.health = context.health.exporter({
      exporter: context.id,
      type: 'otlphttp',
      endpoint: redactUrl(this.url),
      secrets: secretsOf(this.url, headers),
    });
    this.telemetry = new ExporterTelemetry(context.id, context.selfMetrics, this.logger, this.health);
    this.builder = new RequestBuilder({
      encoding: config.encoding,
      compression: config.compression,
      resourceToAttributes: config.resource_to_attributes,
      maxRequestBytes: config.max_request_bytes,
      maxRequestPoints: config.max_request_points,
      onDeflateThreadFailure: (error) => this.logger.warn('the deflate thread failed; this push was compressed by zlib instead', { error }),
    });
    this.sender = new HttpSender({
      url: this.url,
      headers,
      timeout: config.timeout,
      userAgent: `runner-metrics/${SELF_SCOPE.version}`,
    });
    // A disabled queue still holds the one push made while the previous one is being sent.
    const capacity = config.sending_queue.enabled ? config.sending_queue.queue_size : 1;
    const storage = config.sending_queue.enabled ? config.sending_queue.storage : undefined;
    this.queue = storage
      ? new DiskQueue(storage, capacity, (file, error) =>
          this.logger.warn('unreadable queued request deleted', { file, error }),
        )
      : new MemoryQueue(capacity);
  }

  consume(batch: Batch): void {
    if (this.stopping) return;
    for (const resource of batch) {
      // An empty snapshot (a runner that went down) has nothing to push; the last
      // values it reported before, if still pending, are real data and stay.
      if (countPoints(resource) > 0) this.pending.set(resourceKey(resource.resource), resource);
    }
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const evicted = await this.queue.open();
    this.dropEvicted(evicted);
    if (this.queue.size > 0) {
      this.logger.info('resuming queued requests from storage', { requests: this.queue.size });
    }
    this.updateQueueGauge();
    this.senderDone = this.runSender();
    this.timer = setInterval(() => void this.exportNow(), this.config.export_interval);
    this.timer.unref();
    this.logger.info('exporting', { url: redactUrl(this.url), interval_ms: this.config.export_interval });
  }

  /** Encodes what reported since the last push and queues it; resolves once queued (not sent). */
  exportNow(): Promise<void> {
    this.exportChain = this.exportChain.then(() => this.enqueuePending());
    return this.exportChain;
  }

  /** Queues what is pending and waits until the queue is empty (tests, benchmarks). */
  async forceFlush(): Promise<void> {
    await this.exportNow();
    if (!this.started || this.stopping) return;
    if (this.queue.size === 0 && this.inFlight === undefined) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * A memory queue may keep delivering after a reload: nothing of it is shared
   * with the new exporter. A disk queue may not (the new exporter sends the same
   * files), so it stops promptly on reload instead.
   */
  drainsInBackground(): boolean {
    return !this.queue.persistent;
  }

  /**
   * `final` (exit): pushes the current state and flushes the queue for at most
   * shutdown_timeout. `reload` with a disk queue: queues the current state on
   * disk and stops at once, cutting the request in flight; the files are left
   * for the next exporter on the same directory.
   */
  shutdown(reason: ShutdownReason = 'final'): Promise<void> {
    this.shutdownPromise ??= this.stop(reason === 'reload' && this.queue.persistent).finally(() => this.health.remove());
    return this.shutdownPromise;
  }

  private async stop(leaveOnDisk: boolean): Promise<void> {
    clearInterval(this.timer);
    if (!this.started) {
      await this.sender.close();
      return;
    }
    let timeout: NodeJS.Timeout | undefined;
    if (leaveOnDisk) this.deadline.abort();
    else timeout = setTimeout(() => this.deadline.abort(), this.config.shutdown_timeout);
    await this.exportNow();
    this.stopping = true;
    this.wakeSender?.();
    await this.senderDone;
    clearTimeout(timeout);
    const left = this.queue.size;
    if (left > 0 && this.queue.persistent) {
      this.logger.info('queued requests kept in storage for the next start', { requests: left });
    } else if (left > 0) {
      let points = 0;
      for (let e = this.queue.shift(); e; e = this.queue.shift()) points += e.points;
      this.telemetry.dropped(points, 'shutdown', 'shutdown_timeout reached with requests still queued');
    }
    this.updateQueueGauge();
    await this.sender.close();
  }

  private async enqueuePending(): Promise<void> {
    if (this.pending.size === 0 || this.stopping) return;
    // Encoding yields between resources: the hold keeps a scrape meanwhile from rewriting their points.
    const release = holdPoints();
    const resources = [...this.pending.values()];
    this.pending = new Map();
    let requests;
    try {
      requests = await this.builder.build(resources);
    } catch (error) {
      const points = resources.reduce((n, r) => n + countPoints(r), 0);
      this.telemetry.dropped(points, 'encode_error', String(error), { error });
      return;
    } finally {
      release();
    }
    for (const request of requests) {
      try {
        this.dropEvicted(await this.queue.push(request));
      } catch (error) {
        this.telemetry.dropped(request.points, 'storage_error', errorCode(error), { error });
      }
    }
    this.updateQueueGauge();
    this.wakeSender?.();
  }

  private dropEvicted(evicted: readonly QueuedRequest[]): void {
    if (evicted.length === 0) return;
    const points = evicted.reduce((n, e) => n + e.points, 0);
    this.telemetry.dropped(points, 'queue_full', 'sending queue full: oldest requests dropped', {
      queue_size: this.queue.capacity,
    });
  }

  /** The single sender: delivers queued requests in order, one at a time. */
  private async runSender(): Promise<void> {
    for (;;) {
      if (this.deadline.signal.aborted) return;
      const entry = this.queue.shift();
      if (entry === undefined) {
        this.notifyIdle();
        if (this.stopping) return;
        await new Promise<void>((resolve) => (this.wakeSender = resolve));
        this.wakeSender = undefined;
        continue;
      }
      this.inFlight = entry;
      this.updateQueueGauge();
      const outcome = await this.deliver(entry);
      this.inFlight = undefined;
      if (outcome === 'interrupted') {
        if (!this.queue.persistent) this.telemetry.dropped(entry.points, 'shutdown', 'shutdown_timeout reached while sending');
        return;
      }
      this.updateQueueGauge();
    }
  }

  private async deliver(entry: QueuedRequest): Promise<Delivery> {
    let body: Uint8Array;
    try {
      body = await this.queue.body(entry);
    } catch (error) {
      this.telemetry.dropped(entry.points, 'storage_error', errorCode(error), { error });
      await this.settle(entry);
      return 'settled';
    }
    const retry = this.config.retry_on_failure;
    const backoff = new Backoff(retry);
    const firstAttempt = Date.now();
    for (;;) {
      const t0 = performance.now();
      const result = await this.sender.send(body, entry.encoding, entry.compression, this.deadline.signal);
      this.telemetry.pushSeconds((performance.now() - t0) / 1000);

      if (result.kind === 'ok') {
        const rejected = Math.min(result.partial?.rejected ?? 0, entry.points);
        this.telemetry.sent(entry.points - rejected);
        if (rejected > 0) {
          this.telemetry.dropped(rejected, 'rejected', result.partial!.message || 'partial success', {
            url: redactUrl(this.url),
          });
        } else if (result.partial?.message) {
          this.logger.warn('backend accepted the push with a warning', { message: result.partial.message });
        }
        this.noteRecovered();
        await this.settle(entry);
        return 'settled';
      }

      this.telemetry.sendFailed(entry.points, result.kind === 'permanent' && result.message ? `${result.cause}: ${result.message}` : result.cause);
      if (this.deadline.signal.aborted) return 'interrupted';
      if (result.kind === 'permanent') {
        const cause = result.message ? `${result.cause}: ${result.message}` : result.cause;
        this.telemetry.dropped(entry.points, 'permanent_error', cause, { url: redactUrl(this.url) });
        await this.settle(entry);
        return 'settled';
      }

      this.noteFailing(result.cause);
      const delay = result.retryAfter ?? backoff.next();
      const elapsed = Date.now() - firstAttempt;
      const outOfTime = retry.max_elapsed_time > 0 && elapsed + delay > retry.max_elapsed_time;
      if (!retry.enabled || outOfTime) {
        const why = retry.enabled ? 'max_elapsed_time reached' : 'retry_on_failure disabled';
        this.telemetry.dropped(entry.points, 'retries_exhausted', `${result.cause} (${why})`, {
          url: redactUrl(this.url),
        });
        await this.settle(entry);
        return 'settled';
      }
      try {
        await sleep(delay, undefined, { signal: this.deadline.signal });
      } catch {
        return 'interrupted';
      }
    }
  }

  /** Removes a delivered or abandoned request from the queue (and from disk). */
  private async settle(entry: QueuedRequest): Promise<void> {
    try {
      await this.queue.ack(entry);
    } catch (error) {
      this.logger.error('could not remove a sent request from storage; it may be sent again', { error });
    }
  }

  private noteFailing(cause: string): void {
    if (this.failing === cause) return;
    this.failing = cause;
    this.logger.warn('push failing, retrying', { url: redactUrl(this.url), cause });
  }

  private noteRecovered(): void {
    if (this.failing === undefined) return;
    this.failing = undefined;
    this.logger.info('push recovered', { url: redactUrl(this.url) });
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private updateQueueGauge(): void {
    this.telemetry.queue(this.queue.size + (this.inFlight ? 1 : 0), this.queue.capacity);
  }
}

/**
 * User headers, lower-cased, and one `authorization`: `auth.basic` replaces a
 * configured `Authorization` (in any case), which wins over credentials in the URL.
 */
function headersFor(config: OtlpHttpExporterConfig, urlAuthorization: string | undefined): Record<string, string> {
  const headers = requestHeaders(config.headers, urlAuthorization);
  const basic = config.auth?.basic;
  if (basic) headers['authorization'] = basicAuthorization(basic.username, basic.password);
  return headers;
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? String(error);
}

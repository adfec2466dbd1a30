/**
 * The `hostmetrics` receiver: the machine beside the runners. CPU, memory and
 * disk from /proc and statfs, and per-GPU figures from nvidia-smi and rocm-smi
 * when they are on PATH, as one resource with backend="host".
 */
import type { ComponentContext, Consumer, Receiver, ReceiverFactory } from '../../component.js';
import { hostmetricsReceiverConfigSchema, type HostmetricsReceiverConfig } from './config.js';
import { HostScraper } from './scraper.js';

export class HostmetricsReceiver implements Receiver {
  readonly scraper: HostScraper;
  private stopped = false;

  constructor(config: HostmetricsReceiverConfig, context: ComponentContext, next: Consumer, overrides: { procDir?: string; path?: string } = {}) {
    this.scraper = new HostScraper({
      receiverId: context.id,
      config,
      next,
      logger: context.logger,
      selfMetrics: context.selfMetrics,
      ...overrides,
    });
  }

  async start(): Promise<void> {
    await this.scraper.start();
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.scraper.stop();
  }
}

export const hostmetricsReceiverFactory: ReceiverFactory<HostmetricsReceiverConfig> = {
  type: 'hostmetrics',
  configSchema: hostmetricsReceiverConfigSchema,
  createReceiver: (config, context, next) => new HostmetricsReceiver(config, context, next),
};

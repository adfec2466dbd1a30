/**
 * The `health_check` extension, as in the OTel Collector: an HTTP endpoint for
 * liveness/readiness probes. It answers 200 once every pipeline has started and
 * 503 before that and while the collector shuts down.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { ComponentContext, Extension, ExtensionFactory } from '../../component.js';
import { componentConfig, listenEndpoint, unixSocketMode } from '../../config/schema-helpers.js';
import { HttpListener } from '../../net/http-listener.js';
import { formatListenAddress, parseListenAddress, type ListenAddress } from '../../net/listen-address.js';

export const healthCheckConfigSchema = componentConfig({
  endpoint: listenEndpoint('127.0.0.1:13133'),
  unix_socket_mode: unixSocketMode('0660'),
  path: z.string().startsWith('/', 'path must start with /').default('/'),
});

export type HealthCheckConfig = z.output<typeof healthCheckConfigSchema>;

export class HealthCheckExtension implements Extension {
  private readonly listener: HttpListener;
  private readySince: Date | undefined;

  constructor(
    private readonly config: HealthCheckConfig,
    private readonly context: ComponentContext,
  ) {
    this.listener = new HttpListener((req, res) => this.handle(req, res), { unixSocketMode: config.unix_socket_mode });
  }

  address(): ListenAddress | undefined {
    return this.listener.address;
  }

  async start(): Promise<void> {
    const parsed = parseListenAddress(this.config.endpoint);
    if (!parsed.ok) throw new Error(parsed.message);
    const bound = await this.listener.listen(parsed.address);
    this.context.logger.info('health check listening', { endpoint: formatListenAddress(bound), path: this.config.path });
  }

  pipelinesReady(): void {
    this.readySince = new Date();
  }

  pipelinesStopping(): void {
    this.readySince = undefined;
  }

  async shutdown(): Promise<void> {
    this.readySince = undefined;
    await this.listener.close();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== this.config.path) return void res.writeHead(404).end();
    const since = this.readySince;
    const body = since
      ? { status: 'Server available', upSince: since.toISOString(), uptime: `${((Date.now() - since.getTime()) / 1000).toFixed(3)}s` }
      : { status: 'Server not available' };
    res.writeHead(since ? 200 : 503, { 'content-type': 'application/json' }).end(req.method === 'HEAD' ? undefined : JSON.stringify(body));
  }
}

export const healthCheckExtensionFactory: ExtensionFactory<HealthCheckConfig> = {
  type: 'health_check',
  configSchema: healthCheckConfigSchema,
  createExtension: (config, context) => new HealthCheckExtension(config, context),
};

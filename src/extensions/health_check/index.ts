/**
 * The `health_check` extension, as in the OTel Collector, with the Kubernetes
 * probe paths beside it:
 *
 * - readiness (`path`, `/` by default, and `/readyz`): 200 once every pipeline
 *   has started (the config is loaded and the listeners are up), 503 before that
 *   and from the final shutdown on. A config reload does not make it unready:
 *   the running config stays in force until the new one has started.
 * - liveness (`/livez`): 200 whenever the process answers at all, i.e. its event
 *   loop runs; a blocked loop answers nothing and the probe times out.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { ComponentContext, Extension, ExtensionFactory, ShutdownReason } from '../../component.js';
import { componentConfig, listenEndpoint } from '../../config/schema-helpers.js';
import { HttpListener } from '../../net/http-listener.js';
import { formatListenAddress, parseListenAddress, type ListenAddress } from '../../net/listen-address.js';

/** Fixed probe paths, as Kubernetes components serve them. */
export const LIVENESS_PATH = '/livez';
export const READINESS_PATH = '/readyz';

export const healthCheckConfigSchema = componentConfig({
  endpoint: listenEndpoint('127.0.0.1:13133'),
  path: z
    .string()
    .startsWith('/', 'path must start with /')
    .refine((p) => p !== LIVENESS_PATH, `${LIVENESS_PATH} is the liveness probe; the readiness path must differ`)
    .default('/'),
});

export type HealthCheckConfig = z.output<typeof healthCheckConfigSchema>;

export class HealthCheckExtension implements Extension {
  private readonly listener = new HttpListener((req, res) => this.handle(req, res));
  /** Liveness reports the process's uptime: this instance is replaced when a reload changes its config. */
  private readonly processStart = new Date(Math.round(Date.now() - process.uptime() * 1000));
  private readySince: Date | undefined;

  constructor(
    private readonly config: HealthCheckConfig,
    private readonly context: ComponentContext,
  ) {}

  address(): ListenAddress | undefined {
    return this.listener.address;
  }

  async start(): Promise<void> {
    const parsed = parseListenAddress(this.config.endpoint);
    if (!parsed.ok) throw new Error(parsed.message);
    const bound = await this.listener.listen(parsed.address);
    this.context.logger.info('health check listening', {
      endpoint: formatListenAddress(bound),
      readiness: [...new Set([this.config.path, READINESS_PATH])],
      liveness: LIVENESS_PATH,
    });
  }

  pipelinesReady(): void {
    // Ready again after a reload: still the same uninterrupted stretch of readiness.
    this.readySince ??= new Date();
  }

  pipelinesStopping(reason: ShutdownReason = 'final'): void {
    if (reason === 'final') this.readySince = undefined;
  }

  async shutdown(): Promise<void> {
    this.readySince = undefined;
    await this.listener.close();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path === LIVENESS_PATH) return this.answer(req, res, 200, { status: 'Server alive', ...since(this.processStart) });
    if (path !== this.config.path && path !== READINESS_PATH) return void res.writeHead(404).end();
    const ready = this.readySince;
    if (ready) this.answer(req, res, 200, { status: 'Server available', ...since(ready) });
    else this.answer(req, res, 503, { status: 'Server not available' });
  }

  private answer(req: IncomingMessage, res: ServerResponse, status: number, body: object): void {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : JSON.stringify(body));
  }
}

function since(start: Date): { upSince: string; uptime: string } {
  return { upSince: start.toISOString(), uptime: `${((Date.now() - start.getTime()) / 1000).toFixed(3)}s` };
}

export const healthCheckExtensionFactory: ExtensionFactory<HealthCheckConfig> = {
  type: 'health_check',
  configSchema: healthCheckConfigSchema,
  createExtension: (config, context) => new HealthCheckExtension(config, context),
};

/** The discoverers a prometheus receiver's config asks for, in config order. */
import { FileSdDiscoverer } from '../../discovery/file-sd.js';
import { LlamacppRouterDiscoverer } from '../../discovery/llamacpp-router.js';
import { SocketSdDiscoverer } from '../../discovery/socket-sd.js';
import type { Discoverer } from '../../discovery/target-group.js';
import type { DiscoveryTelemetry } from '../../discovery/telemetry.js';
import type { PrometheusReceiverConfig } from './config.js';

export function createDiscoverers(config: PrometheusReceiverConfig, telemetry: DiscoveryTelemetry): Discoverer[] {
  return [
    ...config.file_sd_configs.map((c) => new FileSdDiscoverer({ files: c.files, refreshMs: c.refresh_interval }, telemetry)),
    ...config.socket_sd_configs.map((c) => {
      const labels: Record<string, string> = Object.fromEntries(Object.entries(c.attributes).map(([k, v]) => [k, String(v)]));
      if (c.metrics_path !== undefined) labels['__metrics_path__'] = c.metrics_path;
      return new SocketSdDiscoverer({ paths: c.paths, refreshMs: c.refresh_interval, labels }, telemetry);
    }),
    ...config.llamacpp_router_sd_configs.map(
      (c) =>
        new LlamacppRouterDiscoverer(
          // The receiver's headers reach every scrape; the router's own go to /models too, and win.
          { url: c.url, refreshMs: c.refresh_interval, headers: { ...config.headers, ...c.headers }, scrapeVia: c.scrape_via },
          telemetry,
        ),
    ),
  ];
}

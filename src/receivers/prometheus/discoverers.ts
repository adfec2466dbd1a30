/** The discoverers a prometheus receiver's config asks for, in config order. */
import { FileSdDiscoverer } from '../../discovery/file-sd.js';
import type { Discoverer } from '../../discovery/target-group.js';
import type { DiscoveryTelemetry } from '../../discovery/telemetry.js';
import type { PrometheusReceiverConfig } from './config.js';

export function createDiscoverers(config: PrometheusReceiverConfig, telemetry: DiscoveryTelemetry): Discoverer[] {
  return [...config.file_sd_configs.map((c) => new FileSdDiscoverer({ files: c.files, refreshMs: c.refresh_interval }, telemetry))];
}

/** The discoverers a prometheus receiver's config asks for, in config order. */
import type { Discoverer } from '../../discovery/target-group.js';
import type { DiscoveryTelemetry } from '../../discovery/telemetry.js';
import type { PrometheusReceiverConfig } from './config.js';

export function createDiscoverers(_config: PrometheusReceiverConfig, _telemetry: DiscoveryTelemetry): Discoverer[] {
  return [];
}

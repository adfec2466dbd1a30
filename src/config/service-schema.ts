/**
 * The `service` section's fixed parts. The zod schema for telemetry is also the
 * source of its JSON Schema, like the components' schemas are.
 */
import { z } from 'zod';

export const SERVICE_KEYS = ['extensions', 'telemetry', 'pipelines'] as const;
export const PIPELINE_KEYS = ['receivers', 'processors', 'exporters'] as const;

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const telemetrySchema = z.preprocess(
  (v) => v ?? undefined,
  z
    .strictObject({
      logs: z
        .preprocess(
          (v) => v ?? undefined,
          z.strictObject({
            level: z.enum(LOG_LEVELS).default('info').describe('Minimum level of the collector’s own logs'),
          }),
        )
        .default({ level: 'info' }),
    })
    .default({ logs: { level: 'info' } }),
);

/** Config of the `ollama` receiver; README.md documents every key. */
import { z } from 'zod';
import { attributeValue, byteSize, componentConfig, httpHeaders, positiveDuration } from '../../config/schema-helpers.js';
import { OLLAMA_DEFAULT_URL } from '../../runners/ollama.js';
import { resolveOllamaTarget } from './target.js';

/** Attributes the receiver sets itself: `model` names each loaded model's resource. */
const RESERVED_ATTRIBUTES = ['model'];

const target = z
  .strictObject({
    url: z
      .string()
      .default(OLLAMA_DEFAULT_URL)
      .describe('Base URL of the Ollama server (its OLLAMA_HOST); /api/ps, /api/tags, /api/version and /metrics are appended.'),
    attributes: z
      .record(z.string(), attributeValue)
      .default({})
      .describe('Resource attributes of the server and of every model loaded in it (backend is ollama unless set here).'),
  })
  .superRefine((t, ctx) => {
    try {
      resolveOllamaTarget(t.url);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message, path: ['url'] });
    }
    for (const key of RESERVED_ATTRIBUTES) {
      if (key in t.attributes) {
        ctx.addIssue({
          code: 'custom',
          path: ['attributes', key],
          message: `"${key}" is set by the receiver to each loaded model's name; remove it here`,
        });
      }
    }
  });

export const ollamaReceiverConfigSchema = componentConfig({
  scrape_interval: positiveDuration().default(15_000).describe('How often each Ollama server is asked.'),
  scrape_timeout: positiveDuration().default(3_000).describe('Give up on a request after this long (capped at scrape_interval).'),
  body_size_limit: byteSize().default(16 * 1024 * 1024).describe('Larger answers fail (uncompressed size). 0 = no limit.'),
  metrics_path: z
    .string()
    .default('/metrics')
    .describe('Path of the Prometheus page of an Ollama that serves one (OLLAMA_METRICS=1); empty = never ask.'),
  headers: httpHeaders().default({}).describe('Extra request headers (e.g. Authorization for a proxy in front of Ollama).'),
  targets: z
    .array(target)
    .min(1)
    .default([{ url: OLLAMA_DEFAULT_URL, attributes: {} }])
    .describe('Ollama servers to watch.'),
}).superRefine((config, ctx) => {
  // Two targets at one address would overwrite each other's series.
  const seen = new Map<string, number>();
  config.targets.forEach((t, i) => {
    try {
      const instance = resolveOllamaTarget(t.url).instance;
      const first = seen.get(instance);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['targets', i], message: `targets[${first}] and targets[${i}] are both ${instance}` });
      }
      seen.set(instance, i);
    } catch {
      // already reported by the target's own check
    }
  });
});

export type OllamaReceiverConfig = z.output<typeof ollamaReceiverConfigSchema>;
export type OllamaTargetConfig = OllamaReceiverConfig['targets'][number];

/**
 * The default guard rails on one scraped page. On by default, unlike Prometheus,
 * to protect the one process every runner shares; the receiver README explains
 * the figures. Every receiver that converts an exposition page (prometheus,
 * ollama's and Docker Model Runner's own pages) gets them unless configured.
 */
import type { LabelLimits } from '../../prometheus/parser.js';

export const DEFAULT_SAMPLE_LIMIT = 50_000;
export const DEFAULT_LABEL_LIMIT = 64;
export const DEFAULT_LABEL_NAME_LENGTH_LIMIT = 1024;
export const DEFAULT_LABEL_VALUE_LENGTH_LIMIT = 4096;

export const DEFAULT_LABEL_LIMITS: LabelLimits = {
  labels: DEFAULT_LABEL_LIMIT,
  nameLength: DEFAULT_LABEL_NAME_LENGTH_LIMIT,
  valueLength: DEFAULT_LABEL_VALUE_LENGTH_LIMIT,
};

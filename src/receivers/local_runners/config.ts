/** Config of the `local_runners` receiver; README.md documents every key. */
import { z } from 'zod';
import { attributeValue, componentConfig, positiveDuration } from '../../config/schema-helpers.js';
import { globProblem } from '../../discovery/glob.js';
import { isLocalRunnerKind, LOCAL_RUNNER_KINDS, WELL_KNOWN_PORTS, type LocalRunnerKind } from '../../runners/recognize.js';

export interface PortEntry {
  readonly port: number;
  /** The runner expected there; undefined = any. */
  readonly kind: LocalRunnerKind | undefined;
}

/** `8081` or `ollama:11500`: a port, with the runner expected there (a well-known port's own by default). */
export function parsePortEntry(text: string): PortEntry | string {
  const m = /^\s*(?:([a-z_]+)\s*:\s*)?(\d{1,5})\s*$/.exec(text);
  if (!m) return `"${text}" is not a port (e.g. 8081 or ollama:11500)`;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return `port ${port} is out of range 1-65535`;
  if (m[1] !== undefined && !isLocalRunnerKind(m[1])) return `"${m[1]}" is not a runner local discovery knows (${LOCAL_RUNNER_KINDS.join(', ')})`;
  const kind = m[1] as LocalRunnerKind | undefined;
  return { port, kind: kind ?? WELL_KNOWN_PORTS.find((w) => w.port === port)?.kind };
}

/**
 * A list written as YAML (`[8080, ollama:11500]`) or as one comma-separated
 * string, as `${env:LOCAL_RUNNER_PORTS:-}` gives it (`8081,8090`, a bare `8081`,
 * or nothing at all).
 */
function commaList() {
  return z
    .union([z.string(), z.number(), z.array(z.union([z.string(), z.number()])), z.null()])
    .transform((v) => (v === null ? [] : Array.isArray(v) ? v.map(String) : String(v).split(',')).map((s) => s.trim()).filter((s) => s !== ''));
}

const ports = () =>
  commaList().transform((items, ctx) => {
    const out: PortEntry[] = [];
    for (const item of items) {
      const entry = parsePortEntry(item);
      if (typeof entry === 'string') ctx.addIssue({ code: 'custom', message: entry });
      else out.push(entry);
    }
    return out;
  });

const globs = () =>
  commaList().superRefine((items, ctx) => {
    for (const item of items) {
      const problem = globProblem(item) ?? (item.startsWith('/') ? undefined : `"${item}" must be an absolute path`);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }
  });

const target = z
  .strictObject({
    url: z
      .string()
      .superRefine((text, ctx) => {
        let url: URL | undefined;
        try {
          url = new URL(text);
        } catch {
          /* said below */
        }
        if (!url || url.protocol !== 'http:') ctx.addIssue({ code: 'custom', message: `"${text}" must be an http:// URL of a runner` });
        else if (url.username || url.password || url.search) ctx.addIssue({ code: 'custom', message: 'credentials and query strings are not supported here: configure a receiver for this runner' });
      })
      .describe('Base URL of a runner to look for, on any host (e.g. http://127.0.0.1:8080).'),
    runner: z.enum(LOCAL_RUNNER_KINDS).optional().describe('The runner expected there: its question is asked first.'),
    attributes: z
      .record(z.string(), attributeValue)
      .default({})
      .describe('Resource attributes of what is found there. backend, model and mode (left empty: asked of the runner) apply to a one-model runner only.'),
  })
  .describe('A URL to look at besides the local ports.');

export const localRunnersReceiverConfigSchema = componentConfig({
  interval: positiveDuration().default(5_000).describe('How often every candidate is looked at, and how often each runner found is scraped.'),
  scrape_timeout: positiveDuration().default(3_000).describe('Give up on a scrape of a runner found after this long (capped at interval).'),
  probe_timeout: positiveDuration().default(1_000).describe('Give up on a probe (a connect or one GET) after this long.'),
  ports: ports()
    .prefault(WELL_KNOWN_PORTS.map((w) => w.port))
    .describe('Ports on 127.0.0.1 to look at: a number (a well-known port expects its own runner) or kind:port. Default: every runner\'s well-known port.'),
  extra_ports: ports().prefault([]).describe('More ports, as a list or one comma-separated string (LOCAL_RUNNER_PORTS): 8081,ollama:11500.'),
  sockets: globs().prefault([]).describe('Unix socket globs (absolute; * and ? in the last segment), as a list or one comma-separated string (LOCAL_RUNNER_SOCKETS).'),
  model_runner_sockets: z
    .boolean()
    .default(true)
    .describe("Also look at Docker Model Runner's socket: $MODEL_RUNNER_SOCK, and Docker Desktop's Docker socket (only GET /exp/vDD4.40/engines/ps)."),
  targets: z.array(target).default([]).describe('URLs to look at besides the local ports (any host); a URL on a listed port replaces it.'),
});

export type LocalRunnersReceiverConfig = z.output<typeof localRunnersReceiverConfigSchema>;

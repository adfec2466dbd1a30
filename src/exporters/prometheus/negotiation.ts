/** What a scrape request asks for: exposition format, compression, and which families. */
import { DEFAULT_ESCAPING, toEscapingScheme, type EscapingScheme } from '../../prometheus/writer.js';
import type { ExpositionFormat } from './family-naming.js';

interface Preference {
  readonly value: string;
  readonly params: ReadonlyMap<string, string>;
  readonly q: number;
}

/** Parses `a/b;x=1;q=0.5, c/d` into values with their parameters and weight. */
function parseList(header: string): Preference[] {
  const out: Preference[] = [];
  for (const item of header.split(',')) {
    const [value = '', ...rest] = item.split(';');
    const params = new Map<string, string>();
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq > 0) params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'));
    }
    const q = params.has('q') ? Number(params.get('q')) : 1;
    out.push({ value: value.trim().toLowerCase(), params, q: Number.isFinite(q) ? q : 0 });
  }
  return out;
}

export interface Negotiated {
  readonly format: ExpositionFormat;
  /** How names outside the legacy charsets are written: the chosen clause's `escaping`, else underscores. */
  readonly escaping: EscapingScheme;
}

/**
 * OpenMetrics when the client ranks `application/openmetrics-text` at least as
 * high as plain text (Prometheus sends both, OpenMetrics first); text 0.0.4 otherwise.
 * The escaping scheme is the `escaping` parameter of the clause chosen, so a
 * Prometheus 3 that sends `escaping=allow-utf-8` on its OpenMetrics and
 * `text/plain;version=1.0.0` clauses gets UTF-8 names, and any other scraper
 * (Prometheus 2.x, curl) gets names it can read. An unknown value is ignored.
 */
export function negotiate(accept: string | undefined): Negotiated {
  let openMetrics: Preference | undefined;
  let text: Preference | undefined;
  for (const preference of parseList(accept ?? '')) {
    const { value, q } = preference;
    if (value === 'application/openmetrics-text') {
      if (q > (openMetrics?.q ?? 0)) openMetrics = preference;
    } else if (value === 'text/plain' || value === 'text/*' || value === '*/*') {
      if (q > (text?.q ?? 0)) text = preference;
    }
  }
  const useOpenMetrics = openMetrics !== undefined && openMetrics.q >= (text?.q ?? 0);
  const chosen = useOpenMetrics ? openMetrics : text;
  const escaping = toEscapingScheme(chosen?.params.get('escaping') ?? '') ?? DEFAULT_ESCAPING;
  return { format: useOpenMetrics ? 'openmetrics' : 'text', escaping };
}

/** True when Accept-Encoding allows gzip (explicitly or through `*`) with a non-zero weight. */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (!acceptEncoding) return false;
  let gzip: number | undefined;
  let any: number | undefined;
  for (const { value, q } of parseList(acceptEncoding)) {
    if (value === 'gzip' || value === 'x-gzip') gzip = Math.max(gzip ?? 0, q);
    else if (value === '*') any = q;
  }
  return (gzip ?? any ?? 0) > 0;
}

/** The `name[]` query parameters (TorchServe's metrics API); undefined when there are none. */
export function requestedNames(query: URLSearchParams): ReadonlySet<string> | undefined {
  // An empty `name[]=` (a form left blank) names nothing, so it counts as no filter.
  const names = query.getAll('name[]').filter((n) => n !== '');
  return names.length > 0 ? new Set(names) : undefined;
}

/**
 * The page at `/`: a link to the metrics and a table of scrape targets with their
 * health, read from the collector's own metrics (like Prometheus' Targets page).
 * Server-rendered, no script, so it works behind any proxy and in any browser.
 */
import type { Attributes } from '../../model/batch.js';
import type { SelfMetrics } from '../../telemetry/self-metrics.js';

interface TargetRow {
  readonly labels: Attributes;
  readonly up: boolean;
  readonly durationSeconds: number | undefined;
  readonly samples: number | undefined;
}

/** Health series key on job + instance + the target's attributes; rows follow the `up` series. */
export function targetRows(metrics: SelfMetrics): TargetRow[] {
  const duration = metrics.findGauge('scrape_duration_seconds');
  const samples = metrics.findGauge('scrape_samples_scraped');
  const up = metrics.findGauge('up');
  if (!up) return [];
  return up.entries().map(({ attributes, value }) => ({
    labels: attributes,
    up: value === 1,
    durationSeconds: duration?.value(attributes),
    samples: samples?.value(attributes),
  }));
}

export function statusPage(metricsPath: string, rows: readonly TargetRow[]): string {
  const body = rows.length === 0 ? '<p>No scrape targets.</p>' : targetTable(rows);
  const upCount = rows.filter((r) => r.up).length;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>runner-metrics</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse}th,td{padding:.35rem .8rem;border-bottom:1px solid #ddd;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.up{color:#1a7f37;font-weight:600}.down{color:#cf222e;font-weight:600}
code{background:#f4f4f4;padding:0 .2rem}
</style></head>
<body>
<h1>runner-metrics</h1>
<p><a href="${escapeHtml(metricsPath)}">Metrics</a> &middot; targets up: <span id="up-count">${upCount}</span> of ${rows.length}</p>
${body}
</body></html>
`;
}

function targetTable(rows: readonly TargetRow[]): string {
  const extra = [...new Set(rows.flatMap((r) => Object.keys(r.labels)))].filter((k) => k !== 'job' && k !== 'instance');
  const head = ['job', 'instance', ...extra, 'state', 'last scrape', 'samples'].map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const lines = rows.map((r) => {
    const cells = [
      `<td>${escapeHtml(String(r.labels['job'] ?? ''))}</td>`,
      `<td><code>${escapeHtml(String(r.labels['instance'] ?? ''))}</code></td>`,
      ...extra.map((k) => `<td>${escapeHtml(String(r.labels[k] ?? ''))}</td>`),
      r.up ? '<td class="up">UP</td>' : '<td class="down">DOWN</td>',
      `<td class="num">${r.durationSeconds === undefined ? '' : `${(r.durationSeconds * 1000).toFixed(1)} ms`}</td>`,
      `<td class="num">${r.up && r.samples !== undefined ? r.samples : ''}</td>`,
    ];
    return `<tr class="target">${cells.join('')}</tr>`;
  });
  return `<table id="targets"><thead><tr>${head}</tr></thead><tbody>\n${lines.join('\n')}\n</tbody></table>`;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * The page at `/`: a link to the metrics, a table of scrape targets (state, why a
 * down one is down, its last error, when it was last scraped) and one of
 * exporters (queue, last push, drops), read from the typed health registry, like
 * Prometheus' Targets page. `/api/targets` serves the same snapshot as JSON.
 *
 * Server-rendered, so it reads fine without script; a few lines of script fetch
 * the page again every few seconds and swap the content in place, so it stays
 * current without a reload (and without flashing or losing the scroll position).
 */
import type { ExporterHealth, HealthSnapshot, RunnerHealth, TargetHealth } from '../../telemetry/health.js';

export const REFRESH_MS = 5_000;

export function statusPage(metricsPath: string, health: HealthSnapshot): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>runner-metrics</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin-bottom:1.5rem}th,td{padding:.35rem .8rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.up{color:#1a7f37;font-weight:600}.down{color:#cf222e;font-weight:600}.unknown{color:#777;font-weight:600}
.error{color:#cf222e;min-width:16rem;max-width:32rem;overflow-wrap:break-word}td.last-scrape,td.last-push{white-space:nowrap}.muted{color:#777}
code{background:#f4f4f4;padding:0 .2rem}
</style></head>
<body>
<h1>runner-metrics</h1>
<div id="content">
${content(metricsPath, health)}
</div>
<script>
(() => {
  let refreshes = 0;
  const refresh = async () => {
    try {
      const res = await fetch(location.pathname, { cache: 'no-store' });
      if (!res.ok) return;
      const next = new DOMParser().parseFromString(await res.text(), 'text/html').getElementById('content');
      if (next) document.getElementById('content').replaceWith(next);
      document.body.dataset.refreshes = String(++refreshes);
    } catch {
      // The collector may be restarting: try again next time.
    }
  };
  setInterval(refresh, ${REFRESH_MS});
})();
</script>
</body></html>
`;
}

function content(metricsPath: string, health: HealthSnapshot): string {
  const { targets, exporters } = health;
  const up = targets.filter((t) => t.state === 'up').length;
  const now = Date.parse(health.time);
  return `<p><a href="${escapeHtml(metricsPath)}">Metrics</a> &middot; <a href="api/targets">JSON</a> &middot; targets up: <span id="up-count">${up}</span> of ${targets.length}
&middot; <span class="muted">as of <time id="generated" datetime="${health.time}">${clock(health.time)}</time>, refreshed every ${REFRESH_MS / 1000} s</span></p>
<h2>Targets</h2>
${targets.length === 0 ? '<p>No scrape targets.</p>' : targetTable(targets, now)}
${health.runners.length === 0 ? '' : `<h2>Discovered runners</h2>\n${runnerTable(health.runners, now)}\n`}<h2>Exporters</h2>
${exporters.length === 0 ? '<p>No exporters report here.</p>' : exporterTable(exporters, now)}`;
}

function targetTable(targets: readonly TargetHealth[], now: number): string {
  const extra = [...new Set(targets.flatMap((t) => Object.keys(t.attributes)))];
  const found = targets.some((t) => t.discovery !== undefined);
  const head = ['job', 'instance', ...extra, ...(found ? ['found by'] : []), 'state', 'reason', 'last scrape', 'duration', 'samples', 'last error'];
  const rows = targets.map((t) => {
    const cells = [
      `<td>${escapeHtml(t.job)}</td>`,
      `<td><code>${escapeHtml(t.instance)}</code></td>`,
      ...extra.map((k) => `<td>${escapeHtml(t.attributes[k] ?? '')}</td>`),
      ...(found ? [`<td class="found-by">${t.discovery ? `${escapeHtml(t.discovery.mechanism)}: ${escapeHtml(t.discovery.source)}` : '<span class="muted">configured</span>'}</td>`] : []),
      `<td class="${t.state}">${t.state.toUpperCase()}</td>`,
      `<td class="reason">${escapeHtml(t.reason ?? '')}</td>`,
      `<td class="last-scrape">${t.lastScrape ? timeCell(t.lastScrape, now) : '<span class="muted">not yet</span>'}</td>`,
      `<td class="num">${t.lastScrapeDurationSeconds === undefined ? '' : `${(t.lastScrapeDurationSeconds * 1000).toFixed(1)} ms`}</td>`,
      `<td class="num">${t.samples ?? ''}</td>`,
      `<td class="error">${escapeHtml(t.lastError ?? '')}</td>`,
    ];
    return `<tr class="target">${cells.join('')}</tr>`;
  });
  return table('targets', head, rows);
}

/** Runners discovery found (a router, a local port's runner), with how each was found. */
function runnerTable(runners: readonly RunnerHealth[], now: number): string {
  const head = ['receiver', 'runner', 'address', 'found by', 'since'];
  const rows = runners.map((r) => {
    const cells = [
      `<td>${escapeHtml(r.receiver)}</td>`,
      `<td>${escapeHtml(r.kind)}</td>`,
      `<td><code>${escapeHtml(r.address)}</code></td>`,
      `<td class="found-by">${escapeHtml(r.discovery.mechanism)}: ${escapeHtml(r.discovery.source)}</td>`,
      `<td>${timeCell(r.since, now)}</td>`,
    ];
    return `<tr class="runner">${cells.join('')}</tr>`;
  });
  return table('runners', head, rows);
}

function exporterTable(exporters: readonly ExporterHealth[], now: number): string {
  const head = ['exporter', 'endpoint', 'queue', 'last push', 'last success', 'dropped points'];
  const rows = exporters.map((e) => {
    const push = e.lastPush
      ? `${timeCell(e.lastPush.time, now)} <span class="${e.lastPush.ok ? 'up">OK' : 'down">FAILED'}</span>${
          e.lastPush.error ? ` <span class="error">${escapeHtml(e.lastPush.error)}</span>` : ''
        }`
      : e.scrapesServed !== undefined
        ? `${e.scrapesServed} scrapes served${e.lastScrapeServed ? `, last ${timeCell(e.lastScrapeServed, now)}` : ''}`
        : '<span class="muted">none yet</span>';
    const drops = Object.entries(e.dropped).filter(([, n]) => n > 0);
    const cells = [
      `<td>${escapeHtml(e.exporter)}</td>`,
      `<td><code>${escapeHtml(e.endpoint ?? '')}</code></td>`,
      `<td class="num queue">${e.queue ? `${e.queue.size} / ${e.queue.capacity}` : ''}</td>`,
      `<td class="last-push">${push}</td>`,
      `<td>${e.lastSuccess ? timeCell(e.lastSuccess, now) : ''}</td>`,
      `<td class="dropped">${drops.length === 0 ? '0' : drops.map(([r, n]) => `${escapeHtml(r)}: ${n}`).join(', ')}</td>`,
    ];
    return `<tr class="exporter">${cells.join('')}</tr>`;
  });
  return table('exporters', head, rows);
}

function table(id: string, head: readonly string[], rows: readonly string[]): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  return `<table id="${id}"><thead><tr>${th}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

/** A point in time: the clock time (UTC), how long ago, and the exact instant for machines. */
function timeCell(iso: string, now: number): string {
  const ago = Math.max(0, (now - Date.parse(iso)) / 1000);
  const text = ago < 60 ? `${ago.toFixed(ago < 10 ? 1 : 0)} s ago` : ago < 3600 ? `${Math.floor(ago / 60)} min ago` : `${(ago / 3600).toFixed(1)} h ago`;
  return `<time datetime="${iso}" title="${iso}">${clock(iso)}</time> <span class="muted">(${text})</span>`;
}

function clock(iso: string): string {
  return `${iso.slice(11, 19)} UTC`;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

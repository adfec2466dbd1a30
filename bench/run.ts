/**
 * npm run bench [-- name...]: runs the benchmarks (parser, scrape, render, otlp, memory, load, stall, discovery;
 * peers only when named: it runs Prometheus and vmagent beside the collector for minutes)
 * and prints figures as ratios against baselines measured in the same run.
 * Figures vary with machine load; compare ratios, not absolute times.
 */
const suites: Record<string, () => Promise<{ run(): Promise<void> }>> = {
  parser: () => import('./parser.js'),
  scrape: () => import('./scrape.js'),
  render: () => import('./render.js'),
  otlp: () => import('./otlp.js'),
  memory: () => import('./memory.js'),
  load: () => import('./load.js'),
  stall: () => import('./stall.js'),
  discovery: () => import('./discovery.js'),
  // Runs real peers (prometheus, vmagent) for minutes: only when asked for by name.
  peers: () => import('./peers.js'),
};
const ON_REQUEST = new Set(['peers']);

// Flags (`--targets=10`) are the suites' own options.
const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
for (const name of wanted) if (!suites[name]) throw new Error(`unknown benchmark "${name}" (known: ${Object.keys(suites).join(', ')})`);
console.log(`runner-metrics benchmarks — node ${process.version}, ${new Date().toISOString()}`);
if (!(globalThis as { gc?: unknown }).gc) console.log('(run with --expose-gc for memory figures: npm run bench does)');
for (const [name, load] of Object.entries(suites)) {
  if (wanted.length > 0 ? !wanted.includes(name) : ON_REQUEST.has(name)) continue;
  const suite = await load();
  await suite.run();
}

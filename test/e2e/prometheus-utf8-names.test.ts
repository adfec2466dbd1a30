/**
 * A runner sending UTF-8 metric and label names (Prometheus 3 syntax), one of them
 * built to inject a line, while the real Prometheus 2.x (Debian's `prometheus`)
 * scrapes our endpoint. It names no escaping scheme, so it must get legacy names
 * (underscores) in a body its OpenMetrics parser accepts: our target stays up and
 * the runner's series arrive under their escaped names, nothing injected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { RunnerServer } from '../helpers/runner-server.js';
import { eventually, freePort, startProcess, stopProcess } from '../helpers/processes.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

const PAGE = `# HELP "vllm.requests.running" Requests running.
# TYPE "vllm.requests.running" gauge
{"vllm.requests.running",engine="0","model.name"="x"} 2
# TYPE "\\"} 2\\ninjected 1\\n#" gauge
{"\\"} 2\\ninjected 1\\n#",note="\\"} 9\\n"} 5
# TYPE h histogram
h_bucket{le="1"} 1
h_bucket{le="+Inf"} 2
h_sum 3
h_count 2
# TYPE "h.count" gauge
{"h.count"} 7
`;

interface PromVector {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(promUrl: string, q: string): Promise<PromVector[]> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
  const json = (await res.json()) as { status: string; data: { result: PromVector[] } };
  assert.equal(json.status, 'success');
  return json.data.result;
}

test('Prometheus 2.x scrapes UTF-8 runner names escaped with underscores, and nothing is injected', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-e2e-utf8-'));
  const runner = await RunnerServer.start(PAGE);
  const ourPort = await freePort();
  const promPort = await freePort();
  const configFile = join(dir, 'collector.yaml');
  writeFileSync(
    configFile,
    `receivers:
  prometheus/vllm:
    scrape_interval: 200ms
    scrape_timeout: 150ms
    targets:
      - url: ${runner.url}
        attributes: { backend: vllm, model: tiny, mode: completion }
exporters:
  prometheus:
    endpoint: 127.0.0.1:${ourPort}
    include_own_metrics: false
service:
  pipelines:
    metrics:
      receivers: [prometheus/vllm]
      exporters: [prometheus]
`,
  );
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: runner-metrics
    static_configs:
      - targets: ['127.0.0.1:${ourPort}']
`,
  );
  const collector = startProcess(process.execPath, [CLI, '--config', configFile], { cwd: dir });
  const prometheus = startProcess(
    execFileSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' }).trim(),
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`],
    { cwd: dir },
  );
  const promUrl = `http://127.0.0.1:${promPort}`;
  try {
    const running = await eventually(async () => {
      const r = await query(promUrl, 'vllm_requests_running');
      return r.length === 1 ? r : undefined;
    }, 'the escaped vLLM series in Prometheus', 30_000, 250).catch((err: Error) => {
      throw new Error(`${err.message}\n--- prometheus:\n${prometheus.output().slice(-3000)}\n--- collector:\n${collector.output().slice(-3000)}`);
    });
    assert.equal(running[0]!.metric['engine'], '0');
    assert.equal(running[0]!.metric['model_name'], 'x');
    assert.equal(running[0]!.metric['backend'], 'vllm');
    assert.equal(running[0]!.value[1], '2');

    const up = await query(promUrl, 'up{job="runner-metrics"}');
    assert.deepEqual(up.map((s) => s.value[1]), ['1']);
    const escaped = await query(promUrl, '{__name__="___2_injected_1__"}');
    assert.deepEqual(escaped.map((s) => [s.metric['note'], s.value[1]]), [['"} 9\n', '5']]);
    assert.deepEqual(await query(promUrl, '{__name__=~"injected.*"}'), []);
    // `h.count` escapes to the histogram's own `h_count`: the histogram keeps the name.
    const counts = await query(promUrl, 'h_count');
    assert.deepEqual(counts.map((s) => s.value[1]), ['2']);
  } finally {
    await stopProcess(prometheus);
    const code = await stopProcess(collector);
    await runner.close();
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, `collector exit code; output:\n${collector.output()}`);
  }
});

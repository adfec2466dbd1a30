/**
 * A runner sending UTF-8 metric and label names (Prometheus 3 syntax), one of them
 * built to inject a line, while the real Prometheus 2.x (Debian's `prometheus`)
 * scrapes our endpoint. It names no escaping scheme, so it must get legacy names
 * (underscores) in a body its OpenMetrics parser accepts: our target stays up and
 * the runner's series arrive under their escaped names, nothing injected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunnerServer } from '../helpers/runner-server.js';
import { eventually } from '../helpers/processes.js';
import { ScrapedCollector } from '../helpers/prometheus-server.js';

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

test('Prometheus 2.x scrapes UTF-8 runner names escaped with underscores, and nothing is injected', async () => {
  const runner = await RunnerServer.start(PAGE);
  const prom = await ScrapedCollector.start(
    (ourPort) =>
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
  try {
    const running = await eventually(async () => {
      const r = await prom.query('vllm_requests_running');
      return r.length === 1 ? r : undefined;
    }, 'the escaped vLLM series in Prometheus', 30_000, 250).catch((err: Error) => {
      throw prom.explain(err);
    });
    assert.equal(running[0]!.metric['engine'], '0');
    assert.equal(running[0]!.metric['model_name'], 'x');
    assert.equal(running[0]!.metric['backend'], 'vllm');
    assert.equal(running[0]!.value[1], '2');

    const up = await prom.query('up{job="runner-metrics"}');
    assert.deepEqual(up.map((s) => s.value[1]), ['1']);
    const escaped = await prom.query('{__name__="___2_injected_1__"}');
    assert.deepEqual(escaped.map((s) => [s.metric['note'], s.value[1]]), [['"} 9\n', '5']]);
    assert.deepEqual(await prom.query('{__name__=~"injected.*"}'), []);
    // `h.count` escapes to the histogram's own `h_count`: the histogram keeps the name.
    const counts = await prom.query('h_count');
    assert.deepEqual(counts.map((s) => s.value[1]), ['2']);
  } finally {
    const code = await prom.stop();
    await runner.close();
    assert.equal(code, 0, `collector exit code; output:\n${prom.collector.output()}`);
  }
});

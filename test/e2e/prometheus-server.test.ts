/**
 * The real Prometheus server (Debian's `prometheus`) scrapes our endpoint, which
 * aggregates two stand-in llama-servers (completion and embedding) serving real
 * captured pages. Prometheus' HTTP API must then show our target up and the
 * runners' series with backend/model/mode labels and the right values. A
 * TorchServe page adds a counter without `_total`: Prometheus negotiates
 * OpenMetrics with us, and must still store it under the runner's own name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunnerServer } from '../helpers/runner-server.js';
import { readFixture } from '../helpers/fixtures.js';
import { eventually } from '../helpers/processes.js';
import { ScrapedCollector } from '../helpers/prometheus-server.js';

const COMPLETION = readFixture('llamacpp-real', 'completion.after-traffic.metrics.prom');
const EMBEDDING = readFixture('llamacpp-real', 'embedding.after-traffic.metrics.prom');
const TORCHSERVE = readFixture('runners', 'torchserve.prom');
test('Prometheus scrapes the aggregated endpoint: up == 1 and labelled llama.cpp series', async () => {
  const completion = await RunnerServer.start(COMPLETION);
  const embedding = await RunnerServer.start(EMBEDDING);
  const torchserve = await RunnerServer.start(TORCHSERVE);
  const prom = await ScrapedCollector.start(
    (ourPort) =>
      `receivers:
  prometheus/llamacpp:
    scrape_interval: 200ms
    scrape_timeout: 150ms
    targets:
      - url: ${completion.url}
        attributes: { backend: llama.cpp, model: tiny-llama, mode: completion }
      - url: ${embedding.url}
        attributes: { backend: llama.cpp, model: tiny-bert, mode: embedding }
      - url: ${torchserve.url}
        attributes: { backend: torchserve, model: resnet18, mode: vision }
exporters:
  prometheus:
    endpoint: 127.0.0.1:${ourPort}
service:
  pipelines:
    metrics:
      receivers: [prometheus/llamacpp]
      exporters: [prometheus]
`,
  );
  try {
    const up = await eventually(async () => {
      const r = await prom.query('up{job="runner-metrics",exported_job=""}');
      return r.length === 1 && r[0]!.value[1] === '1' ? r : undefined;
    }, 'Prometheus to see our endpoint up', 30_000, 250).catch((err: Error) => {
      throw prom.explain(err);
    });
    assert.equal(up[0]!.metric['instance'], `127.0.0.1:${prom.ourPort}`);

    const expected = (page: string) => /^llamacpp:prompt_tokens_total (\S+)$/m.exec(page)![1]!;
    const series = await eventually(async () => {
      const r = await prom.query('llamacpp:prompt_tokens_total');
      return r.length === 2 ? r : undefined;
    }, 'both runners series in Prometheus', 20_000, 250);
    const byMode = Object.fromEntries(series.map((s) => [s.metric['mode'], s]));
    assert.equal(byMode['completion']!.metric['backend'], 'llama.cpp');
    assert.equal(byMode['completion']!.metric['model'], 'tiny-llama');
    assert.equal(byMode['completion']!.value[1], expected(COMPLETION));
    assert.equal(byMode['embedding']!.metric['model'], 'tiny-bert');
    assert.equal(byMode['embedding']!.value[1], expected(EMBEDDING));

    // TorchServe's counter without `_total` is stored under its own name, not `Requests2XX_total`.
    const requests2xx = await eventually(async () => {
      const r = await prom.query('{__name__=~"Requests2XX.*",backend="torchserve"}');
      return r.length > 0 ? r : undefined;
    }, 'the TorchServe counter in Prometheus', 20_000, 250);
    assert.deepEqual(
      requests2xx.map((s) => [s.metric['__name__'], s.metric['Level'], s.value[1]]),
      [['Requests2XX', 'Host', '8']],
    );
    const total = await prom.query('ts_inference_requests_total{backend="torchserve"}');
    assert.deepEqual(total.map((s) => s.value[1]), ['3']);

    // Our own per-runner health series reach Prometheus too (its job/instance become exported_*).
    const runnerUp = await prom.query('up{exported_job="prometheus/llamacpp",backend="llama.cpp"}');
    assert.equal(runnerUp.length, 2);
    assert.ok(runnerUp.every((s) => s.value[1] === '1'));

    // A runner that goes away is reported down.
    await embedding.close();
    await eventually(async () => {
      const r = await prom.query('up{exported_job="prometheus/llamacpp",mode="embedding"}');
      return r.length === 1 && r[0]!.value[1] === '0' ? r : undefined;
    }, 'the embedding runner to be reported down', 20_000, 250);
  } finally {
    const code = await prom.stop();
    await completion.close();
    await torchserve.close();
    await embedding.close().catch(() => undefined);
    assert.equal(code, 0, `collector exit code; output:\n${prom.collector.output()}`);
  }
});

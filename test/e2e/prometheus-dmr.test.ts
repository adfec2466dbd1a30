/**
 * The real Prometheus server scrapes the collector watching a stand-in Docker
 * Model Runner: the aggregated page's series must be stored once each, with the
 * model runner's own backend/model/mode labels and no `exported_` copies, and a
 * TCP runner (never on the aggregated page) scraped directly must be stored with
 * the same three labels. The exporter keeps its default `honor_labels: false`:
 * the labels need no clash resolution, because no resource carries a label its
 * own series carry too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFixture } from '../helpers/fixtures.js';
import { eventually } from '../helpers/processes.js';
import { ScrapedCollector } from '../helpers/prometheus-server.js';
import { DMR_METRICS, DMR_PS, DmrServer } from '../helpers/dmr-server.js';

test('Prometheus stores the model runner\'s series once, with its own backend/model/mode labels, and a directly scraped TCP runner alike', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-e2e-prom-dmr-'));
  const dmr = await DmrServer.start(join(dir, 'model-runner.sock'));
  const tcp = await DmrServer.start();
  const [smollm, mxbai] = JSON.parse(DMR_PS) as object[];
  const qwen = { backend_name: 'vllm', model_name: 'ai/qwen3:0.6B-F16', mode: 'completion', last_used: '0001-01-01T00:00:00Z', in_use: true };
  dmr.json('/engines/ps', JSON.stringify([smollm, mxbai, qwen]));
  dmr.text('/metrics', DMR_METRICS);
  tcp.json('/v1/models', JSON.stringify({ data: [{ id: 'ai/qwen3:0.6B-F16' }] }));
  tcp.text('/metrics', readFixture('runners', 'vllm.prom'));
  const prom = await ScrapedCollector.start(
    (ourPort) => `receivers:
  docker_model_runner:
    unix_socket: ${dmr.socketPath}
    scrape_interval: 200ms
    direct: { tcp_ports: [${tcp.port}] }
exporters:
  prometheus:
    endpoint: 127.0.0.1:${ourPort}
service:
  pipelines:
    metrics: { receivers: [docker_model_runner], exporters: [prometheus] }
`,
  );
  try {
    const decode = await eventually(async () => {
      const r = await prom.query('llamacpp:n_decode_total');
      return r.length === 2 ? r : undefined;
    }, 'the aggregated page in Prometheus', 30_000, 250).catch((err: Error) => {
      throw prom.explain(err);
    });
    const byModel = Object.fromEntries(decode.map((s) => [s.metric['model'], s]));
    assert.deepEqual(byModel['ai/smollm2']!.metric, { __name__: 'llamacpp:n_decode_total', backend: 'llama.cpp', model: 'ai/smollm2', mode: 'completion', instance: `127.0.0.1:${prom.ourPort}`, job: 'runner-metrics' });
    assert.equal(byModel['ai/smollm2']!.value[1], '2301');
    assert.equal(byModel['ai/mxbai-embed-large:335M-F16']!.metric['mode'], 'embedding');
    assert.equal(byModel['ai/mxbai-embed-large:335M-F16']!.value[1], '89');

    // Every family of the page: two runners, one series each; nothing renamed.
    const families = DMR_METRICS.match(/^# TYPE /gm)!.length;
    const perRunner = await prom.query('count by (backend, model, mode) ({__name__=~"llamacpp:.+"})');
    assert.deepEqual(perRunner.map((s) => [s.metric['model'], s.value[1]]).sort(), [
      ['ai/mxbai-embed-large:335M-F16', String(families)],
      ['ai/smollm2', String(families)],
    ]);
    assert.deepEqual(await prom.query('{__name__=~"llamacpp:.+|vllm:.+|docker_model_runner_.+", exported_backend!=""}'), []);
    assert.deepEqual(await prom.query('{__name__=~"llamacpp:.+|vllm:.+|docker_model_runner_.+", exported_model!=""}'), []);
    assert.deepEqual(await prom.query('{__name__=~"llamacpp:.+|vllm:.+|docker_model_runner_.+", exported_mode!=""}'), []);

    // The TCP runner, scraped on its own port: the same three labels, next to its own.
    const running = await eventually(async () => {
      const r = await prom.query('vllm:num_requests_running');
      return r.length === 1 ? r : undefined;
    }, 'the TCP runner in Prometheus', 20_000, 250);
    assert.equal(running[0]!.metric['backend'], 'vllm');
    assert.equal(running[0]!.metric['model'], 'ai/qwen3:0.6B-F16');
    assert.equal(running[0]!.metric['mode'], 'completion');
    assert.equal(running[0]!.metric['model_name'], 'Qwen/Qwen2.5-1.5B-Instruct');
    const state = await prom.query('docker_model_runner_runner_metrics_direct');
    assert.deepEqual(state.map((s) => [s.metric['model'], s.value[1]]), [['ai/qwen3:0.6B-F16', '1']]);
  } finally {
    const code = await prom.stop();
    await tcp.close();
    await dmr.close();
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, `collector exit code; output:\n${prom.collector.output()}`);
  }
});

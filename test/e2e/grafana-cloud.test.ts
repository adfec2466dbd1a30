/**
 * pipelines/grafana-cloud.yaml as a user runs it: the CLI scrapes a stand-in
 * llama-server, pushes OTLP/HTTP to a real receiver standing in for Grafana
 * Cloud's gateway (which decodes with the official .proto files), and serves
 * the same series on its pull endpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { B4748_COMPLETION, LlamaServer } from '../helpers/llama-server.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { eventually, freePort, httpGet, startProcess, stopProcess } from '../helpers/processes.js';
import { attr, OtlpReceiver, type Decoded, type Received } from '../exporters/otlphttp/receiver.js';
import { parseFamilies } from '../../src/prometheus/families.js';

const CLI = join(REPO_ROOT, 'dist/src/cli.js');
const COMPLETION = B4748_COMPLETION.metrics;
const PROMPT_TOKENS = Number(/^llamacpp:prompt_tokens_total (\S+)$/m.exec(COMPLETION)![1]);
const INSTANCE_ID = '123456';
const TOKEN = 'glc_e2e-secret-token-5f3b9d2a';
/** OTLP's enum for cumulative temporality. */
const CUMULATIVE = 2;

/** The first request carrying the metric, with that metric's resource. */
function findMetric(requests: readonly Received[], name: string): { request: Received; resource: Decoded; metric: Decoded } | undefined {
  for (const request of requests) {
    for (const rm of request.body['resourceMetrics'] ?? []) {
      for (const sm of rm.scopeMetrics ?? []) {
        const metric = (sm.metrics ?? []).find((m: Decoded) => m.name === name);
        if (metric) return { request, resource: rm.resource, metric };
      }
    }
  }
  return undefined;
}

test('grafana-cloud pipeline: pushes authenticated gzip protobuf OTLP and serves the same series', async () => {
  // A stand-in llama-server: the model and mode labels are the names it gives itself.
  const runner = await LlamaServer.start(B4748_COMPLETION);
  const receiver = await OtlpReceiver.start();
  const metricsPort = await freePort();
  const collector = startProcess(process.execPath, [CLI, '--config', 'pipelines/grafana-cloud.yaml'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      GRAFANA_CLOUD_OTLP_ENDPOINT: `${receiver.endpoint}/otlp`,
      GRAFANA_CLOUD_INSTANCE_ID: INSTANCE_ID,
      GRAFANA_CLOUD_TOKEN: TOKEN,
      GRAFANA_CLOUD_EXPORT_INTERVAL: '300ms',
      LLAMACPP_BASE_URL: runner.url,
      LLAMACPP_SCRAPE_INTERVAL: '200ms',
      METRICS_ADDR: `127.0.0.1:${metricsPort}`,
    },
  });
  try {
    const found = await eventually(() => findMetric(receiver.accepted, 'llamacpp:prompt_tokens_total'), 'a push with the runner', 20_000);

    const { headers } = found.request;
    assert.equal(headers.authorization, `Basic ${Buffer.from(`${INSTANCE_ID}:${TOKEN}`).toString('base64')}`);
    assert.equal(headers['content-type'], 'application/x-protobuf');
    assert.equal(headers['content-encoding'], 'gzip');
    for (const r of receiver.accepted) assert.equal(r.path, '/otlp/v1/metrics');

    assert.equal(attr(found.resource.attributes, 'backend'), 'llama.cpp');
    assert.equal(attr(found.resource.attributes, 'mode'), 'completion');
    assert.equal(attr(found.resource.attributes, 'model'), 'tiny-llama-rand');

    const sum = found.metric.sum;
    assert.ok(sum, 'a counter arrives as a Sum');
    assert.equal(sum.isMonotonic, true);
    assert.equal(sum.aggregationTemporality, CUMULATIVE);
    assert.equal(sum.dataPoints.length, 1);
    const point = sum.dataPoints[0];
    assert.equal(point.asDouble, PROMPT_TOKENS);
    assert.equal(attr(point.attributes, 'backend'), 'llama.cpp');
    assert.equal(attr(point.attributes, 'model'), 'tiny-llama-rand');
    assert.equal(attr(point.attributes, 'mode'), 'completion');

    // The filter keeps only llama.cpp series (its own llamacpp: and the derived llamacpp_), on both exporters.
    for (const r of receiver.accepted) {
      for (const rm of r.body['resourceMetrics'] ?? []) {
        if (attr(rm.resource.attributes, 'backend') !== 'llama.cpp') continue;
        for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) assert.match(m.name, /^llamacpp[:_]/);
      }
    }

    const pulled = await httpGet(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(pulled.status, 200);
    const family = parseFamilies(pulled.body).find((f) => f.name === 'llamacpp:prompt_tokens_total');
    assert.ok(family, 'the pull endpoint serves the pushed series');
    assert.equal(family.type, 'counter');
    assert.equal(family.samples.length, 1);
    assert.deepEqual(labelMap(family.samples[0]!.labels), { backend: 'llama.cpp', model: 'tiny-llama-rand', mode: 'completion' });
    assert.equal(family.samples[0]!.value, PROMPT_TOKENS);
  } finally {
    const exit = await stopProcess(collector);
    await receiver.close();
    await runner.close();
    assert.equal(exit, 0, collector.output());
  }
  const output = collector.output();
  assert.match(output, /"msg":"stopped"/);
  assert.doesNotMatch(output, /"level":"error"/);
  assert.ok(!output.includes(TOKEN), 'the token is never logged');
  assert.ok(!output.includes(Buffer.from(`${INSTANCE_ID}:${TOKEN}`).toString('base64')), 'nor the Authorization header');
});

function labelMap(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

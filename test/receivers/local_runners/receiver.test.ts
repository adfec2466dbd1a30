import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalRunnersReceiver } from '../../../src/receivers/local_runners/index.js';
import { localRunnersReceiverConfigSchema } from '../../../src/receivers/local_runners/config.js';
import { PrometheusReceiver } from '../../../src/receivers/prometheus/index.js';
import { prometheusReceiverConfigSchema } from '../../../src/receivers/prometheus/config.js';
import { SelfMetrics } from '../../../src/telemetry/self-metrics.js';
import { HealthRegistry } from '../../../src/telemetry/health.js';
import type { ComponentContext } from '../../../src/component.js';
import { CollectingConsumer, metricNamed, RecordingLogger } from '../../helpers/collect.js';
import { LlamaServer, V050_CHILD_COMPLETION } from '../../helpers/llama-server.js';
import { LlamaRouter } from '../../helpers/llama-router.js';
import { OllamaServer } from '../../helpers/ollama-server.js';
import { RunnerServer } from '../../helpers/runner-server.js';
import { freePort } from '../../helpers/processes.js';
import { until } from '../../helpers/until.js';

const ID = 'local_runners';

function context(selfMetrics: SelfMetrics, health: HealthRegistry, logger = new RecordingLogger(), id = ID): ComponentContext {
  return { id, kind: 'receiver', logger, selfMetrics, health };
}

/** Whether the sink's latest snapshot for a resource with `attribute=value` has series (undefined: never seen). */
function serving(sink: CollectingConsumer, attribute: string, value: string): boolean | undefined {
  const rb = sink.latest(attribute, value);
  return rb === undefined ? undefined : rb.scopeMetrics.some((s) => s.metrics.length > 0);
}

test('local discovery finds a llama-server, a router and an Ollama on their ports, labels them, ignores a non-runner, drops one that stops', async () => {
  const llama = await LlamaServer.start(V050_CHILD_COMPLETION);
  const router = await LlamaRouter.start('router.v0.5.0.b-llama-loaded.models.json');
  const ollama = await OllamaServer.start();
  const other = await RunnerServer.start({ kind: 'body', body: '<html>hello</html>', contentType: 'text/html' });
  const closed = await freePort();
  // A long interval: every look is made here, one at a time, so what each costs can be counted.
  const config = localRunnersReceiverConfigSchema.parse({
    interval: '1h',
    probe_timeout: '5s', // a loaded machine must not turn an answer into a timeout here
    ports: [llama.port, router.port],
    extra_ports: `${ollama.instance.split(':')[1]},${other.port},${closed}`,
    model_runner_sockets: false,
  });
  const sink = new CollectingConsumer();
  const selfMetrics = new SelfMetrics();
  const health = new HealthRegistry();
  const logger = new RecordingLogger();
  const r = new LocalRunnersReceiver(config, context(selfMetrics, health, logger), sink);
  try {
    // Look 1: the llama-server and the router answer /v1/models (one as a single server, one with states).
    await r.discovery.lookOnce();
    assert.deepEqual(Object.fromEntries(r.runners), { [`127.0.0.1:${llama.port}`]: 'llamacpp', [`127.0.0.1:${router.port}`]: 'llamacpp_router' });
    // Look 2: Ollama answers /api/version (its port is not Ollama's usual one, so it was asked second).
    await r.discovery.lookOnce();
    assert.equal(r.runners.get(ollama.instance), 'ollama');
    // The non-runner is asked one question per look, each of the six once, then left alone.
    const otherAsked = [other.requests];
    for (let i = 0; i < 8; i++) {
      await r.discovery.lookOnce();
      otherAsked.push(other.requests);
    }
    assert.deepEqual(otherAsked, [2, 3, 4, 5, 6, 6, 6, 6, 6]);
    assert.deepEqual([...other.requestsByPath.keys()].sort(), ['/api/version', '/engines/ps', '/get_model_info', '/info', '/metrics', '/v1/models']);
    assert.equal(r.runners.size, 3);
    assert.equal(logger.lines.filter((l) => l.msg.startsWith('port answers but is no runner')).length, 1);
    assert.equal(logger.lines.find((l) => l.msg.startsWith('port answers but is no runner'))!.level, 'debug');

    // Each is scraped by the right machinery, with its own labels.
    await until(() => serving(sink, 'service.instance.id', `127.0.0.1:${llama.port}`) && sink.latest('model', 'tiny-llama-rand'), 'the llama-server scraped');
    const single = sink.batches.flat().find((rb) => rb.resource.attributes['server.address'] === `127.0.0.1:${llama.port}` && rb.scopeMetrics.length > 0)!;
    assert.equal(single.resource.attributes['backend'], 'llama.cpp');
    assert.equal(single.resource.attributes['service.name'], ID);
    assert.ok(metricNamed(single, 'llamacpp:prompt_tokens_total'));
    await until(() => sink.batches.flat().some((rb) => rb.resource.attributes['server.address'] === `127.0.0.1:${llama.port}` && rb.resource.attributes['model'] === 'tiny-llama-rand'), 'the llama-server named by itself');
    const routed = await until(
      () => sink.batches.flat().find((rb) => rb.resource.attributes['server.address'] === `127.0.0.1:${router.port}` && rb.scopeMetrics.length > 0 && rb.resource.attributes['mode'] !== undefined),
      'the router\'s loaded model scraped',
    );
    assert.equal(routed.resource.attributes['model'], 'tiny-llama-rand');
    assert.equal(routed.resource.attributes['backend'], 'llama.cpp');
    assert.equal(routed.resource.attributes['mode'], 'completion');
    await until(() => serving(sink, 'model', 'llama3.2:latest'), 'the Ollama model scraped');
    assert.equal(sink.latest('model', 'llama3.2:latest')!.resource.attributes['backend'], 'ollama');

    // The status page lists the runners and how they were found.
    const listed = health.snapshot().runners.map((x) => [x.kind, x.address, x.discovery.mechanism, x.discovery.source]);
    assert.deepEqual(
      listed.sort(),
      [
        ['llamacpp', `127.0.0.1:${llama.port}`, 'local', `port ${llama.port}`],
        ['llamacpp_router', `127.0.0.1:${router.port}`, 'local', `port ${router.port}`],
        ['ollama', ollama.instance, 'local', `port ${ollama.instance.split(':')[1]}`],
      ].sort(),
    );
    const routerTarget = await until(() => health.snapshot().targets.find((t) => t.instance === `127.0.0.1:${router.port}`), 'the router model\'s target');
    assert.equal(routerTarget.discovery?.mechanism, 'llamacpp_router_sd');

    // Own metrics: candidates, runners by kind, probes.
    const gauge = (name: string, labels: Record<string, string>) => selfMetrics.gauge(name, '').value(labels);
    assert.equal(gauge('runner_metrics_discovery_candidates', { receiver: ID }), 5);
    assert.equal(gauge('runner_metrics_discovery_runners', { receiver: ID, kind: 'llamacpp' }), 1);
    assert.equal(gauge('runner_metrics_discovery_runners', { receiver: ID, kind: 'llamacpp_router' }), 1);
    assert.equal(gauge('runner_metrics_discovery_runners', { receiver: ID, kind: 'ollama' }), 1);
    assert.equal(gauge('runner_metrics_discovery_targets', { receiver: ID, mechanism: 'local' }), 3);
    assert.ok(selfMetrics.counter('runner_metrics_discovery_probes_total', '').value({ receiver: ID, probe: 'connect' })! > 0);

    // The llama-server stops: at the next look its series are withdrawn and it is no longer listed.
    await llama.close();
    await r.discovery.lookOnce();
    assert.equal(r.runners.has(`127.0.0.1:${llama.port}`), false);
    const last = sink.batches.flat().filter((rb) => rb.resource.attributes['server.address'] === `127.0.0.1:${llama.port}`).at(-1)!;
    assert.deepEqual(last.scopeMetrics, [], 'the last word on the llama-server is an empty snapshot');
    assert.ok(!health.snapshot().runners.some((x) => x.kind === 'llamacpp'));
    assert.ok(!health.snapshot().targets.some((t) => t.instance === `127.0.0.1:${llama.port}`));
    assert.equal(gauge('runner_metrics_discovery_runners', { receiver: ID, kind: 'llamacpp' }), 0);
    assert.equal(selfMetrics.gauge('up', '').value({ job: ID, instance: `127.0.0.1:${llama.port}`, backend: 'llama.cpp' }), undefined, 'its health series went too');

    // It comes back: found again at the next look.
    await llama.listen();
    await r.discovery.lookOnce();
    assert.equal(r.runners.get(`127.0.0.1:${llama.port}`), 'llamacpp');
  } finally {
    await r.shutdown();
    await Promise.all([llama.close(), router.close(), ollama.close(), other.close()]);
  }
  // Nothing that changes a runner's state was asked: GETs only, never /slots, router models with autoload=false.
  assert.ok(!llama.requests.some((q) => q.method !== 'GET' || q.path === '/slots'));
  assert.ok(!ollama.requests.some((q) => q.method !== 'GET'));
  const allowed = /^GET (\/models|\/v1\/models|\/(metrics|props)\?model=[^&]+&autoload=false)$/;
  assert.deepEqual(router.requests.filter((q) => !allowed.test(q)), []);
  // After shutdown every runner is dropped.
  assert.deepEqual(health.snapshot().runners, []);
  assert.deepEqual(health.snapshot().targets, []);
});

test('local discovery picks up a runner that appears within one interval, and leaves a configured one to its configuration', async () => {
  const selfMetrics = new SelfMetrics();
  const health = new HealthRegistry();
  const sink = new CollectingConsumer();
  const llama = await LlamaServer.start(V050_CHILD_COMPLETION);
  const later = await freePort();
  const configured = new PrometheusReceiver(
    prometheusReceiverConfigSchema.parse({ scrape_interval: '100ms', targets: [{ url: `http://localhost:${llama.port}`, attributes: { backend: 'llama.cpp' } }] }),
    context(selfMetrics, health, new RecordingLogger(), 'prometheus/llama'),
    sink,
  );
  const local = new LocalRunnersReceiver(
    localRunnersReceiverConfigSchema.parse({ interval: '300ms', ports: [], extra_ports: [llama.port, later], model_runner_sockets: false }),
    context(selfMetrics, health),
    sink,
  );
  let appeared: LlamaServer | undefined;
  try {
    await configured.start();
    await local.start();
    await until(() => serving(sink, 'service.name', 'prometheus/llama'), 'the configured target scraped', 15_000);
    // A llama-server appears on the other port: found and scraped.
    appeared = await LlamaServer.start(V050_CHILD_COMPLETION, later);
    await until(() => local.runners.get(`127.0.0.1:${later}`) === 'llamacpp', 'the new llama-server found', 15_000);
    await until(() => sink.batches.flat().some((rb) => rb.resource.attributes['server.address'] === `127.0.0.1:${later}` && rb.scopeMetrics.length > 0), 'the new one scraped', 15_000);
    // The configured one (localhost:P is 127.0.0.1:P) is scraped once, by its receiver only; discovery never asked it.
    assert.equal(local.runners.has(`127.0.0.1:${llama.port}`), false);
    assert.ok(!sink.batches.flat().some((rb) => rb.resource.attributes['service.name'] === ID && rb.resource.attributes['server.address'] === `127.0.0.1:${llama.port}`));
    // Its configuration goes (a reload removing it): discovery takes it over.
    await configured.shutdown();
    await until(() => local.runners.get(`127.0.0.1:${llama.port}`) === 'llamacpp', 'the formerly configured one found', 15_000);
    await until(() => sink.batches.flat().some((rb) => rb.resource.attributes['service.name'] === ID && rb.resource.attributes['server.address'] === `127.0.0.1:${llama.port}` && rb.scopeMetrics.length > 0), 'scraped by discovery', 15_000);
  } finally {
    await local.shutdown();
    await configured.shutdown();
    await llama.close();
    await appeared?.close();
  }
});

test('local discovery: a socket that appears in a glob and goes, a Docker Model Runner on its port, a configured router left alone', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { DmrServer, DMR_PS, DMR_METRICS } = await import('../../helpers/dmr-server.js');
  const dir = mkdtempSync(join(tmpdir(), 'rm-local-'));
  const selfMetrics = new SelfMetrics();
  const health = new HealthRegistry();
  const sink = new CollectingConsumer();
  const dmr = await DmrServer.start();
  dmr.json('/engines/ps', DMR_PS);
  dmr.text('/metrics', DMR_METRICS);
  const router = await LlamaRouter.start('router.v0.5.0.a-nothing-loaded.models.json');
  const configured = new PrometheusReceiver(
    prometheusReceiverConfigSchema.parse({ scrape_interval: '1h', llamacpp_router_sd_configs: [{ url: router.url, refresh_interval: '1h' }] }),
    context(selfMetrics, health, new RecordingLogger(), 'prometheus/router'),
    sink,
  );
  const local = new LocalRunnersReceiver(
    localRunnersReceiverConfigSchema.parse({
      interval: '1h',
      ports: `docker_model_runner:${dmr.port},${router.port}`,
      sockets: [join(dir, '*.sock')],
      model_runner_sockets: false,
    }),
    context(selfMetrics, health),
    sink,
  );
  let sock: RunnerServer | undefined;
  try {
    await configured.start();
    await local.discovery.lookOnce();
    // Docker Model Runner told by its first answer on its (expected) port, scraped by the docker_model_runner receiver.
    assert.equal(local.runners.get(`127.0.0.1:${dmr.port}`), 'docker_model_runner');
    await until(() => serving(sink, 'model', 'ai/smollm2'), 'a model runner\'s runner served');
    // The configured router, with no model loaded, is still its configuration's: nothing asked by discovery.
    assert.equal(local.runners.has(`127.0.0.1:${router.port}`), false);
    await local.discovery.lookOnce();
    // Only its own discovery's /models; discovery's question would be /v1/models.
    assert.deepEqual(new Set(router.requests), new Set(['GET /models']));
    assert.deepEqual(health.snapshot().runners.map((r) => [r.receiver, r.kind, r.discovery.mechanism]).sort(), [
      [ID, 'docker_model_runner', 'local'],
      ['prometheus/router', 'llamacpp_router', 'llamacpp_router_sd'],
    ]);

    // A llama-server's socket appears: told by its /metrics page (the third question), scraped over the socket.
    const path = join(dir, 'llama.sock');
    sock = await RunnerServer.start(V050_CHILD_COMPLETION.metrics, path);
    for (let i = 0; i < 3 && !local.runners.has(path); i++) await local.discovery.lookOnce();
    assert.equal(local.runners.get(path), 'llamacpp');
    await until(() => serving(sink, 'server.address', path), 'the socket runner scraped');
    assert.equal(sink.latest('server.address', path)!.resource.attributes['backend'], 'llama.cpp');
    // The socket goes: dropped at the next look, its series withdrawn.
    await sock.close();
    await local.discovery.lookOnce();
    assert.equal(local.runners.has(path), false);
    assert.equal(serving(sink, 'server.address', path), false);
  } finally {
    await local.shutdown();
    await configured.shutdown();
    await sock?.close();
    await Promise.all([dmr.close(), router.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
  // Shut down, the model runner's series are withdrawn too.
  assert.equal(serving(sink, 'model', 'ai/smollm2'), false);
});

test('local discovery: a port that does not answer in time is counted as a timeout and asked the same question again', async () => {
  const slow = await RunnerServer.start({ kind: 'hang' });
  const selfMetrics = new SelfMetrics();
  const logger = new RecordingLogger();
  const r = new LocalRunnersReceiver(
    localRunnersReceiverConfigSchema.parse({ interval: '1h', probe_timeout: '100ms', ports: [], extra_ports: [slow.port], model_runner_sockets: false }),
    context(selfMetrics, new HealthRegistry(), logger),
    new CollectingConsumer(),
  );
  try {
    for (let i = 0; i < 3; i++) await r.discovery.lookOnce();
  } finally {
    await r.shutdown();
    await slow.close();
  }
  assert.deepEqual([...slow.requestsByPath], [['/v1/models', 3]], 'the same first question, once per look');
  assert.equal(selfMetrics.counter('runner_metrics_discovery_errors_total', '').value({ receiver: ID, mechanism: 'local', reason: 'timeout' }), 3);
  const logged = logger.lines.filter((l) => l.msg === 'discovery error');
  assert.equal(logged.length, 1, 'logged once per cause');
  assert.equal(logged[0]!.level, 'debug');
  assert.equal(r.runners.size, 0);
});

/**
 * A reload changes only what changed: components whose config is the same keep
 * running as the same instances, with their series and start times; a kept
 * exporter gets, in the reload itself, what the new pipelines make of the
 * receivers' latest data, and loses what removed receivers made.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Service } from '../../src/service/service.js';
import type { ResourceBatch } from '../../src/model/batch.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { RunnerServer } from '../helpers/runner-server.js';
import { readFixture } from '../helpers/fixtures.js';
import { metricNamed, RecordingLogger } from '../helpers/collect.js';
import { eventually } from '../helpers/processes.js';
import { collector, instances, testRegistry } from './test-components.js';

const PAGE = readFixture('llamacpp-real', 'completion.after-traffic.metrics.prom');

function yaml(a: string, b: string | undefined, opts: { processor?: boolean; note?: string } = {}): string {
  return `receivers:
  prometheus/a:
    scrape_interval: 1h
    targets: [{ url: "${a}", attributes: { model: a } }]
${b ? `  prometheus/b:\n    scrape_interval: 1h\n    targets: [{ url: "${b}", attributes: { model: b } }]\n` : ''}processors:
  resource:
    attributes: [{ key: site, value: lab, action: insert }]
exporters:
  collect${opts.note ? `: { note: ${opts.note} }` : ': {}'}
service:
  pipelines:
    metrics:
      receivers: [prometheus/a${b ? ', prometheus/b' : ''}]
      processors: [${opts.processor ? 'resource' : ''}]
      exporters: [collect]
`;
}

/** Every resource batch the exporter got, as [model, site, points] (site only after the processor). */
const seen = (batches: readonly (readonly ResourceBatch[])[]) =>
  batches.flat().map((rb) => [rb.resource.attributes.model, rb.resource.attributes.site ?? '-', rb.scopeMetrics.length > 0 ? 'data' : 'empty']);

const startOf = (rb: ResourceBatch | undefined) => {
  const m = rb && metricNamed(rb, 'llamacpp:prompt_tokens_total');
  return m?.dataPoints[0]?.startTime;
};

test('SIGHUP keeps unchanged components and their series, and moves kept data to the new pipelines in one step', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-reload-unit-'));
  const runnerA = await RunnerServer.start(PAGE);
  const runnerB = await RunnerServer.start(PAGE);
  const file = join(dir, 'c.yaml');
  writeFileSync(file, yaml(runnerA.url, runnerB.url));
  const service = Service.load({ configFiles: [file], registry: testRegistry, logger: silentLogger });
  const upOf = (model: string, runner: RunnerServer) =>
    service.selfMetrics.findGauge('up')?.value({ job: `prometheus/${model}`, instance: `127.0.0.1:${runner.port}`, model });
  const ownStart = () =>
    service.selfMetrics.collect().scopeMetrics[0]!.metrics.find((m) => m.descriptor.name === 'runner_metrics_receiver_scrapes_total')!.dataPoints.find((p) => p.attributes.model === 'a')!.startTime;
  try {
    await service.start();
    const made = instances.length;
    const exporter = collector('collect');
    await eventually(() => (exporter.batches.length >= 2 ? true : undefined), 'both targets scraped', 5000, 10);
    const start = startOf(exporter.batches.flat().find((rb) => rb.resource.attributes.model === 'a'));
    const ownStartBefore = ownStart();
    assert.ok(start);

    // The same config: nothing is rebuilt, nothing is sent again, nothing is scraped again.
    const before = exporter.batches.length;
    assert.equal(await service.reload(), true);
    assert.equal(instances.length, made, 'no exporter built');
    assert.equal(exporter.state, 'started');
    assert.equal(exporter.batches.length, before, 'nothing withdrawn or replayed');
    assert.equal(runnerA.scrapes, 1, 'the receiver was not restarted');

    // Receiver b removed and a processor added: the same exporter gets, within the reload,
    // b withdrawn, a withdrawn as the old pipeline made it, then a as the new one makes it.
    writeFileSync(file, yaml(runnerA.url, undefined, { processor: true }));
    assert.equal(await service.reload(), true);
    assert.equal(instances.length, made, 'no exporter built');
    assert.deepEqual(seen(exporter.batches.slice(before)), [
      ['b', '-', 'empty'],
      ['a', '-', 'empty'],
      ['a', 'lab', 'data'],
    ]);
    assert.equal(runnerA.scrapes, 1, 'receiver a was kept, not restarted');
    assert.equal(upOf('a', runnerA), 1);
    assert.equal(upOf('b', runnerB), undefined, "b's own series are gone");
    assert.deepEqual(ownStart(), ownStartBefore, "a's own counter keeps its start time");
    assert.deepEqual(startOf(exporter.batches.at(-1)![0]), start, "a's runner counter keeps its start time");

    // The exporter changed: a new instance, which starts from the next scrape like any new component
    // (a push exporter must not push again what its predecessor pushed); the kept receiver goes on.
    writeFileSync(file, yaml(runnerA.url, undefined, { processor: true, note: 'v2' }));
    assert.equal(await service.reload(), true);
    assert.equal(instances.length, made + 1);
    assert.equal(exporter.state, 'stopped');
    assert.equal(collector('collect').state, 'started');
    assert.deepEqual(seen(collector('collect').batches), []);
    assert.equal(runnerA.scrapes, 1);
  } finally {
    await service.shutdown();
    await runnerA.close();
    await runnerB.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGHUP adding and removing a target of a kept receiver leaves the other target scraping on, untouched', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-reload-unit-'));
  const runnerA = await RunnerServer.start(PAGE);
  const runnerB = await RunnerServer.start(PAGE);
  const file = join(dir, 'c.yaml');
  const config = (targets: string[]) => `receivers:
  prometheus:
    scrape_interval: 1h
    targets: [${targets.join(', ')}]
exporters:
  collect: {}
service:
  pipelines:
    metrics: { receivers: [prometheus], exporters: [collect] }
`;
  const a = `{ url: "${runnerA.url}", attributes: { model: a } }`;
  const b = `{ url: "${runnerB.url}", attributes: { model: b } }`;
  writeFileSync(file, config([a]));
  const service = Service.load({ configFiles: [file], registry: testRegistry, logger: silentLogger });
  const upOf = (model: string, runner: RunnerServer) =>
    service.selfMetrics.findGauge('up')?.value({ job: 'prometheus', instance: `127.0.0.1:${runner.port}`, model });
  try {
    await service.start();
    const exporter = collector('collect');
    await eventually(() => (exporter.batches.length >= 1 ? true : undefined), 'a scraped', 5000, 10);
    const start = startOf(exporter.batches[0]![0]);

    writeFileSync(file, config([a, b]));
    assert.equal(await service.reload(), true);
    await eventually(() => (upOf('b', runnerB) === 1 ? true : undefined), 'b scraped', 5000, 10);
    assert.equal(collector('collect'), exporter, 'the exporter was kept');
    assert.equal(runnerA.scrapes, 1, 'a was not scraped again: its scrape loop was kept');
    assert.deepEqual(seen(exporter.batches), [
      ['a', '-', 'data'],
      ['b', '-', 'data'],
    ]);

    writeFileSync(file, config([a]));
    assert.equal(await service.reload(), true);
    assert.deepEqual(seen(exporter.batches).slice(2), [['b', '-', 'empty']], 'b withdrawn, a untouched');
    assert.equal(upOf('b', runnerB), undefined, "b's own series are gone");
    assert.equal(upOf('a', runnerA), 1);
    assert.equal(runnerA.scrapes, 1);
    assert.deepEqual(startOf(exporter.batches[0]![0]), start);
  } finally {
    await service.shutdown();
    await runnerA.close();
    await runnerB.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGHUP with a component that cannot be built keeps the running config, and leaves no own series of the new one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-reload-unit-'));
  const runnerA = await RunnerServer.start(PAGE);
  const runnerB = await RunnerServer.start(PAGE);
  const file = join(dir, 'c.yaml');
  const config = (extra: string) => `receivers:
  prometheus/a:
    scrape_interval: 1h
    targets: [{ url: "${runnerA.url}" }]
  prometheus/b:
    scrape_interval: 1h
    targets: [{ url: "${runnerB.url}" }]
exporters:
  collect: {}
  prometheus/b: { endpoint: "127.0.0.1:0" }
  broken: {}
service:
  pipelines:
    metrics: { receivers: [prometheus/a], exporters: [collect] }
${extra}`;
  writeFileSync(file, config(''));
  const logger = new RecordingLogger();
  const service = Service.load({ configFiles: [file], registry: testRegistry, logger });
  const ups = () => service.selfMetrics.findGauge('up')!.entries().map((e) => e.attributes.job);
  try {
    await service.start();
    const exporter = collector('collect');
    await eventually(() => (exporter.batches.length >= 1 ? true : undefined), 'a scraped', 5000, 10);
    // prometheus/b is built (its own series made) before broken fails to be.
    writeFileSync(file, config('    metrics/b: { receivers: [prometheus/b], exporters: [prometheus/b, broken] }\n'));
    assert.equal(await service.reload(), false);
    assert.match(String(logger.lines.find((l) => l.msg.startsWith('config reload failed'))?.error), /broken on purpose/);
    assert.deepEqual(ups(), ['prometheus/a']);
    assert.deepEqual(service.selfMetrics.counter('runner_metrics_exporter_prometheus_scrapes_total', '').entries(), [], 'no own series of what was built but never ran');
    assert.equal(runnerB.scrapes, 0);
    assert.equal(collector('collect'), exporter);
    assert.equal(exporter.state, 'started');
  } finally {
    await service.shutdown();
    await runnerA.close();
    await runnerB.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

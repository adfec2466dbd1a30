/**
 * A component's failure stays in that component: a processor or exporter that
 * throws costs its own data only. The target it is fed from stays up (also when
 * the target then goes down and its empty snapshot meets the same throw), the
 * other exporters keep getting data, and each failure is counted and logged once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Service } from '../../src/service/service.js';
import { RunnerServer } from '../helpers/runner-server.js';
import { readFixture } from '../helpers/fixtures.js';
import { RecordingLogger } from '../helpers/collect.js';
import { eventually } from '../helpers/processes.js';
import { collector, testRegistry } from './test-components.js';

const PAGE = readFixture('llamacpp-real', 'completion.after-traffic.metrics.prom');
const FAILED = 'component failed; its data was dropped, the others carry on';

async function withService(yaml: (runnerUrl: string) => string, body: (s: { service: Service; runner: RunnerServer; logger: RecordingLogger; rejections: unknown[] }) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rm-failure-'));
  const runner = await RunnerServer.start(PAGE);
  const file = join(dir, 'c.yaml');
  writeFileSync(file, yaml(runner.url));
  const logger = new RecordingLogger();
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  process.on('unhandledRejection', onRejection);
  const service = Service.load({ configFiles: [file], registry: testRegistry, logger });
  try {
    await service.start();
    await body({ service, runner, logger, rejections });
  } finally {
    await service.shutdown();
    process.off('unhandledRejection', onRejection);
    await runner.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const up = (s: Service, runner: RunnerServer) => s.selfMetrics.findGauge('up')?.value({ job: 'prometheus', instance: `127.0.0.1:${runner.port}` });
const errors = (s: Service, labels: Record<string, string>) => s.selfMetrics.counter('runner_metrics_component_errors_total', '').value(labels);
/** Reasons of failed scrapes. A consumer's throw used to show as \`io\`; a timeout on a loaded machine may happen any time. */
const failureReasons = (s: Service) =>
  s.selfMetrics
    .counter('runner_metrics_receiver_scrape_failures_total', '')
    .entries()
    .map((e) => e.attributes.reason)
    .filter((r) => r !== 'timeout');

test('a throwing processor and exporter: the target stays up, the other exporter gets every scrape, each failure is counted and logged once', async () => {
  const yaml = (url: string) => `receivers:
  prometheus:
    scrape_interval: 100ms
    targets: [{ url: "${url}" }]
processors:
  explode: { message: processor bug }
exporters:
  explode: { message: exporter bug }
  collect/a: {}
  collect/b: {}
service:
  pipelines:
    metrics/a: { receivers: [prometheus], processors: [explode], exporters: [collect/a] }
    metrics/b: { receivers: [prometheus], exporters: [explode, collect/b] }
`;
  await withService(yaml, async ({ service, runner, logger, rejections }) => {
    await eventually(() => (collector('collect/b').batches.length >= 4 ? true : undefined), 'four scrapes delivered', 5000, 10);
    await eventually(() => (up(service, runner) === 1 ? true : undefined), 'the target up', 5000, 10);
    assert.deepEqual(failureReasons(service), [], 'no scrape counted as failed');
    assert.equal(collector('collect/a').batches.length, 0, 'nothing passes the throwing processor');
    assert.ok(errors(service, { component: 'processor/explode', pipeline: 'metrics/a' }) >= 4);
    assert.ok(errors(service, { component: 'exporter/explode' }) >= 4);
    const failed = logger.lines.filter((l) => l.msg === FAILED);
    assert.deepEqual(
      failed.map((l) => [l.component, l.error]).sort(),
      [
        ['exporter/explode', 'Error: exporter bug'],
        ['processor/explode', 'Error: processor bug'],
      ],
      'one line per failing component and cause',
    );
    assert.deepEqual(rejections, []);
  });
});

test('a throwing processor alone behind a target: up while scraped, and its going down neither escapes nor stops the scrapes', async () => {
  const yaml = (url: string) => `receivers:
  prometheus:
    scrape_interval: 100ms
    targets: [{ url: "${url}" }]
processors:
  explode: {}
exporters:
  collect: {}
service:
  pipelines:
    metrics: { receivers: [prometheus], processors: [explode], exporters: [collect] }
`;
  await withService(yaml, async ({ service, runner, logger, rejections }) => {
    const labels = { component: 'processor/explode', pipeline: 'metrics' };
    await eventually(() => (errors(service, labels) >= 2 ? true : undefined), 'two scrapes through the processor', 5000, 10);
    await eventually(() => (up(service, runner) === 1 ? true : undefined), 'the target up', 5000, 10);
    assert.deepEqual(failureReasons(service), []);

    // Down: the scraper hands on an empty snapshot once, which throws too.
    runner.behaviour = { kind: 'status', status: 500 };
    await eventually(() => (up(service, runner) === 0 ? true : undefined), 'the target down', 5000, 10);
    const counted = errors(service, labels);
    const requests = runner.requests;
    await eventually(() => (runner.requests >= requests + 3 ? true : undefined), 'scrapes go on', 5000, 10);
    runner.serve(PAGE);
    await eventually(() => (up(service, runner) === 1 && errors(service, labels) > counted ? true : undefined), 'up again', 5000, 10);
    assert.deepEqual(rejections, [], 'no unhandled rejection');
    assert.equal(logger.count(FAILED), 1);
    assert.deepEqual(failureReasons(service), ['http_status']);
  });
});

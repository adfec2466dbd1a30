import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { PrometheusReceiver } from '../../../src/receivers/prometheus/index.js';
import { prometheusReceiverConfigSchema } from '../../../src/receivers/prometheus/config.js';
import { ScrapeError } from '../../../src/receivers/prometheus/fetch.js';
import { ScrapeState } from '../../../src/receivers/prometheus/scrape-state.js';
import type { LabelLimits } from '../../../src/prometheus/parser.js';
import { SelfMetrics } from '../../../src/telemetry/self-metrics.js';
import { RunnerServer } from '../../helpers/runner-server.js';
import { CollectingConsumer, RecordingLogger } from '../../helpers/collect.js';
import { HealthRegistry } from '../../../src/telemetry/health.js';

const TEXT = 'text/plain; version=0.0.4';

function state(limits: LabelLimits): ScrapeState {
  return new ScrapeState(resourceFromAttributes({}), 0, limits);
}

/** The ScrapeError a page fails with. */
function failure(s: ScrapeState, page: string): ScrapeError {
  try {
    s.convert(page, TEXT, 1_000_000);
  } catch (error) {
    assert.ok(error instanceof ScrapeError, `expected a ScrapeError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the page to fail');
}

const labels = (n: number): string => Array.from({ length: n }, (_, i) => `l${i}="v"`).join(',');

describe('label limits, as in Prometheus', () => {
  it('label_limit counts the labels with the name, le included', () => {
    const s = state({ labels: 3 });
    assert.equal(s.convert(`a{${labels(2)}} 1\nb 1\n`, TEXT, 1_000_000).samples, 2);
    const e = failure(s, `a{${labels(2)}} 1\nc{${labels(3)}} 1\n`);
    assert.equal(e.reason, 'label_limit');
    assert.match(e.message, /^line 2: label_limit exceeded \(metric "c": more than 3 labels/);
    const histogram = failure(s, '# TYPE h histogram\nh_bucket{a="1",b="2",le="1"} 1\n');
    assert.equal(histogram.reason, 'label_limit');
  });

  it('label_limit applies to quoted metric names too', () => {
    const e = failure(state({ labels: 2 }), '{"my.metric",a="1",b="2"} 1\n');
    assert.equal(e.reason, 'label_limit');
  });

  it('label_name_length_limit counts UTF-8 bytes of the unescaped name', () => {
    const s = state({ nameLength: 4 });
    // "é\"x" unescaped is é"x: four bytes.
    assert.equal(s.convert('a{abcd="v","é\\"x"="v"} 1\n', TEXT, 1_000_000).samples, 1);
    const e = failure(s, 'a{abcde="v"} 1\n');
    assert.equal(e.reason, 'label_name_length_limit');
    assert.match(e.message, /label name "abcde" longer than 4 bytes/);
    assert.equal(failure(s, 'a{"ééé"="v"} 1\n').reason, 'label_name_length_limit');
  });

  it('label_value_length_limit counts UTF-8 bytes of the unescaped value, and applies to the metric name', () => {
    const s = state({ valueLength: 6 });
    // Three escapes are three characters; "ééé" is six bytes.
    assert.equal(s.convert('a{x="\\\\\\"\\n",y="ééé",z="abcdef"} 1\n', TEXT, 1_000_000).samples, 1);
    assert.equal(failure(s, 'a{x="abcdefg"} 1\n').reason, 'label_value_length_limit');
    assert.equal(failure(s, 'a{x="éééé"} 1\n').reason, 'label_value_length_limit');
    assert.equal(failure(s, 'a{x="\\\\\\\\\\\\\\\\\\\\\\\\\\\\"} 1\n').reason, 'label_value_length_limit');
    assert.equal(failure(s, 'abcdefg 1\n').reason, 'label_value_length_limit');
    assert.equal(failure(s, '{"abcdefg"} 1\n').reason, 'label_value_length_limit');
    assert.equal(s.convert('abcdef 1\n', TEXT, 1_000_000).samples, 1);
  });

  it('a failed page leaves the state as it was, and the series is checked again next time', () => {
    const s = state({ labels: 2 });
    s.convert('a 1\n', TEXT, 1_000_000);
    assert.equal(failure(s, 'a 2\nnew 1\nbig{x="1",y="2"} 1\n').reason, 'label_limit');
    assert.equal(s.seriesCount, 1);
    assert.equal(failure(s, 'big{x="1",y="2"} 1\n').reason, 'label_limit');
  });

  it('0 means no limit', () => {
    const s = state({ labels: 0, nameLength: 0, valueLength: 0 });
    assert.equal(s.convert(`a{${labels(500)},${'n'.repeat(5000)}="${'v'.repeat(100_000)}"} 1\n`, TEXT, 1_000_000).samples, 1);
  });

  it('stops reading a huge label set at the limit', () => {
    // The check runs as labels are read, so the work before the failure is bounded by the limit.
    const e = failure(state({ labels: 10 }), `a{${labels(10_000)},l0="dup"} 1\n`);
    assert.equal(e.reason, 'label_limit', 'fails on the count before it sees the duplicate at the end');
  });
});

describe('sample_limit', () => {
  const limited = (limit: number, labels: LabelLimits = {}) => new ScrapeState(resourceFromAttributes({}), limit, labels);

  it('counts sample lines, duplicates included, as Prometheus does', () => {
    assert.equal(limited(2).convert('# HELP a x\n# TYPE a gauge\n# more\na 1\nb 1\n', TEXT, 1_000_000).samples, 2);
    assert.equal(failure(limited(2), 'a 1\na 2\nb 1\n').reason, 'sample_limit');
  });

  it('fails a page over the limit before making any of its series', () => {
    // The first series would fail label_limit if it were made: the page fails on its sample count first.
    const s = limited(2, { labels: 2 });
    assert.equal(failure(s, 'big{x="1",y="2"} 1\nb 1\nc 1\n').reason, 'sample_limit');
    assert.equal(s.seriesCount, 0);
  });

  it('still reports a malformed page over the limit as a parse failure', () => {
    assert.equal(failure(limited(2), 'a 1\nbroken{\nb 1\nc 1\n').reason, 'parse');
  });
});

describe('receiver defaults protect the process', () => {
  const config = prometheusReceiverConfigSchema.parse({ targets: [{ url: 'http://127.0.0.1:9/metrics' }] });

  it('has every limit on', () => {
    assert.equal(config.body_size_limit, 16 * 1024 * 1024);
    assert.equal(config.sample_limit, 50_000);
    assert.equal(config.label_limit, 64);
    assert.equal(config.label_name_length_limit, 1024);
    assert.equal(config.label_value_length_limit, 4096);
  });

  it('accepts 0 to turn a limit off, and rejects negative or fractional limits', () => {
    const off = prometheusReceiverConfigSchema.parse({
      targets: [{ url: 'http://127.0.0.1:9/metrics' }],
      sample_limit: 0,
      label_limit: 0,
      label_name_length_limit: 0,
      label_value_length_limit: 0,
    });
    assert.equal(off.label_limit, 0);
    for (const bad of [-1, 1.5, '10']) {
      assert.equal(prometheusReceiverConfigSchema.safeParse({ targets: [{ url: 'http://127.0.0.1:9/metrics' }], label_limit: bad }).success, false, String(bad));
    }
  });

  it('a page with a 30,000-label series fails with reason label_limit; the healthy target keeps flowing', async () => {
    const huge = await RunnerServer.start(`# TYPE m gauge\nm{${labels(30_000)}} 1\n`);
    const good = await RunnerServer.start('# TYPE g gauge\ng{a="1"} 1\n');
    const parsed = prometheusReceiverConfigSchema.parse({
      scrape_interval: '1h',
      targets: [
        { url: huge.url, attributes: { mode: 'huge' } },
        { url: good.url, attributes: { mode: 'good' } },
      ],
    });
    const sink = new CollectingConsumer();
    const selfMetrics = new SelfMetrics();
    const r = new PrometheusReceiver(parsed, { id: 'prometheus/test', kind: 'receiver', logger: new RecordingLogger(), selfMetrics, health: new HealthRegistry() }, sink);
    try {
      await Promise.all(r.scrapers.map((s) => s.scrapeOnce()));
      assert.ok(sink.latest('mode', 'good'));
      assert.equal(sink.latest('mode', 'huge'), undefined);
      const failures = selfMetrics.counter('runner_metrics_receiver_scrape_failures_total', '');
      const labelsOf = (url: string) => ({ job: 'prometheus/test', instance: new URL(url).host, mode: 'huge' });
      assert.equal(failures.value({ ...labelsOf(huge.url), reason: 'label_limit' }), 1);
      assert.equal(selfMetrics.gauge('up', '').value(labelsOf(huge.url)), 0);
    } finally {
      await r.shutdown();
      await huge.close();
      await good.close();
    }
  });
});

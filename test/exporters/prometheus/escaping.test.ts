/**
 * Runner names that are not valid legacy names, fed through the real receiver
 * conversion into the exporter: escaped for the scraper, never corrupting the body.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Attributes } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { PrometheusExporter, type RenderOptions } from '../../../src/exporters/prometheus/exporter.js';
import type { ResourceBatch } from '../../../src/model/batch.js';
import type { ListenAddress } from '../../../src/net/listen-address.js';
import { parseFamilies } from '../../../src/prometheus/families.js';
import type { EscapingScheme } from '../../../src/prometheus/writer.js';
import { ScrapeState } from '../../../src/receivers/prometheus/scrape-state.js';
import { counter, gauge, histogram, recordingLogger, resourceBatch, scrape, testConfig, testContext } from './batches.js';

const TEXT = 'text/plain; version=0.0.4';
const SCHEMES: readonly EscapingScheme[] = ['allow-utf-8', 'underscores', 'dots', 'values'];

/** The batch the receiver makes of `page` for a runner with these resource attributes. */
function scraped(page: string, attributes: Attributes = {}): ResourceBatch {
  return new ScrapeState(resourceFromAttributes(attributes)).convert(page, TEXT, 1_700_000_000_000).batch;
}

function exporterOf(batches: ResourceBatch[], config: Record<string, unknown> = {}, logger = recordingLogger()) {
  const exporter = new PrometheusExporter(testConfig({ resource_attributes_as_labels: [], ...config }), testContext(logger));
  exporter.consume(batches);
  return { exporter, logger };
}

/** Every (format, escaping) a scraper can negotiate. */
function everyRender(exporter: PrometheusExporter): Array<{ options: RenderOptions; body: string }> {
  return (['text', 'openmetrics'] as const).flatMap((format) =>
    SCHEMES.map((escaping) => ({ options: { format, escaping }, body: exporter.render({ format, escaping }) })),
  );
}

describe('runner names outside the legacy charsets', () => {
  it('a name holding `"} 2\\ninjected 1\\n#` cannot inject lines in any format or scheme', () => {
    const page = '# HELP "\\"} 2\\ninjected 1\\n#" Sneaky\\n# TYPE x counter\n{"\\"} 2\\ninjected 1\\n#",x="\\"}\\n"} 1\n';
    const { exporter } = exporterOf([scraped(page)]);
    for (const { options, body } of everyRender(exporter)) {
      const where = JSON.stringify(options);
      assert.doesNotMatch(body, /^injected/m, where);
      assert.doesNotMatch(body, /^# TYPE x /m, where);
      const families = parseFamilies(body, { openMetrics: options.format === 'openmetrics' });
      assert.equal(families.length, 1, where);
      assert.equal(families[0]!.samples.length, 1, where);
      assert.equal(families[0]!.help, 'Sneaky\n# TYPE x counter', where);
      if (options.escaping === 'allow-utf-8') assert.equal(families[0]!.name, '"} 2\ninjected 1\n#', where);
    }
    assert.match(exporter.render(), /^___2_injected_1__\{x="\\"}\\n"\} 1$/m);
  });

  it('a quoted UTF-8 name is escaped with underscores by default and kept quoted under allow-utf-8', () => {
    const page = '# TYPE "vllm.requests.running" gauge\n{"vllm.requests.running",engine="0","a.b"="x"} 2\n';
    const { exporter } = exporterOf([scraped(page)]);
    assert.equal(exporter.render(), '# TYPE vllm_requests_running gauge\nvllm_requests_running{engine="0",a_b="x"} 2\n');
    assert.equal(
      exporter.render({ escaping: 'allow-utf-8' }),
      '# TYPE "vllm.requests.running" gauge\n{"vllm.requests.running",engine="0","a.b"="x"} 2\n',
    );
    assert.equal(
      exporter.render({ format: 'openmetrics', escaping: 'allow-utf-8' }),
      '# TYPE "vllm.requests.running" gauge\n{"vllm.requests.running",engine="0","a.b"="x"} 2\n# EOF\n',
    );
  });

  it('writes names and label names in each scheme', () => {
    const page = '# TYPE "http.status:sum" gauge\n{"http.status:sum","le.x"="1","a:b"="2"} 3\n';
    const { exporter } = exporterOf([scraped(page)]);
    const expected: Record<EscapingScheme, string> = {
      'allow-utf-8': '{"http.status:sum","le.x"="1","a:b"="2"} 3',
      underscores: 'http_status:sum{le_x="1",a_b="2"} 3',
      dots: 'http_dot_status:sum{le_dot_x="1",a__b="2"} 3',
      values: 'U__http_2e_status:sum{U__le_2e_x="1",U__a_3a_b="2"} 3',
    };
    for (const scheme of SCHEMES) assert.match(exporter.render({ escaping: scheme }), new RegExp(`^${escapeRegExp(expected[scheme])}$`, 'm'), scheme);
  });

  it('escapes resource attributes copied as labels like any label name', () => {
    const { exporter } = exporterOf([scraped('g 1\n', { 'service.name': 'llama' })], { resource_attributes_as_labels: ['service.name'] });
    assert.match(exporter.render(), /^g\{service_name="llama"\} 1$/m);
    assert.match(exporter.render({ escaping: 'allow-utf-8' }), /^g\{"service.name"="llama"\} 1$/m);
    assert.match(exporter.render({ escaping: 'dots' }), /^g\{service_dot_name="llama"\} 1$/m);
  });
});

describe('names that collide once escaped', () => {
  it('runner names escaping alike share one family block; the first series of a label set wins', () => {
    const page = '# TYPE a_b gauge\na_b{x="1"} 1\na_b{x="2"} 2\n# TYPE "a.b" gauge\n{"a.b",x="1"} 3\n';
    const { exporter } = exporterOf([scraped(page)]);
    // Runner names are taken in sorted order: `a.b` before `a_b`.
    assert.equal(exporter.render(), '# TYPE a_b gauge\na_b{x="1"} 3\na_b{x="2"} 2\n');
    assert.equal(parseFamilies(exporter.render({ escaping: 'allow-utf-8' })).length, 2);
  });

  it('label names escaping alike keep the first label', () => {
    const { exporter } = exporterOf([scraped('g{"a.b"="1",a_b="2",c="3"} 1\n')]);
    assert.equal(exporter.render(), '# TYPE g untyped\ng{a_b="1",c="3"} 1\n');
    assert.equal(exporter.render({ escaping: 'allow-utf-8' }), '# TYPE g untyped\ng{"a.b"="1",a_b="2",c="3"} 1\n');
  });

  it('a runner label escaping to an added label steps aside as exported_, past other escaped names', () => {
    const batch = resourceBatch({ model: 'ours' }, [gauge('g', '', [[{ model: 'a', 'exported.model': 'b' }, 1]])]);
    const { exporter } = exporterOf([batch], { resource_attributes_as_labels: ['model'] });
    assert.equal(exporter.render(), '# TYPE g gauge\ng{exported_exported_model="a",exported_model="b",model="ours"} 1\n');
  });

  it('a family whose name or samples another family writes is left out, and logged once', () => {
    const histogramPage = '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n';
    const { exporter, logger } = exporterOf([
      scraped(histogramPage, { runner: 'a' }),
      scraped('# TYPE h_count gauge\nh_count 7\n# TYPE h_sum counter\nh_sum 1\n# TYPE ok gauge\nok 1\n', { runner: 'b' }),
    ]);
    const body = exporter.render();
    assert.equal(body.match(/^# TYPE /gm)?.length, 2);
    assert.match(body, /^# TYPE h histogram$/m);
    assert.match(body, /^h_count 2$/m);
    assert.doesNotMatch(body, /h_count 7|# TYPE h_count|# TYPE h_sum/);
    assert.match(body, /^ok 1$/m);
    exporter.render();
    const warnings = logger.lines.filter((l) => l.level === 'warn');
    assert.equal(warnings.length, 2, JSON.stringify(warnings));
  });

  it('in OpenMetrics a counter family `x` (samples x_total) and a gauge `x` cannot both be written', () => {
    const { exporter } = exporterOf([
      resourceBatch({ runner: 'a' }, [counter('x_total', 'C.', [[{}, 1]])]),
      resourceBatch({ runner: 'b' }, [gauge('x', 'G.', [[{}, 2]])]),
    ]);
    assert.equal(exporter.render({ format: 'openmetrics' }), '# HELP x G.\n# TYPE x gauge\nx 2\n# EOF\n');
    // Text format names them apart.
    assert.equal(parseFamilies(exporter.render()).length, 2);
  });

  it('a histogram and a gauge under one runner name are not mixed in one block', () => {
    const { exporter } = exporterOf([
      resourceBatch({ runner: 'a' }, [histogram('m', '', [[{}, { boundaries: [1], counts: [1, 1], sum: 2 }]])]),
      resourceBatch({ runner: 'b' }, [gauge('m', '', [[{}, 5]])]),
    ]);
    assert.equal(exporter.render(), '# TYPE m histogram\nm_bucket{le="1"} 1\nm_bucket{le="+Inf"} 2\nm_sum 2\nm_count 2\n');
  });

  it('two resources writing the same series keep the first', () => {
    // They differ only in an attribute that is not copied as a label.
    const { exporter } = exporterOf(
      [
        resourceBatch({ model: 'm', 'service.instance.id': '1' }, [gauge('g', '', [[{}, 1]])]),
        resourceBatch({ model: 'm', 'service.instance.id': '2' }, [gauge('g', '', [[{}, 2]])]),
      ],
      { resource_attributes_as_labels: ['model'] },
    );
    assert.equal(exporter.render(), '# TYPE g gauge\ng{model="m"} 1\n');
  });

  it('a series repeated with its labels in another order is written once', () => {
    const { exporter } = exporterOf([scraped('m{a="1",b="2"} 1\nm{b="2",a="1"} 2\nm{b="3",a="1"} 3\n')]);
    assert.equal(exporter.render(), '# TYPE m untyped\nm{a="1",b="2"} 1\nm{b="3",a="1"} 3\n');
  });

  it('a runner label equal to an added label of another resource is the same series', () => {
    // One resource has no `model` attribute but the runner sends a `model` label.
    for (const [labels, text] of [
      [['backend', 'model'], '{backend="b",model="m"}'],
      [['model', 'backend'], '{model="m",backend="b"}'],
    ] as const) {
      const { exporter } = exporterOf(
        [resourceBatch({ backend: 'b', model: 'm' }, [gauge('g', '', [[{}, 1]])]), resourceBatch({ backend: 'b' }, [gauge('g', '', [[{ model: 'm' }, 2]])])],
        { resource_attributes_as_labels: labels },
      );
      assert.equal(exporter.render(), `# TYPE g gauge\ng${text} 1\n`, labels.join());
    }
  });

  it('label values differing only in lone surrogates are one series, written as U+FFFD', () => {
    const { exporter } = exporterOf([resourceBatch({}, [gauge('g', 'h\uD800', [[{ v: 'x\uD800' }, 1], [{ v: 'x\uDC00' }, 2], [{ __name__: 'n' }, 3]])])]);
    const body = exporter.render();
    assert.equal(body, '# HELP g h\uFFFD\n# TYPE g gauge\ng{v="x\uFFFD"} 1\ng 3\n');
    assert.equal(Buffer.from(body, 'utf8').toString('utf8'), body);
  });
});

describe('bucket and quantile labels Prometheus could not read', () => {
  it('a runner `le` text that is no float is written as its number; one text per bucket', () => {
    const page = '# TYPE h histogram\nh_bucket{le=""} 1\nh_bucket{le="0"} 1\nh_bucket{le="1.0"} 2\nh_bucket{le="+Inf"} 3\nh_sum 1\nh_count 3\n';
    const { exporter } = exporterOf([scraped(page)]);
    assert.equal(
      exporter.render(),
      '# TYPE h histogram\nh_bucket{le="0"} 1\nh_bucket{le="1.0"} 2\nh_bucket{le="+Inf"} 3\nh_sum 1\nh_count 3\n',
    );
  });

  it('an +Inf bucket given twice (labels reordered) is written once, as the overflow bucket', () => {
    const page = '# TYPE h histogram\nh_bucket{a="1",le="1"} 1\nh_bucket{a="1",le="+Inf"} 2\nh_bucket{le="+Inf",a="1"} 2\nh_count{a="1"} 2\n';
    const { exporter } = exporterOf([scraped(page)]);
    assert.equal(exporter.render(), '# TYPE h histogram\nh_bucket{a="1",le="1"} 1\nh_bucket{a="1",le="+Inf"} 2\nh_count{a="1"} 2\n');
  });

  it("a runner's own le on a histogram's _sum, or quantile on a summary's _count, does not double the bucket label", () => {
    const page =
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum{le="x"} 3\nh_count{le="x"} 2\n' +
      '# TYPE s summary\ns{quantile="0.5"} 1\ns_sum{quantile="y"} 2\ns_count{quantile="y"} 3\n';
    const { exporter } = exporterOf([scraped(page)]);
    for (const { options, body } of everyRender(exporter)) {
      for (const family of parseFamilies(body, { openMetrics: options.format === 'openmetrics' })) {
        for (const sample of family.samples) {
          const names = sample.labels.filter((_, i) => i % 2 === 0);
          assert.equal(new Set(names).size, names.length, `${JSON.stringify(options)} ${sample.name} ${names}`);
        }
      }
    }
  });
});

describe('escaping negotiated over HTTP', () => {
  let exporter: PrometheusExporter;
  let address: ListenAddress;
  before(async () => {
    exporter = new PrometheusExporter(testConfig({ resource_attributes_as_labels: [] }), testContext());
    exporter.consume([scraped('# TYPE "vllm.requests.running" gauge\n{"vllm.requests.running",engine="0"} 2\n')]);
    await exporter.start();
    address = exporter.address()!;
  });
  after(() => exporter.shutdown());

  it('Prometheus 3 asking for allow-utf-8 gets quoted names, and the Content-Type says so', async () => {
    const accept =
      'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,' +
      'text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1';
    const res = await scrape(address, '/metrics', { headers: { Accept: accept } });
    assert.equal(res.headers['content-type'], 'application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8');
    assert.match(res.body, /^\{"vllm.requests.running",engine="0"\} 2$/m);
    const text = await scrape(address, '/metrics', { headers: { Accept: 'text/plain;version=1.0.0;escaping=allow-utf-8' } });
    assert.equal(text.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8; escaping=allow-utf-8');
    assert.match(text.body, /^# TYPE "vllm.requests.running" gauge$/m);
  });

  it('Prometheus 2.x, naming no scheme, gets underscores', async () => {
    const accept = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
    const res = await scrape(address, '/metrics', { headers: { Accept: accept } });
    assert.equal(res.headers['content-type'], 'application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores');
    assert.match(res.body, /^vllm_requests_running\{engine="0"\} 2$/m);
  });

  it('a scraper asking for values or dots gets them', async () => {
    const values = await scrape(address, '/metrics', { headers: { Accept: 'text/plain;version=0.0.4;escaping=values' } });
    assert.equal(values.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8; escaping=values');
    assert.match(values.body, /^U__vllm_2e_requests_2e_running\{engine="0"\} 2$/m);
    const dots = await scrape(address, '/metrics', { headers: { Accept: 'text/plain;escaping=dots' } });
    assert.match(dots.body, /^vllm_dot_requests_dot_running\{engine="0"\} 2$/m);
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The collector run as a user would, scraped every second by the real Prometheus
 * server (Debian's `prometheus`), with Prometheus' query API to read what it stored.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startProcess, stopProcess, type Running } from './processes.js';

/** The collector built alongside the tests (dist/src/cli.js when run from dist/test). */
const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

export interface PromVector {
  metric: Record<string, string>;
  value: [number, string];
}

export class ScrapedCollector {
  private constructor(
    readonly dir: string,
    readonly ourPort: number,
    readonly promUrl: string,
    readonly collector: Running,
    readonly prometheus: Running,
  ) {}

  /** Starts the collector with the config `collectorYaml(ourPort)` writes, and Prometheus scraping it. */
  static async start(collectorYaml: (ourPort: number) => string): Promise<ScrapedCollector> {
    const dir = mkdtempSync(join(tmpdir(), 'rm-e2e-prom-'));
    const ourPort = await freePort();
    const promPort = await freePort();
    const configFile = join(dir, 'collector.yaml');
    writeFileSync(configFile, collectorYaml(ourPort));
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
    return new ScrapedCollector(dir, ourPort, `http://127.0.0.1:${promPort}`, collector, prometheus);
  }

  /** An instant query; the result vector. */
  async query(q: string): Promise<PromVector[]> {
    const res = await fetch(`${this.promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
    const json = (await res.json()) as { status: string; data: { result: PromVector[] } };
    assert.equal(json.status, 'success');
    return json.data.result;
  }

  /** An error carrying both processes' last output, for a wait that timed out. */
  explain(err: Error): Error {
    return new Error(`${err.message}\n--- prometheus:\n${this.prometheus.output().slice(-3000)}\n--- collector:\n${this.collector.output().slice(-3000)}`);
  }

  /** Stops both, removes the directory; resolves the collector's exit code. */
  async stop(): Promise<number | string> {
    await stopProcess(this.prometheus);
    const code = await stopProcess(this.collector);
    rmSync(this.dir, { recursive: true, force: true });
    return code;
  }
}

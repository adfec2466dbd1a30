/**
 * Reloading never costs the data that did not change: through 20 SIGHUPs,
 * alternating between the same file rewritten and one that adds or removes a
 * second target (in the same receiver, and in a receiver of its own behind a
 * processor), `/metrics` (polled every 50 ms) never
 * misses a series nor a connection, and the OTLP backend (decoding what we push)
 * sees the runner's counters keep their start times: the receiver, the
 * `/metrics` listener and the push exporter are kept across every reload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunnerServer } from '../helpers/runner-server.js';
import { readFixture, REPO_ROOT } from '../helpers/fixtures.js';
import { eventually, freePort, startProcess, stopProcess } from '../helpers/processes.js';
import { OtlpReceiver, points } from '../exporters/otlphttp/receiver.js';

const CLI = join(REPO_ROOT, 'dist/src/cli.js');
const COMPLETION = readFixture('llamacpp-real', 'completion.after-traffic.metrics.prom');
const RELOADS = 20;

function config(runner: string, second: string | undefined, port: number, otlp: string): string {
  return `receivers:
  prometheus/llamacpp:
    scrape_interval: 1s
    targets:
      - url: ${runner}
        attributes: { backend: llama.cpp, model: m, mode: completion }
${second ? `      - url: ${second}\n        attributes: { backend: llama.cpp, model: m2, mode: completion }\n` : ''}${second ? `  prometheus/second:\n    scrape_interval: 1s\n    targets: [{ url: "${second}", attributes: { model: second } }]\n` : ''}processors:
  resource/second:
    attributes: [{ key: site, value: lab, action: insert }]
exporters:
  prometheus:
    endpoint: 127.0.0.1:${port}
  otlphttp:
    endpoint: ${otlp}
    export_interval: 100ms
service:
  pipelines:
    metrics:
      receivers: [prometheus/llamacpp]
      exporters: [prometheus, otlphttp]
${second ? '    metrics/second:\n      receivers: [prometheus/second]\n      processors: [resource/second]\n      exporters: [prometheus]\n' : ''}`;
}

/** The series lines of model "m" and its target's own health series. */
function watched(body: string): Set<string> {
  const out = new Set<string>();
  for (const line of body.split('\n')) {
    if (line.startsWith('#')) continue;
    if (line.includes('model="m"')) out.add(line.slice(0, line.lastIndexOf(' ')));
  }
  return out;
}

test('20 SIGHUPs: /metrics never misses a series or a connection, and pushed counters keep their start times', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-reload-gap-'));
  const runner = await RunnerServer.start(COMPLETION);
  const second = await RunnerServer.start(COMPLETION);
  const otlp = await OtlpReceiver.start();
  const port = await freePort();
  const file = join(dir, 'collector.yaml');
  const metricsUrl = `http://127.0.0.1:${port}/metrics`;
  const plain = config(runner.url, undefined, port, otlp.endpoint);
  const withSecond = config(runner.url, second.url, port, otlp.endpoint);
  writeFileSync(file, plain);
  const collector = startProcess(process.execPath, [CLI, '--config', file], { cwd: REPO_ROOT, env: { ...process.env, LOG_LEVEL: 'info' } });
  const problems: string[] = [];
  let polls = 0;
  let secondServed = 0;
  let polling = true;
  let exit: number | string;
  try {
    const expected = await eventually(async () => {
      const body = await (await fetch(metricsUrl)).text();
      const s = watched(body);
      return [...s].some((l) => l.startsWith('llamacpp:prompt_tokens_total{')) && [...s].some((l) => l.startsWith('up{')) ? s : undefined;
    }, 'runner m and its health served');
    await otlp.waitFor(() => otlp.accepted.length >= 2);

    const poller = (async () => {
      while (polling) {
        try {
          const res = await fetch(metricsUrl);
          const body = await res.text();
          polls++;
          if (res.status !== 200) problems.push(`status ${res.status}`);
          const got = watched(body);
          if (/^llamacpp:prompt_tokens_total\{[^}]*model="second"/m.test(body) && /^llamacpp:prompt_tokens_total\{[^}]*model="m2"/m.test(body)) secondServed++;
          for (const series of expected) if (!got.has(series)) problems.push(`missing ${series}`);
        } catch (err) {
          problems.push(`request failed: ${(err as Error).message} ${String((err as Error).cause ?? '')}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    const reloads = () => collector.output().match(/"msg":"config reloaded"/g)?.length ?? 0;
    for (let i = 0; i < RELOADS; i++) {
      // Even reloads: the same file written again; odd ones: the second target comes or goes.
      writeFileSync(file, i % 4 === 1 || i % 4 === 2 ? withSecond : plain);
      collector.child.kill('SIGHUP');
      await eventually(() => (reloads() === i + 1 ? true : undefined), `reload ${i + 1}`, 10_000, 20);
      if (i % 4 === 1) {
        // The second target's first scrape comes within a second: let it, so that it also goes.
        await eventually(async () => {
          const body = await (await fetch(metricsUrl)).text();
          return /^llamacpp:prompt_tokens_total\{[^}]*model="second"/m.test(body) && /^llamacpp:prompt_tokens_total\{[^}]*model="m2"/m.test(body) ? true : undefined;
        }, 'the second targets served', 10_000, 20);
      }
      if (i % 4 === 3) {
        const body = await (await fetch(metricsUrl)).text();
        assert.doesNotMatch(body, /model="(second|m2)"/, 'removed targets are gone with the reload, not at expiry');
      }
      await new Promise((r) => setTimeout(r, 120));
    }
    const pushesAtEnd = otlp.accepted.length;
    await otlp.waitFor(() => otlp.accepted.length >= pushesAtEnd + 2);
    polling = false;
    await poller;

    assert.deepEqual(problems.slice(0, 10), [], `${problems.length} problems in ${polls} polls`);
    assert.ok(polls >= RELOADS, `polled ${polls} times`);
    assert.ok(secondServed > 0 && secondServed < polls, `the second target came and went (served in ${secondServed} of ${polls} polls)`);
    assert.equal(collector.output().match(/"msg":"metrics endpoint listening"/g)?.length, 1, 'the listener was bound once');

    const starts = new Map<string, Set<string>>();
    for (const { instance, metric, point } of points(otlp.accepted)) {
      // The second target's series start again each time it comes back, as they should.
      if (!metric.sum?.isMonotonic || instance !== `127.0.0.1:${runner.port}`) continue;
      const key = `${metric.name}@${instance}`;
      const set = starts.get(key) ?? new Set<string>();
      set.add(point.startTimeUnixNano);
      starts.set(key, set);
    }
    assert.ok(starts.has(`llamacpp:prompt_tokens_total@127.0.0.1:${runner.port}`), [...starts.keys()].join(', '));
    for (const [series, set] of starts) assert.equal(set.size, 1, `${series} pushed with start times ${[...set].join(', ')}`);
    assert.ok([...points(otlp.accepted)].some((p) => p.instance === `127.0.0.1:${second.port}`), 'the second target was pushed too');
  } finally {
    polling = false;
    exit = await stopProcess(collector);
    await runner.close();
    await second.close();
    await otlp.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(exit, 0, collector.output());
  assert.doesNotMatch(collector.output(), /"level":"error"/);
});

/**
 * Local discovery's CPU cost: one look at 20 ports of 127.0.0.1 plus 2 socket
 * globs (what `local_runners` does every interval, 5 s by default), against one
 * scrape cycle of the same runners (what the collector does every interval
 * anyway), both measured here in the same run, both sides in this process (the
 * stand-in runners answer here too).
 *
 * The 20 ports: a llama-server, a llama.cpp router (one model loaded), an
 * Ollama, one HTTP server that is no runner, and 16 closed ports. Globs: one
 * directory with a llama-server on a Unix socket, one empty. Measured in the
 * steady state (every runner found; a look is then a connect per port and a
 * listing per glob); the first looks, which ask questions, are shown apart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRunnersReceiver } from '../src/receivers/local_runners/index.js';
import { localRunnersReceiverConfigSchema } from '../src/receivers/local_runners/config.js';
import { PrometheusReceiver } from '../src/receivers/prometheus/index.js';
import { prometheusReceiverConfigSchema } from '../src/receivers/prometheus/config.js';
import { OllamaReceiver } from '../src/receivers/ollama/index.js';
import { ollamaReceiverConfigSchema } from '../src/receivers/ollama/config.js';
import { SelfMetrics } from '../src/telemetry/self-metrics.js';
import { HealthRegistry } from '../src/telemetry/health.js';
import { silentLogger } from '../src/telemetry/logger.js';
import type { ComponentContext } from '../src/component.js';
import { LlamaServer, V050_CHILD_COMPLETION } from '../test/helpers/llama-server.js';
import { LlamaRouter } from '../test/helpers/llama-router.js';
import { OllamaServer } from '../test/helpers/ollama-server.js';
import { RunnerServer } from '../test/helpers/runner-server.js';
import { freePort } from '../test/helpers/processes.js';
import { cpuMs, fmt } from './util.js';

const ROUNDS = 200;

function context(id: string): ComponentContext {
  return { id, kind: 'receiver', logger: silentLogger, selfMetrics: new SelfMetrics(), health: new HealthRegistry() };
}

export async function run(): Promise<void> {
  console.log('\n## local discovery: one look at 20 ports + 2 socket globs, against one scrape cycle of the same runners');
  const dir = mkdtempSync(join(tmpdir(), 'rm-bench-discovery-'));
  const llama = await LlamaServer.start(V050_CHILD_COMPLETION);
  const router = await LlamaRouter.start('router.v0.5.0.b-llama-loaded.models.json');
  const ollama = await OllamaServer.start();
  const other = await RunnerServer.start({ kind: 'body', body: '<html>not a runner</html>', contentType: 'text/html' });
  const socket = join(dir, 'runners', 'llama.sock');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(dir, 'runners'));
  mkdirSync(join(dir, 'empty'));
  const onSocket = await RunnerServer.start(V050_CHILD_COMPLETION.metrics, socket);
  const closed = await Promise.all(Array.from({ length: 16 }, () => freePort()));
  const ports = [llama.port, router.port, ollama.port, other.port, ...closed];
  const discovery = new LocalRunnersReceiver(
    localRunnersReceiverConfigSchema.parse({
      interval: '1h', // every look is made here
      ports,
      sockets: [join(dir, 'runners', '*.sock'), join(dir, 'empty', '*.sock')],
      model_runner_sockets: false,
    }),
    context('local_runners'),
    { consume: () => undefined },
  );
  // The same runners, scraped as the runners found are (identity configured, so only scrapes count).
  const attributes = { backend: 'llama.cpp', model: 'tiny-llama-rand', mode: 'completion' };
  const prometheus = new PrometheusReceiver(
    prometheusReceiverConfigSchema.parse({
      scrape_interval: '1h',
      targets: [
        { url: `${llama.url}/metrics`, attributes },
        { url: `${router.url}/metrics?model=tiny-llama-rand&autoload=false`, attributes: { ...attributes, mode: 'embedding' } },
        { unix_socket: socket, attributes: { ...attributes, model: 'on-socket' } },
      ],
    }),
    context('prometheus/bench'),
    { consume: () => undefined },
  );
  const ollamaReceiver = new OllamaReceiver(ollamaReceiverConfigSchema.parse({ scrape_interval: '1h', targets: [{ url: ollama.url }] }), context('ollama/bench'), { consume: () => undefined });
  const cycle = () => Promise.all([...prometheus.scrapers.map((s) => s.scrapeOnce()), ...ollamaReceiver.scrapers.map((s) => s.scrapeOnce())]);
  try {
    // Identification: each question a look; then every runner is found.
    let t0 = cpuMs();
    let looks = 0;
    while (discovery.runners.size < 4 && looks < 10) {
      await discovery.discovery.lookOnce();
      looks++;
    }
    for (let i = 0; i < 8; i++) await discovery.discovery.lookOnce(); // the non-runner asked its last questions
    const identifyMs = cpuMs() - t0;
    if (discovery.runners.size !== 4) throw new Error(`found ${discovery.runners.size} runners, expected 4`);

    for (let i = 0; i < 20; i++) await Promise.all([discovery.discovery.lookOnce(), cycle()]); // warm-up (JIT)
    t0 = cpuMs();
    for (let i = 0; i < ROUNDS; i++) await cycle();
    const cycleMs = (cpuMs() - t0) / ROUNDS;
    t0 = cpuMs();
    for (let i = 0; i < ROUNDS; i++) await discovery.discovery.lookOnce();
    const lookMs = (cpuMs() - t0) / ROUNDS;

    console.log(`scrape cycle (4 runners)       ${fmt(cycleMs)} ms CPU   (baseline; llama-server, router model, Ollama, llama-server on a socket)`);
    console.log(`discovery look (steady)        ${fmt(lookMs)} ms CPU   = ${fmt((lookMs / cycleMs) * 100)}% of a scrape cycle`);
    console.log(`  first ${looks + 8} looks (asking)    ${fmt(identifyMs)} ms CPU in all, once per runner that appears`);
    console.log(`  every 5 s: ${fmt(lookMs / 50)}% of one core (a router's own /models, once per interval, is part of its scrape, not counted here)`);
  } finally {
    await discovery.shutdown();
    await prometheus.shutdown();
    await ollamaReceiver.shutdown();
    await Promise.all([llama.close(), router.close(), ollama.close(), other.close(), onSocket.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

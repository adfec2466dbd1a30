/**
 * The default config as a user runs it against a stand-in llama-server (real
 * b4748 and v0.5.0 answers): the `model` label is the server's own name, not
 * "default", and follows the server when it comes back serving another model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { B4748_COMPLETION, LlamaServer, V050_CHILD_EMBEDDING } from '../helpers/llama-server.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { eventually, freePort, httpGet, startProcess, stopProcess } from '../helpers/processes.js';
import { parseFamilies } from '../../src/prometheus/families.js';

const CLI = join(REPO_ROOT, 'dist/src/cli.js');

/** The labels of every `llamacpp:prompt_tokens_total` series served. */
function promptTokenLabels(body: string): Array<Record<string, string>> {
  const family = parseFamilies(body).find((f) => f.name === 'llamacpp:prompt_tokens_total');
  return (family?.samples ?? []).map((s) => {
    const out: Record<string, string> = {};
    for (let i = 0; i < s.labels.length; i += 2) out[s.labels[i]!] = s.labels[i + 1]!;
    return out;
  });
}

test('default config: model="<the server\'s name>", not "default"; a new model after a restart replaces the old', async () => {
  const server = await LlamaServer.start(B4748_COMPLETION);
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, LLAMACPP_BASE_URL: server.url, LLAMACPP_SCRAPE_INTERVAL: '200ms', LLAMACPP_EXPORTER_ADDR: `127.0.0.1:${port}` };
  delete env['LLAMACPP_MODEL'];
  delete env['LLAMACPP_MODE'];
  const collector = startProcess(process.execPath, [CLI], { cwd: REPO_ROOT, env });
  const metrics = async () => (await httpGet(`http://127.0.0.1:${port}/metrics`)).body;
  try {
    const first = await eventually(async () => {
      const labels = promptTokenLabels(await metrics().catch(() => ''));
      return labels.length > 0 ? labels : undefined;
    }, 'the runner served', 20_000);
    assert.deepEqual(first, [{ backend: 'llama.cpp', model: 'tiny-llama-rand', mode: 'completion' }]);

    // The server stops and comes back on the same port with another model (v0.5.0, --embeddings).
    await server.close();
    await eventually(async () => (promptTokenLabels(await metrics()).length === 0 ? true : undefined), 'the old series gone while it is down');
    server.serve(V050_CHILD_EMBEDDING);
    await server.listen();
    const after = await eventually(async () => {
      const labels = promptTokenLabels(await metrics());
      return labels.length > 0 ? labels : undefined;
    }, 'the runner served again');
    assert.deepEqual(after, [{ backend: 'llama.cpp', model: 'tiny-bert-rand', mode: 'embedding' }]);
    assert.doesNotMatch(await metrics(), /model="(tiny-llama-rand|default|unknown)"/);
    assert.equal(server.asked('/slots'), 0);
  } finally {
    assert.equal(await stopProcess(collector), 0, collector.output());
    await server.close();
  }
  assert.doesNotMatch(collector.output(), /runner identity unknown/);
});

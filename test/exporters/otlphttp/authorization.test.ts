/** Which Authorization a push sends: auth.basic, else a configured header in any case, else URL credentials; never two. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { OtlpHttpExporter } from '../../../src/exporters/otlphttp/index.js';
import { runnerBatch, testConfig, testContext } from './batches.js';
import { OtlpReceiver } from './receiver.js';

let receiver: OtlpReceiver;
let exporter: OtlpHttpExporter | undefined;

beforeEach(async () => {
  receiver = await OtlpReceiver.start();
});
afterEach(async () => {
  await exporter?.shutdown();
  exporter = undefined;
  await receiver.close();
});

/** The `authorization` values of the one push made with `config`, whatever the case of the name. */
async function pushWith(config: Record<string, unknown>, userinfo?: string): Promise<{ values: string[]; logs: string }> {
  const url = new URL(receiver.endpoint);
  if (userinfo) [url.username, url.password] = userinfo.split(':') as [string, string];
  const t = testContext();
  exporter = new OtlpHttpExporter(testConfig({ ...config, endpoint: url.toString() }), t.context);
  await exporter.start();
  exporter.consume([runnerBatch(0, 1)]);
  await exporter.forceFlush();
  const raw = receiver.accepted[0]!.rawHeaders;
  return { values: raw.filter((_, i) => i % 2 === 1 && raw[i - 1]!.toLowerCase() === 'authorization'), logs: JSON.stringify(t.logs) };
}

const basic = (pair: string) => 'Basic ' + Buffer.from(pair).toString('base64');

for (const name of ['Authorization', 'authorization', 'AUTHORIZATION']) {
  test(`a configured ${name} header wins over URL credentials, sent once`, async () => {
    const { values, logs } = await pushWith({ headers: { [name]: 'Bearer configured-token' } }, 'user:url-pass');
    assert.deepEqual(values, ['Bearer configured-token']);
    assert.doesNotMatch(logs, /url-pass|configured-token/);
  });
}

test('URL credentials are sent as Basic auth (clients drop them from the URL)', async () => {
  const { values, logs } = await pushWith({}, 'user:url-pass');
  assert.deepEqual(values, [basic('user:url-pass')]);
  assert.doesNotMatch(logs, /url-pass/);
});

test('auth.basic replaces a configured Authorization header and URL credentials', async () => {
  const { values } = await pushWith({ headers: { AUTHORIZATION: 'Bearer configured-token' }, auth: { basic: { username: 'id', password: 'pw' } } }, 'user:url-pass');
  assert.deepEqual(values, [basic('id:pw')]);
});

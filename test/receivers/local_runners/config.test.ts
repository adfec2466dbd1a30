import { test } from 'node:test';
import assert from 'node:assert/strict';
import { localRunnersReceiverConfigSchema } from '../../../src/receivers/local_runners/config.js';

const parse = (input: unknown) => localRunnersReceiverConfigSchema.safeParse(input);

test('local_runners config: defaults are the well-known ports, each expecting its runner', () => {
  const c = localRunnersReceiverConfigSchema.parse({});
  assert.equal(c.interval, 5000);
  assert.equal(c.probe_timeout, 1000);
  assert.deepEqual(c.ports, [
    { port: 8080, kind: 'llamacpp' },
    { port: 12434, kind: 'docker_model_runner' },
    { port: 8000, kind: 'vllm' },
    { port: 8082, kind: 'torchserve' },
    { port: 30000, kind: 'sglang' },
    { port: 8002, kind: 'triton' },
    { port: 3000, kind: 'tgi' },
    { port: 11434, kind: 'ollama' },
  ]);
  assert.deepEqual(c.extra_ports, []);
  assert.deepEqual(c.sockets, []);
  assert.equal(c.model_runner_sockets, true);
});

test('local_runners config: ports and sockets from one comma-separated env value, a bare number, or nothing', () => {
  assert.deepEqual(localRunnersReceiverConfigSchema.parse({ extra_ports: '8081, ollama:11500,8000' }).extra_ports, [
    { port: 8081, kind: undefined },
    { port: 11500, kind: 'ollama' },
    { port: 8000, kind: 'vllm' },
  ]);
  assert.deepEqual(localRunnersReceiverConfigSchema.parse({ extra_ports: 8081 }).extra_ports, [{ port: 8081, kind: undefined }]);
  assert.deepEqual(localRunnersReceiverConfigSchema.parse({ extra_ports: null, sockets: '' }).extra_ports, []);
  assert.deepEqual(localRunnersReceiverConfigSchema.parse({ sockets: '/run/a/*.sock,/tmp/b.sock' }).sockets, ['/run/a/*.sock', '/tmp/b.sock']);
  assert.deepEqual(localRunnersReceiverConfigSchema.parse({ ports: [] }).ports, []);
});

test('local_runners config: bad ports, kinds, globs and URLs are errors that say why', () => {
  const message = (input: unknown) => {
    const r = parse(input);
    assert.equal(r.success, false, JSON.stringify(input));
    return r.error!.issues.map((i) => i.message).join('; ');
  };
  assert.match(message({ extra_ports: 'abc' }), /"abc" is not a port/);
  assert.match(message({ extra_ports: '70000' }), /out of range/);
  assert.match(message({ extra_ports: 'nginx:8081' }), /"nginx" is not a runner local discovery knows/);
  assert.match(message({ sockets: 'relative/*.sock' }), /absolute/);
  assert.match(message({ sockets: '/run/*/x.sock' }), /last path segment/);
  assert.match(message({ targets: [{ url: '127.0.0.1:8080' }] }), /http:\/\//);
  assert.match(message({ targets: [{ url: 'http://u:p@h:1' }] }), /credentials/);
  assert.match(message({ targets: [{ url: 'http://h:1', runner: 'nope' }] }), /./);
});

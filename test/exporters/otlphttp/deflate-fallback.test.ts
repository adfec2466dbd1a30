/** A push is not lost to a failing deflate thread: zlib compresses it instead, and the exporter is told. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { DeflateThreadError, stopDeflateThread } from '../../../src/compress/offloaded-gzip.js';
import { RequestBuilder, type RequestBuilderOptions } from '../../../src/exporters/otlphttp/request-builder.js';
import { runnerBatch } from './batches.js';

const options = (compression: 'gzip' | 'none', failures: Error[] = []): RequestBuilderOptions => ({
  encoding: 'proto',
  compression,
  resourceToAttributes: ['backend', 'model', 'mode'],
  maxRequestBytes: 0,
  maxRequestPoints: 0,
  onDeflateThreadFailure: (error) => failures.push(error),
});

describe('RequestBuilder when the deflate thread fails', () => {
  it('encodes the push again, compressed by zlib: the same bytes arrive', async () => {
    const resources = Array.from({ length: 40 }, (_, runner) => runnerBatch(runner, 1));
    const plain = await new RequestBuilder(options('none')).build(resources);
    const failures: Error[] = [];
    const building = new RequestBuilder(options('gzip', failures)).build(resources);
    // The build has handed its first runner to the thread and yields: the thread dies now.
    await stopDeflateThread();
    const requests = await building;
    assert.equal(requests.length, 1);
    assert.deepEqual(gunzipSync(requests[0]!.body), plain[0]!.body);
    assert.equal(requests[0]!.points, plain[0]!.points);
    assert.equal(failures.length, 1);
    assert.ok(failures[0] instanceof DeflateThreadError);
    assert.match(failures[0].message, /stopped/);
  });

  it('the push after it goes to a new deflate thread', async () => {
    const failures: Error[] = [];
    const resources = [runnerBatch(0, 2), runnerBatch(1, 2)];
    const requests = await new RequestBuilder(options('gzip', failures)).build(resources);
    const plain = await new RequestBuilder(options('none')).build(resources);
    assert.deepEqual(gunzipSync(requests[0]!.body), plain[0]!.body);
    assert.equal(failures.length, 0);
  });
});

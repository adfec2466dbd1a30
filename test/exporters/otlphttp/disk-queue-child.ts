/**
 * Child process for the disk-queue crash test. Modes (argv[2]):
 *  - `fill <endpoint> <dir> <count>`: queues `count` pushes while the backend is
 *    down, prints `queued`, and waits to be killed;
 *  - `drain <endpoint> <dir>`: starts on the same directory and delivers it;
 *    SIGTERM shuts the exporter down cleanly.
 */
import { OtlpHttpExporter } from '../../../src/exporters/otlphttp/index.js';
import { runnerBatch, testConfig, testContext } from './batches.js';

const [mode, endpoint, dir, count] = process.argv.slice(2);
const { context } = testContext('otlphttp/child');
const exporter = new OtlpHttpExporter(
  testConfig({ endpoint, sending_queue: { storage: dir, queue_size: 100 }, shutdown_timeout: '5s' }),
  context,
);
await exporter.start();
const keepAlive = setInterval(() => {}, 60_000);

if (mode === 'fill') {
  for (let scrape = 1; scrape <= Number(count); scrape++) {
    exporter.consume([runnerBatch(0, scrape), runnerBatch(1, scrape)]);
    await exporter.exportNow();
  }
  process.stdout.write('queued\n');
} else {
  process.on('SIGTERM', async () => {
    await exporter.shutdown();
    clearInterval(keepAlive);
  });
  process.stdout.write('started\n');
}

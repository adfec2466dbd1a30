/**
 * A synthetic runner farm: T llama.cpp-like targets of S series each (names with
 * colons, labelled gauges and counters, one histogram per target), whose values
 * change on every scrape, served by real HTTP servers in this process.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One target's page at scrape number `round` (values differ between rounds, series do not). */
export function farmPage(target: number, seriesPerTarget: number, round: number): string {
  const lines: string[] = [];
  const histogramSeries = BUCKETS.length + 3;
  const slots = Math.max(1, Math.floor((seriesPerTarget - histogramSeries) / 2));
  lines.push('# HELP llamacpp:tokens_predicted_total Number of generation tokens processed.');
  lines.push('# TYPE llamacpp:tokens_predicted_total counter');
  for (let s = 0; s < slots; s++) {
    lines.push(`llamacpp:tokens_predicted_total{slot="${s}",target="t${target}"} ${round * 7 + s}`);
  }
  lines.push('# HELP llamacpp:kv_cache_usage_ratio KV-cache usage. 1 means 100 percent usage.');
  lines.push('# TYPE llamacpp:kv_cache_usage_ratio gauge');
  for (let s = 0; s < seriesPerTarget - histogramSeries - slots; s++) {
    lines.push(`llamacpp:kv_cache_usage_ratio{slot="${s}",target="t${target}"} ${((round + s) % 100) / 100}`);
  }
  lines.push('# HELP llamacpp:request_latency_seconds Request latency.');
  lines.push('# TYPE llamacpp:request_latency_seconds histogram');
  let cumulative = 0;
  for (const le of BUCKETS) {
    cumulative += round + 1;
    lines.push(`llamacpp:request_latency_seconds_bucket{target="t${target}",le="${le}"} ${cumulative}`);
  }
  lines.push(`llamacpp:request_latency_seconds_bucket{target="t${target}",le="+Inf"} ${cumulative + 1}`);
  lines.push(`llamacpp:request_latency_seconds_sum{target="t${target}"} ${(round * 1.25).toFixed(3)}`);
  lines.push(`llamacpp:request_latency_seconds_count{target="t${target}"} ${cumulative + 1}`);
  return lines.join('\n') + '\n';
}

export class RunnerFarm {
  round = 0;
  private constructor(
    private readonly servers: Server[],
    readonly urls: string[],
  ) {}

  static async start(targets: number, seriesPerTarget: number): Promise<RunnerFarm> {
    const servers: Server[] = [];
    const urls: string[] = [];
    const farm = new RunnerFarm(servers, urls);
    for (let t = 0; t < targets; t++) {
      const server = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(farmPage(t, seriesPerTarget, farm.round));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(server);
      urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
    }
    return farm;
  }

  async close(): Promise<void> {
    for (const s of this.servers) s.closeAllConnections();
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/**
 * The discovery side of Prometheus' split: a mechanism (a file, a socket glob, a
 * runner's own list) produces target groups, the full current set each time;
 * the receiver only scrapes what it is given. A group is Prometheus' own shape,
 * `{targets, labels}`, so a `file_sd` file written for Prometheus works as is.
 */

export interface TargetGroup {
  /**
   * Prometheus' `__address__` values: `host:port` (scheme and path from the
   * `__scheme__` and `__metrics_path__` labels), or a Unix socket as
   * `unix:/run/runner.sock` (or an absolute path).
   */
  readonly targets: readonly string[];
  /**
   * Labels of every target of the group. Names starting with `__` steer the
   * scrape (`__metrics_path__`, `__scheme__`) and are dropped; the others become
   * the target's resource attributes (`backend`, `model`, `mode`, …).
   */
  readonly labels: Readonly<Record<string, string>>;
  /** Where the group came from (a file path, a glob), for logs. */
  readonly source: string;
  /**
   * Request headers for every target of the group (a router's API key), from the
   * mechanism's own config, never from a file; they win over the receiver's.
   * Not Prometheus' shape, so never written by file_sd.
   */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Discoverer {
  /** The mechanism, for own metrics and logs: `file_sd`, `socket_sd`, … */
  readonly mechanism: string;
  /**
   * Starts discovering. `onUpdate` gets the mechanism's full current set: once
   * when the first look is done (even if empty), then whenever it changes.
   */
  run(onUpdate: (groups: TargetGroup[]) => void): void;
  /** Stops timers and watchers; no update is delivered after it resolves. */
  stop(): Promise<void>;
}

/** Number of targets in a set of groups. */
export function countTargets(groups: readonly TargetGroup[]): number {
  let n = 0;
  for (const g of groups) n += g.targets.length;
  return n;
}

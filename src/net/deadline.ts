/**
 * A request's timeout that first lets what has arrived be read.
 *
 * Node runs due timers before it polls for I/O. When the event loop was held past
 * a deadline (by another target's page being converted: a page of 30,000 labels
 * per series holds it for tens of milliseconds with the limits off), a plain timer
 * failed a request whose answer had arrived in time and sat unread in its socket:
 * one runner's page made another runner's scrape fail. Here the timer only queues
 * an immediate; the poll phase between the two reads whatever is waiting, and
 * `onExpired` runs only if that did not settle the request (clear() was not called).
 */
export class Deadline {
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;

  constructor(ms: number, onExpired: () => void) {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        onExpired();
      });
    }, ms);
  }

  /** The request settled: nothing will expire. */
  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }
}

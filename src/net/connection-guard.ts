/**
 * Keeps an HTTP server answering real clients while many others connect and
 * send nothing, or their request head a byte at a time (slowloris).
 *
 * Node's own `server.maxConnections` refuses new connections at the cap, which
 * is exactly what such an attack wants: the scraper arriving after it is turned
 * away. Here a new connection is always accepted, and at the cap the oldest
 * connection that is *waiting* (no request being served: connected without a
 * complete request yet, or kept alive between requests) is closed instead. A
 * real scraper sends its head in well under a millisecond and is then being
 * served, so it is not evictable; an attacker's connections wait, and the
 * oldest of them go first. Only when every connection is being served is a
 * new one refused.
 *
 * Waiting connections are also closed after `waitingTimeoutMs`, checked every
 * second from the oldest on, whatever Node's own timers do. Times are taken from
 * the monotonic clock: a wall clock stepped back would stop the sweep at the first
 * connection until it caught up again.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionGuardOptions {
  readonly maxConnections: number;
  readonly waitingTimeoutMs: number;
}

export class ConnectionGuard {
  /** Connections without a request in progress, oldest first, with the time they started waiting. */
  private readonly waiting = new Map<Socket, number>();
  /** Requests in progress per connection being served. */
  private readonly serving = new Map<Socket, number>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    server: Server,
    private readonly options: ConnectionGuardOptions,
  ) {
    server.on('connection', (socket: Socket) => this.accept(socket));
    server.on('request', (req, res) => {
      const socket = req.socket;
      this.waiting.delete(socket);
      this.serving.set(socket, (this.serving.get(socket) ?? 0) + 1);
      res.once('close', () => this.done(socket));
    });
    this.sweeper = setInterval(() => this.sweep(), Math.min(1_000, options.waitingTimeoutMs));
    this.sweeper.unref();
  }

  get size(): number {
    return this.waiting.size + this.serving.size;
  }

  stop(): void {
    clearInterval(this.sweeper);
  }

  private accept(socket: Socket): void {
    if (this.size >= this.options.maxConnections && !this.evictOldestWaiting()) {
      socket.destroy(); // every connection is being served: this one has to wait its turn elsewhere
      return;
    }
    this.waiting.set(socket, performance.now());
    socket.once('close', () => {
      this.waiting.delete(socket);
      this.serving.delete(socket);
    });
  }

  private done(socket: Socket): void {
    const left = (this.serving.get(socket) ?? 1) - 1;
    if (left > 0) {
      this.serving.set(socket, left);
      return;
    }
    this.serving.delete(socket);
    // Kept alive for another request: waiting again, now the newest.
    if (!socket.destroyed) this.waiting.set(socket, performance.now());
  }

  private evictOldestWaiting(): boolean {
    const oldest = this.waiting.keys().next();
    if (oldest.done) return false;
    this.waiting.delete(oldest.value);
    oldest.value.destroy();
    return true;
  }

  private sweep(): void {
    const cutoff = performance.now() - this.options.waitingTimeoutMs;
    for (const [socket, since] of this.waiting) {
      if (since > cutoff) break; // the rest started waiting later
      this.waiting.delete(socket);
      socket.destroy();
    }
  }
}

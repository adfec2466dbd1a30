/**
 * A real HTTP server on 127.0.0.1 that can go away and come back on the same
 * port, as a runner restarting would. Subclasses answer requests; requests told
 * to hang are kept in `hung` and cut when the server goes away.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export abstract class RestartableServer {
  private server: Server | undefined;
  protected readonly hung: ServerResponse[] = [];
  protected boundPort = 0;

  protected abstract handle(req: IncomingMessage, res: ServerResponse): void;

  /** The port it listens (or listened) on. */
  get port(): number {
    return this.boundPort;
  }

  /** Listens again on the port it had (or a new one the first time, or `port` when given). */
  async listen(port?: number): Promise<void> {
    if (port !== undefined) this.boundPort = port;
    const server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort, '127.0.0.1', resolve);
    });
    this.boundPort = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Goes away: open connections are cut, the port refuses connections until listen(). */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const r of this.hung.splice(0)) r.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

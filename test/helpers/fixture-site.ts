/**
 * A stand-in runner serving a fixture body per path (`/metrics`, `/info`,
 * `/get_model_info`, …) over real HTTP on 127.0.0.1; a path may be changed or
 * removed while it runs (404 then), and every request is counted by path.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Page {
  readonly body: string;
  readonly contentType: string;
}

export const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';
export const JSON_TYPE = 'application/json';

export class FixtureSite {
  readonly requests = new Map<string, number>();
  private constructor(
    private readonly server: Server,
    private readonly pages: Map<string, Page>,
  ) {}

  static async start(pages: Record<string, Page>): Promise<FixtureSite> {
    const map = new Map(Object.entries(pages));
    let site: FixtureSite | undefined;
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      site!.requests.set(path, (site!.requests.get(path) ?? 0) + 1);
      const page = map.get(path);
      if (page === undefined) res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      else res.writeHead(200, { 'content-type': page.contentType }).end(page.body);
    });
    site = new FixtureSite(server, map);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    return site;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  serve(path: string, page: Page): void {
    this.pages.set(path, page);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

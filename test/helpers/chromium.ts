/**
 * Real headless Chromium (Debian's `chromium`, installed by the test set-up):
 * one-shot `--dump-dom`/`--screenshot` runs, and a live page driven over the
 * DevTools protocol, for pages that change after they have loaded.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { WebSocket } from 'undici';

/** Flags for a headless Chromium on a machine with no network but loopback. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // On a loaded machine a slow renderer must not be judged hung and restarted (which reloads the page),
  // nor its timers throttled: the status-page test watches a page update itself in place.
  '--disable-hang-monitor',
  '--disable-renderer-backgrounding',
  '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
];

export function chromium(args: string[], profile: string): string {
  return execFileSync('chromium', [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

/** A page open in a headless Chromium, evaluated in over the DevTools protocol. */
export class LivePage {
  private nextId = 1;
  private readonly waiting = new Map<number, (result: any) => void>();

  private constructor(
    private readonly browser: ChildProcess,
    private readonly socket: WebSocket,
  ) {
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: unknown };
      if (message.id !== undefined) this.waiting.get(message.id)?.(message);
    });
  }

  static async open(url: string, profile: string): Promise<LivePage> {
    const browser = spawn('chromium', [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, '--remote-debugging-port=0', url], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error(`chromium did not start: ${text}`)), 60_000);
      browser.stderr!.on('data', (chunk: Buffer) => {
        text += chunk;
        const m = /DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(text);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      browser.once('exit', (code) => reject(new Error(`chromium exited with ${code}: ${text}`)));
    });
    let page: { webSocketDebuggerUrl: string } | undefined;
    for (let i = 0; i < 100 && !page; i++) {
      const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ type: string; url: string; webSocketDebuggerUrl: string }>;
      page = targets.find((t) => t.type === 'page' && t.url.startsWith(url));
      if (!page) await new Promise((r) => setTimeout(r, 100));
    }
    if (!page) throw new Error('chromium opened no page');
    const socket = new WebSocket(page.webSocketDebuggerUrl);
    await new Promise((resolve, reject) => {
      socket.addEventListener('open', resolve, { once: true });
      socket.addEventListener('error', reject, { once: true });
    });
    return new LivePage(browser, socket);
  }

  /** The value of a JavaScript expression in the page (awaited if it is a promise). */
  async evaluate<T>(expression: string): Promise<T> {
    const id = this.nextId++;
    const answer = new Promise<any>((resolve) => this.waiting.set(id, resolve));
    this.socket.send(JSON.stringify({ id, method: 'Runtime.evaluate', params: { expression, returnByValue: true, awaitPromise: true } }));
    const message = await answer;
    this.waiting.delete(id);
    if (message.error || message.result?.exceptionDetails) throw new Error(`evaluate failed: ${JSON.stringify(message)}`);
    return message.result.result.value as T;
  }

  async close(): Promise<void> {
    this.socket.close();
    if (this.browser.exitCode === null) {
      const exited = new Promise((r) => this.browser.once('exit', r));
      this.browser.kill('SIGTERM');
      await exited;
    }
  }
}

/**
 * A minimal HTTP/1.1 client with one job: GET a page, again and again, over one
 * kept-alive connection (TCP or Unix socket), one request at a time, as a scraper
 * asks its target.
 *
 * Why not undici (or node:http): at 100 scrapes a second both cost about 1.2 ms of
 * CPU per request above the socket's own cost (a request object, a handler, a
 * Readable per body, promises, and the garbage of all of them, which the GC threads
 * then chase): measured 1.6–1.9 ms per 100 KB page against 0.4 ms for the same
 * exchange on a bare socket (see the README's cost section). A scrape needs none of
 * their generality: no pipelining, no upgrades, no request body, no redirects.
 *
 * What it does handle, as a server may answer: Content-Length, chunked (with
 * extensions and trailers) and close-delimited bodies; 1xx interim answers;
 * `Connection: close` and HTTP/1.0; a kept-alive connection the server closed while
 * it was idle (the GET is sent once more on a new connection, as browsers and undici
 * do, but only when not a byte of an answer came back); a deadline for the whole
 * exchange; a cap on the body; and malformed answers, which fail with a reason.
 */
import { connect, type Socket } from 'node:net';
import { BufferPool } from './buffer-pool.js';
import { Deadline } from './deadline.js';

/** Why an exchange failed, in the words a scrape's failure reason needs. */
export type Http1FailureKind = 'connect' | 'timeout' | 'too_large' | 'protocol' | 'io';

export class Http1Error extends Error {
  constructor(
    message: string,
    readonly kind: Http1FailureKind,
    /** The socket's error code, when a socket error caused it. */
    readonly code?: string,
  ) {
    super(message);
  }
}

export type Http1Endpoint = { readonly host: string; readonly port: number } | { readonly socketPath: string };

export interface Http1Response {
  readonly status: number;
  /** Header names lower-cased; a repeated header's values joined with ", ". */
  readonly headers: ReadonlyMap<string, string>;
  /** The body as sent, chunked framing removed (still compressed if it was); valid until release(). */
  readonly body: Buffer;
  /** Gives the body's buffer back for the next answer (see BODY_BUFFERS); `body` must not be read afterwards. */
  release(): void;
}

export interface Http1Request {
  /** The request head, `GET … HTTP/1.1\r\n…\r\n\r\n`; see requestHead(). */
  readonly head: string;
  readonly timeoutMs: number;
  /** Most body bytes accepted; 0 for no limit. */
  readonly bodyLimit: number;
}

/** Longest response head accepted: a runner's answer has a handful of headers. */
const MAX_HEAD_BYTES = 64 * 1024;
const CRLF_CRLF = Buffer.from('\r\n\r\n');
/** Most of a body allocated up front from its Content-Length. */
const MAX_PREALLOCATED_BYTES = 16 * 1024 * 1024;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/**
 * Every connection reads into this one buffer (the sockets' `onread`), and the reader
 * copies out what it keeps before the callback returns. By default each read of each
 * socket gets a new buffer outside the heap that lives until a GC finds its view dead:
 * at 300 targets × a 63 KB page per second, 31–44 MB of them were waiting at any time.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
/** Bodies are read into buffers lent by this pool, given back by Http1Response.release(). */
const BODY_BUFFERS = new BufferPool(8 * 1024 * 1024, 64 * 1024);

/**
 * The head of a GET for `target` (path and query), with `host` as the Host header.
 * Header names must be tokens and values free of line breaks: a value taken from
 * config can never smuggle a second header or request.
 */
export function requestHead(target: string, host: string, headers: Readonly<Record<string, string>>): string {
  let head = `GET ${target} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name)) throw new Http1Error(`invalid request header name ${JSON.stringify(name)}`, 'protocol');
    if (/[\r\n\0]/.test(value)) throw new Http1Error(`invalid value of request header ${name}`, 'protocol');
    head += `${name}: ${value}\r\n`;
  }
  return head + '\r\n';
}

/** One request in flight: how its answer is read, and whom to tell. */
interface Exchange {
  readonly reader: ResponseReader;
  readonly resolve: (response: Http1Response) => void;
  readonly reject: (error: Error) => void;
  /** Whether any byte of an answer arrived (a failure before that on a reused connection is retried). */
  answered: boolean;
}

/** Thrown inside the client when a reused connection turns out closed: ask again on a new one. */
class StaleConnection extends Error {}

export class Http1Connection {
  private socket: Socket | undefined;
  /** The socket has carried a whole exchange before: a failure before any answer may just mean the server closed it. */
  private reused = false;
  private exchange: Exchange | undefined;
  private closed = false;

  constructor(private readonly endpoint: Http1Endpoint) {}

  /** Sends the GET and reads the whole answer; one at a time. */
  async get(request: Http1Request): Promise<Http1Response> {
    if (this.exchange) throw new Error('Http1Connection: one request at a time');
    if (this.closed) throw new Http1Error('connection closed', 'io');
    const deadline = performance.now() + request.timeoutMs;
    const timeoutError = () => new Http1Error(`timed out after ${request.timeoutMs}ms`, 'timeout');
    for (;;) {
      const wasReused = this.socket !== undefined && this.reused;
      const left = deadline - performance.now();
      if (left <= 0) throw timeoutError();
      try {
        return await this.send(request, left, timeoutError);
      } catch (err) {
        if (!(err instanceof StaleConnection)) throw err;
        if (wasReused) continue;
        // A new connection closed before any answer: the server refuses us, as a refused connect does.
        throw new Http1Error(`connection closed before an answer${err.message ? ` (${err.message})` : ''}`, 'connect', 'ECONNRESET');
      }
    }
  }

  /** Drops the connection; an exchange in flight fails. */
  close(): void {
    this.closed = true;
    this.fail(new Http1Error('connection closed', 'io'));
  }

  private send(request: Http1Request, timeoutMs: number, timeoutError: () => Http1Error): Promise<Http1Response> {
    const socket = this.socket ?? this.open();
    return new Promise<Http1Response>((resolve, reject) => {
      const deadline = new Deadline(timeoutMs, () => this.fail(timeoutError()));
      this.exchange = {
        reader: new ResponseReader(request.bodyLimit),
        resolve: (response) => {
          deadline.clear();
          resolve(response);
        },
        reject: (error: Error) => {
          deadline.clear();
          reject(error);
        },
        answered: false,
      };
      socket.write(request.head, 'latin1');
    });
  }

  private open(): Socket {
    const onread = {
      buffer: READ_BUFFER,
      callback: (n: number) => {
        this.received(socket, READ_BUFFER.subarray(0, n));
        return true; // read on (false pauses the socket)
      },
    };
    const socket = 'socketPath' in this.endpoint ? connect({ path: this.endpoint.socketPath, onread }) : connect({ host: this.endpoint.host, port: this.endpoint.port, onread });
    socket.setNoDelay(true);
    this.socket = socket;
    this.reused = false;
    let connected = false;
    socket.on('connect', () => (connected = true));
    socket.on('end', () => this.ended(socket));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      const exchange = this.exchange;
      if (!connected) this.fail(new Http1Error(err.message, 'connect', code), socket);
      else if (exchange && !exchange.answered) this.fail(new StaleConnection(`${err.message}`), socket);
      else this.fail(new Http1Error(err.message, 'io', code), socket);
    });
    socket.on('close', () => this.ended(socket));
    return socket;
  }

  private received(socket: Socket, chunk: Buffer): void {
    const exchange = this.exchange;
    if (socket !== this.socket) return;
    if (!exchange) {
      // Bytes nobody asked for: the connection can no longer be trusted to frame the next answer.
      this.drop(socket);
      return;
    }
    exchange.answered = true;
    let done: boolean;
    try {
      done = exchange.reader.push(chunk);
    } catch (err) {
      this.fail(err as Error, socket);
      return;
    }
    if (!done) return;
    const reader = exchange.reader;
    this.exchange = undefined;
    if (reader.keepAlive && !reader.extraBytes) this.reused = true;
    else this.drop(socket);
    exchange.resolve(reader.response());
  }

  /** The server closed its side: the end of a close-delimited body, or of the connection. */
  private ended(socket: Socket): void {
    if (socket !== this.socket) return;
    const exchange = this.exchange;
    this.drop(socket);
    if (!exchange) return;
    this.exchange = undefined;
    if (!exchange.answered) {
      exchange.reject(new StaleConnection(''));
      return;
    }
    try {
      exchange.reader.finish();
      exchange.resolve(exchange.reader.response());
    } catch (err) {
      exchange.reject(err as Http1Error);
    }
  }

  private fail(error: Error, socket = this.socket): void {
    if (socket !== this.socket) return;
    const exchange = this.exchange;
    this.exchange = undefined;
    if (socket) this.drop(socket);
    exchange?.reject(error);
  }

  private drop(socket: Socket): void {
    if (this.socket === socket) this.socket = undefined;
    socket.destroy();
  }
}

const enum Stage {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Done,
}

/** Reads one answer from the bytes as they come. */
class ResponseReader {
  private stage = Stage.Head;
  private pending: Buffer | undefined;
  private status = 0;
  private readonly headers = new Map<string, string>();
  /**
   * The body so far, copied into one buffer that grows by doubling (sized at once from
   * Content-Length): a chunked body of 1-byte chunks would otherwise keep one Buffer
   * view per byte, gigabytes for a body within the default 16 MiB limit.
   */
  private out: Buffer | undefined;
  private size = 0;
  /** Bytes of body left: of the whole body (Content-Length) or of the current chunk. */
  private left = 0;
  keepAlive = false;
  /** Bytes came after the answer's end: nothing was asked for them. */
  extraBytes = false;

  constructor(private readonly bodyLimit: number) {}

  /** Takes the next bytes, valid during the call only (it copies what it keeps); true once the answer is whole. */
  push(chunk: Buffer): boolean {
    const data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let at = 0;
    while (at < data.length) {
      switch (this.stage) {
        case Stage.Head: {
          const end = data.indexOf(CRLF_CRLF, at);
          if (end < 0) {
            if (data.length - at > MAX_HEAD_BYTES) throw new Http1Error('response head too long', 'protocol');
            this.pending = Buffer.from(data.subarray(at)); // a copy: data may be the shared read buffer
            return false;
          }
          this.readHead(data.toString('latin1', at, end));
          at = end + 4;
          break;
        }
        case Stage.Length:
        case Stage.ChunkData: {
          // The rest of the body (Content-Length) or of the current chunk.
          const n = Math.min(this.left, data.length - at);
          this.body(data.subarray(at, at + n));
          at += n;
          this.left -= n;
          if (this.left === 0) this.stage = this.stage === Stage.Length ? Stage.Done : Stage.ChunkDataEnd;
          break;
        }
        case Stage.UntilClose:
          this.body(at === 0 ? data : data.subarray(at));
          return false;
        case Stage.ChunkSize:
        case Stage.ChunkDataEnd:
        case Stage.Trailers: {
          const lineEnd = data.indexOf(10, at);
          if (lineEnd < 0) {
            if (data.length - at > MAX_HEAD_BYTES) throw new Http1Error('chunk line too long', 'protocol');
            this.pending = Buffer.from(data.subarray(at));
            return false;
          }
          const line = data.toString('latin1', at, lineEnd).replace(/\r$/, '');
          at = lineEnd + 1;
          this.readChunkLine(line);
          break;
        }
      }
      if (this.stage === Stage.Done) {
        this.extraBytes = at < data.length;
        return true;
      }
    }
    return false;
  }

  /** The server closed the connection: whole only for a close-delimited body. */
  finish(): void {
    if (this.stage === Stage.UntilClose) {
      this.stage = Stage.Done;
      return;
    }
    if (this.stage !== Stage.Done) throw new Http1Error(this.stage === Stage.Head ? 'connection closed in the response head' : 'connection closed in the middle of the body', 'io', 'ECONNRESET');
  }

  response(): Http1Response {
    const out = this.out;
    if (out === undefined) return { status: this.status, headers: this.headers, body: Buffer.alloc(0), release: () => {} };
    let lent = true;
    const release = () => {
      if (lent) BODY_BUFFERS.give(out);
      lent = false;
    };
    return { status: this.status, headers: this.headers, body: out.subarray(0, this.size), release };
  }

  private body(bytes: Buffer): void {
    if (bytes.length === 0) return;
    const size = this.size + bytes.length;
    if (this.bodyLimit > 0 && size > this.bodyLimit) throw new Http1Error(`body exceeds ${this.bodyLimit} bytes`, 'too_large');
    if (this.out === undefined || this.out.length < size) {
      const grown = BODY_BUFFERS.take(Math.max(size, 2 * (this.out?.length ?? 0)));
      if (this.out !== undefined) {
        this.out.copy(grown, 0, 0, this.size);
        BODY_BUFFERS.give(this.out);
      }
      this.out = grown;
    }
    bytes.copy(this.out, this.size);
    this.size = size;
  }

  private readHead(head: string): void {
    const lines = head.split('\r\n');
    const match = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0]!);
    if (!match) throw new Http1Error(`not an HTTP/1.x answer: ${JSON.stringify(lines[0]!.slice(0, 40))}`, 'protocol');
    const status = Number(match[2]);
    if (status >= 100 && status < 200) return; // an interim answer: the real one follows
    this.status = status;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0 || !TOKEN.test(line.slice(0, colon))) throw new Http1Error(`malformed response header ${JSON.stringify(line.slice(0, 40))}`, 'protocol');
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      const before = this.headers.get(name);
      this.headers.set(name, before === undefined ? value : `${before}, ${value}`);
    }
    const connection = (this.headers.get('connection') ?? '').toLowerCase();
    this.keepAlive = match[1] === '1' ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
    const transfer = this.headers.get('transfer-encoding');
    const length = this.headers.get('content-length');
    if (status === 204 || status === 304) {
      this.stage = Stage.Done;
    } else if (transfer !== undefined) {
      // Only a final `chunked` frames the body; anything else runs to the close (RFC 9112 §6.3).
      if (/(^|,)\s*chunked\s*$/i.test(transfer)) {
        this.stage = Stage.ChunkSize;
        if (length !== undefined) this.keepAlive = false;
      } else {
        this.stage = Stage.UntilClose;
        this.keepAlive = false;
      }
    } else if (length !== undefined) {
      const values = new Set(length.split(',').map((v) => v.trim()));
      const n = values.size === 1 ? Number([...values][0]) : NaN;
      if (!/^\d+$/.test([...values][0] ?? '') || !Number.isSafeInteger(n)) throw new Http1Error(`invalid content-length ${JSON.stringify(length)}`, 'protocol');
      if (this.bodyLimit > 0 && n > this.bodyLimit) throw new Http1Error(`body of ${n} bytes exceeds ${this.bodyLimit}`, 'too_large');
      this.left = n;
      // A declared length is not trusted past a few MiB (with no limit it could be anything): growth covers the rest.
      if (n > 0) this.out = BODY_BUFFERS.take(Math.min(n, MAX_PREALLOCATED_BYTES));
      this.stage = n === 0 ? Stage.Done : Stage.Length;
    } else {
      this.stage = Stage.UntilClose;
      this.keepAlive = false;
    }
  }

  private readChunkLine(line: string): void {
    if (this.stage === Stage.ChunkDataEnd) {
      if (line !== '') throw new Http1Error('chunk not followed by a line end', 'protocol');
      this.stage = Stage.ChunkSize;
    } else if (this.stage === Stage.ChunkSize) {
      const digits = line.split(';', 1)[0]!.trim();
      if (!/^[0-9a-fA-F]{1,12}$/.test(digits)) throw new Http1Error(`invalid chunk size ${JSON.stringify(line.slice(0, 20))}`, 'protocol');
      const n = parseInt(digits, 16);
      if (this.bodyLimit > 0 && this.size + n > this.bodyLimit) throw new Http1Error(`body exceeds ${this.bodyLimit} bytes`, 'too_large');
      this.left = n;
      this.stage = n === 0 ? Stage.Trailers : Stage.ChunkData;
    } else if (line === '') {
      this.stage = Stage.Done; // the empty line that ends the trailers
    }
  }
}

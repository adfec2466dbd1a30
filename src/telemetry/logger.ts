/**
 * Structured logs: one JSON object per line on stderr, so they can be read by a
 * person and by a log shipper alike. Callers log target URLs through `redactUrl`
 * and never log headers or config values marked secret; and every line still
 * passes through the secret scrubber before it is written, so a credential
 * echoed in an error (a backend's reply, a parser's message) never reaches it.
 */
import { REDACTED, redactUrlText, scrubSecrets } from './secrets.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export type LogSink = (line: string) => void;

/** A logger whose level can be changed later, for itself and every child (a config reload). */
export interface RootLogger extends Logger {
  setLevel(level: LogLevel): void;
}

export function createLogger(
  level: LogLevel = 'info',
  sink: LogSink = (line) => process.stderr.write(line + '\n'),
  bound: LogFields = {},
): RootLogger {
  const threshold = { rank: LEVEL_RANK[level] };
  const logger = boundLogger(threshold, sink, bound) as RootLogger;
  logger.setLevel = (l) => (threshold.rank = LEVEL_RANK[l]);
  return logger;
}

function boundLogger(threshold: { rank: number }, sink: LogSink, bound: LogFields): Logger {
  const write = (lvl: LogLevel, msg: string, fields?: LogFields) => {
    if (LEVEL_RANK[lvl] < threshold.rank) return;
    sink(scrubSecrets(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...bound, ...fields }, jsonSafe)));
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => boundLogger(threshold, sink, { ...bound, ...fields }),
  };
}

/** Errors serialise as their message (and code), never as a stack trace. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as NodeJS.ErrnoException).code;
    return code ? `${value.message} (${code})` : value.message;
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** A URL safe to log: user info and query string removed, also from text that is not a valid URL. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = 'REDACTED';
      u.password = '';
    }
    if (u.search) u.search = '?REDACTED';
    return u.toString();
  } catch {
    // Unparseable (a password with `/` or `#`, a bad port): hide all that could be userinfo or query.
    return redactUrlText(url).replaceAll(REDACTED, 'REDACTED');
  }
}

/** A logger that drops everything, for tests and benchmarks. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

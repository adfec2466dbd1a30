#!/usr/bin/env -S node --max-semi-space-size=4
/**
 * runner-metrics [run] [--config FILE]...      run the collector (default: otel-config.yaml)
 * runner-metrics validate [--config FILE]...   check a config; exit 0, or 1 with the errors
 * runner-metrics print-config [--config FILE]... the merged, expanded config, secrets redacted
 */
import { ConfigError, formatIssue } from './config/errors.js';
import { loadConfig } from './config/load.js';
import { printConfig } from './config/print.js';
import { registry } from './registry.js';
import { VERSION } from './version.js';
import { Service, StartupError } from './service/service.js';
import { errorCause } from './service/component-failures.js';
import type { LogLevel } from './telemetry/logger.js';
import { scrubSecrets } from './telemetry/secrets.js';
import { tuneHeap } from './runtime/heap-tuning.js';

const USAGE = `usage: runner-metrics [run|validate|print-config] [--config FILE]...

  run            run the collector (the default command)
  validate       check the config and exit (0 = valid)
  print-config   print the merged, expanded config with secrets redacted

  --config FILE  config file (repeatable; later files are merged over earlier ones).
                 Default: otel-config.yaml
  --help         this text
  --version      print the version
`;

interface Args {
  command: 'run' | 'validate' | 'print-config';
  configs: string[];
}

function parseArgs(argv: string[]): Args | 'help' | 'version' {
  let command: Args['command'] = 'run';
  const configs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') return 'help';
    if (a === '--version') return 'version';
    if (a === '--config' || a === '-c') {
      const v = argv[++i];
      if (!v) throw new UsageError('--config needs a file name');
      configs.push(v);
    } else if (a.startsWith('--config=')) configs.push(a.slice('--config='.length));
    else if ((a === 'run' || a === 'validate' || a === 'print-config') && i === 0) command = a;
    else throw new UsageError(`unknown argument "${a}"`);
  }
  return { command, configs: configs.length > 0 ? configs : ['otel-config.yaml'] };
}

class UsageError extends Error {}

/** Every line the CLI itself writes to stderr: scrubbed of secrets, and each line marked as ours. */
function writeError(text: string): void {
  const lines = scrubSecrets(text).replace(/\n+$/, '').split('\n');
  process.stderr.write(lines.map((line) => `runner-metrics: ${line}\n`).join(''));
}

function writeOut(text: string): void {
  process.stdout.write(scrubSecrets(text));
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** LOG_LEVEL overrides the config's level; empty means unset, anything else unknown is a usage error. */
function logLevelFromEnv(value: string | undefined): LogLevel | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const level = value.trim().toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(level)) throw new UsageError(`LOG_LEVEL="${value}" is not one of ${LOG_LEVELS.join(', ')}`);
  return level;
}

// A crash is reported like any other error: scrubbed of secrets, each line ours (node's own report would print the raw message).
function crash(err: unknown): void {
  writeError(`unexpected error: ${(err as Error)?.stack ?? String(err)}`);
  process.exit(1);
}
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args === 'version') {
    process.stdout.write(`runner-metrics ${VERSION}\n`);
    return 0;
  }
  if (args.command === 'validate') {
    const loaded = loadConfig(args.configs, registry);
    for (const w of loaded.warnings) writeError(`warning: ${formatIssue(w)}`);
    writeOut(`${args.configs.join(', ')}: valid\n`);
    return 0;
  }
  if (args.command === 'print-config') {
    writeOut(printConfig(loadConfig(args.configs, registry), registry));
    return 0;
  }
  return run(args.configs);
}

/** Distinct causes of unexpected errors logged; past that they are only counted. */
const MAX_LOGGED_CAUSES = 100;

/**
 * Once the config has loaded, an error nothing handled (a throw in a timer or
 * socket callback of a component, a promise nobody awaited) is logged once per
 * cause and counted in `runner_metrics_unhandled_errors_total{type}`, and the
 * collector keeps running: the other targets and exporters are unaffected, and
 * a component that broke shows it in its own health series. None of them is
 * fatal while running. What still ends the process: errors before the collector
 * runs (usage, config, a component that cannot start, as values returned to
 * main()), a reload whose previous config cannot start again, and what no
 * handler ever sees (V8 running out of memory).
 */
function keepRunningOnUnexpectedErrors(service: Service): void {
  const counter = service.selfMetrics.counter(
    'runner_metrics_unhandled_errors_total',
    'Errors no component handled (uncaught exceptions, unhandled promise rejections); the collector kept running.',
  );
  const logged = new Set<string>();
  const report = (type: string, err: unknown) => {
    counter.add({ type });
    const cause = errorCause(err);
    // Once per cause also ends the loop of a log line that itself fails (stderr closed).
    if (logged.has(cause) || logged.size >= MAX_LOGGED_CAUSES) return;
    logged.add(cause);
    service.log.error('unexpected error; the collector keeps running', {
      type,
      error: cause,
      stack: err instanceof Error ? err.stack : undefined,
      note: 'logged once per cause; see runner_metrics_unhandled_errors_total',
    });
  };
  // From here on an unexpected error is reported and survived, no longer a crash.
  process.off('uncaughtException', crash);
  process.off('unhandledRejection', crash);
  process.on('uncaughtException', (err) => report('uncaught_exception', err));
  process.on('unhandledRejection', (reason) => report('unhandled_rejection', reason));
}

async function run(configFiles: string[]): Promise<number> {
  const loaded = loadConfig(configFiles, registry);
  const service = new Service({ configFiles, registry, logLevel: logLevelFromEnv(process.env.LOG_LEVEL) }, loaded);
  keepRunningOnUnexpectedErrors(service);
  await service.start();

  // Timers and sockets of components may all be unref'd (a push-only pipeline, or
  // DISABLE_METRICS=1): the collector runs until a signal says otherwise.
  const keepAlive = setInterval(() => undefined, 2 ** 31 - 1);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      clearInterval(keepAlive);
      service.log.info('shutting down', { signal });
      service.shutdown().then(
        () => {
          service.log.info('stopped');
          resolve(0);
        },
        (err) => {
          service.log.error('shutdown failed', { error: err });
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {
      if (stopping) return;
      // reload() logs its own failures; it rejects only when not even the previous config could start again.
      service.reload().catch(() => {
        stopping = true;
        clearInterval(keepAlive);
        resolve(1);
      });
    });
  });
}


tuneHeap();
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof UsageError || err instanceof StartupError) {
      writeError(err.message);
      if (err instanceof UsageError) process.stderr.write(USAGE);
      process.exit(err instanceof UsageError ? 2 : 1);
    }
    const e = err as NodeJS.ErrnoException;
    // Operational errors (a port in use, a socket path not writable) need no stack trace.
    if (e && typeof e.code === 'string') {
      writeError(e.message);
      process.exit(1);
    }
    writeError(`unexpected error: ${(err as Error)?.stack ?? String(err)}`);
    process.exit(1);
  },
);

/**
 * Stand-in `nvidia-smi` and `rocm-smi`: small shell scripts in a temporary
 * directory, meant to be the only thing on PATH, that print fixture outputs,
 * hang, or fail, as the real tools can.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFixture } from './fixtures.js';

export type StandIn =
  /** Prints the named fixtures of test/fixtures/gpu/ (the GPU list; processes for the process queries). */
  | { readonly kind: 'print'; readonly gpus: string; readonly processes?: string; readonly pidGpus?: string }
  /** Never finishes; a child it starts holds the output pipe open too (its pid in childPidFile). */
  | { readonly kind: 'hang' }
  /** Exits with `code` after a message on stderr. */
  | { readonly kind: 'exit'; readonly code: number; readonly stderr: string }
  /** Prints `text` verbatim and exits 0. */
  | { readonly kind: 'raw'; readonly text: string };

export interface StandInTools {
  /** The PATH to give readGpus or the receiver: the stand-ins' directory only. */
  readonly path: string;
  readonly dir: string;
  /** Where a hanging stand-in writes the pid of the child it leaves behind. */
  childPidFile(tool: string): string;
  /** Lines of arguments each tool was called with, one line per call. */
  calls(tool: string): string[];
  cleanup(): void;
}

export function standInGpuTools(tools: Partial<Record<'nvidia-smi' | 'rocm-smi', StandIn>>): StandInTools {
  const dir = mkdtempSync(join(tmpdir(), 'gpu-tools-'));
  for (const [tool, behaviour] of Object.entries(tools)) {
    writeFileSync(join(dir, tool), script(dir, tool, behaviour!));
    chmodSync(join(dir, tool), 0o755);
  }
  return {
    path: dir,
    dir,
    childPidFile: (tool) => join(dir, `${tool}.child.pid`),
    calls: (tool) => {
      try {
        return readFileSync(join(dir, `${tool}.calls`), 'utf8').split('\n').filter((l) => l !== '');
      } catch {
        return [];
      }
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function script(dir: string, tool: string, b: StandIn): string {
  const log = `echo "$*" >> ${shellQuote(join(dir, `${tool}.calls`))}`;
  switch (b.kind) {
    case 'print': {
      const gpus = join(dir, `${tool}.gpus.out`);
      writeFileSync(gpus, readFixture('gpu', b.gpus));
      const processes = join(dir, `${tool}.processes.out`);
      writeFileSync(processes, b.processes ? readFixture('gpu', b.processes) : '');
      const pidGpus = join(dir, `${tool}.pidgpus.out`);
      writeFileSync(pidGpus, b.pidGpus ? readFixture('gpu', b.pidGpus) : '');
      return [
        '#!/bin/sh',
        log,
        'case "$*" in',
        `  *--showpidgpus*) exec /bin/cat '${pidGpus}' ;;`,
        `  *--query-compute-apps*|*--showpids*) exec /bin/cat '${processes}' ;;`,
        `  *) exec /bin/cat '${gpus}' ;;`,
        'esac',
        '',
      ].join('\n');
    }
    case 'hang':
      return ['#!/bin/sh', log, '/bin/sleep 600 &', `echo $! > '${join(dir, `${tool}.child.pid`)}'`, 'wait', ''].join('\n');
    case 'exit':
      return ['#!/bin/sh', log, `echo ${shellQuote(b.stderr)} >&2`, `exit ${b.code}`, ''].join('\n');
    case 'raw': {
      const out = join(dir, `${tool}.raw.out`);
      writeFileSync(out, b.text);
      return ['#!/bin/sh', log, `exec /bin/cat '${out}'`, ''].join('\n');
    }
  }
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * What local discovery looks at: ports on 127.0.0.1 (the well-known ones and
 * the user's), URLs the config names, and Unix sockets (globs, and where Docker
 * Model Runner puts its own). Each candidate has one key, its address, so a port
 * named twice is probed once, and a configured target's address is recognised.
 */
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { expandGlob, type PathGlob } from '../glob.js';
import { DOCKER_DESKTOP_PREFIX, DMR_ENDPOINTS } from '../../runners/docker-model-runner.js';
import { MODEL_RUNNER_ONLY, questionsFor, type LocalRunnerKind, type Question } from '../../runners/recognize.js';
import type { Discovery } from '../../telemetry/health.js';
import type { ProbeAddress } from './probe.js';

export interface Candidate {
  /** Its address as targets name theirs (`instance`): `127.0.0.1:8080`, or the socket path. */
  readonly key: string;
  readonly address: ProbeAddress;
  /** Base URL every path goes under: `http://127.0.0.1:8080`, or `http://localhost` (+ a path prefix) for a socket. */
  readonly base: string;
  /** Path prefix of every request (Docker Desktop's `/exp/vDD4.40`), '' for none. */
  readonly pathPrefix: string;
  /** The runner expected there (a well-known port, `ollama:11500`, a target's `runner`). */
  readonly expected: LocalRunnerKind | undefined;
  /** Questions in the order they are asked, one per interval. */
  readonly questions: readonly Question[];
  /** Configured resource attributes of what is found there. */
  readonly attributes: Readonly<Record<string, string>>;
  /** How it was found, for the status page. */
  readonly discovery: Discovery;
}

export interface PortSpec {
  readonly port: number;
  readonly kind: LocalRunnerKind | undefined;
}

export interface UrlSpec {
  readonly url: string;
  readonly kind: LocalRunnerKind | undefined;
  readonly attributes: Readonly<Record<string, string>>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1', '0.0.0.0']);

/** `localhost:8080`, `[::1]:8080` and `127.0.0.1:8080` are one address. */
export function normaliseAddress(instance: string): string {
  const colon = instance.lastIndexOf(':');
  if (colon <= 0 || instance.startsWith('/')) return instance;
  const host = instance.slice(0, colon).toLowerCase();
  return LOOPBACK.has(host) ? `127.0.0.1:${instance.slice(colon + 1)}` : instance;
}

export function portCandidate(spec: PortSpec, source: string): Candidate {
  const key = `127.0.0.1:${spec.port}`;
  return {
    key,
    address: { host: '127.0.0.1', port: spec.port },
    base: `http://${key}`,
    pathPrefix: '',
    expected: spec.kind,
    questions: questionsFor(spec.kind),
    attributes: {},
    discovery: { mechanism: 'local', source },
  };
}

export function urlCandidate(spec: UrlSpec): Candidate {
  const url = new URL(spec.url);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const prefix = url.pathname.replace(/\/+$/, '');
  return {
    key: normaliseAddress(`${url.hostname}:${port}`),
    address: { host, port },
    base: `${url.protocol}//${url.host}${prefix}`,
    pathPrefix: prefix,
    expected: spec.kind,
    questions: questionsFor(spec.kind),
    attributes: spec.attributes,
    discovery: { mechanism: 'local', source: `url ${url.origin}${prefix}` },
  };
}

export function socketCandidate(path: string, source: string, dockerDesktop = false): Candidate {
  const prefix = dockerDesktop ? DOCKER_DESKTOP_PREFIX : '';
  return {
    key: path,
    address: { socketPath: path },
    base: `http://localhost${prefix}`,
    pathPrefix: prefix,
    expected: dockerDesktop ? 'docker_model_runner' : undefined,
    questions: dockerDesktop ? MODEL_RUNNER_ONLY : questionsFor(undefined),
    attributes: {},
    discovery: { mechanism: 'local', source },
  };
}

/**
 * Where Docker Model Runner's socket may be: `$MODEL_RUNNER_SOCK` (the
 * standalone model runner) and Docker Desktop's Docker socket, through which the
 * model runner answers under `/exp/vDD4.40` (`/var/run/docker.sock` on Linux and
 * WSL, `~/.docker/run/docker.sock` on macOS). Only asked `GET …/engines/ps`.
 */
export function modelRunnerSockets(env: NodeJS.ProcessEnv): Array<{ path: string; dockerDesktop: boolean }> {
  const out: Array<{ path: string; dockerDesktop: boolean }> = [];
  const own = env['MODEL_RUNNER_SOCK']?.trim();
  if (own && own.startsWith('/')) out.push({ path: own, dockerDesktop: false });
  out.push({ path: '/var/run/docker.sock', dockerDesktop: true });
  const home = env['HOME'] || safeHome();
  if (home) out.push({ path: `${home}/.docker/run/docker.sock`, dockerDesktop: true });
  return out;
}

/** The sockets matching the globs now (only sockets), plus the model runner's that exist. */
export async function socketCandidates(
  globs: readonly PathGlob[],
  modelRunner: ReadonlyArray<{ path: string; dockerDesktop: boolean }>,
): Promise<{ candidates: Candidate[]; unreadable: Array<{ glob: string; message: string }> }> {
  const candidates: Candidate[] = [];
  const unreadable: Array<{ glob: string; message: string }> = [];
  const seen = new Set<string>();
  for (const glob of globs) {
    let paths: string[];
    try {
      paths = await expandGlob(glob);
    } catch (err) {
      unreadable.push({ glob: glob.text, message: (err as Error).message });
      continue;
    }
    for (const path of paths) {
      if (seen.has(path) || !(await isSocket(path))) continue;
      seen.add(path);
      candidates.push(socketCandidate(path, `socket ${glob.text}`));
    }
  }
  for (const { path, dockerDesktop } of modelRunner) {
    if (seen.has(path) || !(await isSocket(path))) continue;
    seen.add(path);
    candidates.push(socketCandidate(path, dockerDesktop ? `Docker Desktop socket (${DMR_ENDPOINTS.ps} under ${DOCKER_DESKTOP_PREFIX})` : 'MODEL_RUNNER_SOCK', dockerDesktop));
  }
  return { candidates, unreadable };
}

async function isSocket(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isSocket();
  } catch {
    return false;
  }
}

function safeHome(): string | undefined {
  try {
    return homedir();
  } catch {
    return undefined;
  }
}

/**
 * Mutated exposition pages for fuzzing, from the fixture pages in test/fixtures
 * (*.prom, *.txt). Deterministic: everything random comes from one seeded Rng.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFamilies } from '../../src/prometheus/families.js';

/** mulberry32: small, fast, and the same sequence for the same seed on every platform. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uint32. */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }

  chance(p: number): boolean {
    return this.next() / 4294967296 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

export interface Corpus {
  /** Every fixture file's text: where spliced lines come from. */
  readonly files: readonly string[];
  /** The files that are exposition pages (they parse as text or OpenMetrics): where sessions start. */
  readonly pages: readonly string[];
}

/** The *.prom and *.txt files under `dir`, recursively. */
export function loadCorpus(dir: string): Corpus {
  const files = fixtureFiles(dir);
  const parses = (text: string, openMetrics: boolean) => {
    try {
      parseFamilies(text, { openMetrics });
      return true;
    } catch {
      return false;
    }
  };
  return { files, pages: files.filter((f) => parses(f, false) || parses(f, true)) };
}

/** Every *.prom and *.txt file under `dir`, recursively, sorted by path so the corpus order is stable. */
function fixtureFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.prom') || entry.name.endsWith('.txt')) files.push(path);
    }
  };
  walk(dir);
  return files.sort().map((f) => readFileSync(f, 'utf8'));
}

const TYPES = ['counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'untyped', 'unknown', 'info', 'stateset'];
const SUFFIXES = ['', '_total', '_created', '_bucket', '_sum', '_count', '_gcount', '_gsum', '_info'];
const LABEL_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'le', 'quantile', '__name__', 'a', 'job', '_'];
const VALUES = [
  'NaN', '+Inf', '-Inf', 'Inf', '1e308', '-1e308', '1e309', '4.9e-324', '-0', '0', '1', '18446744073709551616',
  '9007199254740993', '0x10', '1_000', '.5', '5.', '1e', '', 'nan', '+1', '-1',
];
const LABEL_VALUES = ['1', '1.0', '+Inf', '0.5', 'NaN', '', '\\"', '\\\\', '\\n', 'é', '1e+06', '-1'];
/** Characters a flipped byte becomes: the format's own punctuation is where parsers break. */
const FLIP = '{}",=\\\n #_:.-+eE0123456789aZ\t\r\u0000é';
/** A line the page may gain: metadata for names already on it, or a made-up one. */
const EXTRA_LINES = ['# EOF', '# HELP x', '# UNIT x seconds', '#', '# TYPE', '', '{"quoted.name"} 1', 'x{} 1', 'x{,} 1', 'x 1 1 # {a="b"} 1'];

/** Sample and family names found on a page, as candidates for TYPE lines and renames. */
function namesOn(lines: readonly string[]): string[] {
  const names: string[] = [];
  for (const line of lines) {
    const m = /^(?:# (?:TYPE|HELP|UNIT) )?([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    if (m) names.push(m[1]!);
  }
  return names;
}

function stem(name: string): string {
  for (const s of SUFFIXES) if (s !== '' && name.endsWith(s)) return name.slice(0, -s.length);
  return name;
}

type Mutation = (lines: string[], rng: Rng, corpus: Corpus) => void;

const MUTATIONS: readonly Mutation[] = [
  // Byte flip (one to a few characters of one line).
  (lines, rng) => {
    if (lines.length === 0) return;
    const i = rng.int(lines.length);
    let line = lines[i]!;
    for (let n = 1 + rng.int(3); n > 0; n--) {
      const at = rng.int(line.length + 1);
      const c = rng.chance(0.9) ? FLIP[rng.int(FLIP.length)]! : String.fromCharCode(rng.int(0x10000));
      line = line.slice(0, at) + c + line.slice(at + (rng.chance(0.7) ? 1 : 0));
    }
    lines[i] = line;
  },
  // Delete a line.
  (lines, rng) => {
    if (lines.length > 0) lines.splice(rng.int(lines.length), 1);
  },
  // Duplicate a line somewhere.
  (lines, rng) => {
    if (lines.length > 0) lines.splice(rng.int(lines.length + 1), 0, lines[rng.int(lines.length)]!);
  },
  // Swap two lines.
  (lines, rng) => {
    if (lines.length < 2) return;
    const i = rng.int(lines.length);
    const j = rng.int(lines.length);
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  },
  // Change a TYPE line's type.
  (lines, rng) => {
    const typed = lines.flatMap((l, i) => (l.startsWith('# TYPE ') ? [i] : []));
    if (typed.length === 0) return;
    const i = rng.pick(typed);
    lines[i] = lines[i]!.replace(/^(# TYPE \S+).*$/, `$1 ${rng.pick(TYPES)}`);
  },
  // Declare a name of the page (or its stem), anywhere: before or after its samples.
  (lines, rng) => {
    const names = namesOn(lines);
    if (names.length === 0) return;
    const name = rng.chance(0.5) ? stem(rng.pick(names)) : rng.pick(names);
    lines.splice(rng.int(lines.length + 1), 0, `# TYPE ${name} ${rng.pick(TYPES)}`);
  },
  // Remove every TYPE line of one name.
  (lines, rng) => {
    const typed = lines.filter((l) => l.startsWith('# TYPE '));
    if (typed.length === 0) return;
    const target = rng.pick(typed).split(' ')[2];
    for (let i = lines.length - 1; i >= 0; i--) if (lines[i]!.startsWith(`# TYPE ${target} `)) lines.splice(i, 1);
  },
  // Splice in lines of another fixture.
  (lines, rng, corpus) => {
    const other = rng.pick(corpus.files).split('\n');
    const from = rng.int(other.length);
    const run = other.slice(from, from + 1 + rng.int(20));
    lines.splice(rng.int(lines.length + 1), 0, ...run);
  },
  // Add a label, often one named after an Object.prototype property.
  (lines, rng) => {
    const samples = lines.flatMap((l, i) => (/^[a-zA-Z_:]/.test(l) ? [i] : []));
    if (samples.length === 0) return;
    const i = rng.pick(samples);
    const name = rng.chance(0.8) ? rng.pick(LABEL_NAMES) : `l${rng.int(100)}`;
    const pair = `${name}="${rng.pick(LABEL_VALUES)}"`;
    const line = lines[i]!;
    const brace = line.indexOf('{');
    if (brace >= 0) lines[i] = line.slice(0, brace + 1) + pair + (line[brace + 1] === '}' ? '' : ',') + line.slice(brace + 1);
    else lines[i] = line.replace(/^(\S+)/, `$1{${pair}}`);
  },
  // Replace a sample's value: huge, tiny, NaN, infinities, malformed.
  (lines, rng) => {
    const samples = lines.flatMap((l, i) => (/^[a-zA-Z_:{]/.test(l) ? [i] : []));
    if (samples.length === 0) return;
    const i = rng.pick(samples);
    const line = lines[i]!;
    const space = line.lastIndexOf('} ') >= 0 ? line.lastIndexOf('} ') + 1 : line.indexOf(' ');
    if (space < 0) return;
    lines[i] = line.slice(0, space + 1) + rng.pick(VALUES) + (rng.chance(0.2) ? ` ${rng.pick(VALUES)}` : '');
  },
  // Rename a sample with another suffix: it may join or leave a family.
  (lines, rng) => {
    const samples = lines.flatMap((l, i) => (/^[a-zA-Z_:]/.test(l) ? [i] : []));
    if (samples.length === 0) return;
    const i = rng.pick(samples);
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(.*)$/s.exec(lines[i]!);
    if (m) lines[i] = stem(m[1]!) + rng.pick(SUFFIXES) + m[2];
  },
  // An odd line: EOF in the middle, bare comments, quoted names, exemplars.
  (lines, rng) => {
    lines.splice(rng.int(lines.length + 1), 0, rng.pick(EXTRA_LINES));
  },
  // Truncate the page.
  (lines, rng) => {
    lines.length = rng.int(lines.length + 1);
  },
];

/** A page to start a session from: a whole exposition page of the corpus, or a run of lines of a large one. */
export function basePage(rng: Rng, corpus: Corpus): string {
  const page = rng.pick(corpus.pages);
  // Whole pages of a few kB; runs of lines from larger ones, which keeps the rate up.
  if (page.length < 8_000 && rng.chance(0.7)) return page;
  const lines = page.split('\n');
  const from = rng.int(lines.length);
  return lines.slice(from, from + 1 + rng.int(60)).join('\n') + '\n';
}

/**
 * How often each mutation is picked. Those that keep a page valid more often than
 * not (moving, re-declaring, relabelling lines) come first, so that enough pages
 * are accepted for state across scrapes to be exercised; byte flips, odd lines
 * and truncation mostly give parse errors.
 */
const WEIGHTS = [2, 3, 3, 3, 4, 3, 3, 2, 4, 2, 4, 1, 1];
const WEIGHTED: readonly Mutation[] = MUTATIONS.flatMap((m, i) => new Array<Mutation>(WEIGHTS[i]!).fill(m));

/** `page` with one to four random mutations. */
export function mutate(page: string, rng: Rng, corpus: Corpus): string {
  const lines = page.split('\n');
  for (let n = 1 + rng.int(4); n > 0; n--) rng.pick(WEIGHTED)(lines, rng, corpus);
  return lines.join('\n');
}

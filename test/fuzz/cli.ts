/**
 * `npm run fuzz [-- --seed N --pages N --seconds S --out DIR --render]`: mutated fixture
 * pages through the parser and the receiver's conversion (see fuzz.ts); `--render`
 * also checks that /metrics would serve each accepted page as a body that parses. Prints pages run,
 * failures and the rate; exits 1 when anything but a parse error or a limit escaped.
 * `npm run fuzz -- --replay FILE` runs a saved failing session again.
 */
import { parseArgs } from 'node:util';
import { fixturePath } from '../helpers/fixtures.js';
import { loadCorpus } from './pages.js';
import { replay, runFuzz } from './fuzz.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    pages: { type: 'string', default: '1000000' },
    seconds: { type: 'string' },
    out: { type: 'string', default: 'fuzz-failures' },
    replay: { type: 'string' },
    render: { type: 'boolean', default: false },
  },
});

if (values.replay !== undefined) {
  const result = await replay(values.replay, values.render);
  console.log(result.failure ? `still fails at page ${result.failure.page}: ${result.failure.error}` : 'passes now');
  process.exit(result.failure ? 1 : 0);
}

const seed = Number(values.seed);
const corpus = loadCorpus(fixturePath());
console.log(`fuzz: seed ${seed}, ${corpus.pages.length} fixture pages (${corpus.files.length} files), up to ${values.pages} mutated pages`);
const report = await runFuzz({
  seed,
  pages: Number(values.pages),
  ...(values.seconds !== undefined ? { maxMs: Number(values.seconds) * 1000 } : {}),
  corpus,
  outDir: values.out,
  render: values.render,
  log: (line) => console.log(line),
  progressEvery: 100_000,
});
const seconds = report.elapsedMs / 1000;
console.log(
  `pages: ${report.pages} in ${report.sessions} sessions (accepted ${report.accepted}, rejected ${report.rejected})\n` +
    `exceptions: ${report.failures.length}\n` +
    `rate: ${Math.round(report.pages / seconds)} pages/s (${seconds.toFixed(1)} s)`,
);
process.exit(report.failures.length > 0 ? 1 : 0);

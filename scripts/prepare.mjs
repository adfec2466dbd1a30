// `npm ci` / `npm install` in a checkout and `npm pack` run this: it builds dist/
// with TypeScript. After `npm ci --omit=dev` TypeScript (a dev dependency) is not
// installed; the install then succeeds without building, and says what to do.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  const built = existsSync(new URL('../dist/src/cli.js', import.meta.url));
  process.stderr.write(
    `runner-metrics: TypeScript is not installed (dev dependencies omitted), so dist/ was not built${built ? '; the existing dist/ is kept' : ' and `npm start` cannot run'}.\n` +
      '  To run from this checkout, install with dev dependencies once: npm ci\n' +
      '  For a production install without TypeScript, install the package made by `npm pack` (README: "Run as a service").\n',
  );
  process.exit(0);
}
const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { stdio: 'inherit', cwd: new URL('..', import.meta.url) });
process.exit(build.status ?? 1);

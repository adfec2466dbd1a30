// `npm ci` / `npm install` in a checkout and `npm pack` run this: it builds dist/
// with TypeScript. Without TypeScript (a dev dependency, so after
// `npm ci --omit=dev`) it builds nothing and succeeds: the packed package ships
// dist/ already, and a checkout is told how to get one.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url);
const checkout = existsSync(new URL('tsconfig.json', root)); // the packed package has no sources to build

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  if (checkout) {
    const built = existsSync(new URL('dist/src/cli.js', root));
    process.stderr.write(
      `runner-metrics: TypeScript is not installed (dev dependencies omitted), so dist/ was not built${built ? '; the existing dist/ is kept' : ' and `npm start` cannot run'}.\n` +
        '  To run from this checkout, install once with dev dependencies: npm ci\n' +
        '  For a production install without TypeScript, install the package made by `npm pack` (README: "Run as a service").\n',
    );
  }
  process.exit(0);
}
if (!checkout) process.exit(0);
const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { stdio: 'inherit', cwd: root });
process.exit(build.status ?? 1);

/**
 * V8 settings the collector process runs with, applied before any work starts.
 *
 * Allocation-site pretenuring is off. V8 watches each object literal's allocation site
 * and, once most of its objects survive a scavenge, allocates all later ones directly
 * in the old generation. The first scrapes are exactly such a moment: every series is
 * new and kept, and large first pages are converted in slices while others wait. So
 * sites that later only make per-scrape objects (the fetched page's holder, per-page
 * lists and results) get tenured for good. Their objects then die in the old
 * generation, where only a full GC frees them, and a dead old object that still points
 * at its page keeps that young page alive through every scavenge until then.
 *
 * Measured at 300 targets × 1000 series @ 1 s (`--trace-gc-nvp`): 3.5–4.9 MB promoted
 * per scavenge, nearly all of it pages, and a full GC every 3 s; with pretenuring off,
 * 1.3 MB per scavenge and a full GC every 12 s, for 0.23–0.27 against 0.30 cores and
 * about 60 MB less RSS. Long-lived state costs one more copy through the young
 * generation when it is made, once.
 *
 * The young generation is capped at 4 MB per semi-space (V8's default lets it grow to
 * 16 or more). A scrape's garbage lives for a millisecond or so, so a small young
 * generation collects it as well, and about 25 MB of RSS are not committed: at 100 targets
 * × 1000 series, 169–180 against 197–200 MB, for the same CPU. V8 sizes the young
 * generation when it creates the heap, so this one is a start flag, not set here: the
 * `runner-metrics` command's shebang (src/cli.ts) and `npm start` pass
 * START_FLAGS, and a test holds the two to it.
 *
 * The old generation may grow 30 % past what the last full GC left alive before the
 * next one (V8's own factor, from its GC and mutator speeds, lets it reach 1.5–4×).
 * The collector's heap is mostly state that lives as long as its series, and little of
 * what it allocates survives a scavenge, so the slack V8 leaves for garbage was mostly
 * RSS: at 300 targets × 1000 series the old generation stood at 270–290 MB over a live
 * 195 MB. With 30 %, a mean RSS of 328 against 419 MB for the same CPU (0.29 against
 * 0.28 cores). VictoriaMetrics' components set Go's GOGC to 30 for the same reason.
 * A `--heap-growing-percent` given to node (command line or NODE_OPTIONS) wins.
 */
import { setFlagsFromString } from 'node:v8';

/** The node flags the collector is started with. */
export const START_FLAGS = ['--max-semi-space-size=4'] as const;

/** How far the old generation grows past its live size before a full GC, in percent. */
export const HEAP_GROWING_PERCENT = 30;

export function tuneHeap(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
  if (!givenToNode('--heap-growing-percent')) setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

/** Whether node was started with `flag` (`--flag=…`, or `--flag …`), on its command line or in NODE_OPTIONS. */
function givenToNode(flag: string): boolean {
  const underscored = flag.replace(/-/g, '_').replace(/^__/, '--');
  const given = [...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/)];
  return given.some((arg) => [flag, underscored].some((name) => arg === name || arg.startsWith(`${name}=`)));
}

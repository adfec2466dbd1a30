/**
 * Where a consumer that reads handed-on points across event-loop turns and a
 * receiver that rewrites its points in place meet.
 *
 * A scraping receiver rewrites the objects of a batch two scrapes later (the
 * contract in batch.ts). An exporter that encodes a push resource by resource,
 * yielding in between, could see a scrape rewrite points it has not encoded yet.
 * It used to copy every point first: at 100,000 points a push, that copy was a
 * third of the push's CPU (the copies, and collecting them). Now it holds the
 * points instead, and a receiver that starts handing on a scrape while any are
 * held makes that scrape's objects anew rather than rewriting old ones: a cost
 * paid only by the scrapes that overlap a push.
 *
 * Why holding at the start of the push suffices: a consumer holds the newest batch
 * of each target. Its rewrite is due at the second scrape after it, which cannot
 * have begun handing on yet, so it sees the hold; a scrape that began before the
 * hold rewrites an older batch, which nobody holds.
 */
let holds = 0;

/** Holds every point handed on so far until the returned release is called (once; again is harmless). */
export function holdPoints(): () => void {
  holds++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holds--;
  };
}

/** Whether a receiver must make its points anew rather than rewrite them. */
export function pointsHeld(): boolean {
  return holds > 0;
}

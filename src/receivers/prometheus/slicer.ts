/**
 * Tells a long loop when to hand the event loop back: after `sliceMs` of work. The
 * clock is read only every CHECK_EVERY units of work (about a byte of page each, a
 * few dozen per series or point), so asking costs next to nothing on the fast path.
 */
const CHECK_EVERY = 16 * 1024;

export class Slicer {
  /** A slicer whose slice never ends: the whole work in one go. */
  static readonly NEVER = new Slicer(Infinity);

  private deadline: number;
  private work = 0;
  private checkAt = CHECK_EVERY;

  constructor(private readonly sliceMs: number) {
    this.deadline = sliceMs === Infinity ? Infinity : performance.now() + sliceMs;
  }

  /** Starts a new slice: call when the event loop gives control back. */
  start(): void {
    this.deadline = performance.now() + this.sliceMs;
  }

  /** Records `work` units done; true when the slice is over and the caller should pause. */
  due(work: number): boolean {
    if (this.deadline === Infinity) return false;
    this.work += work;
    if (this.work < this.checkAt) return false;
    this.checkAt = this.work + CHECK_EVERY;
    return performance.now() >= this.deadline;
  }
}

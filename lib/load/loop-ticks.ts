/**
 * When the generator's event loop was free: a timer due every millisecond records when it ran.
 * From those times, each request gets a lower bound of the time it spent outside the generator (on
 * the wire and at the target), whatever the generator did meanwhile (late sends, a held-up loop,
 * a descheduled process):
 *
 * - A request handed to its client at `s` has left by the second tick after `s`: ticks run in
 *   turns of the loop of their own, and between the two is a whole turn (its poll phase, its
 *   `setImmediate`s) for whatever the send left to a callback (a connection's `connect`).
 * - A response read at `r` was not readable before the second-latest tick before `r`: had it been,
 *   the poll phase that follows that tick's timers phase would have read it, before the latest tick.
 *
 * So the target (or the network) had the request from the one tick to the other at least. For a
 * target on this machine, how long its threads waited for a core in that span (the only way other
 * processes hold it back) is taken away too: Linux counts a wait when it ends, so the wait is read
 * at the first tick after `r`, which counts every wait that ended before the response was written,
 * and maybe more. What is left is short of the truth by a few tick intervals (about 3 ms on a free
 * loop), never long: what survives the subtraction is the target's, even on a busy machine.
 */
export class LoopTicks {
  /** Tick times (performance.now()), a ring; at 1 ms apart, about half a minute of them. */
  private readonly times = new Float64Array(RING);
  /** The target's run-queue wait so far at each tick, in ms, where {@link waitedMs} is given. */
  private readonly waits: Float64Array | undefined;
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Requests read since the latest tick, told their time at the next (see {@link outside}). */
  private pending: Array<{ readonly sentAt: number; readonly readAt: number; readonly done: (ms: number) => void }> = [];

  /** @param waitedMs how long the target's threads have waited for a core so far, in ms (see RunQueueWait). */
  constructor(private readonly waitedMs?: () => number) {
    this.waits = waitedMs ? new Float64Array(RING) : undefined;
  }

  start(): this {
    const tick = () => {
      this.tick();
      this.timer = setTimeout(tick, 1);
      // The ticks only witness the loop; they must not keep a finished process alive.
      this.timer.unref();
    };
    tick();
    return this;
  }

  /** Stops ticking, after a last tick that tells every request still waiting for one. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.tick();
  }

  /**
   * Tells `done` the least time the request sent at `sentAt` and read at `readAt` (both
   * performance.now()) spent outside the generator (and, for a local target, not waiting for a
   * core), in ms: at once, or for a local target at the next tick. Where the ring no longer holds
   * the ticks after `sentAt`, its oldest stand in: later than the true ones, they only lower the bound.
   */
  outside(sentAt: number, readAt: number, done: (ms: number) => void): void {
    if (this.waits) this.pending.push({ sentAt, readAt, done });
    else done(this.outsideMs(sentAt, readAt, 0));
  }

  /**
   * The least time between two chunks of a stream leaving the target, read at `previousReadAt` and
   * `readAt`: the first left before it was read, the second not before the second-latest tick
   * before it was read (a gap between tokens, less the generator's delay in reading the second).
   */
  gapMs(previousReadAt: number, readAt: number): number {
    const readable = this.readableBy(readAt);
    return readable === undefined ? 0 : Math.max(0, this.at(readable) - previousReadAt);
  }

  private tick(): void {
    const at = this.next % RING;
    if (this.waits) this.waits[at] = this.waitedMs!();
    this.times[at] = performance.now();
    this.next++;
    if (this.pending.length === 0) return;
    const pending = this.pending;
    this.pending = [];
    for (const p of pending) p.done(this.outsideMs(p.sentAt, p.readAt, this.waits![at]!));
  }

  /** `waitedAfterRead`: the target's wait so far at a tick after `readAt`. */
  private outsideMs(sentAt: number, readAt: number, waitedAfterRead: number): number {
    const left = this.firstIndexAfter(sentAt) + 1;
    const readable = this.readableBy(readAt);
    if (readable === undefined || readable <= left) return 0;
    const waited = this.waits ? waitedAfterRead - this.waits[left % RING]! : 0;
    return Math.max(0, this.at(readable) - this.at(left) - waited);
  }

  private at(index: number): number {
    return this.times[index % RING]!;
  }

  /**
   * The index of the second-latest tick before `readAt`, not after which what was read then became
   * readable; undefined when the ring no longer holds it.
   */
  private readableBy(readAt: number): number | undefined {
    const readable = this.firstIndexAfter(readAt) - 2;
    return readable < this.oldest() ? undefined : readable;
  }

  private oldest(): number {
    return Math.max(0, this.next - RING);
  }

  /** The index of the first tick later than `t` (`next` when none is; the oldest held when it is older). */
  private firstIndexAfter(t: number): number {
    let low = this.oldest();
    let high = this.next;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.at(mid) > t) high = mid;
      else low = mid + 1;
    }
    return low;
  }
}

const RING = 1 << 15;

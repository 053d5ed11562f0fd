/**
 * At most `max` holders at once; the rest wait in arrival order. A release hands its place straight
 * to the next in line, so a newcomer never overtakes the queue. Lambda invocations in flight and a
 * token server's batch of sequences are both bounded by one.
 */
export class Semaphore {
  private held = 0;
  private readonly waiting: Array<() => void> = [];

  /** @param max holders at once; @default Infinity (no bound) */
  constructor(private readonly max: number = Number.POSITIVE_INFINITY) {}

  /** Those holding a place now (not those waiting for one). */
  get holders(): number {
    return this.held;
  }

  acquire(): Promise<void> {
    if (this.held < this.max) {
      this.held++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held--;
  }

  /** Runs `fn` holding a place, released however it ends. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}

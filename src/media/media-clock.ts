import { performance } from 'node:perf_hooks';

/**
 * One 20 ms clock for every RTP stream of the process: a single timer instead of one per
 * call, catching up on late ticks so that prompts keep their pace under load.
 */
export const FRAME_MS = 20;

export class MediaClock {
  private readonly listeners = new Set<() => void>();
  private timer?: NodeJS.Timeout;
  private next = 0;
  /** Ticks that ran more than one frame late (a sign of an overloaded event loop). */
  lateTicks = 0;
  /** Listeners that threw (each is a bug; the clock carries on). */
  errors = 0;
  lastError?: Error;

  add(listener: () => void): void {
    this.listeners.add(listener);
    if (this.timer === undefined) {
      this.next = performance.now() + FRAME_MS;
      this.schedule();
    }
  }

  remove(listener: () => void): void {
    this.listeners.delete(listener);
    if (this.listeners.size === 0 && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  get size(): number {
    return this.listeners.size;
  }

  private schedule(): void {
    this.timer = setTimeout(this.run, Math.max(0, this.next - performance.now()));
  }

  private readonly run = (): void => {
    let due = 0;
    const now = performance.now();
    while (this.next <= now && due < 5) {
      this.next += FRAME_MS;
      due += 1;
    }
    if (this.next <= now) {
      // More than 100 ms behind: skip ahead rather than burst.
      this.lateTicks += 1;
      this.next = now + FRAME_MS;
    }
    if (due > 1) this.lateTicks += 1;
    for (let i = 0; i < Math.max(1, due); i += 1) {
      for (const listener of [...this.listeners]) {
        // One stream's failure must not stop the clock of every other call.
        if (!this.listeners.has(listener)) continue;
        try {
          listener();
        } catch (err) {
          this.errors += 1;
          this.lastError = err as Error;
        }
      }
    }
    if (this.listeners.size > 0) this.schedule();
    else this.timer = undefined;
  };
}

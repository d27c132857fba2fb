/**
 * Long work on the server's event loop (a 50,000-entry directory being prepared) done a
 * slice at a time: between slices the loop runs the calls' audio, SIP and timers, which
 * would otherwise wait for the whole of it (a second or more).
 */

/** The longest one slice holds the event loop. */
export const SLICE_MS = 20;

/**
 * How long the work rests after each slice, as a multiple of the slice's time: twice, so that
 * a long build takes at most a third of a core from the recognition workers the calls wait on.
 * 100 calls to a French store during a 50,000-entry sync (bench:calls, 2 cores): p95 1,241 ms
 * without rests, 312-549 ms resting once the slice, 234-270 ms resting twice; the version went
 * live after about the same 43-45 s (the build is not what it waits for).
 */
export const REST_RATIO = 2;

export class Slices {
  private sliceStart = Date.now();

  constructor(private readonly ms = SLICE_MS) {}

  /** Whether this slice has run its time: then `await slices.next()`. Cheap enough to ask for each item. */
  get due(): boolean {
    return Date.now() - this.sliceStart >= this.ms;
  }

  /** Lets the event loop run (and rests, REST_RATIO of the slice's time), then starts a new slice. */
  async next(): Promise<void> {
    const rest = Math.round((Date.now() - this.sliceStart) * REST_RATIO);
    await new Promise((resolve) => (rest > 0 ? setTimeout(resolve, rest) : setImmediate(resolve)));
    this.sliceStart = Date.now();
  }
}

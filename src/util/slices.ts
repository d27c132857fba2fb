/**
 * Long work on the server's event loop (a 50,000-entry directory being prepared) done a
 * slice at a time: between slices the loop runs the calls' audio, SIP and timers, which
 * would otherwise wait for the whole of it (a second or more).
 */

/** The longest one slice holds the event loop. */
export const SLICE_MS = 20;

export class Slices {
  private sliceStart = Date.now();

  constructor(private readonly ms = SLICE_MS) {}

  /** Whether this slice has run its time: then `await slices.next()`. Cheap enough to ask for each item. */
  get due(): boolean {
    return Date.now() - this.sliceStart >= this.ms;
  }

  /** Lets the event loop run, then starts a new slice. */
  async next(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.sliceStart = Date.now();
  }
}

import { EventEmitter } from 'node:events';

/**
 * Finds the start and end of the caller's speech in 20 ms frames of 8 kHz audio, against
 * a noise floor that follows the line. Speech starts after `startFrames` loud frames in a
 * row (the prompt is then cut: barge-in) and ends after `endSilenceMs` of quiet. The
 * utterance handed up includes `preRollMs` of audio from before the start.
 *
 * Once `keepTrailingMs` of quiet have passed, the utterance is what it will be if the caller
 * stays quiet: it is handed up then as `settled`, so that it can be heard while the end is
 * still being waited for (150 ms earlier with the defaults); `unsettled` says that the caller
 * spoke again (or the endpointer was reset) and that utterance will not come.
 */

export interface EndpointerOptions {
  /** Frames above the threshold in a row that make a start of speech. */
  startFrames: number;
  /** Quiet that ends an utterance. */
  endSilenceMs: number;
  /** Of that quiet, how much stays in the utterance handed up (the recognizer needs a little, not all). */
  keepTrailingMs: number;
  preRollMs: number;
  /** An utterance is cut here even if the caller goes on. */
  maxSpeechMs: number;
  /**
   * Lowest RMS counted as speech while a prompt is played to the caller (telephone speech is
   * usually 500 to 5000): the prompt's echo from the caller's side, 30-40 dB under it, must
   * not cut it short.
   */
  minLevel: number;
  /**
   * Lowest RMS counted as speech while nothing is played (-58 dBFS): a quiet caller on a
   * silent line, whose speech peaks at -40 dBFS and whose loudest frames lie about -55 dBFS,
   * was never heard under minLevel. Noise on the line is kept out by the floor (`floorRatio`).
   */
  quietMinLevel: number;
  /** Speech is this many times above the noise floor. */
  floorRatio: number;
}

export const DEFAULT_ENDPOINTER: EndpointerOptions = {
  startFrames: 4,
  endSilenceMs: 500,
  // As in the accuracy benchmark's audio (250 ms before, 350 ms after the words).
  keepTrailingMs: 350,
  preRollMs: 250,
  maxSpeechMs: 8000,
  minLevel: 300,
  quietMinLevel: 40,
  floorRatio: 3,
};

export interface EndpointerEvents {
  speechStart: [];
  /** A whole utterance, 8 kHz; `endedAt` is when the endpointer decided it was over. */
  utterance: [pcm8k: Int16Array, info: { speechMs: number; endedAt: number; lastSpeechAt: number }];
  /** The utterance as `utterance` will hand it up, sample for sample, unless `unsettled` comes first. */
  settled: [pcm8k: Int16Array];
  unsettled: [];
}

const FRAME_MS = 20;

/**
 * A frame's RMS about its own mean: a DC offset on the line (a cheap converter, an analogue
 * gateway) is not speech. With the offset counted, a line at +4000 had a floor of 4000, so
 * no word rose three times over it and the caller was never heard.
 */
export function frameLevel(frame: Int16Array): number {
  if (frame.length === 0) return 0;
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < frame.length; i += 1) {
    sum += frame[i];
    squares += frame[i] * frame[i];
  }
  const mean = sum / frame.length;
  return Math.sqrt(Math.max(0, squares / frame.length - mean * mean));
}

export class Endpointer extends EventEmitter<EndpointerEvents> {
  private readonly o: EndpointerOptions;
  private floor = 100;
  private loudRun = 0;
  private quietMs = 0;
  private inSpeech = false;
  private speechMs = 0;
  private lastSpeechAt = 0;
  private settled = false;
  /** A prompt is being played to the caller (minLevel), or nothing is (quietMinLevel). */
  playing = false;
  private readonly history: Int16Array[] = [];
  private frames: Int16Array[] = [];

  constructor(options: Partial<EndpointerOptions> = {}) {
    super();
    this.o = { ...DEFAULT_ENDPOINTER, ...options };
  }

  get speaking(): boolean {
    return this.inSpeech;
  }

  /** Forgets any utterance in progress (a new question is asked). */
  reset(): void {
    if (this.settled) {
      this.settled = false;
      this.emit('unsettled');
    }
    this.inSpeech = false;
    this.loudRun = 0;
    this.quietMs = 0;
    this.frames = [];
  }

  write(frame: Int16Array, now = Date.now()): void {
    const level = frameLevel(frame);
    const threshold = Math.max(this.playing ? this.o.minLevel : this.o.quietMinLevel, this.floor * this.o.floorRatio);
    const loud = level >= threshold;
    if (!this.inSpeech) {
      // The floor follows quiet frames quickly and loud ones slowly.
      this.floor = loud ? this.floor * 0.999 + level * 0.001 : this.floor * 0.95 + level * 0.05;
      this.history.push(frame);
      const keep = Math.ceil(this.o.preRollMs / FRAME_MS) + this.o.startFrames;
      while (this.history.length > keep) this.history.shift();
      this.loudRun = loud ? this.loudRun + 1 : 0;
      if (this.loudRun >= this.o.startFrames) {
        this.inSpeech = true;
        this.frames = [...this.history];
        this.speechMs = this.loudRun * FRAME_MS;
        this.quietMs = 0;
        this.lastSpeechAt = now;
        this.emit('speechStart');
      }
      return;
    }
    this.frames.push(frame);
    this.speechMs += FRAME_MS;
    if (loud) {
      this.quietMs = 0;
      this.lastSpeechAt = now;
      if (this.settled) {
        this.settled = false;
        this.emit('unsettled');
      }
    } else {
      this.quietMs += FRAME_MS;
    }
    if (this.quietMs >= this.o.endSilenceMs || this.speechMs >= this.o.maxSpeechMs) {
      // The quiet beyond keepTrailingMs, in whole frames: what `settled` handed up is kept.
      const drop = Math.max(0, Math.floor((this.quietMs - this.o.keepTrailingMs) / FRAME_MS));
      if (drop > 0) this.frames.splice(this.frames.length - drop, drop);
      const pcm = this.joined();
      const speechMs = this.speechMs - this.quietMs;
      this.settled = false;
      this.reset();
      this.history.length = 0;
      this.emit('utterance', pcm, { speechMs, endedAt: now, lastSpeechAt: this.lastSpeechAt });
    } else if (!loud && !this.settled && this.quietMs >= this.o.keepTrailingMs) {
      this.settled = true;
      this.emit('settled', this.joined());
    }
  }

  private joined(): Int16Array {
    const pcm = new Int16Array(this.frames.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of this.frames) {
      pcm.set(f, at);
      at += f.length;
    }
    return pcm;
  }
}

import { frameLevels } from './noise-floor';

/**
 * Where the speech of an utterance lies, so that the decoders hear the words with the same
 * margins of quiet around them whatever the line put there: a caller heard through a PBX
 * comes with 0.3 to 2 s of digital silence, comfort noise or line noise before and after
 * the name, or with none at all (a file cut tight). Batch cepstral mean normalization
 * averages every frame it is given, so long quiet stretches pulled each caller's mean
 * somewhere else: on real French speakers, the same clips were heard right 80 % of the time
 * cut tight and 42-60 % with padding around them (docs/benchmarks.md).
 *
 * Speech is found against the utterance's own levels: a 10-ms frame is loud when it stands
 * `FLOOR_DB` over the line's floor and within `PEAK_DB` of the loudest frames (the 99th
 * percentile); the span runs from the first to the last run of `MIN_RUN` loud frames.
 */

const FLOOR_DB = 9;
const PEAK_DB = 35;
const MIN_RUN = 3;
/** The ends looked at for the line's floor (20 frames: 200 ms). */
const EDGE_FRAMES = 20;
/** How far below the speech a level must be to be taken for the line's floor. */
const FLOOR_BELOW_PEAK_DB = 20;
/** Where no level lies that far below, the least a floor may lie under the speech (steadier noise is all floor). */
export const MIN_SNR_DB = 6;
/** How close the quietest 30 % of frames lie together to be taken for a line's steady floor. */
const STEADY_DB = 3;
/** A margin's 10-ms frame within this of the line's floor is the floor alone (frameSpeech). */
const GATE_DB = 6;
/** Quiet kept around the span: a word's weak onset and release are below the threshold. */
export const SPAN_BEFORE_MS = 250;
export const SPAN_AFTER_MS = 350;

export interface SpeechSpan {
  /** First and last sample (exclusive) of the speech, margins not included. */
  start: number;
  end: number;
  /**
   * The speech stands well over the line's floor (20 dB or more, or digital silence around
   * it): a span found against the loudest frames alone, on a line whose noise is near the
   * speech, may hold noise as much as words.
   */
  clear: boolean;
  /**
   * dB of the speech's loudest frames over the line's floor, where a floor was found (0
   * where none was): speech that rises this far over a noisy line is speech, however little
   * the noise around it leaves of its rise and fall once framed.
   */
  overFloorDb: number;
  /**
   * The line's floor (RMS of a 10-ms frame) where the speech stands clear of it (20 dB or
   * more over it); 0 where none was found that far below (digital silence, a clip cut tight,
   * speech near the noise).
   */
  floor: number;
}

/** The span of speech in `pcm`, or undefined when no frame stands out (silence, steady noise). */
export function findSpeechSpan(pcm: Int16Array, sampleRate = 16000): SpeechSpan | undefined {
  const frame = Math.round(sampleRate / 100);
  const levels = frameLevels(pcm, frame);
  if (levels.length === 0) return undefined;
  const sorted = [...levels].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const peak = at(0.99);
  if (peak < 1) return undefined;
  // The line's own floor: the quiet frames, or the quieter of the utterance's two ends (comfort
  // noise before and after a word whose recording is quieter still between its syllables),
  // each only where it is well below the speech: in a clip cut tight, both are speech.
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const edge = Math.min(median(levels.slice(0, EDGE_FRAMES)), median(levels.slice(-EDGE_FRAMES)));
  const below = peak * 10 ** (-FLOOR_BELOW_PEAK_DB / 20);
  const strict = Math.max(...[at(0.1), edge].filter((x) => x <= below), 0);
  const clear = strict > 0 || at(0.1) < 1;
  // A quiet speaker on a noisy line (speech 6 to 20 dB over the floor): the floor is the
  // quieter estimate, and the threshold halfway up to the speech. Without it the whole
  // recording was taken for speech: a digit said at -35 dBFS between 2 s of comfort noise at
  // -50 was heard as nothing (19 of 90 English digit clips so padded).
  // Only a steady floor (the quietest 30 % of frames within 3 dB of each other): the
  // troughs between a word's own syllables, cut tight, are no floor.
  const steady = at(0.3) <= at(0.1) * 10 ** (STEADY_DB / 20);
  const loose = steady ? Math.min(...[at(0.1), edge].filter((x) => x <= peak * 10 ** (-MIN_SNR_DB / 20)), Infinity) : Infinity;
  const floor = strict > 0 ? strict : Number.isFinite(loose) ? loose : 0;
  const rise = floor > 0 ? Math.min(FLOOR_DB, (20 * Math.log10(peak / floor)) / 2) : 0;
  const threshold = Math.max(floor * 10 ** (rise / 20), peak * 10 ** (-PEAK_DB / 20), 1);
  let first = -1;
  let last = -1;
  let run = 0;
  for (let i = 0; i < levels.length; i += 1) {
    run = levels[i] > threshold ? run + 1 : 0;
    if (run === MIN_RUN) {
      if (first < 0) first = i - MIN_RUN + 1;
    }
    if (run >= MIN_RUN) last = i;
  }
  if (first < 0) return undefined;
  const overFloorDb = floor > 0 ? 20 * Math.log10(peak / floor) : 0;
  return { start: first * frame, end: Math.min(pcm.length, (last + 1) * frame), clear, overFloorDb, floor: strict };
}

/**
 * The utterance with its speech framed the same way every time: the span found, with the
 * line's own audio around it up to `SPAN_BEFORE_MS` before and `SPAN_AFTER_MS` after, and
 * digital silence where the line had less (a clip cut tight). With `gateFloor`, where the
 * speech stands clear of the line's floor (SpeechSpan.floor), the margins' frames within
 * `GATE_DB` of that floor, from the outer ends inward up to the first sound over it, are
 * digital silence too: 2 s of comfort noise around real cut words had them heard right 73.0 %
 * against 88.7 % cut tight; gated, 86.1 % (docs/benchmarks.md). Audio without a span is
 * returned as it is.
 */
export function frameSpeech(pcm: Int16Array, span = findSpeechSpan(pcm), sampleRate = 16000, gateFloor = true): Int16Array {
  if (span === undefined) return pcm;
  const before = Math.round((SPAN_BEFORE_MS * sampleRate) / 1000);
  const after = Math.round((SPAN_AFTER_MS * sampleRate) / 1000);
  const from = Math.max(0, span.start - before);
  const to = Math.min(pcm.length, span.end + after);
  const out = new Int16Array(before + (span.end - span.start) + after);
  out.set(pcm.subarray(from, to), before - (span.start - from));
  if (gateFloor && span.floor > 0) {
    // The line's floor in the margins, up to where a word's weak onset or release rises over
    // it, as digital silence: the margins as a clip cut tight has them.
    const frame = Math.round(sampleRate / 100);
    const gate = span.floor * 10 ** (GATE_DB / 20);
    const quiet = (at: number): boolean => frameLevels(out.subarray(at, at + frame), frame)[0] <= gate;
    for (let at = 0; at + frame <= before && quiet(at); at += frame) out.fill(0, at, at + frame);
    const speechEnd = before + (span.end - span.start);
    for (let at = out.length - frame; at >= speechEnd && quiet(at); at -= frame) out.fill(0, at, at + frame);
  }
  return out;
}

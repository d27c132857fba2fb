import { DEFAULT_FIT_CALIBRATION, FitCalibration, SAMPLE_RATE, Speed } from './recognizer';
import { LINE_NOISE_PEAK, NoiseShape } from './noise-floor';

/**
 * How PocketSphinx is tuned: the beams and calibrations of each speed, for triphone models
 * and for the context-independent French rebuild, the profile setting, the line noise's
 * level. Each figure was chosen by a benchmark that its comment names.
 */

export interface Beams {
  beam: number;
  pbeam: number;
  wbeam: number;
}

/**
 * The phone loop's beams: every phone stays active in a loop whatever the beams, so
 * narrower ones save little (195 against 183 ms per utterance) and change its score.
 */
export const LOOP_BEAMS: Beams = { beam: 1e-80, pbeam: 1e-80, wbeam: 1e-60 };

/**
 * How pocketsphinx decodes an utterance. Both speeds were calibrated on
 * `npm run bench:accuracy` so that no dev call is wrongly transferred (README, "Recognition
 * accuracy"); their fits are on different scales, so each carries its own calibration.
 * - accurate: grammar beams much wider than pocketsphinx's defaults (1e-48, 1e-48, 7e-29),
 *   with which the right name is often pruned early on accented or telephone speech; the
 *   phone loop in context (triphones).
 * - fast: narrower grammar beams and a loop of context-independent phones, for 45% less CPU
 *   per utterance (about 250 against 450 ms for 2.6 s of speech). Fewer names are
 *   recognized (dev set 35% against 42%), more absent names are rejected (71% against 67%).
 */
export interface SpeedSettings {
  grammarBeams: Beams;
  calibration: FitCalibration;
  /** The decoder's own settings, for a model that decodes this speed in a decoder of its own. */
  tuning?: DecoderTuning;
}

/** Decoder-wide settings: Gaussians scored per frame (-topn); the cepstral mean over the speech and this many ms around it (cepstral-mean.ts). */
export interface DecoderTuning {
  topn?: number;
  cmnMarginMs?: number;
}

export const SPEEDS: Record<Speed, SpeedSettings> = {
  accurate: { grammarBeams: { beam: 1e-80, pbeam: 1e-80, wbeam: 1e-60 }, calibration: DEFAULT_FIT_CALIBRATION },
  fast: { grammarBeams: { beam: 1e-60, pbeam: 1e-60, wbeam: 1e-45 }, calibration: { midpoint: -2.29, slope: 0.61 } },
};

/**
 * ATTENDANT_ASR_PROFILE: `accurate` or `fast` for every utterance, or `auto` (the default):
 * accurate while the recognizer keeps up, fast for the utterances that would otherwise
 * wait behind others (RecognizerPool decides); a grammar's search at each speed is loaded
 * the first time an utterance needs it.
 */
export type PocketsphinxProfile = Speed | 'auto';

export function pocketsphinxProfile(env: NodeJS.ProcessEnv = process.env): PocketsphinxProfile {
  const text = env.ATTENDANT_ASR_PROFILE ?? 'auto';
  if (text !== 'accurate' && text !== 'fast' && text !== 'auto') {
    throw new Error(`ATTENDANT_ASR_PROFILE="${text}" is not a profile; use auto, accurate or fast`);
  }
  return text;
}

/**
 * The French rebuild (context-independent phones, 8 kHz): wide beams and -topn 16. On the
 * held-out French store, with the US English model beside it, they recognize 61.1 % of
 * callers against 55.6 % with beams of 1e-60 and -topn 4, for 1.24 against 0.81 CPU s per
 * call for the two models (docs/benchmarks.md). Its fit calibration is a rough one, not
 * fitted: at this speed a French store is always heard with Debian's model too (which
 * attendant requires), and two models are combined by attendant/confidence.ts, from their
 * matched scores.
 */
export const CONTEXT_INDEPENDENT: SpeedSettings = {
  grammarBeams: { beam: 1e-100, pbeam: 1e-100, wbeam: 1e-80 },
  calibration: { midpoint: -1.2, slope: 0.4 },
};

/**
 * The French rebuild's fast speed, for a French store heard by it alone under load: 4
 * Gaussians a frame (-topn 4), beams of 1e-60 / 1e-45. About the US English model's fast
 * speed in CPU (308 against 288 ms per dev call), for 61.5 % of dev callers right against
 * 54.9 % (leave one voice out). Every other frame (-ds 2) took 177 ms but misheard most short
 * names. Its calibration is chosen on the dev set (`npm run bench:accuracy -- --shed --fit`
 * with ATTENDANT_ASR_PROFILE=fast).
 */
export const CONTEXT_INDEPENDENT_FAST: SpeedSettings = {
  grammarBeams: { beam: 1e-60, pbeam: 1e-60, wbeam: 1e-45 },
  calibration: { midpoint: -3, slope: 2 },
  tuning: { topn: 4 },
};

/** The line noise's level (a constant: it was an environment knob for benchmarks once, read unchecked at load). */
export const LINE_NOISE = LINE_NOISE_PEAK;

/**
 * The line noise's spectrum for a model heard at `sampleRate` Hz: pink for a telephone-band
 * (8 kHz) model, white for a wideband one. With pink noise the French model heard the real
 * French commands right 88.9 % against 85.6 % (other speakers' clips 58.3 against 45.8 %),
 * and the synthesized French digits and commands better; the synthetic dev callers 81.2
 * against 81.7 %, held out and fresh store unchanged. Under the US English model, real
 * English digits went from 40.6 to 37.8 %: it keeps white noise (docs/benchmarks.md).
 */
export function lineNoiseShape(sampleRate: number): NoiseShape {
  return sampleRate < SAMPLE_RATE ? 'pink' : 'white';
}

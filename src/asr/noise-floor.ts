/**
 * Peak amplitude of the line noise added to every utterance before decoding (about
 * -59 dBFS RMS), and of the same noise each time: the same audio decodes the same way.
 *
 * A line that is digitally silent between words (a PBX's silence suppression, a clean
 * VoIP leg, synthesized audio) gives frames of zero energy whose cepstra lie far outside
 * anything the models were trained on, and batch CMN then subtracts a mean pulled away by
 * them. The French store's development callers went from 77.9 % to 82.6 % right (out of
 * fold) with this floor; 32, 96 and 128 did no better (docs/benchmarks.md).
 */
export const LINE_NOISE_PEAK = 64;

/**
 * The noise's spectrum: `white` (flat to the Nyquist frequency), or `pink` (falling about
 * 3 dB an octave: Paul Kellet's three-pole "economy" filter over the same white noise), at
 * the same RMS.
 *
 * White noise is what a weak fricative sounds like: in the closures of "stop" or "pause",
 * the French model heard an /f/, and short words with an /o/ went to "Faure" (real French
 * commands: « pause » heard as Faure cut tight, in digital silence and in comfort noise,
 * right with pink noise). Pink noise fills silence as well and lies under the speech's own
 * tilt (docs/benchmarks.md).
 */
export type NoiseShape = 'white' | 'pink';

/** Pink noise (PINK_POLES over uniform noise of ±peak) scaled to the RMS of the white noise. */
const PINK_SCALE = 0.33;
const PINK_POLES: [number, number][] = [
  [0.99765, 0.099046],
  [0.963, 0.2965164],
  [0.57, 1.0526913],
];
const PINK_DIRECT = 0.1848;

/** A copy of `pcm` with noise of `peak` (white) or the same RMS (pink) added, from a fixed seed. */
export function addLineNoise(pcm: Int16Array, peak = LINE_NOISE_PEAK, shape: NoiseShape = 'white'): Int16Array {
  const out = new Int16Array(pcm.length);
  let seed = 0x9e3779b9 | 0;
  const state = [0, 0, 0];
  for (let i = 0; i < pcm.length; i += 1) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    const white = (seed / 2147483648) * peak;
    let noise = white;
    if (shape === 'pink') {
      noise = white * PINK_DIRECT;
      for (let k = 0; k < PINK_POLES.length; k += 1) {
        state[k] = PINK_POLES[k][0] * state[k] + white * PINK_POLES[k][1];
        noise += state[k];
      }
      noise *= PINK_SCALE;
    }
    const v = pcm[i] + Math.round(noise);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/**
 * A copy of `pcm` less its mean: the DC offset a cheap converter or an analogue gateway puts
 * on a line, taken out before the speech is looked for and decoded; the same array where the
 * offset is under one step. Telephone speech (300-3400 Hz) has no mean of its own over an
 * utterance. Real French commands with an offset of 4000 (-18 dBFS) were heard right in 7 of
 * 16 clips instead of 15: the offset counted in every frame's level, by which the speech is
 * framed and a quiet line raised, and it was decoded with the words.
 */
export function withoutDc(pcm: Int16Array): Int16Array {
  let sum = 0;
  for (let i = 0; i < pcm.length; i += 1) sum += pcm[i];
  const mean = pcm.length === 0 ? 0 : Math.round(sum / pcm.length);
  if (mean === 0) return pcm;
  const out = new Int16Array(pcm.length);
  for (let i = 0; i < pcm.length; i += 1) {
    const v = pcm[i] - mean;
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/** The level a quiet line is raised to: the RMS of its loudest tenth of 20-ms frames (about -18 dBFS). */
export const LINE_LEVEL = 4000;

/** The most a quiet line is raised: 24 dB. */
const MAX_GAIN = 16;

/**
 * A copy of `pcm` (16 kHz) raised so that the RMS of its loudest tenth of 20-ms frames is at
 * least `level`; a line already that loud, or silent, is returned as it is (never lowered).
 *
 * The line noise above is added at a fixed level, so on a quiet line (a weak mobile, a
 * handset held away) it was 15 dB closer to the speech than on a normal one, and both
 * models heard quiet callers worst of all (the French store's development callers on a
 * -26 dBFS line: 69 % right, against 77-95 % in the other conditions). Raised first, they
 * got 76 % (docs/benchmarks.md); lowering loud lines as well did worse. Only the 8-kHz
 * models' audio is raised now: real English digits were heard worse by the wideband US
 * English model with it (pocketsphinx.ts).
 */
export function raiseQuietLine(pcm: Int16Array, level = LINE_LEVEL): Int16Array {
  const rms = frameLevels(pcm, 320);
  if (rms.length === 0) return pcm;
  rms.sort((a, b) => a - b);
  const loud = rms[Math.floor(rms.length * 0.9)];
  if (loud < 1 || loud >= level) return pcm;
  const gain = Math.min(MAX_GAIN, level / loud);
  const out = new Int16Array(pcm.length);
  for (let i = 0; i < pcm.length; i += 1) {
    const v = Math.round(pcm[i] * gain);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/** The RMS of each whole frame of `frame` samples. */
export function frameLevels(pcm: Int16Array, frame: number): number[] {
  const levels: number[] = [];
  for (let i = 0; i + frame <= pcm.length; i += frame) {
    let sum = 0;
    for (let j = i; j < i + frame; j += 1) sum += pcm[j] * pcm[j];
    levels.push(Math.sqrt(sum / frame));
  }
  return levels;
}

/**
 * Cepstral mean normalization taken over the caller's speech and a little quiet around it,
 * not over every frame the decoder hears.
 *
 * The decoders hear the speech framed with 250 ms of quiet before it and 350 ms after
 * (speech-span.ts: a weak onset or release lies under the level that finds the speech).
 * PocketSphinx's batch CMN averages all of those frames, so that a word of 0.4 s is
 * normalized by a mean that is more than half quiet, and a sentence of 3 s by one that is
 * a sixth quiet: the shorter the word, the further its cepstra lie from the model's. With
 * the mean taken over the speech and 100 ms either side (`CMN_MARGIN_MS`, the French
 * telephone model), real single French words cut out of sentences were heard right 72.8 ->
 * 78.9 % (five a store), real French commands 93.3 -> 92.2 % (docs/benchmarks.md).
 */

/** Quiet taken into the mean on either side of the speech (ms). */
export const CMN_MARGIN_MS = 100;

/**
 * Subtracts from every frame of `cepstra` (frames of `width` coefficients, c0 first) the
 * mean of frames `from` (inclusive) to `to` (exclusive), leaving out of the mean, as
 * sphinxbase's batch CMN does, frames of negative energy (c0 < 0: digital silence).
 * A range outside the frames is clipped to them; where it holds no frame, all are used.
 */
export function subtractMean(cepstra: Float32Array, width: number, from: number, to: number): void {
  const frames = Math.floor(cepstra.length / width);
  if (frames === 0) return;
  let first = Math.max(0, Math.min(frames, Math.round(from)));
  let last = Math.max(first, Math.min(frames, Math.round(to)));
  if (last === first) [first, last] = [0, frames];
  const mean = new Float64Array(width);
  let used = 0;
  for (let f = first; f < last; f++) {
    if (cepstra[f * width] < 0) continue;
    used++;
    for (let c = 0; c < width; c++) mean[c] += cepstra[f * width + c];
  }
  if (used === 0) return;
  for (let c = 0; c < width; c++) mean[c] /= used;
  for (let f = 0; f < frames; f++) for (let c = 0; c < width; c++) cepstra[f * width + c] -= mean[c];
}

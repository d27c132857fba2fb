/**
 * Sample-rate conversion to the recognizer's 16 kHz: a windowed-sinc (Kaiser-free,
 * Blackman) interpolator, band-limited to the lower of the two Nyquist rates.
 */
const HALF_TAPS = 16;

export function resample(input: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (fromRate === toRate) return input;
  const ratio = toRate / fromRate;
  const outLength = Math.floor(input.length * ratio);
  const out = new Int16Array(outLength);
  const cutoff = Math.min(1, ratio) * 0.95; // fraction of the input Nyquist kept
  const taps = Math.ceil(HALF_TAPS / Math.min(1, ratio));
  for (let n = 0; n < outLength; n += 1) {
    const t = n / ratio;
    const centre = Math.floor(t);
    let acc = 0;
    let norm = 0;
    for (let k = centre - taps + 1; k <= centre + taps; k += 1) {
      const x = t - k;
      const w = 0.42 + 0.5 * Math.cos((Math.PI * x) / taps) + 0.08 * Math.cos((2 * Math.PI * x) / taps);
      const arg = Math.PI * x * cutoff;
      const sinc = arg === 0 ? 1 : Math.sin(arg) / arg;
      const h = sinc * w;
      norm += h;
      if (k >= 0 && k < input.length) acc += input[k] * h;
    }
    const v = Math.round(acc / norm);
    out[n] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

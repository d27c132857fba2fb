/**
 * Sample-rate conversion (to the recognizer's 16 kHz, to 8 kHz for prompts): a windowed-sinc
 * (Blackman) interpolator, band-limited to the lower of the two Nyquist rates. The filter
 * depends only on the fractional position of each output sample, of which a rational
 * ratio L/M has L: those coefficients are computed once per pair of rates.
 */
const HALF_TAPS = 16;
const MAX_PHASES = 4096;

interface Filter {
  /** Output samples per cycle of phases (L) and input samples per cycle (M). */
  up: number;
  down: number;
  taps: number;
  /** For phase p: 2*taps coefficients for input k = centre - taps + 1 ... centre + taps, normalised. */
  coefficients: Float64Array;
}

const filters = new Map<string, Filter>();

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function coefficient(x: number, taps: number, cutoff: number): number {
  const w = 0.42 + 0.5 * Math.cos((Math.PI * x) / taps) + 0.08 * Math.cos((2 * Math.PI * x) / taps);
  const arg = Math.PI * x * cutoff;
  return (arg === 0 ? 1 : Math.sin(arg) / arg) * w;
}

function filterFor(fromRate: number, toRate: number): Filter | undefined {
  const key = `${fromRate}:${toRate}`;
  const known = filters.get(key);
  if (known !== undefined) return known;
  const g = gcd(fromRate, toRate);
  const up = toRate / g;
  const down = fromRate / g;
  if (up > MAX_PHASES) return undefined;
  const ratio = toRate / fromRate;
  const cutoff = Math.min(1, ratio) * 0.95; // fraction of the input Nyquist kept
  const taps = Math.ceil(HALF_TAPS / Math.min(1, ratio));
  const coefficients = new Float64Array(up * 2 * taps);
  for (let p = 0; p < up; p += 1) {
    const frac = ((p * down) % up) / up;
    let norm = 0;
    for (let j = 0; j < 2 * taps; j += 1) norm += coefficient(frac + taps - 1 - j, taps, cutoff);
    for (let j = 0; j < 2 * taps; j += 1) coefficients[p * 2 * taps + j] = coefficient(frac + taps - 1 - j, taps, cutoff) / norm;
  }
  const filter = { up, down, taps, coefficients };
  filters.set(key, filter);
  return filter;
}

export function resample(input: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (fromRate === toRate) return input;
  const filter = filterFor(fromRate, toRate);
  if (filter === undefined) return resampleDirect(input, fromRate, toRate);
  const { up, down, taps, coefficients } = filter;
  const outLength = Math.floor((input.length * up) / down);
  const out = new Int16Array(outLength);
  const width = 2 * taps;
  for (let n = 0; n < outLength; n += 1) {
    const centre = Math.floor((n * down) / up);
    const base = (n % up) * width;
    const first = centre - taps + 1;
    let acc = 0;
    if (first >= 0 && first + width <= input.length) {
      for (let j = 0; j < width; j += 1) acc += input[first + j] * coefficients[base + j];
    } else {
      for (let j = 0; j < width; j += 1) {
        const k = first + j;
        if (k >= 0 && k < input.length) acc += input[k] * coefficients[base + j];
      }
    }
    const v = Math.round(acc);
    out[n] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/** The same filter computed per sample, for rate pairs with too many phases to tabulate. */
function resampleDirect(input: Int16Array, fromRate: number, toRate: number): Int16Array {
  const ratio = toRate / fromRate;
  const outLength = Math.floor(input.length * ratio);
  const out = new Int16Array(outLength);
  const cutoff = Math.min(1, ratio) * 0.95;
  const taps = Math.ceil(HALF_TAPS / Math.min(1, ratio));
  for (let n = 0; n < outLength; n += 1) {
    const t = n / ratio;
    const centre = Math.floor(t);
    let acc = 0;
    let norm = 0;
    for (let k = centre - taps + 1; k <= centre + taps; k += 1) {
      const h = coefficient(t - k, taps, cutoff);
      norm += h;
      if (k >= 0 && k < input.length) acc += input[k] * h;
    }
    const v = Math.round(acc / norm);
    out[n] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

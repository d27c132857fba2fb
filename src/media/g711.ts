/** ITU-T G.711 µ-law and A-law, both directions, by table. */

/** The two laws, by their RTP/SDP names. */
export type Codec = 'PCMU' | 'PCMA';

function ulawToLinear(u: number): number {
  const v = ~u & 0xff;
  const sign = v & 0x80;
  const exponent = (v >> 4) & 0x07;
  const mantissa = v & 0x0f;
  const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return sign !== 0 ? -magnitude : magnitude;
}

function alawToLinear(a: number): number {
  const v = a ^ 0x55;
  const sign = v & 0x80;
  const exponent = (v >> 4) & 0x07;
  const mantissa = v & 0x0f;
  let magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  magnitude = sign !== 0 ? magnitude : -magnitude;
  return magnitude;
}

const ULAW_TABLE = Int16Array.from({ length: 256 }, (_, i) => ulawToLinear(i));
const ALAW_TABLE = Int16Array.from({ length: 256 }, (_, i) => alawToLinear(i));

export function decodeUlaw(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i += 1) out[i] = ULAW_TABLE[bytes[i]];
  return out;
}

export function decodeAlaw(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i += 1) out[i] = ALAW_TABLE[bytes[i]];
  return out;
}

export function encodeUlawSample(sample: number): number {
  const BIAS = 0x84;
  const CLIP = 32635;
  let s = Math.max(-CLIP, Math.min(CLIP, sample));
  const sign = s < 0 ? 0x80 : 0;
  if (sign !== 0) s = -s;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent -= 1;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

export function encodeAlawSample(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, sample)) >> 3;
  const sign = s >= 0 ? 0x80 : 0;
  if (s < 0) s = -s - 1;
  let exponent = 0;
  let value: number;
  if (s < 32) value = s >> 1;
  else {
    exponent = 1;
    let t = s >> 5;
    while (t > 1 && exponent < 7) {
      t >>= 1;
      exponent += 1;
    }
    value = (s >> exponent) & 0x0f;
  }
  return (sign | (exponent << 4) | value) ^ 0x55;
}

export function encodeUlaw(pcm: Int16Array): Uint8Array {
  return Uint8Array.from(pcm, encodeUlawSample);
}

export function encodeAlaw(pcm: Int16Array): Uint8Array {
  return Uint8Array.from(pcm, encodeAlawSample);
}

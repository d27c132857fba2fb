import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { Reader } from 'wav';
import { decodeAlaw, decodeUlaw } from './g711';
import { resample } from './resample';

/**
 * Reads a WAV file of any common rate (8 kHz telephone audio included), mono or
 * stereo, 8/16/24/32-bit PCM, float, µ-law or A-law, into 16 kHz mono PCM.
 */

export interface WavFormat {
  audioFormat: number;
  channels: number;
  sampleRate: number;
  bitDepth: number;
  float?: boolean;
  ulaw?: boolean;
  alaw?: boolean;
}

export interface DecodedAudio {
  pcm: Int16Array;
  sampleRate: number;
  source: { encoding: string; sampleRate: number; channels: number };
}

export async function readAudioFile(path: string, targetRate = 16000): Promise<DecodedAudio> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new Error(`${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  return decodeWav(bytes, path, targetRate);
}

export function decodeWav(bytes: Buffer, name: string, targetRate = 16000): Promise<DecodedAudio> {
  return new Promise((resolve, reject) => {
    const reader = new Reader();
    let format: WavFormat | undefined;
    const chunks: Buffer[] = [];
    reader.on('format', (f: WavFormat) => {
      format = f;
    });
    reader.on('data', (chunk: Buffer) => chunks.push(chunk));
    reader.on('error', (err: Error) => reject(new Error(`${name}: not a WAV file this can read (${err.message})`)));
    reader.on('end', () => {
      if (format === undefined) {
        reject(new Error(`${name}: not a WAV file (no fmt chunk)`));
        return;
      }
      try {
        const data = Buffer.concat(chunks);
        const { mono, encoding } = toMono(data, format, name);
        resolve({
          pcm: resample(mono, format.sampleRate, targetRate),
          sampleRate: targetRate,
          source: { encoding, sampleRate: format.sampleRate, channels: format.channels },
        });
      } catch (err) {
        reject(err);
      }
    });
    Readable.from([bytes]).pipe(reader);
  });
}

function toMono(data: Buffer, format: WavFormat, name: string): { mono: Int16Array; encoding: string } {
  const { channels, bitDepth } = format;
  if (channels < 1 || channels > 8) throw new Error(`${name}: ${channels} channels is not supported`);
  if (format.sampleRate < 4000 || format.sampleRate > 192000) {
    throw new Error(`${name}: a sample rate of ${format.sampleRate} Hz is not supported`);
  }
  let samples: Int16Array;
  let encoding: string;
  if (format.ulaw === true || format.audioFormat === 7) {
    samples = decodeUlaw(data);
    encoding = 'mulaw';
  } else if (format.alaw === true || format.audioFormat === 6) {
    samples = decodeAlaw(data);
    encoding = 'alaw';
  } else if (format.float === true || format.audioFormat === 3) {
    const n = Math.floor(data.length / (bitDepth / 8));
    samples = new Int16Array(n);
    for (let i = 0; i < n; i += 1) {
      const v = bitDepth === 64 ? data.readDoubleLE(i * 8) : data.readFloatLE(i * 4);
      samples[i] = Math.max(-32768, Math.min(32767, Math.round(v * 32767)));
    }
    encoding = `float${bitDepth}`;
  } else if (format.audioFormat === 1 || format.audioFormat === 0xfffe) {
    const bytesPer = bitDepth / 8;
    if (![1, 2, 3, 4].includes(bytesPer)) throw new Error(`${name}: ${bitDepth}-bit PCM is not supported`);
    const n = Math.floor(data.length / bytesPer);
    samples = new Int16Array(n);
    for (let i = 0; i < n; i += 1) {
      const o = i * bytesPer;
      if (bytesPer === 1) samples[i] = (data[o] - 128) << 8;
      else if (bytesPer === 2) samples[i] = data.readInt16LE(o);
      else if (bytesPer === 3) samples[i] = data.readIntLE(o, 3) >> 8;
      else samples[i] = data.readInt32LE(o) >> 16;
    }
    encoding = `pcm${bitDepth}`;
  } else {
    throw new Error(`${name}: WAV audio format ${format.audioFormat} is not supported (use PCM, µ-law or A-law)`);
  }
  if (channels === 1) return { mono: samples, encoding };
  const frames = Math.floor(samples.length / channels);
  const mono = new Int16Array(frames);
  for (let i = 0; i < frames; i += 1) {
    let sum = 0;
    for (let c = 0; c < channels; c += 1) sum += samples[i * channels + c];
    mono[i] = Math.round(sum / channels);
  }
  return { mono, encoding };
}

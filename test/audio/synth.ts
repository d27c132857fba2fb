import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Synthetic caller audio for tests and benchmarks: espeak-ng or flite speaks a line,
 * sox passes it through a telephone channel (300-3400 Hz band, 8 kHz, G.711) with
 * optional noise, and the file is cached under .cache/audio by its parameters.
 */

export type Synth = 'espeak' | 'flite';
/** clean; noisy (pink noise); fast speech; gsm (through a GSM 06.10 mobile leg); quiet (a weak line, -26 dBFS). */
export type Condition = 'clean' | 'noisy' | 'fast' | 'gsm' | 'quiet';

export interface Utterance {
  text: string;
  synth: Synth;
  /** espeak-ng voice ("fr", "en-us+f3") or flite voice ("slt"). */
  voice: string;
  condition: Condition;
  /** Words per minute for espeak-ng; flite's speed follows the condition. */
  rate?: number;
  pitch?: number;
  /** Noise level as a fraction of full scale for the noisy condition. */
  noise?: number;
  encoding?: 'u-law' | 'a-law' | 'signed-integer';
}

export const CACHE_DIR = join(__dirname, '..', '..', '..', '.cache', 'audio');

/** v2: sox's dither is repeatable (-R), so that the same utterance is the same audio on every machine. */
export function utteranceKey(u: Utterance): string {
  return createHash('sha1').update('v2').update(JSON.stringify(u)).digest('hex').slice(0, 16);
}

/** The path of the utterance's telephone-band WAV, made on first use. */
export async function synthesize(u: Utterance, dir = CACHE_DIR): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${utteranceKey(u)}.wav`);
  if (existsSync(out)) return out;
  const raw = `${out}.raw.wav`;
  const fast = u.condition === 'fast';
  if (u.synth === 'espeak') {
    const rate = u.rate ?? (fast ? 230 : 160);
    await run('espeak-ng', ['-v', u.voice, '-s', String(rate), '-p', String(u.pitch ?? 50), '-w', raw, u.text]);
  } else {
    const stretch = fast ? '0.72' : '1.0';
    await run('flite', ['-voice', u.voice, '--setf', `duration_stretch=${stretch}`, '-t', u.text, '-o', raw]);
  }
  const encoding = u.encoding ?? 'u-law';
  const bits = encoding === 'signed-integer' ? '16' : '8';
  const tmp = `${out}.tmp.wav`;
  // Telephone channel: 300-3400 Hz, a little silence around the speech, 8 kHz, G.711.
  const effects = ['pad', '0.25', '0.35', 'sinc', '300-3400', 'rate', '8000'];
  if (u.condition === 'noisy') {
    const noise = `${out}.noise.wav`;
    const { stdout } = await run('soxi', ['-D', raw]);
    const seconds = (Number(stdout.trim()) + 0.6).toFixed(2);
    await run('sox', [
      '-R',
      '-n',
      '-r',
      '8000',
      '-c',
      '1',
      noise,
      'synth',
      seconds,
      'pinknoise',
      'vol',
      String(u.noise ?? 0.05),
      'sinc',
      '300-3400',
    ]);
    const speech = `${out}.speech.wav`;
    await run('sox', ['-R', raw, '-r', '8000', '-c', '1', speech, ...effects.slice(0, 5), 'norm', '-3']);
    await run('sox', ['-R', '-m', speech, noise, '-e', encoding, '-b', bits, tmp, 'trim', '0', seconds]);
    await run('rm', ['-f', noise, speech]);
  } else if (u.condition === 'gsm') {
    const gsm = `${out}.gsm`;
    await run('sox', ['-R', raw, '-r', '8000', '-c', '1', gsm, ...effects.slice(0, 5), 'norm', '-3']);
    await run('sox', ['-R', gsm, '-e', encoding, '-b', bits, tmp]);
    await run('rm', ['-f', gsm]);
  } else {
    const level = u.condition === 'quiet' ? '-26' : '-3';
    await run('sox', ['-R', raw, '-r', '8000', '-c', '1', '-e', encoding, '-b', bits, tmp, ...effects.slice(0, 5), 'norm', level]);
  }
  await run('rm', ['-f', raw]);
  renameSync(tmp, out);
  return out;
}

/**
 * A caller's short answer (« oui », "yes") said by espeak-ng `voice`, with 1 s of the line
 * after it, as sipp plays it to a question: written to `path`, which is returned.
 */
export async function callerAnswer(text: string, voice: string, path: string): Promise<string> {
  const said = await synthesize({ text, synth: 'espeak', voice, condition: 'clean' });
  await promisify(execFile)('sox', [said, path, 'pad', '0', '1']);
  return path;
}

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Lexicon } from '../../src/asr/lexicon';
import { encodeUlaw } from '../../src/media/g711';

const run = promisify(execFile);

/**
 * Recordings of real people (not a synthesizer) for tests and benchmarks, from the shared
 * folder beside the project (never shipped), made into what a PBX hands attendant: 8 kHz,
 * 300-3400 Hz, G.711 µ-law, with what a line puts around a word.
 */

export const REAL_SPEECH_DIR = process.env.ATTENDANT_REAL_SPEECH ?? join(__dirname, '..', '..', '..', '..', 'shared', 'real-speech');
const CACHE = join(__dirname, '..', '..', '..', '.cache', 'real-speech');

export interface RealClip {
  source: string;
  file: string;
  path: string;
  /** What was said; `<OOV>`: something outside any list (a rejection test). */
  transcript: string;
  speaker: string;
  seconds: number;
}

/** The sources there are, by folder name; empty (with the reason printed) when the folder is absent. */
export function realSources(what: string): string[] {
  if (!existsSync(REAL_SPEECH_DIR)) {
    console.log(`skipped: ${what}: no real speech in ${REAL_SPEECH_DIR}`);
    return [];
  }
  return ['fr-speech-to-phrase', 'fr-voxforge', 'fr-fleurs', 'en-fsdd'].filter((s) =>
    existsSync(join(REAL_SPEECH_DIR, s, 'transcripts.tsv')),
  );
}

export function loadRealSource(source: string): RealClip[] {
  const dir = join(REAL_SPEECH_DIR, source);
  const lines = readFileSync(join(dir, 'transcripts.tsv'), 'utf8').split('\n').slice(1);
  return lines
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const [file, transcript, speaker, seconds] = line.split('\t');
      return {
        source,
        file,
        path: join(dir, 'wav', file),
        transcript: transcript.trim(),
        speaker: speaker?.trim() || 'unknown',
        seconds: Number(seconds),
      };
    });
}

/**
 * Sources made here with a synthesizer, for what no real recording is at hand: French digits
 * ("un" to "quatre") and single command words (avance, recule, droite, gauche, stop) said by
 * espeak-ng's French voices, male and female, French, Belgian and Swiss, at two rates.
 * Synthetic, so never a figure about real callers; no setting was chosen on them.
 * `npm run bench:real -- --source fr-digits-espeak` (or `fr-commands-espeak`).
 */
export const SYNTHESIZED_SOURCES: Record<string, { words: string[]; voices: string[]; rates: number[] }> = {
  'fr-digits-espeak': {
    words: ['un', 'deux', 'trois', 'quatre'],
    voices: ['fr+m1', 'fr+m3', 'fr+m7', 'fr+f2', 'fr+f4', 'fr-be+m2', 'fr-ch+f1', 'fr+klatt'],
    rates: [150, 190],
  },
  'fr-commands-espeak': {
    words: ['avance', 'recule', 'droite', 'gauche', 'stop'],
    voices: ['fr+m1', 'fr+m3', 'fr+m7', 'fr+f2', 'fr+f4', 'fr-be+m2', 'fr-ch+f1', 'fr+klatt'],
    rates: [150, 190],
  },
};

/** A synthesized source's clips (16 kHz WAVs, made on first use in the cache). */
export async function synthesizedSource(source: string): Promise<RealClip[]> {
  const spec = SYNTHESIZED_SOURCES[source];
  if (spec === undefined) throw new Error(`no synthesized source ${source}`);
  const dir = join(CACHE, source);
  mkdirSync(dir, { recursive: true });
  const clips: RealClip[] = [];
  for (const word of spec.words)
    for (const voice of spec.voices)
      for (const rate of spec.rates) {
        const file = `${word}_${voice.replace('+', '-')}_${rate}.wav`;
        const path = join(dir, file);
        if (!existsSync(path)) {
          const raw = `${path}.${process.pid}.raw.wav`;
          await run('espeak-ng', ['-v', voice, '-s', String(rate), '-w', raw, word]);
          await run('sox', [raw, '-r', '16000', '-c', '1', '-b', '16', `${path}.${process.pid}.wav`]);
          renameSync(`${path}.${process.pid}.wav`, path);
          rmSync(raw, { force: true });
        }
        const { stdout } = await run('soxi', ['-D', path]);
        clips.push({ source, file, path, transcript: word, speaker: voice, seconds: Number(stdout.trim()) });
      }
  return clips;
}

/**
 * Single words cut out of the real French sentences (fr-fleurs, fr-voxforge, fr-speech-to-phrase)
 * at the boundaries a forced alignment finds: short real words, said by several speakers,
 * where the shared folder has none said alone (the nearest thing to callers saying one
 * service's name). Cut from running speech, a word is shorter and more run into its
 * neighbours than one said alone: a harder set, heard by the plain engine beside attendant.
 * `npm run bench:real -- --source fr-words-cut`.
 */
export const CUT_SOURCES: Record<string, { from: Record<string, number> }> = {
  // Words per sentence: more of the long read sentences (several speakers), one of each command (one speaker).
  'fr-words-cut': { from: { 'fr-fleurs': 6, 'fr-voxforge': 3, 'fr-speech-to-phrase': 1 } },
};

/** Common short words never cut out (a service is not named "pour" or "dans"). */
const FUNCTION_WORDS = new Set(
  'alors aussi autre avec avoir cette comme dans depuis donc elle elles entre être leur leurs mais même nous notre pour plus quel quelle sans selon sont tous toute toutes très vous'.split(
    ' ',
  ),
);

/**
 * A cut source's clips (16 kHz WAVs, made on first use in the cache): each sentence aligned
 * to its transcript (pocketsphinx_continuous -time yes, the French model, a grammar of the
 * sentence's words in order, pronounced as a store's names are), then a few of its words of
 * 5 to 10 letters, spread over the sentence, cut with 40 ms either side.
 */
export async function cutSource(source: string, model: { dir: string }, lexicon: Lexicon): Promise<RealClip[]> {
  const spec = CUT_SOURCES[source];
  if (spec === undefined) throw new Error(`no cut source ${source}`);
  const dir = join(CACHE, source);
  mkdirSync(dir, { recursive: true });
  const clips: RealClip[] = [];
  for (const [from, perClip] of Object.entries(spec.from)) {
    if (!existsSync(join(REAL_SPEECH_DIR, from, 'transcripts.tsv'))) continue;
    for (const clip of loadRealSource(from)) {
      if (clip.transcript === '<OOV>') continue;
      const words = clip.transcript
        .toLowerCase()
        .replace(/[’«»"().,;:!?]/g, ' ')
        .split(/[\s-]+/)
        .filter((w) => w !== '');
      const prons = await lexicon.pronounce(words.map((w) => ({ token: w, spelling: w, reading: 'fr' })));
      const known = words.map((w) => prons.get(w)?.[0]);
      if (known.some((p) => p === undefined)) continue;
      const base = `${from}-${clip.file.replace(/\.wav$/, '')}`;
      const segments = await alignSentence(clip, words, known as string[], model, join(dir, base));
      if (segments === undefined) continue;
      const eligible = segments.filter(
        (s) => /^[a-zàâäéèêëîïôöùûüç]{5,10}$/.test(s.word) && !FUNCTION_WORDS.has(s.word) && s.end - s.start >= 0.2,
      );
      const step = eligible.length / Math.min(perClip, eligible.length);
      for (let k = 0; k < Math.min(perClip, eligible.length); k += 1) {
        const seg = eligible[Math.floor(k * step)];
        const file = `${base}-${seg.index}-${seg.word}.wav`;
        const path = join(dir, file);
        if (!existsSync(path)) {
          const from0 = Math.max(0, seg.start - 0.04);
          const tmp = `${path}.${process.pid}.wav`;
          await run('sox', [
            clip.path,
            '-r',
            '16000',
            '-c',
            '1',
            '-b',
            '16',
            tmp,
            'trim',
            from0.toFixed(3),
            (seg.end + 0.04 - from0).toFixed(3),
          ]);
          renameSync(tmp, path);
        }
        const speaker = clip.speaker === 'unknown' ? `${from} ${clip.file.replace(/\.wav$/, '')}` : clip.speaker;
        clips.push({ source, file, path, transcript: seg.word, speaker, seconds: seg.end - seg.start + 0.08 });
      }
    }
  }
  return clips;
}

/** The words of a sentence and their times (seconds), from a forced alignment (cached beside the cut words). */
async function alignSentence(
  clip: RealClip,
  words: string[],
  prons: string[],
  model: { dir: string },
  stem: string,
): Promise<{ word: string; index: number; start: number; end: number }[] | undefined> {
  const saved = `${stem}.align.json`;
  if (existsSync(saved)) return JSON.parse(readFileSync(saved, 'utf8')) as { word: string; index: number; start: number; end: number }[];
  const tokens = words.map((_, i) => `w${i}`);
  writeFileSync(`${stem}.dict`, tokens.map((t, i) => `${t} ${prons[i]}\n`).join(''));
  writeFileSync(`${stem}.gram`, `#JSGF V1.0;\ngrammar sentence;\npublic <s> = ${tokens.join(' ')};\n`);
  await run('sox', [clip.path, '-r', '8000', '-e', 'signed-integer', '-b', '16', '-c', '1', `${stem}.8k.wav`]);
  const { stdout } = await run(
    'pocketsphinx_continuous',
    [
      '-hmm',
      model.dir,
      '-dict',
      `${stem}.dict`,
      '-jsgf',
      `${stem}.gram`,
      '-samprate',
      '8000',
      '-nfft',
      '256',
      '-infile',
      `${stem}.8k.wav`,
      '-time',
      'yes',
      '-logfn',
      '/dev/null',
    ],
    { maxBuffer: 1 << 20 },
  );
  // The alignment is what is kept (below); its inputs are not.
  for (const made of ['8k.wav', 'dict', 'gram']) rmSync(`${stem}.${made}`, { force: true });
  const segments = stdout
    .split('\n')
    .map((l) => /^w(\d+) ([\d.]+) ([\d.]+)/.exec(l.trim()))
    .flatMap((m) => (m === null ? [] : [{ index: Number(m[1]), start: Number(m[2]), end: Number(m[3]) }]))
    .map((s) => ({ ...s, word: words[s.index] }));
  // An alignment that lost words (the sentence split by a long pause, or not found) is not used.
  if (segments.length !== words.length) return undefined;
  writeFileSync(saved, JSON.stringify(segments));
  return segments;
}

/**
 * What surrounds the word on the line:
 * - tight: the clip as recorded, speech from the first sample to the last for most;
 * - silence: 0.5 s of digital silence before, 0.8 s after (a PBX with silence suppression);
 * - comfort: the same padding filled with a PBX's comfort noise, -60 to -45 dBFS;
 * - line: the same padding, and line noise (about -42 dBFS, band-limited) under everything;
 * - long: 2 s of comfort noise before, 2 s after (a caller who waits to speak).
 */
export type Surround = 'tight' | 'silence' | 'comfort' | 'line' | 'long';
export const SURROUNDS: Surround[] = ['tight', 'silence', 'comfort', 'line', 'long'];

export interface LineOptions {
  surround: Surround;
  /**
   * dBFS of the speech's loudest sample (its peak, as a handset's gain or a gateway's pad
   * puts it on the line, unclipped); the recording's own level when absent.
   */
  level?: number;
}

/** A seeded generator (xorshift32) so that the same clip gets the same noise on every machine. */
function noiseSource(seed: string): () => number {
  let s = createHash('sha1').update(seed).digest().readUInt32LE(0) | 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** Gaussian noise of `rms` (linear, of full scale 32768), band-limited to 300-3400 Hz by two one-pole filters. */
function lineNoise(n: number, rms: number, random: () => number): Float64Array {
  const out = new Float64Array(n);
  let hp = 0;
  let prev = 0;
  let lp = 0;
  for (let i = 0; i < n; i += 1) {
    const g = Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
    hp = 0.79 * (hp + g - prev); // ~300 Hz high-pass at 8 kHz
    prev = g;
    lp += 0.93 * (hp - lp); // ~3.4 kHz low-pass
    out[i] = lp;
  }
  let sum = 0;
  for (const v of out) sum += v * v;
  const scale = (rms * 32768) / Math.sqrt(sum / Math.max(1, n));
  for (let i = 0; i < n; i += 1) out[i] *= scale;
  return out;
}

const dbToLinear = (db: number): number => 10 ** (db / 20);

function peakOf(pcm: Int16Array): number {
  let peak = 0;
  for (let i = 0; i < pcm.length; i += 1) peak = Math.max(peak, Math.abs(pcm[i]));
  return peak;
}

/** A µ-law WAV (8 kHz mono) of `pcm`. */
function ulawWav(pcm: Int16Array): Buffer {
  const data = Buffer.from(encodeUlaw(pcm));
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(7, 20); // µ-law
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(8000, 28);
  header.writeUInt16LE(1, 32);
  header.writeUInt16LE(8, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

const banding = new Map<string, Promise<Int16Array>>();

/** The clip band-limited to the telephone band at 8 kHz (16-bit), cached (once at a time per clip). */
function banded(clip: RealClip): Promise<Int16Array> {
  const key = `${clip.source}/${clip.file}`;
  let made = banding.get(key);
  if (made === undefined) {
    made = bandOnce(clip);
    banding.set(key, made);
    made.finally(() => banding.delete(key)).catch(() => undefined);
  }
  return made;
}

async function bandOnce(clip: RealClip): Promise<Int16Array> {
  mkdirSync(CACHE, { recursive: true });
  const out = join(CACHE, `${clip.source}-${clip.file.replace(/\.wav$/, '')}-band.raw`);
  if (!existsSync(out)) {
    const tmp = `${out}.${process.pid}.tmp`;
    await run('sox', [
      '-R',
      clip.path,
      '-t',
      'raw',
      '-r',
      '8000',
      '-c',
      '1',
      '-e',
      'signed-integer',
      '-b',
      '16',
      tmp,
      'sinc',
      '300-3400',
      'rate',
      '8000',
    ]);
    renameSync(tmp, out);
  }
  const bytes = readFileSync(out);
  return new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

/** The path of the clip as a PBX would hand it over (8 kHz µ-law WAV), made on first use. */
export async function telephoneClip(clip: RealClip, options: LineOptions): Promise<string> {
  const key = createHash('sha1')
    .update('v2')
    .update(JSON.stringify({ s: clip.source, f: clip.file, ...options }))
    .digest('hex')
    .slice(0, 16);
  const out = join(CACHE, `${key}.wav`);
  if (existsSync(out)) return out;
  const speech = await banded(clip);
  const random = noiseSource(`${clip.source}/${clip.file}/${options.surround}`);
  const gain = options.level === undefined ? 1 : (dbToLinear(options.level) * 32768) / Math.max(1, peakOf(speech));
  const [before, after] = options.surround === 'tight' ? [0, 0] : options.surround === 'long' ? [2, 2] : [0.5, 0.8];
  const n = Math.round((before + after) * 8000) + speech.length;
  const mix = new Float64Array(n);
  const start = Math.round(before * 8000);
  for (let i = 0; i < speech.length; i += 1) mix[start + i] = speech[i] * gain;
  if (options.surround === 'comfort' || options.surround === 'long') {
    const level = -60 + 15 * random();
    const noise = lineNoise(n, dbToLinear(level), random);
    for (let i = 0; i < n; i += 1) if (i < start || i >= start + speech.length) mix[i] += noise[i];
  } else if (options.surround === 'line') {
    const noise = lineNoise(n, dbToLinear(-42), random);
    for (let i = 0; i < n; i += 1) mix[i] += noise[i];
  }
  const pcm = new Int16Array(n);
  for (let i = 0; i < n; i += 1) pcm[i] = Math.max(-32768, Math.min(32767, Math.round(mix[i])));
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, ulawWav(pcm));
  renameSync(tmp, out);
  return out;
}

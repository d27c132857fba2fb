import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Grammar } from '../../src/asr/grammar';
import { AcousticModel } from '../../src/asr/models';
import { StoreUnderstanding } from '../../src/attendant/understanding';

const run = promisify(execFile);
const CACHE = join(__dirname, '..', '..', '..', '.cache', 'plain-engine');

/**
 * The floor every recognition benchmark is held against: PocketSphinx as a newcomer would
 * run it (`pocketsphinx_continuous -infile`, Debian's package `pocketsphinx`), its default
 * settings, the same acoustic model and the store's own JSGF grammar and dictionary, and
 * none of attendant's processing. Its hypotheses (one per segment its voice-activity
 * detection finds) are joined and taken as they are. Cached by audio, model and grammar.
 */
export async function plainHypothesis(model: AcousticModel, grammar: Grammar, wav: string): Promise<string> {
  mkdirSync(CACHE, { recursive: true });
  const g = join(CACHE, `${grammar.key}.gram`);
  const d = join(CACHE, `${grammar.key}.dict`);
  if (!existsSync(g)) writeFileSync(g, grammar.jsgf);
  if (!existsSync(d)) writeFileSync(d, grammar.dict);
  const key = createHash('sha1').update(readFileSync(wav)).update(model.id).update(grammar.key).digest('hex').slice(0, 20);
  const saved = join(CACHE, `${key}.txt`);
  if (existsSync(saved)) return readFileSync(saved, 'utf8');
  // 16-bit PCM at the model's rate, with the 44-byte header pocketsphinx_continuous checks.
  const pcm = join(CACHE, `${key}.wav`);
  await run('sox', [wav, '-r', String(model.sampleRate), '-e', 'signed-integer', '-b', '16', '-c', '1', pcm]);
  const rate = model.sampleRate === 8000 ? ['-samprate', '8000', '-nfft', '256'] : [];
  const { stdout } = await run(
    'pocketsphinx_continuous',
    ['-hmm', model.dir, '-dict', d, '-jsgf', g, ...rate, '-infile', pcm, '-logfn', '/dev/null'],
    { maxBuffer: 1 << 20 },
  );
  const text = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' ')
    .replace(/\(\d+\)/g, '');
  writeFileSync(`${saved}.tmp`, text);
  renameSync(`${saved}.tmp`, saved);
  await run('rm', ['-f', pcm]);
  return text;
}

/** What the plain engine heard in a call's audio, and the entry the store's matcher finds in it (none: nothing matched). */
export interface PlainHearing {
  text: string;
  entryId?: string;
}

/**
 * The plain engine of a store: its own model (the first of `understanding.models`, found
 * among `models`) and grammar, its hypothesis matched against the directory as attendant's
 * are, the top entry taken as it is.
 */
export function plainEngine(understanding: StoreUnderstanding, models: AcousticModel[]): (wav: string) => Promise<PlainHearing> {
  const model = models.find((m) => m.engine === 'pocketsphinx' && m.id === understanding.models[0]);
  if (model === undefined) throw new Error(`no PocketSphinx model ${understanding.models[0]} for the plain engine`);
  return async (wav) => {
    const text = await plainHypothesis(model, understanding.grammar, wav);
    return { text, entryId: understanding.matcher.rank([{ text, probability: 1 }])[0]?.entry.id };
  };
}

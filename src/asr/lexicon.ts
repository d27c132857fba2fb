import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { promisify } from 'node:util';
import { ipaToCmu } from './phones';
import { Slices } from '../util/slices';

const run = promisify(execFile);

/**
 * Pronunciations for the words a store's grammar uses, in the acoustic model's phone set.
 * English words come from the model's dictionary (CMUdict); names get French and English
 * readings derived from espeak-ng, since callers say "Prodhomme" or "Nguyen" either way.
 */

export type Reading = 'fr' | 'en' | 'both';

export interface WordRequest {
  /** The grammar token: lower-case ASCII, no spaces. */
  token: string;
  /** How the word is written, for espeak-ng ("hervé", "l'accueil"). */
  spelling: string;
  reading: Reading;
}

/** Pronunciations for a grammar's words in one acoustic model's phones. */
export interface Lexicon {
  /** The acoustic model these phones belong to (AcousticModel.id). */
  readonly model: string;
  pronounce(words: WordRequest[]): Promise<Map<string, string[]>>;
}

/**
 * A pronouncing dictionary ("word PHONES", alternates as "word(2) PHONES"): CMUdict for
 * Debian's US English model, which it pronounces for (English words from the dictionary,
 * names from espeak-ng), or a French model's dictionary (FrenchLexicon).
 */
export class Cmudict implements Lexicon {
  private constructor(
    private readonly words: Map<string, string[]>,
    readonly model: string,
  ) {}

  pronounce(words: WordRequest[]): Promise<Map<string, string[]>> {
    return pronounce(words, this);
  }

  /** `model`: the acoustic model whose phones the dictionary uses (Debian's en-us by default). */
  static load(path: string, model = 'en-us'): Cmudict {
    const words = new Map<string, string[]>();
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const space = line.indexOf(' ');
      if (space <= 0) continue;
      const word = line.slice(0, space).replace(/\(\d+\)$/, '');
      const phones = line.slice(space + 1).trim();
      const list = words.get(word);
      if (list === undefined) words.set(word, [phones]);
      else list.push(phones);
    }
    return new Cmudict(words, model);
  }

  /** The dictionary at `path`, or an empty one when it is not installed (espeak-ng then reads every word). */
  static loadIfPresent(path: string): Cmudict {
    return existsSync(path) ? Cmudict.load(path) : new Cmudict(new Map(), 'en-us');
  }

  lookup(word: string): string[] | undefined {
    return this.words.get(word);
  }
}

const ESPEAK_VOICES: Record<'fr' | 'en', string> = { fr: 'fr', en: 'en-us' };
const espeakCache = new Map<string, string>();

/** espeak-ng's IPA for each spelling, one process per batch. */
export async function espeakIpa(spellings: string[], lang: 'fr' | 'en'): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  const missing = [...new Set(spellings)].filter((s) => {
    const cached = espeakCache.get(`${lang}:${s}`);
    if (cached !== undefined) result.set(s, cached);
    return cached === undefined;
  });
  if (missing.length === 0) return result;
  // One word a line, each closed by a full stop, so that espeak-ng answers one line each.
  const input = missing.map((s) => `${s.replace(/[.\n]/g, ' ')}.`).join('\n');
  let stdout: string;
  try {
    // A large batch is a directory being prepared, not a call waiting: it runs on what calls leave.
    ({ stdout } = await runWithInput(
      'espeak-ng',
      ['-q', '--ipa', '-v', ESPEAK_VOICES[lang], '-b', '1'],
      input,
      missing.length >= BACKGROUND_BATCH ? 19 : undefined,
    ));
  } catch (err) {
    throw new Error(
      `espeak-ng could not be run to make pronunciations (${(err as Error).message}); install it: apt-get install espeak-ng`,
      { cause: err },
    );
  }
  const lines = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (lines.length !== missing.length) {
    // Fall back to one call per word when espeak-ng merged or split lines.
    for (const spelling of missing) {
      const { stdout: one } = await run('espeak-ng', ['-q', '--ipa', '-v', ESPEAK_VOICES[lang], spelling]);
      espeakCache.set(`${lang}:${spelling}`, one.trim());
      result.set(spelling, one.trim());
    }
    return result;
  }
  missing.forEach((spelling, i) => {
    espeakCache.set(`${lang}:${spelling}`, lines[i]);
    result.set(spelling, lines[i]);
  });
  return result;
}

/** Words in one espeak-ng batch from which it runs at the lowest CPU priority. */
const BACKGROUND_BATCH = 200;

function runWithInput(cmd: string, args: string[], input: string, nice?: number): Promise<{ stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      if (err) reject(err);
      else resolve({ stdout });
    });
    if (nice !== undefined && child.pid !== undefined) {
      try {
        setPriority(child.pid, nice);
      } catch {
        // it runs at the service's priority
      }
    }
    child.stdin?.end(input, 'utf8');
  });
}

/** Pronunciations (CMU phone strings) for each requested token; every token gets at least one. */
export async function pronounce(words: WordRequest[], cmudict: Cmudict): Promise<Map<string, string[]>> {
  const needFr = words.filter((w) => w.reading !== 'en').map((w) => w.spelling);
  const needEn = words.filter((w) => w.reading !== 'fr').map((w) => w.spelling);
  const [fr, en] = await Promise.all([espeakIpa(needFr, 'fr'), espeakIpa(needEn, 'en')]);
  const out = new Map<string, string[]>();
  const slices = new Slices();
  for (const word of words) {
    if (slices.due) await slices.next();
    const prons = new Set<string>();
    if (word.reading !== 'fr') {
      for (const p of cmudict.lookup(word.token) ?? []) prons.add(p);
      const ipa = en.get(word.spelling);
      if (ipa !== undefined && (prons.size === 0 || word.reading === 'both')) addIpa(prons, ipa);
    }
    if (word.reading !== 'en') {
      const ipa = fr.get(word.spelling);
      if (ipa !== undefined) {
        addIpa(prons, ipa);
        // The second reading drops sounds (r, schwa): kept only when the word stays long
        // enough not to match any short noise ("rui" would become the lone vowel IY).
        const first = ipaToCmu(ipa).length;
        const second = ipaToCmu(ipa, 'second').length;
        if (second >= 3 && second >= 0.7 * first) addIpa(prons, ipa, 'second');
      }
    }
    if (prons.size === 0) throw new Error(`no pronunciation could be made for "${word.spelling}"`);
    out.set(word.token, [...prons].slice(0, 5));
  }
  return out;
}

function addIpa(prons: Set<string>, ipa: string, reading: 'first' | 'second' = 'first'): void {
  const phones = ipaToCmu(ipa, reading);
  if (phones.length > 0) prons.add(phones.join(' '));
}

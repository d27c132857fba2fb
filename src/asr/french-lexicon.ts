import { Cmudict, espeakIpa, Lexicon, WordRequest } from './lexicon';
import { Slices } from '../util/slices';

/**
 * Pronunciations in the 36 phones of the French PocketSphinx models (CMU Sphinx French:
 * `bb ai rr nn aa rr` for "bernard"). French words come from the model's dictionary; every
 * other word (Breton surnames, foreign names, compounds) from espeak-ng's French reading
 * mapped to those phones, with the variants French speakers differ on: a final consonant
 * said or not, Breton "c'h" as a k or an r, "oa" as "wa". English carrier words ("please",
 * "I'd like to speak to") take espeak-ng's English reading in the nearest French phones, and
 * so does every name as a last variant: English callers of a French store, and French
 * callers who say a foreign name the English way, are heard by the French model too
 * (held out: 76.4 % → 83.3 % right; dev 80.8 % → 82.2 %, docs/benchmarks.md).
 */

/** espeak-ng IPA (French and English voices) to the French model's phones. Longest match first. */
const IPA_TO_FRENCH: [string, string][] = [
  ['tʃ', 'tt ch'],
  ['dʒ', 'dd jj'],
  ['aɪ', 'aa yy'],
  ['eɪ', 'ei yy'],
  ['ɔɪ', 'au yy'],
  ['aʊ', 'aa ou'],
  ['oʊ', 'oo'],
  ['əʊ', 'oo'],
  ['ɪə', 'ii ee'],
  ['eə', 'ai rr'],
  ['ʊə', 'ou ee'],
  ['ɜːɹ', 'eu rr'],
  ['ɑ̃', 'an'],
  ['ɛ̃', 'in'],
  ['ɔ̃', 'on'],
  ['œ̃', 'un'],
  ['ã', 'an'],
  ['õ', 'on'],
  ['ẽ', 'in'],
  ['ɜː', 'eu rr'],
  ['ɝ', 'eu rr'],
  ['ɚ', 'ee rr'],
  ['ɜ', 'eu'],
  ['i', 'ii'],
  ['ɪ', 'ii'],
  ['ᵻ', 'ii'],
  ['e', 'ei'],
  ['ɛ', 'ai'],
  ['æ', 'aa'],
  ['a', 'aa'],
  ['ɑ', 'aa'],
  ['ɐ', 'aa'],
  ['ɒ', 'au'],
  ['ɔ', 'au'],
  ['o', 'oo'],
  ['ʊ', 'ou'],
  ['u', 'ou'],
  ['ʌ', 'oe'],
  ['ə', 'ee'],
  ['y', 'uu'],
  ['ʏ', 'uu'],
  ['ø', 'eu'],
  ['œ', 'oe'],
  ['ɘ', 'ee'],
  ['ɵ', 'eu'],
  ['p', 'pp'],
  ['b', 'bb'],
  ['t', 'tt'],
  ['d', 'dd'],
  ['k', 'kk'],
  ['ɡ', 'gg'],
  ['g', 'gg'],
  ['f', 'ff'],
  ['v', 'vv'],
  ['θ', 'ss'],
  ['ð', 'zz'],
  ['s', 'ss'],
  ['z', 'zz'],
  ['ʃ', 'ch'],
  ['ʒ', 'jj'],
  ['x', 'rr'],
  ['χ', 'rr'],
  ['ç', 'ch'],
  ['m', 'mm'],
  ['n', 'nn'],
  ['ŋ', 'nn gg'],
  ['ɲ', 'gn'],
  ['l', 'll'],
  ['ɫ', 'll'],
  ['ʎ', 'll yy'],
  ['ʁ', 'rr'],
  ['ɹ', 'rr'],
  ['r', 'rr'],
  ['ɾ', 'rr'],
  ['w', 'ww'],
  ['ɥ', 'uy'],
  ['j', 'yy'],
  ['ʍ', 'ww'],
];

/** Marks that carry no phone: stress, length, syllable breaks, ties, espeak's word joiners. */
const IGNORED = /^(?:[ˈˌː.‿\-_'’ʔh]|\u0361)$/u;

/** One espeak-ng IPA transcription in French model phones; espeak's "(en)"/"(fr)" switches are dropped. */
export function ipaToFrench(ipa: string): string[] {
  const text = ipa.normalize('NFC').replace(/\((?:en|fr)\)/g, '');
  const phones: string[] = [];
  let i = 0;
  outer: while (i < text.length) {
    if (text[i] === ' ' || IGNORED.test(text[i])) {
      i += 1;
      continue;
    }
    for (const [symbol, french] of IPA_TO_FRENCH) {
      if (text.startsWith(symbol, i)) {
        phones.push(...french.split(' '));
        i += symbol.length;
        continue outer;
      }
    }
    i += 1;
  }
  return phones.filter((phone, index) => index === 0 || phone !== phones[index - 1]);
}

/**
 * Breton and regional spellings espeak-ng's French rules misread (or hand to its English
 * voice: "Coat", "Floc'h"), rewritten to a French spelling of how they are said.
 */
export function bretonSpellings(spelling: string): string[] {
  const s = spelling.toLowerCase();
  const out = new Set<string>();
  if (/c['’]h/.test(s)) {
    out.add(s.replace(/c['’]h/g, 'k'));
    out.add(s.replace(/c['’]h/g, 'r'));
  }
  if (/oa/.test(s)) out.add(s.replace(/c['’]h/g, 'k').replace(/oa/g, 'oua'));
  if (/^ker/.test(s)) out.add(s.replace(/^ker/, 'kère'));
  if (/ou[aeiéè]/.test(s) && !/qu/.test(s)) out.add(s.replace(/ou([aeiéè])/g, 'w$1'));
  return [...out].filter((x) => x !== s);
}

/** Last letters that French leaves silent but a Breton or foreign name often sounds. */
const SOUNDED_FINALS: Record<string, string> = { t: 'tt', d: 'dd', s: 'ss', z: 'zz', x: 'kk ss', c: 'kk', g: 'gg', p: 'pp' };

export class FrenchLexicon implements Lexicon {
  constructor(
    readonly model: string,
    private readonly dictionary: Cmudict,
  ) {}

  /** The French dictionary's readings of a spelling, or undefined when it lacks the word. */
  lookup(spelling: string): string[] | undefined {
    const s = spelling.toLowerCase().replace(/’/g, "'");
    return this.dictionary.lookup(s) ?? this.dictionary.lookup(s.normalize('NFC'));
  }

  async pronounce(words: WordRequest[]): Promise<Map<string, string[]>> {
    const frenchWords = words.filter((w) => w.reading !== 'en' && this.lookup(w.spelling) === undefined);
    const englishWords = words.filter((w) => (w.reading === 'en' && this.lookup(w.spelling) === undefined) || w.reading === 'both');
    const rewrites = new Map(frenchWords.map((w) => [w.spelling, bretonSpellings(w.spelling)]));
    const [fr, en] = await Promise.all([
      espeakIpa([...frenchWords.map((w) => w.spelling), ...[...rewrites.values()].flat()], 'fr'),
      espeakIpa(
        englishWords.map((w) => w.spelling),
        'en',
      ),
    ]);
    const out = new Map<string, string[]>();
    const slices = new Slices();
    for (const word of words) {
      if (slices.due) await slices.next();
      const prons = new Set<string>();
      const known = this.lookup(word.spelling);
      if (known !== undefined) for (const p of known.slice(0, 3)) prons.add(p);
      else if (word.reading === 'en') add(prons, en.get(word.spelling));
      else {
        const ipa = fr.get(word.spelling);
        // espeak's English voice took the word: its own reading goes after the French rewrites.
        const english = ipa !== undefined && ipa.includes('(en)');
        if (!english) add(prons, ipa);
        for (const r of rewrites.get(word.spelling) ?? []) add(prons, fr.get(r));
        if (english || prons.size === 0) add(prons, ipa);
        const first = [...prons][0];
        const final = SOUNDED_FINALS[word.spelling.toLowerCase().slice(-1)];
        if (first !== undefined && final !== undefined && !first.endsWith(final) && word.spelling.length > 3)
          prons.add(`${first} ${final}`);
      }
      if (prons.size === 0) throw new Error(`no French pronunciation could be made for "${word.spelling}"`);
      // A name is also heard as an English speaker says it (espeak-ng's English reading in
      // French phones), after at most three French readings.
      const readings = new Set([...prons].slice(0, word.reading === 'both' ? 3 : 4));
      if (word.reading === 'both') add(readings, en.get(word.spelling));
      out.set(word.token, [...readings]);
    }
    return out;
  }
}

function add(prons: Set<string>, ipa: string | undefined): void {
  if (ipa === undefined) return;
  const phones = ipaToFrench(ipa);
  if (phones.length > 0) prons.add(phones.join(' '));
}

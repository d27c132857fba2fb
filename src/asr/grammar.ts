import { createHash } from 'node:crypto';
import { DirectoryEntry, soundsLikeSpellings, spokenForms, spokenWords } from '../directory/entry';
import { ARTICLES, GREETINGS, LEADING_PHRASES, OPERATOR_PHRASES, TITLES, TRAILING_PHRASES, isEnglishCarrier } from './carrier';
import { Lexicon, WordRequest } from './lexicon';
import { Slices } from '../util/slices';

/**
 * A store's recognition grammar: what a caller may say (a JSGF grammar for
 * pocketsphinx, a phrase list for vosk) and how each word sounds.
 *
 * The grammar always finds some name: whether the caller said one is judged apart, by the
 * engine's fit against a free phone loop (pocketsphinx) or its [unk] word (vosk).
 */

/** Prefix of the phone words of the pocketsphinx phone loop, and of vosk's [unk] as reported. */
export const GARBAGE_PREFIX = 'ph_';

export interface Grammar {
  /** Content hash: recognizers cache their decoders by it. */
  key: string;
  jsgf: string;
  /** pocketsphinx dictionary text, "word PHONES" lines, alternates as word(2). */
  dict: string;
  /** Every directory phrase and carrier word, for engines that take a phrase list (vosk). */
  phrases: string[];
  /** The acoustic model the dictionary's phones belong to (AcousticModel.id); absent: Debian's en-us. */
  model?: string;
  /**
   * 'name': one name of a store, heard again to compare two models' guesses (crossHearing):
   * many, small and short-lived, so a worker keeps their decoders apart from the stores'.
   */
  kind?: 'name';
}

/** Tokens in the recognizer's output that stand for carrier words, never for a name. */
export function carrierTokens(): Set<string> {
  const tokens = new Set<string>();
  for (const phrase of [...LEADING_PHRASES, ...GREETINGS, ...ARTICLES, ...TITLES, ...TRAILING_PHRASES, ...OPERATOR_PHRASES]) {
    for (const w of spokenWords(phrase)) tokens.add(w.token);
  }
  return tokens;
}

export async function buildGrammar(entries: DirectoryEntry[], lexicon: Lexicon): Promise<Grammar> {
  const words = new Map<string, WordRequest>();
  const want = (text: string, reading: WordRequest['reading']): string => {
    const tokens = spokenWords(text);
    for (const { token, spelling } of tokens) {
      const known = words.get(token);
      if (known === undefined) words.set(token, { token, spelling, reading });
      else if (known.reading !== reading) known.reading = 'both';
    }
    return tokens.map((t) => t.token).join(' ');
  };
  const carrierReading = (phrase: string): WordRequest['reading'] => (isEnglishCarrier(phrase) ? 'en' : 'fr');
  const alternatives = (phrases: string[]): string =>
    [...new Set(phrases.map((p) => want(p, carrierReading(p))).filter((p) => p !== ''))].join(' | ');

  // People by full name, or by last name with an optional title; services with an optional article.
  const names = new Set<string>();
  const lastNames = new Set<string>();
  const services = new Set<string>();
  const slices = new Slices();
  for (const entry of entries) {
    if (slices.due) await slices.next();
    if (!entry.enabled) continue;
    for (const form of spokenForms(entry)) {
      const phrase = want(form, 'both');
      if (phrase === '') continue;
      if (entry.type === 'service') services.add(phrase);
      else if (form === entry.lastName) lastNames.add(phrase);
      else names.add(phrase);
    }
  }
  for (const phrase of [...lastNames, ...services]) names.add(phrase);
  // A directory that names a service like an operator phrase ("Standard") keeps it.
  const operatorPhrases = OPERATOR_PHRASES.filter(
    (p) =>
      !names.has(
        spokenWords(p)
          .map((w) => w.token)
          .join(' '),
      ),
  );
  if (names.size === 0) throw new Error('the directory has no enabled entry to recognize');

  // JSGF has no empty alternative: a rule is only written, and only referred to, when it has phrases
  // (a store of people alone has no <service>, one of services alone no <last_name>).
  const fullNames = [...names].filter((n) => !lastNames.has(n) && !services.has(n));
  const nameParts = [
    ...fullNames,
    ...(lastNames.size > 0 ? ['[<title>] <last_name>'] : []),
    ...(services.size > 0 ? ['[<article>] <service>'] : []),
  ];
  const operators = alternatives(operatorPhrases);
  const jsgf = [
    '#JSGF V1.0;',
    'grammar store;',
    `public <utterance> = [<greeting>] [<leading>] <target> [<trailing>];`,
    `<greeting> = ${alternatives(GREETINGS)};`,
    `<leading> = ${alternatives(LEADING_PHRASES)};`,
    `<trailing> = ${alternatives(TRAILING_PHRASES)};`,
    operators === '' ? '<target> = <name>;' : '<target> = <name> | <operator>;',
    ...(operators === '' ? [] : [`<operator> = ${operators};`]),
    `<name> = ${nameParts.join(' | ')};`,
    ...(lastNames.size > 0 ? [`<title> = ${alternatives(TITLES)};`, `<last_name> = ${[...lastNames].join(' | ')};`] : []),
    ...(services.size > 0 ? [`<article> = ${alternatives(ARTICLES)};`, `<service> = ${[...services].join(' | ')};`] : []),
    '',
  ].join('\n');

  const dict = dictionaryText(await withSoundsLike(await lexicon.pronounce([...words.values()]), entries, lexicon));
  const phrases = [...names, ...[...words.keys()].filter((w) => !names.has(w))];
  return withKey({ jsgf, dict, phrases }, lexicon.model);
}

/**
 * The pronunciations of the words of entries with a "sounds like" spelling, put first: each
 * spelling is read the French way, in the lexicon's phones. The written name's own readings
 * stay after them (some callers read it as written).
 */
export async function withSoundsLike(
  prons: Map<string, string[]>,
  entries: DirectoryEntry[],
  lexicon: Lexicon,
): Promise<Map<string, string[]>> {
  const wanted = new Map<string, Set<string>>();
  for (const entry of entries) {
    if (!entry.enabled || entry.soundsLike === undefined) continue;
    let spellings: Map<string, string>;
    try {
      spellings = soundsLikeSpellings(entry);
    } catch {
      continue; // refused at import; an entry stored before the check is heard as written
    }
    for (const [token, spelling] of spellings) if (prons.has(token)) wanted.set(token, (wanted.get(token) ?? new Set()).add(spelling));
  }
  if (wanted.size === 0) return prons;
  const requests = [...wanted].flatMap(([token, spellings]) =>
    [...spellings].map((spelling, i): WordRequest => ({ token: `${token}__sounds_like_${i}`, spelling, reading: 'fr' })),
  );
  const spoken = await lexicon.pronounce(requests);
  const out = new Map(prons);
  for (const [token, spellings] of wanted) {
    const first = [...spellings].flatMap((_, i) => spoken.get(`${token}__sounds_like_${i}`) ?? []);
    out.set(token, [...new Set([...first, ...(prons.get(token) ?? [])])].slice(0, 6));
  }
  return out;
}

/**
 * What each word of an entry's names will be heard as, per word: for `attendant lexicon`.
 * Same words and readings as the store's grammar.
 */
export async function entryPronunciations(
  entries: DirectoryEntry[],
  lexicon: Lexicon,
): Promise<{ entry: DirectoryEntry; words: { token: string; spelling: string; phones: string[] }[] }[]> {
  const requests = new Map<string, WordRequest>();
  const perEntry = entries.map((entry) => {
    const words = new Map<string, string>();
    for (const form of spokenForms(entry)) for (const w of spokenWords(form)) if (!words.has(w.token)) words.set(w.token, w.spelling);
    for (const [token, spelling] of words) if (!requests.has(token)) requests.set(token, { token, spelling, reading: 'both' });
    return { entry, words };
  });
  const prons = await withSoundsLike(await lexicon.pronounce([...requests.values()]), entries, lexicon);
  return perEntry.map(({ entry, words }) => ({
    entry,
    words: [...words].map(([token, spelling]) => ({ token, spelling, phones: prons.get(token) ?? [] })),
  }));
}

/** Token sequences that ask for the operator, as the grammar spells them. */
export function operatorRequests(): string[][] {
  return OPERATOR_PHRASES.map((p) => spokenWords(p).map((w) => w.token));
}

/**
 * A grammar of whole phrases, any one of which may be said: the answers to a question
 * ("oui", "non", a department name). Same dictionary rules as a store's grammar.
 */
export async function buildPhraseGrammar(phrases: { text: string; reading: WordRequest['reading'] }[], lexicon: Lexicon): Promise<Grammar> {
  const words = new Map<string, WordRequest>();
  const alternatives = new Set<string>();
  for (const { text, reading } of phrases) {
    const tokens = spokenWords(text);
    for (const { token, spelling } of tokens) {
      const known = words.get(token);
      if (known === undefined) words.set(token, { token, spelling, reading });
      else if (known.reading !== reading) known.reading = 'both';
    }
    const phrase = tokens.map((t) => t.token).join(' ');
    if (phrase !== '') alternatives.add(phrase);
  }
  if (alternatives.size === 0) throw new Error('a phrase grammar needs at least one phrase');
  const jsgf = ['#JSGF V1.0;', 'grammar answers;', `public <utterance> = ${[...alternatives].join(' | ')};`, ''].join('\n');
  const dict = dictionaryText(await lexicon.pronounce([...words.values()]));
  return withKey({ jsgf, dict, phrases: [...alternatives] }, lexicon.model);
}

/** A grammar keyed by its content and model; Debian's en-us model is the one a grammar without `model` uses. */
function withKey(parts: Omit<Grammar, 'key' | 'model'>, model: string): Grammar {
  const key = createHash('sha256').update(model).update(parts.jsgf).update(parts.dict).digest('hex').slice(0, 16);
  return model === 'en-us' ? { key, ...parts } : { key, ...parts, model };
}

/** pocketsphinx dictionary lines, sorted, alternates as word(2), word(3)... */
function dictionaryText(prons: Map<string, string[]>): string {
  const lines: string[] = [];
  for (const [token, list] of [...prons.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    list.forEach((phonesText, i) => lines.push(`${i === 0 ? token : `${token}(${i + 1})`} ${phonesText}`));
  }
  return `${lines.join('\n')}\n`;
}

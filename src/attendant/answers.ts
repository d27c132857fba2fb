import { buildPhraseGrammar, Grammar } from '../asr/grammar';
import { Cmudict } from '../asr/lexicon';
import { RecognitionResult } from '../asr/recognizer';
import { DirectoryEntry, normalizeText } from '../directory/entry';
import { SERVICE_SYNONYMS } from '../directory/service-words';
import { Answer } from './flow';
import { fitToBelief } from './understanding';

/**
 * Answers to attendant's questions, in French and English: yes or no to "Did you say …?",
 * and a department or "the first/second" to "Paul Martin in bakery, or in optics?".
 */

const YES = { fr: ['oui', "oui c'est ça", "c'est ça", 'exactement', 'tout à fait', "d'accord", 'oui merci'], en: ['yes', 'yeah', 'yes please', 'correct', "that's right"] };
const NO = { fr: ['non', 'non merci', "ce n'est pas ça", 'pas du tout'], en: ['no', 'nope', 'no thanks', 'wrong'] };
const ORDINALS = {
  fr: [
    ['le premier', 'la première', 'premier', 'le numéro un'],
    ['le deuxième', 'la deuxième', 'le second', 'deuxième', 'le numéro deux'],
    ['le troisième', 'troisième', 'le numéro trois'],
    ['le quatrième', 'quatrième', 'le numéro quatre'],
  ],
  en: [
    ['the first one', 'first', 'number one'],
    ['the second one', 'second', 'number two'],
    ['the third one', 'third', 'number three'],
    ['the fourth one', 'fourth', 'number four'],
  ],
};
/** "No" to a choice: short words only; longer French phrases swallowed department names. */
const NO_CHOICE = { fr: ['non'], en: ['no', 'neither'] };

/** Below this belief (see fitToBelief) an answer is taken as unclear rather than guessed. */
export const ANSWER_MIN_BELIEF = 0.3;

export interface AnswerGrammar {
  grammar: Grammar;
  interpret(result: RecognitionResult): Answer;
}

const tokensOf = (text: string): string => normalizeText(text);

function interpretWith(phrases: Map<string, Answer>, result: RecognitionResult): Answer {
  const best = result.nbest[0]?.text;
  if (best === undefined) return { kind: 'unclear' };
  if (result.fit !== undefined && fitToBelief(result.fit, result.fitCalibration) < ANSWER_MIN_BELIEF) return { kind: 'unclear' };
  return phrases.get(tokensOf(best.replace(/<\/?s>|<sil>|\[\w+\]|\+\w+\+/g, ' '))) ?? { kind: 'unclear' };
}

async function grammarFor(phrases: Map<string, { answer: Answer; reading: 'fr' | 'en' | 'both' }>, cmudict: Cmudict): Promise<AnswerGrammar> {
  const grammar = await buildPhraseGrammar([...phrases].map(([text, p]) => ({ text, reading: p.reading })), cmudict);
  const byTokens = new Map<string, Answer>();
  for (const [text, p] of phrases) byTokens.set(tokensOf(text), p.answer);
  return { grammar, interpret: (result) => interpretWith(byTokens, result) };
}

/** Yes or no, in French and English (callers switch languages). */
export async function confirmAnswers(cmudict: Cmudict): Promise<AnswerGrammar> {
  const phrases = new Map<string, { answer: Answer; reading: 'fr' | 'en' | 'both' }>();
  for (const lang of ['fr', 'en'] as const) {
    for (const p of YES[lang]) phrases.set(p, { answer: { kind: 'yes' }, reading: lang });
    for (const p of NO[lang]) phrases.set(p, { answer: { kind: 'no' }, reading: lang });
  }
  return grammarFor(phrases, cmudict);
}

/** The choices of a disambiguation: each one's department, or its rank ("le deuxième"), or no. */
export async function choiceAnswers(choices: DirectoryEntry[], cmudict: Cmudict): Promise<AnswerGrammar> {
  const phrases = new Map<string, { answer: Answer; reading: 'fr' | 'en' | 'both' }>();
  choices.forEach((entry, index) => {
    const answer: Answer = { kind: 'choice', index };
    if (entry.department.trim() !== '') {
      phrases.set(entry.department, { answer, reading: 'both' });
      phrases.set(`${entry.department} s'il vous plaît`, { answer, reading: 'fr' });
      // "Boulangerie" is also "bakery" to an English-speaking caller.
      for (const synonym of SERVICE_SYNONYMS[normalizeText(entry.department)] ?? []) if (!phrases.has(synonym)) phrases.set(synonym, { answer, reading: 'both' });
    }
    for (const lang of ['fr', 'en'] as const) for (const p of ORDINALS[lang][index] ?? []) if (!phrases.has(p)) phrases.set(p, { answer, reading: lang });
  });
  for (const lang of ['fr', 'en'] as const) for (const p of NO_CHOICE[lang]) if (!phrases.has(p)) phrases.set(p, { answer: { kind: 'no' }, reading: lang });
  return grammarFor(phrases, cmudict);
}

import { DirectoryEntry, displayName } from '../../src/directory/entry';
import { Condition, Synth, Utterance } from './synth';

/**
 * A synthetic caller set for a directory: who calls, in which voice, saying what,
 * and what attendant should decide. Deterministic for a given seed.
 */

export interface Expectation {
  /** entry: one entry is meant; homonym: any of `ids` (a disambiguation is right); absent: nobody here. */
  kind: 'entry' | 'homonym' | 'absent';
  ids: string[];
}

export interface Call {
  utterance: Utterance;
  expect: Expectation;
  language: 'fr' | 'en';
}

export interface VoiceSet {
  espeakFr: string[];
  espeakEn: string[];
  flite: string[];
}

/** Voices the thresholds were tuned with. */
export const DEV_VOICES: VoiceSet = {
  espeakFr: ['fr', 'fr+m3', 'fr+f2', 'fr-be+f4', 'fr+Alex', 'fr+m1', 'fr+f3', 'fr+klatt', 'fr+michel', 'fr-be+m6'],
  espeakEn: ['en-us', 'en-us+f1', 'en-gb+m1', 'en-us+Annie'],
  flite: ['slt', 'rms'],
};

/** Voices kept out of tuning, for the held-out measure. */
export const HELDOUT_VOICES: VoiceSet = {
  espeakFr: ['fr-ch+m7', 'fr+f5', 'fr+edward', 'fr-be+grandpa', 'fr+norbert', 'fr-ch+f1'],
  espeakEn: ['en-gb-scotland+f3', 'en-029+m2', 'en-us+boris', 'en-gb-x-rp+f5'],
  flite: ['awb', 'kal16'],
};

/**
 * A second held-out set, for a store never heard before (Breton names, directory-fixtures/
 * fresh-store.csv): voices, phrasings and absent names used nowhere else. Nothing was chosen
 * on it; it is run once per change that claims to generalize.
 */
export const FRESH_VOICES: VoiceSet = {
  espeakFr: ['fr+m4', 'fr+m5', 'fr+Andy', 'fr+Denis', 'fr+max', 'fr+linda', 'fr-be+m8', 'fr-ch+Jacky'],
  espeakEn: ['en-us+paul', 'en-gb+david', 'en-us+anika', 'en-gb-scotland+john'],
  flite: ['kal'],
};

export const FRESH_PHRASES = {
  fr: ["{name} s'il vous plaît", 'Bonjour, je voudrais {name}', 'Est-ce que je peux parler à {name} ?', 'Je voudrais joindre {name}'],
  en: ['{name}, please', 'May I speak to {name}?', 'I need {name}', 'Connect me to {name}, please'],
};

export const FRESH_ABSENT = [
  'Corentin Le Page',
  'Gwenola Tréguer',
  'Martin Lebrun',
  'Sophie Kervarec',
  'la mercerie',
  'the bakery',
  'Jean-Claude Duval',
  'Lucie Tanneau',
  'Samir Bouzid',
  'Ewen Le Moal',
  'Paul Newman',
  'la poste',
  'Bernadette Rivière',
  'Yves Le Goff',
  'Marie Curie',
  'Tiphaine Guillou',
];

export const DEV_PHRASES = {
  fr: [
    '{name}',
    "{name}, s'il vous plaît",
    'Je voudrais parler à {name}',
    "Bonjour, je voudrais parler à {name}, s'il vous plaît",
    'Passez-moi {name}',
  ],
  en: ['{name}', '{name} please', "I'd like to speak to {name}", 'Can I speak to {name}, please?', 'Hi, could I talk to {name}?'],
};

export const HELDOUT_PHRASES = {
  fr: ['Oui bonjour, {name}', 'Pourrais-je parler à {name} ?', 'Je cherche {name}', 'Je souhaiterais parler à {name}, merci'],
  en: ['Hello, {name}', "I'm looking for {name}", 'Could I speak to {name}?', 'Put me through to {name}, thanks'],
};

export const DEV_ABSENT = [
  'Bernard Lemoine',
  'Georges Moulin',
  'Fabrice Leclerc',
  'Xavier Poulain',
  'Mélanie Joly',
  'Rachid Belkacem',
  'Jacqueline Vasseur',
  'Kevin Thibault',
  'Océane Marty',
  'Yves Charpentier',
  'Brigitte Collet',
  'Hugo Legrand',
  'la librairie',
  'le fleuriste',
  'the car wash',
  'Madame Poirier',
  'Monsieur Jacob',
  'Alain Besson',
  'Denis Carpentier',
  'Patricia Huet',
  'Samuel Lacroix',
  'Ingrid Olsen',
  'Tony Wong',
  'Roberto Bianchi',
];

export const HELDOUT_ABSENT = [
  'Léa Bouchard',
  'Maxime Delattre',
  'Francis Cabrel',
  'Emma Watson',
  'la quincaillerie',
  'the bookshop',
  'Gérard Menard',
  'Nina Petrova',
  'Hakim Ziani',
  'Sarah Cohen',
  'Arnaud Lebrun',
  'Julia Roberts',
  'Olga Ivanova',
  'Pascal Obispo',
  'le pressing',
  'Jérôme Pichon',
];

class Random {
  constructor(private state: number) {}
  next(): number {
    this.state = (this.state * 1664525 + 1013904223) >>> 0;
    return this.state / 2 ** 32;
  }
  pick<T>(list: T[]): T {
    return list[Math.floor(this.next() * list.length)];
  }
}

const CONDITIONS: Condition[] = ['clean', 'noisy', 'fast', 'gsm', 'quiet'];

export interface CallerSetOptions {
  voices: VoiceSet;
  phrases: { fr: string[]; en: string[] };
  absent: string[];
  perEntry: number;
  seed: number;
  /** Share of callers speaking English (a French store: few); 0.35 when absent. */
  english?: number;
}

export function buildCallerSet(entries: DirectoryEntry[], options: CallerSetOptions): Call[] {
  const random = new Random(options.seed);
  const enabled = entries.filter((e) => e.enabled);
  const byName = new Map<string, DirectoryEntry[]>();
  for (const e of enabled) {
    const key = displayName(e).toLowerCase();
    byName.set(key, [...(byName.get(key) ?? []), e]);
  }
  const calls: Call[] = [];
  let turn = 0;
  const voiceFor = (language: 'fr' | 'en'): { synth: Synth; voice: string } => {
    turn += 1;
    if (language === 'en' && turn % 3 === 0) return { synth: 'flite', voice: random.pick(options.voices.flite) };
    return { synth: 'espeak', voice: random.pick(language === 'fr' ? options.voices.espeakFr : options.voices.espeakEn) };
  };
  const say = (name: string, expect: Expectation, index: number): void => {
    const language: 'fr' | 'en' = random.next() < (options.english ?? 0.35) ? 'en' : 'fr';
    const phrase = random.pick(options.phrases[language]).replace('{name}', name);
    const condition = CONDITIONS[calls.length % CONDITIONS.length];
    void index;
    const { synth, voice } = voiceFor(language);
    // Voices vary in pitch and speed too, as callers do.
    const pitch = synth === 'espeak' ? 35 + Math.floor(random.next() * 31) : undefined;
    const rate = synth === 'espeak' && condition !== 'fast' ? 140 + Math.floor(random.next() * 41) : undefined;
    calls.push({ utterance: { text: phrase, synth, voice, condition, noise: 0.04 + random.next() * 0.04, pitch, rate }, expect, language });
  };
  for (const entry of enabled) {
    const homonyms = byName.get(displayName(entry).toLowerCase()) ?? [entry];
    const expect: Expectation =
      homonyms.length > 1 ? { kind: 'homonym', ids: homonyms.map((e) => e.id) } : { kind: 'entry', ids: [entry.id] };
    for (let i = 0; i < options.perEntry; i += 1) {
      const names = entry.type === 'service' ? [entry.serviceName, ...entry.aliases] : [displayName(entry), ...entry.aliases];
      const name = i === 0 ? names[0] : random.pick(names);
      say(name, expect, i);
    }
  }
  options.absent.forEach((name, i) => say(name, { kind: 'absent', ids: [] }, i));
  return calls;
}

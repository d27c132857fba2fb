import { SERVICE_SYNONYMS } from './service-words';

/** One person or service in a store's directory (DESIGN.md, "Directory files"). */
export type EntryType = 'person' | 'service';

export interface DirectoryEntry {
  id: string;
  type: EntryType;
  firstName: string;
  lastName: string;
  serviceName: string;
  department: string;
  extension: string;
  aliases: string[];
  enabled: boolean;
  /**
   * How the name is said, spelled the French way, when the written name misleads ("Le Goff"
   * sounds like "le gof", "Kerhervé" like "kèr erv é"): for a person the last name (or the
   * whole name), for a service its name. Absent when the written name is enough.
   */
  soundsLike?: string;
}

/** The name a caller hears in a confirmation: "Paul Martin", "Pharmacie". */
export function displayName(entry: DirectoryEntry): string {
  if (entry.type === 'service') return entry.serviceName;
  return [entry.firstName, entry.lastName].filter((part) => part !== '').join(' ');
}

/** Every spelling a caller may use for an entry: its name and its aliases. */
export function spokenForms(entry: DirectoryEntry): string[] {
  const forms = new Set<string>();
  if (entry.type === 'service') {
    forms.add(entry.serviceName);
  } else {
    forms.add(displayName(entry));
    forms.add(entry.lastName);
    if (entry.firstName !== '') forms.add(`${entry.lastName} ${entry.firstName}`);
  }
  for (const alias of entry.aliases) forms.add(alias);
  if (entry.type === 'service') {
    for (const form of [...forms]) for (const synonym of SERVICE_SYNONYMS[normalizeText(form)] ?? []) forms.add(synonym);
  }
  return [...forms].filter((form) => normalizeText(form) !== '');
}

/**
 * The form every comparison uses: lower case, no accents, apostrophes and
 * punctuation gone, single spaces ("L'Accueil " -> "laccueil", "Hervé" -> "herve").
 */
export function normalizeText(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/œ/g, 'oe')
    .replace(/æ/g, 'ae')
    .replace(/['’`]/g, '')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/** Words of a text as the grammar sees them, each with its written form for pronunciation. */
export function spokenWords(text: string): { token: string; spelling: string }[] {
  return text
    .replace(/[-_/]+/g, ' ')
    .split(/\s+/)
    .map((spelling) => spelling.toLowerCase().replace(/[^\p{L}\p{N}'’]/gu, ''))
    .map((spelling) => ({ token: normalizeText(spelling).replace(/ /g, ''), spelling }))
    .filter((w) => w.token !== '');
}

/**
 * The spelling each word of an entry's name is said as, from its `soundsLike`: one spelling
 * word per name word, or any number of them for a one-word name (read together). For a
 * person the spelling covers the last name, or the first and last names when it has as many
 * words as both. Throws with a message for the admin when the words do not line up.
 */
export function soundsLikeSpellings(entry: DirectoryEntry): Map<string, string> {
  const out = new Map<string, string>();
  const spelling = spokenWords(entry.soundsLike ?? '');
  if (spelling.length === 0) return out;
  const candidates = entry.type === 'service' ? [entry.serviceName] : [entry.lastName, displayName(entry)];
  for (const name of candidates) {
    const words = spokenWords(name);
    if (words.length === spelling.length) {
      words.forEach((w, i) => out.set(w.token, spelling[i].spelling));
      return out;
    }
    if (words.length === 1) {
      out.set(words[0].token, spelling.map((w) => w.spelling).join(' '));
      return out;
    }
  }
  const name = entry.type === 'service' ? entry.serviceName : entry.lastName;
  throw new Error(`"${entry.soundsLike}" has ${spelling.length} word${spelling.length === 1 ? '' : 's'} where "${name}" has ${spokenWords(name).length}: give one spelling per word of the name`);
}

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

/** The name a voice reads to the caller: a person's in its usual case (usualCase), a service's as written ("SAV"). */
export function spokenName(entry: DirectoryEntry): string {
  return entry.type === 'person' ? usualCase(displayName(entry)) : displayName(entry);
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

/**
 * A name in its usual case, as a voice should read it: back offices export surnames in
 * capitals ("LE BIHAN", "GUIVARC'H"), which espeak-ng spells out letter by letter ("L-E
 * Bihan"). Each word written all in capitals gets a capital and small letters ("Le Bihan"),
 * French particles inside a name small ("DE LA TOUR" -> "de la Tour" after a first name),
 * the Breton "c'h" kept small ("Guivarc'h"), and a letter after another apostrophe a
 * capital ("O'NEILL" -> "O'Neill", "D'ARTAGNAN" -> "d'Artagnan" inside a name). Words in
 * mixed case ("McDonald", "van der Berg") are left as written.
 */
export function usualCase(text: string): string {
  let index = 0;
  return text.replace(/[\p{L}'’]+/gu, (word) => {
    const first = index === 0;
    index += 1;
    const letters = word.replace(/['’]/g, '');
    if (letters.length < 2 || letters !== letters.toUpperCase() || letters === letters.toLowerCase()) return word;
    const lower = word.toLowerCase();
    if (!first && PARTICLES.has(lower)) return lower;
    return lower
      .split(/(['’])/)
      .map((part, i, parts) => {
        if (part === "'" || part === '’' || part === '') return part;
        if (i === 0) return !first && parts.length > 1 && PARTICLES.has(`${part}'`) ? part : capitalize(part);
        // c'h is one Breton letter: "Guivarc'h", "C'hoant".
        if (part.startsWith('h') && parts[i - 2]?.endsWith('c')) return part;
        return capitalize(part);
      })
      .join('');
  });
}

const PARTICLES = new Set(['de', 'du', 'des', 'la', "d'", 'von', 'van', 'der', 'den']);
const capitalize = (w: string): string => w.charAt(0).toUpperCase() + w.slice(1);

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
  throw new Error(
    `"${entry.soundsLike}" has ${spelling.length} word${spelling.length === 1 ? '' : 's'} where "${name}" has ${spokenWords(name).length}: give one spelling per word of the name`,
  );
}

import { normalizeText } from './entry';

/**
 * A phonetic key for French and English names, so that spellings that sound alike
 * meet: Dupont/Dupond, Lefèvre/Lefebvre, Philippe/Filipe, Nguyen/Ngyuen, Gauthier/Gautier.
 * Rules are applied in order on the normalized text, word by word.
 */
const RULES: [RegExp, string][] = [
  [/ph/g, 'f'],
  [/th/g, 't'],
  [/gh/g, 'g'],
  [/sch/g, 'ch'],
  [/ck/g, 'k'],
  [/qu/g, 'k'],
  [/q/g, 'k'],
  [/c([eiy])/g, 's$1'],
  [/ch/g, '§'],
  [/sh/g, '§'],
  [/c/g, 'k'],
  [/x/g, 'ks'],
  [/z/g, 's'],
  [/w/g, 'v'],
  [/y/g, 'i'],
  [/bv/g, 'v'],
  [/gn/g, 'n'],
  [/g([ei])/g, 'j$1'],
  [/eau/g, 'o'],
  [/au/g, 'o'],
  [/ou/g, 'u'],
  [/oi/g, 'va'],
  [/[ae]i/g, 'e'],
  [/(er|ez|et|es)$/g, 'e'],
  [/(on|om)(?=[^aeiou]|$)/g, 'o'],
  [/(an|am|en|em)(?=[^aeiou]|$)/g, 'a'],
  [/(in|im|ain|ein)(?=[^aeiou]|$)/g, 'e'],
  [/h/g, ''],
  [/(.)\1+/g, '$1'],
  [/(?<=.)[dtsxp]$/g, ''],
  [/(?<=..)e$/g, ''],
];

export function phoneticKey(text: string): string {
  return normalizeText(text)
    .split(' ')
    .filter((w) => w !== '')
    .map((word) => RULES.reduce((w, [pattern, replacement]) => w.replace(pattern, replacement), word))
    .join(' ');
}

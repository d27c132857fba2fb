import { DirectoryEntry } from '../../src/directory/entry';

/** Synthetic directories for benchmarks: many people, as a large store's export holds. */

const FIRST = [
  'Paul',
  'Sophie',
  'Jean',
  'Claire',
  'Hervé',
  'Nadia',
  'Karim',
  'Yann',
  'Minh',
  'Léa',
  'Hugo',
  'Inès',
  'Lucas',
  'Manon',
  'Thi',
  'Rui',
  'Ana',
  'Moussa',
  'Piotr',
  'Zoé',
];
const LAST = [
  'Martin',
  'Dupont',
  'Dupond',
  'Lefebvre',
  'Nguyen',
  'Le Goff',
  'Kerjean',
  'Prodhomme',
  'Benali',
  'Diallo',
  'Haddad',
  'Traoré',
  'Da Silva',
  'Ferreira',
  'Tran',
  'Moreau',
  'Garnier',
  'Fontaine',
  'Rousseau',
  'Chevalier',
];

export function bigDirectory(n: number): DirectoryEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `p${i}`,
    type: 'person' as const,
    firstName: FIRST[i % FIRST.length],
    lastName: `${LAST[Math.floor(i / FIRST.length) % LAST.length]}${i >= 400 ? `-${Math.floor(i / 400)}` : ''}`,
    serviceName: '',
    department: `D${i % 30}`,
    extension: String(10000 + i),
    aliases: [],
    enabled: true,
  }));
}

/** `n` people with made-up Breton-like surnames, nearly all different (as many words as a real directory). */
export function bretonDirectory(n: number): DirectoryEntry[] {
  const syllables = [
    'ker',
    'le',
    'goff',
    'bras',
    'gall',
    'roux',
    'moal',
    'quer',
    'ven',
    'nec',
    'dan',
    'tre',
    'guen',
    'mor',
    'ic',
    'hel',
    'pen',
    'ros',
    'lan',
    'bihan',
    'cor',
    'nou',
    'ar',
    'vel',
  ];
  const surname = (i: number): string => {
    let text = '';
    let x = i * 7919 + 13;
    for (let k = 0; k < 3; k += 1) {
      text += syllables[x % syllables.length];
      x = Math.floor(x / syllables.length) + k * 31;
    }
    return text[0].toUpperCase() + text.slice(1);
  };
  return bigDirectory(n).map((e, i) => ({ ...e, lastName: surname(i) }));
}

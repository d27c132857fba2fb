/**
 * espeak-ng IPA to the CMU/ARPAbet phone set of the US English acoustic model.
 * French sounds the model lacks take the nearest English phones (nasal vowels
 * become vowel + N, the French r becomes R, y becomes UW).
 */
const IPA_TO_CMU: [string, string][] = [
  // diphthongs and r-coloured vowels first: longest match wins
  ['eɪ', 'EY'],
  ['aɪ', 'AY'],
  ['ɔɪ', 'OY'],
  ['aʊ', 'AW'],
  ['oʊ', 'OW'],
  ['əʊ', 'OW'],
  ['ɪə', 'IH R'],
  ['eə', 'EH R'],
  ['ʊə', 'UH R'],
  ['ɜːɹ', 'ER'],
  ['ɜː', 'ER'],
  ['ɝ', 'ER'],
  ['ɚ', 'ER'],
  ['tʃ', 'CH'],
  ['dʒ', 'JH'],
  ['ɑ̃', 'AA N'],
  ['ɛ̃', 'AE N'],
  ['ɔ̃', 'OW N'],
  ['œ̃', 'AE N'],
  ['ã', 'AA N'],
  ['õ', 'OW N'],
  ['ẽ', 'AE N'],
  // vowels
  ['iː', 'IY'],
  ['i', 'IY'],
  ['ɪ', 'IH'],
  ['ᵻ', 'IH'],
  ['eː', 'EY'],
  ['e', 'EY'],
  ['ɛː', 'EH'],
  ['ɛ', 'EH'],
  ['æ', 'AE'],
  ['aː', 'AA'],
  ['a', 'AA'],
  ['ɑː', 'AA'],
  ['ɑ', 'AA'],
  ['ɒ', 'AA'],
  ['ɔː', 'AO'],
  ['ɔ', 'AO'],
  ['oː', 'OW'],
  ['o', 'OW'],
  ['ʊ', 'UH'],
  ['uː', 'UW'],
  ['u', 'UW'],
  ['ʌ', 'AH'],
  ['ə', 'AH'],
  ['ɐ', 'AH'],
  ['ɜ', 'ER'],
  ['yː', 'UW'],
  ['y', 'UW'],
  ['ʏ', 'UH'],
  ['øː', 'ER'],
  ['ø', 'ER'],
  ['œ', 'ER'],
  ['ɘ', 'AH'],
  ['ɵ', 'ER'],
  // consonants
  ['p', 'P'],
  ['b', 'B'],
  ['t', 'T'],
  ['d', 'D'],
  ['k', 'K'],
  ['ɡ', 'G'],
  ['g', 'G'],
  ['f', 'F'],
  ['v', 'V'],
  ['θ', 'TH'],
  ['ð', 'DH'],
  ['s', 'S'],
  ['z', 'Z'],
  ['ʃ', 'SH'],
  ['ʒ', 'ZH'],
  ['h', 'HH'],
  ['x', 'HH'],
  ['χ', 'HH'],
  ['ç', 'HH'],
  ['m', 'M'],
  ['n', 'N'],
  ['ŋ', 'NG'],
  ['ɲ', 'N Y'],
  ['l', 'L'],
  ['ɫ', 'L'],
  ['ʎ', 'L Y'],
  ['ɹ', 'R'],
  ['r', 'R'],
  ['ʁ', 'R'],
  ['ɾ', 'D'],
  ['w', 'W'],
  ['ɥ', 'W'],
  ['j', 'Y'],
  ['ʍ', 'W'],
];

/**
 * Second readings of French sounds as the English model tends to hear them: the uvular r
 * often vanishes, nasal vowels sound like the plain vowel, open o like AA.
 */
const SECOND_READING: Record<string, string> = {
  ʁ: '',
  ɑ̃: 'AA',
  ɛ̃: 'AA',
  ɔ̃: 'AO',
  œ̃: 'AA',
  ã: 'AA',
  õ: 'AO',
  ẽ: 'AA',
  ɔ: 'AA',
  ɔː: 'AA',
  o: 'AO',
  y: 'IY',
  ø: 'UW',
  œ: 'AH',
  ɛ: 'AE',
  e: 'EH',
  ə: '',
};

/** Marks that carry no phone: stress, length, syllable breaks, ties, espeak's word joiners. */
const IGNORED = /^(?:[ˈˌː.‿\-_'’ʔ]|\u0361)$/u;

export const CMU_PHONES = new Set(
  'AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH'.split(' '),
);

/** Converts one espeak-ng IPA transcription to CMU phones; unknown symbols are skipped. */
export function ipaToCmu(ipa: string, reading: 'first' | 'second' = 'first'): string[] {
  // espeak-ng marks a switch of voice with the language in brackets ("lə- (en)ɡˈɔːl(fr)"): not sounds.
  const text = ipa.normalize('NFC').replace(/\([a-z]{2,3}(?:-[a-z]+)?\)/g, '');
  const phones: string[] = [];
  let i = 0;
  outer: while (i < text.length) {
    const ch = text[i];
    if (ch === ' ' || IGNORED.test(ch)) {
      i += 1;
      continue;
    }
    for (const [symbol, cmu] of IPA_TO_CMU) {
      if (text.startsWith(symbol, i)) {
        // a length mark or nasal tilde right after a symbol matched without it is dropped on the next turn
        const second = reading === 'second' ? SECOND_READING[symbol] : undefined;
        const chosen = second ?? cmu;
        if (chosen !== '') phones.push(...chosen.split(' '));
        i += symbol.length;
        continue outer;
      }
    }
    i += 1;
  }
  // two identical phones in a row (espeak's geminates) read as one
  return phones.filter((phone, index) => index === 0 || phone !== phones[index - 1]);
}

/**
 * What callers say around a name, in French and English. The grammar accepts these
 * before and after a directory name; the matcher ignores them.
 */
export const LEADING_PHRASES = [
  // English
  "i'd like to speak to",
  'i would like to speak to',
  "i'd like to talk to",
  'i would like to talk to',
  'can i speak to',
  'could i speak to',
  'may i speak to',
  'can i talk to',
  'could i talk to',
  'i want to speak to',
  'i want to talk to',
  'i need to speak to',
  'i need to talk to',
  'put me through to',
  'connect me to',
  'transfer me to',
  "i'm looking for",
  'i am looking for',
  'can i have',
  'could i have',
  // French
  'je voudrais parler à',
  'je voudrais parler avec',
  'je souhaiterais parler à',
  'je souhaite parler à',
  'je veux parler à',
  'pourrais-je parler à',
  'puis-je parler à',
  'est-ce que je peux parler à',
  'je cherche',
  'je voudrais',
  'je souhaiterais',
  'passez-moi',
  'pouvez-vous me passer',
  'vous pouvez me passer',
  'je voudrais joindre',
  'je dois parler à',
  'mettez-moi en relation avec',
  'bonjour je voudrais parler à',
  'hello i would like to speak to',
  "hello i'd like to speak to",
];

/** Greetings of two syllables or more: shorter words ("oui", "hi") would swallow the start of names. */
export const GREETINGS = ['hello', 'good morning', 'good afternoon', 'bonjour', 'oui bonjour', 'bonsoir'];

/** Said before a service's name only ("la pharmacie", "the pharmacy"). */
export const ARTICLES = ['the', 'le', 'la', 'les', "l'", 'le service', 'au service', 'le rayon', 'au rayon', 'the department'];

/** Said before a person's last name only ("Monsieur Prodhomme"). */
export const TITLES = ['monsieur', 'madame', 'mademoiselle', 'mister', 'missus', 'miss', 'doctor', 'docteur'];

export const TRAILING_PHRASES = ['please', 'thank you', 'thanks', "s'il vous plaît", 'merci', 'merci beaucoup'];

/** Carrier phrases whose words are English (read with the English dictionary). */
export function isEnglishCarrier(phrase: string): boolean {
  return /^(i|i'd|i'm|can|could|may|put|connect|transfer|get|speak|talk|hello|hi|good|yes|the|mister|missus|miss|ms|doctor|please|thank|thanks)\b/.test(
    phrase,
  );
}

/** What a caller says to reach a person at the switchboard rather than a name. */
export const OPERATOR_PHRASES = [
  // Long enough not to be heard in a name: "a human" or "someone" were, in the benchmark.
  'operator',
  'the operator',
  'an operator',
  'a real person',
  'the switchboard',
  'opérateur',
  "l'opérateur",
  'un opérateur',
  'le standard',
  'standardiste',
  'un conseiller',
  'une conseillère',
];

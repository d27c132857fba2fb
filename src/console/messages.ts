import { ConsoleLang } from './sessions';

export { showProblem, where } from '../directory/problem-text';
export type { ShownProblem } from '../directory/problem-text';

/**
 * What the console says, in French (the default) or English: its own errors and decisions'
 * reasons; the directory validation's problems are put in French by directory/problem-text.ts.
 */

/** Why a decision was made (decision.ts, understanding.ts), in French. */
const REASONS_FR: [RegExp, (m: RegExpExecArray) => string][] = [
  [/^the caller asked for the operator$/, () => 'l’appelant a demandé le standard'],
  [/^no directory entry was heard$/, () => 'aucune entrée de l’annuaire n’a été entendue'],
  [/^best match ([\d.]+) is below ([\d.]+)$/, (m) => `le meilleur candidat (${m[1]}) est sous le seuil de confirmation (${m[2]})`],
  [/^(\d+) entries share the name heard$/, (m) => `${m[1]} entrées portent le nom entendu`],
  [/^(\d+) entries are near ties$/, (m) => `${m[1]} entrées sont presque à égalité`],
  [/^clear match$/, () => 'correspondance nette'],
  [/^likely match, to confirm$/, () => 'correspondance probable, à confirmer'],
  [/^the two models heard different entries$/, () => 'les deux modèles ont entendu des entrées différentes'],
];

export function showReason(reason: string, lang: ConsoleLang): string {
  if (lang === 'en') return reason;
  for (const [re, fr] of REASONS_FR) {
    const m = re.exec(reason);
    if (m !== null) return fr(m);
  }
  return reason;
}

/** The console's own messages. */
const TEXTS = {
  signInFirst: { fr: 'Connectez-vous d’abord.', en: 'Sign in first.' },
  badToken: { fr: 'Jeton inconnu ou révoqué.', en: 'Unknown or revoked token.' },
  locked: {
    fr: 'Trop d’échecs de connexion depuis cette adresse ; réessayez dans une minute.',
    en: 'Too many failed sign-ins from this address; try again in a minute.',
  },
  csrf: {
    fr: 'Requête refusée : la page n’est pas celle de votre session (rechargez-la).',
    en: 'Request refused: the page is not your session’s (reload it).',
  },
  otherStore: {
    fr: 'Cette session est celle du magasin « {store} » : elle ne peut ni voir ni changer un autre magasin.',
    en: 'This session is for store "{store}": it cannot see or change another store.',
  },
  noStore: { fr: 'Le magasin « {store} » n’existe pas.', en: 'Store "{store}" does not exist.' },
  tooLarge: {
    fr: 'Fichier trop gros ({size} octets) : la limite est {limit} octets. Rien n’a été lu.',
    en: 'The file is too large ({size} bytes): the limit is {limit} bytes. Nothing was read.',
  },
  notFound: { fr: 'Page introuvable.', en: 'Not found.' },
  noPreview: {
    fr: 'Cet aperçu n’existe plus (15 minutes passées, ou déjà appliqué) ; envoyez le fichier à nouveau.',
    en: 'This preview is gone (15 minutes passed, or already applied); send the file again.',
  },
  problems: { fr: '{n} problème(s) : rien n’a été changé.', en: '{n} problem(s): nothing was changed.' },
  conflict: {
    fr: 'L’annuaire a changé depuis l’aperçu (version {actual}, pas {expected}) ; envoyez le fichier à nouveau.',
    en: 'The directory changed since the preview (version {actual}, not {expected}); send the file again.',
  },
  database: {
    fr: 'La base de l’annuaire est injoignable : rien n’a été changé, réessayez quand elle sera revenue.',
    en: 'The directory database cannot be reached: nothing was changed, try again when it is back.',
  },
  empty: {
    fr: 'Un annuaire doit garder au moins une entrée ; le magasin garde sa version actuelle.',
    en: 'A directory needs at least one entry; the store keeps its current version.',
  },
  noEntry: { fr: 'Aucune entrée « {id} ».', en: 'No entry "{id}".' },
  notReady: {
    fr: 'L’annuaire de ce magasin n’est pas encore prêt (ou il n’a aucune entrée active).',
    en: 'This store’s directory is not ready yet (or it has no enabled entry).',
  },
  audioTooLong: {
    fr: 'Enregistrement trop long ({seconds} s) : un nom se dit en quelques secondes, la limite est {limit} s.',
    en: 'The recording is too long ({seconds} s): a name is said in a few seconds; the limit is {limit} s.',
  },
  noAudio: { fr: 'Ce fichier WAV ne contient pas de son.', en: 'This WAV file holds no sound.' },
  testBusy: {
    fr: 'Un enregistrement est déjà en cours d’écoute, ou des appels sont en cours (ils passent d’abord) : réessayez dans un instant.',
    en: 'A recording is already being heard, or calls are in progress (they come first): try again in a moment.',
  },
  tooManySignIns: {
    fr: 'Trop de connexions en une minute ; réessayez dans une minute.',
    en: 'Too many sign-ins in a minute; try again in a minute.',
  },
  tooManySessions: {
    fr: 'Trop de sessions ouvertes : fermez-en une (Se déconnecter) ou attendez qu’elles expirent.',
    en: 'Too many open sessions: sign out of one, or wait for them to expire.',
  },
  method: { fr: 'Méthode non permise.', en: 'Method not allowed.' },
  badWav: { fr: 'Ce fichier n’est pas un enregistrement WAV lisible : {why}', en: 'This file is not a playable WAV recording: {why}' },
  noVersion: { fr: 'Le magasin n’a pas de version {version}.', en: 'The store has no version {version}.' },
  badPrompt: { fr: 'Message inconnu « {key} ».', en: 'Unknown prompt "{key}".' },
  badRequest: { fr: 'Requête invalide : {why}', en: 'Bad request: {why}' },
  internal: { fr: 'Erreur interne : {why}', en: 'Internal error: {why}' },
  refused: { fr: 'Refusé : {why}', en: 'Refused: {why}' },
} as const;

export type TextKey = keyof typeof TEXTS;

export function say(key: TextKey, lang: ConsoleLang, values: Record<string, string | number> = {}): string {
  return TEXTS[key][lang].replace(/\{(\w+)\}/g, (_, k: string) => String(values[k] ?? ''));
}

import { DirectoryProblem } from '../directory/directory-file';
import { ConsoleLang } from './sessions';

/**
 * What the console says, in French (the default) or English: its own errors, and the
 * problems the directory validation finds (written in English once, for the CLI and gRPC,
 * and put in French here).
 */

const FIELDS_FR: Record<string, string> = {
  id: 'identifiant', type: 'type', first_name: 'prénom', last_name: 'nom', service_name: 'nom du service',
  department: 'rayon', extension: 'poste', aliases: 'alias', enabled: 'actif', sounds_like: 'se prononce',
};

/** Validation messages (directory-file.ts, xlsx.ts) and their French, by pattern. */
const PROBLEMS_FR: [RegExp, (m: RegExpExecArray) => string][] = [
  [/^is empty; every entry needs an id$/, () => 'est vide ; chaque entrée a besoin d’un identifiant'],
  [/^"(.*)" is not a valid id/, (m) => `« ${m[1]} » n’est pas un identifiant valable (1 à 64 caractères parmi A-Z a-z 0-9 _ -)`],
  [/^"(.*)" is not a type; use person or service$/, (m) => `« ${m[1]} » n’est pas un type ; écrivez person ou service`],
  [/^is empty; a person needs a last name$/, () => 'est vide ; une personne a besoin d’un nom'],
  [/^is empty; a service needs a name$/, () => 'est vide ; un service a besoin d’un nom'],
  [/^is empty; every entry needs an extension$/, () => 'est vide ; chaque entrée a besoin d’un poste'],
  [/^"(.*)" is not an extension/, (m) => `« ${m[1]} » n’est pas un numéro de poste (1 à 15 caractères parmi 0-9 * # +, ou une adresse sip:)`],
  [/^"(.*)" has no letter or digit/, (m) => `« ${m[1]} » n’a ni lettre ni chiffre : un appelant ne pourrait pas le dire`],
  [/^must be a list of names$/, () => 'doit être une liste de noms'],
  [/^"(.*)" is not true\/false/, (m) => `« ${m[1]} » n’est ni oui ni non (aussi true/false, 1/0)`],
  [/^"(.*)" is used twice \(first (?:on|in) (.*)\)$/, (m) => `« ${m[1]} » est utilisé deux fois (d’abord ${where(m[2], 'fr')})`],
  [/^"(.*)" appears twice \(first on (.*)\)$/, (m) => `« ${m[1]} » figure deux fois (d’abord ${where(m[2], 'fr')})`],
  [/^must be text, not (.*)$/, (m) => `doit être du texte, pas ${m[1]}`],
  [/^is (\d+) characters long; the limit is (\d+)$/, (m) => `fait ${m[1]} caractères ; la limite est ${m[2]}`],
  [/^holds control characters$/, () => 'contient des caractères de contrôle'],
  [/^holds a formula;/, () => 'contient une formule ; enregistrez la feuille avec les valeurs seulement (copier, collage spécial, valeurs)'],
  [/^holds the Excel error (.*)$/, (m) => `contient l’erreur Excel ${m[1]}`],
  [/^has (\d+) fields? where the header has (\d+)$/, (m) => `a ${m[1]} champ(s) alors que l’en-tête en a ${m[2]}`],
  [/^the header lacks columns? (.*); expected (.*)$/, (m) => `il manque à l’en-tête la ou les colonnes ${m[1]} ; colonnes attendues : ${m[2]}`],
  [/^column "(.*)" appears twice in the header$/, (m) => `la colonne « ${m[1]} » apparaît deux fois dans l’en-tête`],
  [/^the file is empty/, () => 'le fichier est vide ; un annuaire a besoin d’une ligne d’en-tête et d’au moins une entrée'],
  [/^the file has no entries$/, () => 'le fichier ne contient aucune entrée'],
  [/^the file has no header row$/, () => 'le fichier n’a pas de ligne d’en-tête'],
  [/^the file (?:is|has) (\d+) (bytes|entries); the limit is (\d+)/, (m) => `le fichier fait ${m[1]} ${m[2] === 'bytes' ? 'octets' : 'entrées'} ; la limite est ${m[3]}`],
  [/^this is not a text file/, () => 'ce n’est pas un fichier texte ; exportez l’annuaire en CSV, JSON ou Excel (.xlsx)'],
  [/^a quoted field is never closed/, () => 'un champ entre guillemets n’est jamais fermé ; le fichier semble coupé'],
  [/^not valid JSON: (.*)$/, (m) => `JSON invalide : ${m[1]}`],
  [/^this Excel file is damaged or cut short/, () => 'ce fichier Excel est abîmé ou incomplet ; exportez-le à nouveau'],
  [/^this Excel file cannot be read/, () => 'ce fichier Excel ne peut pas être lu ; enregistrez-le à nouveau au format .xlsx'],
  [/^this Excel file unpacks to (\d+) bytes/, (m) => `ce fichier Excel se décompresse en ${m[1]} octets : il est refusé`],
  [/^this file is named \.xlsx but is not an Excel workbook/, () => 'ce fichier porte l’extension .xlsx mais n’est pas un classeur Excel'],
  [/^the workbook has no sheet$/, () => 'le classeur ne contient aucune feuille'],
];

/** "line 4" → "ligne 4", "row 4, cell B4" → "ligne 4 (cellule B4)", "entries[3]" → "entrée 4". */
export function where(text: string | undefined, lang: ConsoleLang): string | undefined {
  if (text === undefined || lang === 'en') return text;
  const row = /^row (\d+)(?:, cell (\w+))?$/.exec(text);
  if (row !== null) return row[2] === undefined ? `ligne ${row[1]}` : `ligne ${row[1]} (cellule ${row[2]})`;
  const line = /^line (\d+)$/.exec(text);
  if (line !== null) return `ligne ${line[1]}`;
  const entry = /^entries\[(\d+)\]$/.exec(text);
  if (entry !== null) return `entrée ${Number(entry[1]) + 1}`;
  return text;
}

export interface ShownProblem {
  where?: string;
  field?: string;
  message: string;
}

export function showProblem(p: DirectoryProblem, lang: ConsoleLang): ShownProblem {
  if (lang === 'en') return { where: p.where, field: p.field, message: p.message };
  const found = PROBLEMS_FR.map(([re, fr]) => [re.exec(p.message), fr] as const).find(([m]) => m !== null);
  return {
    where: where(p.where, lang),
    field: p.field === undefined ? undefined : FIELDS_FR[p.field] ?? p.field,
    message: found === undefined ? p.message : found[1](found[0] as RegExpExecArray),
  };
}

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
  locked: { fr: 'Trop d’échecs de connexion depuis cette adresse ; réessayez dans une minute.', en: 'Too many failed sign-ins from this address; try again in a minute.' },
  csrf: { fr: 'Requête refusée : la page n’est pas celle de votre session (rechargez-la).', en: 'Request refused: the page is not your session’s (reload it).' },
  otherStore: { fr: 'Cette session est celle du magasin « {store} » : elle ne peut ni voir ni changer un autre magasin.', en: 'This session is for store "{store}": it cannot see or change another store.' },
  noStore: { fr: 'Le magasin « {store} » n’existe pas.', en: 'Store "{store}" does not exist.' },
  tooLarge: { fr: 'Fichier trop gros ({size} octets) : la limite est {limit} octets. Rien n’a été lu.', en: 'The file is too large ({size} bytes): the limit is {limit} bytes. Nothing was read.' },
  notFound: { fr: 'Page introuvable.', en: 'Not found.' },
  noPreview: { fr: 'Cet aperçu n’existe plus (15 minutes passées, ou déjà appliqué) ; envoyez le fichier à nouveau.', en: 'This preview is gone (15 minutes passed, or already applied); send the file again.' },
  problems: { fr: '{n} problème(s) : rien n’a été changé.', en: '{n} problem(s): nothing was changed.' },
  conflict: { fr: 'L’annuaire a changé depuis l’aperçu (version {actual}, pas {expected}) ; envoyez le fichier à nouveau.', en: 'The directory changed since the preview (version {actual}, not {expected}); send the file again.' },
  database: { fr: 'La base de l’annuaire est injoignable : rien n’a été changé, réessayez quand elle sera revenue.', en: 'The directory database cannot be reached: nothing was changed, try again when it is back.' },
  empty: { fr: 'Un annuaire doit garder au moins une entrée ; le magasin garde sa version actuelle.', en: 'A directory needs at least one entry; the store keeps its current version.' },
  noEntry: { fr: 'Aucune entrée « {id} ».', en: 'No entry "{id}".' },
  notReady: { fr: 'L’annuaire de ce magasin n’est pas encore prêt (ou il n’a aucune entrée active).', en: 'This store’s directory is not ready yet (or it has no enabled entry).' },
  audioTooLong: { fr: 'Enregistrement trop long ({seconds} s) : un nom se dit en quelques secondes, la limite est {limit} s.', en: 'The recording is too long ({seconds} s): a name is said in a few seconds; the limit is {limit} s.' },
  noAudio: { fr: 'Ce fichier WAV ne contient pas de son.', en: 'This WAV file holds no sound.' },
  testBusy: { fr: 'Un enregistrement est déjà en cours d’écoute, ou les appels occupent la reconnaissance : réessayez dans un instant.', en: 'A recording is already being heard, or calls are keeping the recognizer busy: try again in a moment.' },
  tooManySignIns: { fr: 'Trop de connexions en une minute ; réessayez dans une minute.', en: 'Too many sign-ins in a minute; try again in a minute.' },
  tooManySessions: { fr: 'Trop de sessions ouvertes : fermez-en une (Se déconnecter) ou attendez qu’elles expirent.', en: 'Too many open sessions: sign out of one, or wait for them to expire.' },
  method: { fr: 'Méthode non permise.', en: 'Method not allowed.' },
  badWav: { fr: 'Ce fichier n’est pas un enregistrement WAV lisible : {why}', en: 'This file is not a playable WAV recording: {why}' },
  noVersion: { fr: 'Le magasin n’a pas de version {version}.', en: 'The store has no version {version}.' },
  badPrompt: { fr: 'Message inconnu « {key} ».', en: 'Unknown prompt "{key}".' },
  badRequest: { fr: 'Requête invalide : {why}', en: 'Bad request: {why}' },
  internal: { fr: 'Erreur interne : {why}', en: 'Internal error: {why}' },
} as const;

export type TextKey = keyof typeof TEXTS;

export function say(key: TextKey, lang: ConsoleLang, values: Record<string, string | number> = {}): string {
  return TEXTS[key][lang].replace(/\{(\w+)\}/g, (_, k: string) => String(values[k] ?? ''));
}

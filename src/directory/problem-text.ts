import { DirectoryProblem, formatProblem } from './problem';

/**
 * Directory problems in the store's language. Validation writes them once, in English (the
 * CLI and gRPC show them so); a French store's admin reads them in French: in the console,
 * and in the drop folder's .errors.txt.
 */

export type ProblemLang = 'fr' | 'en';

/** The language a store's admin reads: French for a French store. */
export const problemLangOf = (locale: string): ProblemLang => (locale.startsWith('fr') ? 'fr' : 'en');

const FIELDS_FR: Record<string, string> = {
  id: 'identifiant',
  type: 'type',
  first_name: 'prénom',
  last_name: 'nom',
  service_name: 'nom du service',
  department: 'rayon',
  extension: 'poste',
  aliases: 'alias',
  enabled: 'actif',
  sounds_like: 'se prononce',
};

/** Validation messages (directory-file.ts, xlsx.ts) and their French, by pattern. */
const PROBLEMS_FR: [RegExp, (m: RegExpExecArray) => string][] = [
  [/^is empty; every entry needs an id$/, () => 'est vide ; chaque entrée a besoin d’un identifiant'],
  [/^"(.*)" is not a valid id/, (m) => `« ${m[1]} » n’est pas un identifiant valable (1 à 64 caractères parmi A-Z a-z 0-9 _ -)`],
  [/^"(.*)" is not a type; use person or service$/, (m) => `« ${m[1]} » n’est pas un type ; écrivez person ou service`],
  [/^is empty; a person needs a last name$/, () => 'est vide ; une personne a besoin d’un nom'],
  [/^is empty; a service needs a name$/, () => 'est vide ; un service a besoin d’un nom'],
  [/^is empty; every entry needs an extension$/, () => 'est vide ; chaque entrée a besoin d’un poste'],
  [
    /^"(.*)" is not an extension/,
    (m) => `« ${m[1]} » n’est pas un numéro de poste (1 à 15 caractères parmi 0-9 * # +, ou une adresse sip:)`,
  ],
  [/^"(.*)" has no letter or digit/, (m) => `« ${m[1]} » n’a ni lettre ni chiffre : un appelant ne pourrait pas le dire`],
  [/^must be a list of names$/, () => 'doit être une liste de noms'],
  [/^"(.*)" is not true\/false/, (m) => `« ${m[1]} » n’est ni oui ni non (aussi true/false, 1/0)`],
  [/^"(.*)" is used twice \(first (?:on|in) (.*)\)$/, (m) => `« ${m[1]} » est utilisé deux fois (d’abord ${where(m[2], 'fr')})`],
  [/^"(.*)" appears twice \(first on (.*)\)$/, (m) => `« ${m[1]} » figure deux fois (d’abord ${where(m[2], 'fr')})`],
  [/^must be text, not (.*)$/, (m) => `doit être du texte, pas ${m[1]}`],
  [/^is (\d+) characters long; the limit is (\d+)$/, (m) => `fait ${m[1]} caractères ; la limite est ${m[2]}`],
  [/^holds control characters$/, () => 'contient des caractères de contrôle'],
  [
    /^holds a formula;/,
    () => 'contient une formule ; enregistrez la feuille avec les valeurs seulement (copier, collage spécial, valeurs)',
  ],
  [/^holds the Excel error (.*)$/, (m) => `contient l’erreur Excel ${m[1]}`],
  [/^has (\d+) fields? where the header has (\d+)$/, (m) => `a ${m[1]} champ(s) alors que l’en-tête en a ${m[2]}`],
  [
    /^the header lacks columns? (.*); expected (.*)$/,
    (m) => `il manque à l’en-tête la ou les colonnes ${m[1]} ; colonnes attendues : ${m[2]}`,
  ],
  [/^column "(.*)" appears twice in the header$/, (m) => `la colonne « ${m[1]} » apparaît deux fois dans l’en-tête`],
  [/^the file is empty/, () => 'le fichier est vide ; un annuaire a besoin d’une ligne d’en-tête et d’au moins une entrée'],
  [/^the file has no entries$/, () => 'le fichier ne contient aucune entrée'],
  [/^the file has no header row$/, () => 'le fichier n’a pas de ligne d’en-tête'],
  [
    /^the file (?:is|has) (\d+) (bytes|entries); the limit is (\d+)/,
    (m) => `le fichier fait ${m[1]} ${m[2] === 'bytes' ? 'octets' : 'entrées'} ; la limite est ${m[3]}`,
  ],
  [/^this is not a text file/, () => 'ce n’est pas un fichier texte ; exportez l’annuaire en CSV, JSON ou Excel (.xlsx)'],
  [/^a quoted field is never closed/, () => 'un champ entre guillemets n’est jamais fermé ; le fichier semble coupé'],
  [/^not valid JSON: (.*)$/, (m) => `JSON invalide : ${m[1]}`],
  [/^this Excel file is damaged or cut short/, () => 'ce fichier Excel est abîmé ou incomplet ; exportez-le à nouveau'],
  [/^this Excel file cannot be read/, () => 'ce fichier Excel ne peut pas être lu ; enregistrez-le à nouveau au format .xlsx'],
  [/^this Excel file unpacks to (\d+) bytes/, (m) => `ce fichier Excel se décompresse en ${m[1]} octets : il est refusé`],
  [/^this file is named \.xlsx but is not an Excel workbook/, () => 'ce fichier porte l’extension .xlsx mais n’est pas un classeur Excel'],
  [/^the workbook has no sheet$/, () => 'le classeur ne contient aucune feuille'],
  [
    /^this Excel file unpacks to more than (\d+) MB/,
    (m) =>
      `ce fichier Excel se décompresse en plus de ${m[1]} Mo ; la feuille d’un annuaire est bien plus petite : exportez seulement ses colonnes`,
  ],
  [
    /^holds (\d+) characters; a directory field holds at most 200$/,
    (m) => `contient ${m[1]} caractères ; un champ d’annuaire en a au plus 200`,
  ],
  [/^the file has (\d+) rows; the limit is (\d+) entries$/, (m) => `le fichier a ${m[1]} lignes ; la limite est ${m[2]} entrées`],
  [
    /^the sheet has (\d+) rows; a directory holds at most (\d+) entries$/,
    (m) => `la feuille a ${m[1]} lignes ; un annuaire a au plus ${m[2]} entrées`,
  ],
  [/^… and (\d+) more problems$/, (m) => `… et ${m[1]} autres problèmes`],
  [
    /^reading the file needs more than (\d+) MB of memory/,
    (m) =>
      `la lecture du fichier demande plus de ${m[1]} Mo de mémoire ; un annuaire en demande bien moins : exportez seulement ses colonnes, 50000 lignes au plus`,
  ],
  [
    /^reading the file took longer than (\d+) s/,
    (m) => `la lecture du fichier a pris plus de ${m[1]} s ; un annuaire se lit en quelques secondes : exportez seulement ses colonnes`,
  ],
];

/** "line 4" → "ligne 4", "row 4, cell B4" → "ligne 4 (cellule B4)", "entries[3]" → "entrée 4". */
export function where(text: string | undefined, lang: ProblemLang): string | undefined {
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

export function showProblem(p: DirectoryProblem, lang: ProblemLang): ShownProblem {
  if (lang === 'en') return { where: p.where, field: p.field, message: p.message };
  const found = PROBLEMS_FR.map(([re, fr]) => [re.exec(p.message), fr] as const).find(([m]) => m !== null);
  return {
    where: where(p.where, lang),
    field: p.field === undefined ? undefined : (FIELDS_FR[p.field] ?? p.field),
    message: found === undefined ? p.message : found[1](found[0] as RegExpExecArray),
  };
}

/** A problem as one line of a file or a terminal, in `lang` ("export.csv ligne 4, champ poste : …"). */
export function formatProblemIn(fileName: string, p: DirectoryProblem, lang: ProblemLang): string {
  if (lang === 'en') return formatProblem(fileName, p);
  const shown = showProblem(p, lang);
  return `${fileName}${shown.where === undefined ? '' : ` ${shown.where}`}${shown.field === undefined ? '' : `, champ ${shown.field}`} : ${shown.message}`;
}

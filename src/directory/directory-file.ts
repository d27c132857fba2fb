import { CsvRecord, parseCsv, detectSeparator } from './csv';
import { isZip, readXlsxRows } from './xlsx';
import { DirectoryEntry, EntryType, displayName, normalizeText, soundsLikeSpellings } from './entry';
import { SERVICE_SYNONYMS } from './service-words';
import { capProblems, DirectoryFileError, DirectoryProblem } from './problem';

/**
 * Reading and validating a store's directory file (DESIGN.md, "Directory files").
 * The whole file is checked before anything is used: every problem is collected
 * with where it is (line, or entries[i] in JSON) and which field.
 */

export const MAX_DIRECTORY_BYTES = 10 * 1024 * 1024;
export const MAX_DIRECTORY_ENTRIES = 50_000;

export interface ParsedDirectory {
  entries: DirectoryEntry[];
  problems: DirectoryProblem[];
  /** Columns or keys the file had that attendant does not use. */
  ignored: string[];
  format: 'csv' | 'json' | 'xlsx';
  encoding: 'utf-8' | 'windows-1252' | 'utf-16';
  /** The columns (CSV_COLUMNS names) the file carried: a re-import keeps the store's values of the others (reimport.ts). */
  columns?: string[];
  /** The file had no id column: ids were made from names and extensions. */
  derivedIds?: boolean;
}

export const CSV_COLUMNS = [
  'id',
  'type',
  'first_name',
  'last_name',
  'service_name',
  'department',
  'extension',
  'aliases',
  'enabled',
  'sounds_like',
] as const;
type CsvColumn = (typeof CSV_COLUMNS)[number];
const REQUIRED_COLUMNS: CsvColumn[] = ['id', 'type', 'extension'];
const JSON_KEYS: Record<string, CsvColumn> = {
  id: 'id',
  type: 'type',
  firstName: 'first_name',
  lastName: 'last_name',
  serviceName: 'service_name',
  department: 'department',
  extension: 'extension',
  aliases: 'aliases',
  enabled: 'enabled',
  soundsLike: 'sounds_like',
};

/**
 * Column names as French back offices and Excel users write them, folded (lower case, no
 * accents, spaces as _): each means one of CSV_COLUMNS. "service" is a person's department
 * on a row with a last name, the service's name otherwise.
 */
const COLUMN_ALIASES: Record<string, CsvColumn | 'service'> = {
  identifiant: 'id',
  ident: 'id',
  code: 'id',
  nom: 'last_name',
  nom_de_famille: 'last_name',
  last: 'last_name',
  lastname: 'last_name',
  prenom: 'first_name',
  first: 'first_name',
  firstname: 'first_name',
  service: 'service',
  rayon: 'department',
  departement: 'department',
  department_name: 'department',
  poste: 'extension',
  extension_telephonique: 'extension',
  numero_de_poste: 'extension',
  ext: 'extension',
  telephone: 'extension',
  alias: 'aliases',
  surnoms: 'aliases',
  actif: 'enabled',
  active: 'enabled',
  prononciation: 'sounds_like',
  se_prononce: 'sounds_like',
  soundslike: 'sounds_like',
  phonetique: 'sounds_like',
};

const foldHeader = (name: string): string => normalizeText(name).replace(/ /g, '_');

/** A stable id for a row of a file without an id column: its name and extension, as an id may be written. */
function derivedId(...parts: string[]): string {
  return normalizeText(parts.join(' ')).replace(/ /g, '-').slice(0, 64).replace(/-$/, '') || 'entry';
}

/** Rows above the header that a report's title may take. */
const MAX_TITLE_ROWS = 10;

/** A store service's usual name, in French or English ("Poissonnerie", "la boulangerie", "SAV"). */
function isServiceWord(text: string): boolean {
  const folded = normalizeText(text).replace(/^(le|la|les|l|rayon|service|the)\s+/, '');
  return folded !== '' && (SERVICE_SYNONYMS[folded] !== undefined || SERVICE_WORDS.has(folded));
}

/** Services a French store names that have no English synonym listed. */
const SERVICE_WORDS = new Set([
  'standard',
  'rayon frais',
  'charcuterie',
  'cremerie',
  'epicerie',
  'primeur',
  'fruits et legumes',
  'cave',
  'multimedia',
  'electromenager',
  'textile',
  'parfumerie',
  'billetterie',
  'photo',
  'cafeteria',
  'restaurant',
  'pressing',
  'cordonnerie',
  'reserve',
  'magasin',
  'atelier',
  'quai',
  'reception marchandises',
  'secretariat',
  'rh',
  'drh',
  'paie',
]);

const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const EXTENSION_PATTERN = /^[0-9*#+]{1,15}$/;
const SIP_URI_PATTERN = /^sips?:[^\s<>"]+@?[^\s<>"]*$/i;
const TRUE_WORDS = new Set(['true', '1', 'yes', 'oui', 'y', 'o']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'non', 'n']);
const MAX_TEXT = 200;

/**
 * Decodes a file's bytes: UTF-16 with its byte-order mark (Excel's "Unicode text"), UTF-8
 * (BOM or not), else Windows-1252 as Excel writes it.
 */
export function decodeText(bytes: Uint8Array): { text: string; encoding: 'utf-8' | 'windows-1252' | 'utf-16' } {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { text: new TextDecoder('utf-16le').decode(bytes.subarray(2)), encoding: 'utf-16' };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { text: new TextDecoder('utf-16be').decode(bytes.subarray(2)), encoding: 'utf-16' };
  let body = bytes;
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) body = body.subarray(3);
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(body), encoding: 'utf-8' };
  } catch {
    return { text: new TextDecoder('windows-1252').decode(body), encoding: 'windows-1252' };
  }
}

/** Parses and validates a directory file. Never throws for bad content: problems are returned. */
export function parseDirectory(bytes: Uint8Array, fileName: string): ParsedDirectory {
  const fail = (message: string, format: 'csv' | 'json' = 'csv'): ParsedDirectory => ({
    entries: [],
    problems: [{ message }],
    ignored: [],
    format,
    encoding: 'utf-8',
  });
  if (bytes.length === 0) return fail('the file is empty; a directory needs a header row and at least one entry');
  if (bytes.length > MAX_DIRECTORY_BYTES) {
    return fail(`the file is ${bytes.length} bytes; the limit is ${MAX_DIRECTORY_BYTES} bytes (10 MiB)`);
  }
  const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
  if (!utf16 && looksBinary(bytes))
    return fail('this is not a text file (it holds binary data); export the directory as CSV, JSON or Excel (.xlsx)');
  const { text, encoding } = decodeText(bytes);
  const isJson = /\.json$/i.test(fileName) || /^\s*[{[]/.test(text);
  return finish(isJson ? parseJsonDirectory(text) : parseCsvDirectory(text), isJson ? 'json' : 'csv', encoding);
}

/** The checks on a whole file, whatever its format. */
function finish(parsed: RawParse, format: ParsedDirectory['format'], encoding: ParsedDirectory['encoding']): ParsedDirectory {
  if (parsed.entries.length === 0 && parsed.problems.length === 0) {
    parsed.problems.push({ message: 'the file has no entries' });
  }
  if (parsed.entries.length > MAX_DIRECTORY_ENTRIES) {
    parsed.problems.push({ message: `the file has ${parsed.entries.length} entries; the limit is ${MAX_DIRECTORY_ENTRIES}` });
  }
  checkUniqueIds(parsed.entries, parsed.locations, parsed.problems, parsed.derivedIds === true);
  return {
    entries: parsed.entries,
    problems: capProblems(parsed.problems),
    ignored: parsed.ignored,
    format,
    encoding,
    columns: parsed.columns,
    derivedIds: parsed.derivedIds,
  };
}

/** Parses and validates, throwing a DirectoryFileError that lists every problem. */
export function readDirectory(bytes: Uint8Array, fileName: string): ParsedDirectory {
  const parsed = parseDirectory(bytes, fileName);
  if (parsed.problems.length > 0) throw new DirectoryFileError(fileName, parsed.problems);
  return parsed;
}

/**
 * Parses and validates a directory file of any accepted format: an Excel workbook (.xlsx,
 * its first sheet, problems named by row and cell), else CSV or JSON (parseDirectory).
 */
export async function parseDirectoryFile(bytes: Uint8Array, fileName: string): Promise<ParsedDirectory> {
  if (!isZip(bytes) && !/\.xlsx$/i.test(fileName)) return parseDirectory(bytes, fileName);
  const fail = (message: string): ParsedDirectory => ({
    entries: [],
    problems: [{ message }],
    ignored: [],
    format: 'xlsx',
    encoding: 'utf-8',
  });
  if (bytes.length > MAX_DIRECTORY_BYTES)
    return fail(`the file is ${bytes.length} bytes; the limit is ${MAX_DIRECTORY_BYTES} bytes (10 MiB)`);
  if (!isZip(bytes)) return fail('this file is named .xlsx but is not an Excel workbook; export it again from Excel as .xlsx');
  const { records, problems: cellProblems } = await readXlsxRows(bytes);
  if (records.length === 0 && cellProblems.length > 0) return { ...fail(''), problems: cellProblems };
  const parsed = tableDirectory(records, (n) => `row ${n}`, ',');
  parsed.problems.unshift(...cellProblems);
  return finish(parsed, 'xlsx', 'utf-8');
}

function looksBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 8192);
  let control = 0;
  for (let i = 0; i < n; i += 1) {
    const b = bytes[i];
    if (b === 0) return true;
    if (b < 9 || (b > 13 && b < 32)) control += 1;
  }
  return control > n * 0.05;
}

interface RawParse {
  entries: DirectoryEntry[];
  locations: string[];
  problems: DirectoryProblem[];
  ignored: string[];
  columns?: string[];
  derivedIds?: boolean;
}

function parseCsvDirectory(text: string): RawParse {
  // Excel's "sep=;" first line names the separator; the line itself is not the header.
  const sep = /^sep=([,;])[ \t]*(?=\r?\n|$)/i.exec(text);
  const body = sep === null ? text : text.slice(sep[0].length);
  const table = parseCsv(body, sep === null ? detectSeparator(body) : (sep[1] as ',' | ';'));
  const parsed = tableDirectory(table.records, (n) => `line ${n}`, table.separator);
  if (table.unterminatedQuoteLine !== undefined) {
    parsed.problems.unshift({
      where: `line ${table.unterminatedQuoteLine}`,
      message: 'a quoted field is never closed; the file looks cut short',
    });
  }
  return parsed;
}

/**
 * Rows of a table (a CSV file's records, an Excel sheet's rows) as entries: the first
 * non-empty row is the header; `at` names a row in problems ("line 4", "row 4").
 */
function tableDirectory(all: CsvRecord[], at: (n: number) => string, separator: string): RawParse {
  const problems: DirectoryProblem[] = [];
  // Rows of separators only (Excel keeps the width of formatted empty rows) are not entries.
  const records = all.filter((r) => r.fields.some((f) => f.trim() !== ''));
  // Counted before any row is looked into: a file of a million rows is refused at once.
  if (records.length > MAX_DIRECTORY_ENTRIES + 1) {
    return {
      entries: [],
      locations: [],
      problems: [{ message: `the file has ${records.length - 1} rows; the limit is ${MAX_DIRECTORY_ENTRIES} entries` }],
      ignored: [],
    };
  }
  // Excel reports put a title and a date above the table ("Annuaire interne – Hyper Brest
  // Iroise" in row 1, the header in row 4): the header is the first row, among the first
  // few, that names at least two known columns; the rows above it are not entries.
  const known = (r: CsvRecord): number =>
    r.fields.map(foldHeader).filter((n) => (CSV_COLUMNS as readonly string[]).includes(n) || COLUMN_ALIASES[n] !== undefined).length;
  const headerAt = records.slice(0, MAX_TITLE_ROWS + 1).findIndex((r) => known(r) >= 2);
  const [header, ...rows] = headerAt > 0 ? records.slice(headerAt) : records;
  if (header === undefined) return { entries: [], locations: [], problems: [{ message: 'the file has no header row' }], ignored: [] };
  const names = header.fields.map(foldHeader);
  const columns = new Map<CsvColumn | 'service', number>();
  const ignored: string[] = [];
  names.forEach((name, index) => {
    const column = (CSV_COLUMNS as readonly string[]).includes(name) ? (name as CsvColumn) : COLUMN_ALIASES[name];
    if (column !== undefined) {
      if (columns.has(column)) {
        problems.push({ where: at(header.line), message: `column "${header.fields[index].trim()}" appears twice in the header` });
      }
      columns.set(column, index);
    } else if (name !== '') {
      ignored.push(header.fields[index].trim());
    }
  });
  // A file without id or type columns (a back office's "Nom;Prénom;Service;Poste"): ids come
  // from the name and extension, the type from whether the row has a last name.
  const named = columns.has('last_name') || columns.has('service') || columns.has('service_name');
  const deriveId = !columns.has('id') && named;
  const deriveType = !columns.has('type') && named;
  const missing = REQUIRED_COLUMNS.filter((c) => !columns.has(c) && !(c === 'id' && deriveId) && !(c === 'type' && deriveType));
  if (missing.length > 0) {
    problems.push({
      where: at(header.line),
      message: `the header lacks column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; expected ${CSV_COLUMNS.join(separator)}`,
    });
    return { entries: [], locations: [], problems, ignored };
  }
  const entries: DirectoryEntry[] = [];
  const locations: string[] = [];
  for (const row of rows) {
    const where = at(row.line);
    if (row.fields.length !== header.fields.length) {
      problems.push({
        where,
        message: `has ${row.fields.length} field${row.fields.length === 1 ? '' : 's'} where the header has ${header.fields.length}`,
      });
      continue;
    }
    const value = (column: CsvColumn | 'service'): string | undefined => {
      const index = columns.get(column);
      return index === undefined ? undefined : row.fields[index];
    };
    const aliases = (value('aliases') ?? '').split('|');
    // A "Nom;Prénom;Poste" export names its services in the last-name column ("Poissonnerie",
    // no first name): a known service word there is a service, not a person.
    const serviceInName =
      deriveType && !columns.has('service_name') && (value('first_name') ?? '').trim() === '' && isServiceWord(value('last_name') ?? '');
    const isPerson = !serviceInName && ((value('last_name') ?? '').trim() !== '' || value('type')?.trim().toLowerCase() === 'person');
    const serviceColumn = serviceInName ? value('last_name')?.trim() : value('service')?.trim();
    const serviceName = value('service_name') ?? (isPerson ? undefined : serviceColumn);
    const department = value('department') ?? (isPerson ? serviceColumn : undefined);
    const extension = value('extension')
      ?.trim()
      .replace(/^(\d+)[.,]0+$/, '$1');
    const entry = validateEntry(
      {
        id: deriveId
          ? derivedId(...(isPerson ? [value('last_name') ?? '', value('first_name') ?? ''] : [serviceName ?? '']), extension ?? '')
          : value('id'),
        type: deriveType ? (isPerson ? 'person' : 'service') : value('type'),
        first_name: value('first_name'),
        last_name: serviceInName ? '' : value('last_name'),
        service_name: serviceName,
        department,
        extension,
        aliases,
        enabled: value('enabled'),
        sounds_like: value('sounds_like'),
      },
      where,
      problems,
    );
    if (entry !== undefined) {
      entries.push(entry);
      locations.push(where);
    }
  }
  const carried = [...columns.keys()].flatMap((c) => (c === 'service' ? ['service_name', 'department'] : [c]));
  return { entries, locations, problems, ignored, columns: carried, derivedIds: deriveId };
}

function parseJsonDirectory(text: string): RawParse {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { entries: [], locations: [], problems: [{ message: `not valid JSON: ${(err as Error).message}` }], ignored: [] };
  }
  const list = Array.isArray(doc) ? doc : (doc as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(list)) {
    return { entries: [], locations: [], problems: [{ message: 'expected {"entries": [ ... ]} at the top level' }], ignored: [] };
  }
  const problems: DirectoryProblem[] = [];
  const ignored = new Set<string>();
  const seen = new Set<string>();
  const entries: DirectoryEntry[] = [];
  const locations: string[] = [];
  list.forEach((item: unknown, index: number) => {
    const where = `entries[${index}]`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      problems.push({ where, message: 'an entry must be an object' });
      return;
    }
    const raw: Partial<Record<CsvColumn, unknown>> = {};
    for (const [key, value] of Object.entries(item as Record<string, unknown>)) {
      const column = JSON_KEYS[key] ?? (CSV_COLUMNS as readonly string[]).find((c) => c === key);
      if (column === undefined) ignored.add(key);
      else {
        raw[column as CsvColumn] = value;
        seen.add(column);
      }
    }
    const entry = validateEntry(raw, where, problems);
    if (entry !== undefined) {
      entries.push(entry);
      locations.push(where);
    }
  });
  return { entries, locations, problems, ignored: [...ignored], columns: [...seen] };
}

function asText(value: unknown, field: string, where: string, problems: DirectoryProblem[]): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') {
    problems.push({ where, field, message: `must be text, not ${typeof value}` });
    return '';
  }
  const trimmed = value.trim().replace(/\s+/g, ' ');
  if (trimmed.length > MAX_TEXT) {
    problems.push({ where, field, message: `is ${trimmed.length} characters long; the limit is ${MAX_TEXT}` });
  }
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) {
    problems.push({ where, field, message: 'holds control characters' });
  }
  return trimmed;
}

/** Checks one entry's fields; pushes a problem per bad field and returns the entry when it is sound. */
export function validateEntry(
  raw: Partial<Record<CsvColumn, unknown>>,
  where: string,
  problems: DirectoryProblem[],
): DirectoryEntry | undefined {
  const before = problems.length;
  const id = asText(raw.id, 'id', where, problems);
  if (id === '') problems.push({ where, field: 'id', message: 'is empty; every entry needs an id' });
  else if (!ID_PATTERN.test(id)) {
    problems.push({ where, field: 'id', message: `"${id}" is not a valid id (1 to 64 of A-Z a-z 0-9 _ -)` });
  }
  const typeText = asText(raw.type, 'type', where, problems).toLowerCase();
  let type: EntryType = 'person';
  if (typeText === 'person' || typeText === 'service') type = typeText;
  else problems.push({ where, field: 'type', message: `"${typeText}" is not a type; use person or service` });
  const firstName = asText(raw.first_name, 'first_name', where, problems);
  const lastName = asText(raw.last_name, 'last_name', where, problems);
  const serviceName = asText(raw.service_name, 'service_name', where, problems);
  const department = asText(raw.department, 'department', where, problems);
  if (type === 'person' && lastName === '' && typeText === 'person') {
    problems.push({ where, field: 'last_name', message: 'is empty; a person needs a last name' });
  }
  if (type === 'service' && serviceName === '') {
    problems.push({ where, field: 'service_name', message: 'is empty; a service needs a name' });
  }
  // A name of only punctuation ("---", "?") cannot be said, so no caller could reach the entry.
  const spoken = type === 'service' ? ['service_name', serviceName] : ['last_name', lastName];
  if (spoken[1] !== '' && normalizeText(spoken[1]) === '') {
    problems.push({ where, field: spoken[0], message: `"${spoken[1]}" has no letter or digit; a caller could not say it` });
  }
  // "3001.0": a number column that Excel or a back office wrote with a decimal point.
  const extensionText = asText(raw.extension, 'extension', where, problems).replace(/^(\d+)[.,]0+$/, '$1');
  const extension = /^[0-9*#+\s]+$/.test(extensionText) ? extensionText.replace(/\s/g, '') : extensionText;
  if (extension === '') problems.push({ where, field: 'extension', message: 'is empty; every entry needs an extension' });
  else if (!EXTENSION_PATTERN.test(extension) && !SIP_URI_PATTERN.test(extension)) {
    problems.push({
      where,
      field: 'extension',
      message: `"${extension}" is not an extension (1 to 15 of 0-9 * # +, or a sip: URI)`,
    });
  }
  let aliases: string[] = [];
  if (Array.isArray(raw.aliases)) {
    aliases = raw.aliases.map((a) => asText(a, 'aliases', where, problems));
  } else if (typeof raw.aliases === 'string') {
    aliases = raw.aliases.split('|').map((a) => asText(a, 'aliases', where, problems));
  } else if (raw.aliases !== undefined && raw.aliases !== null) {
    problems.push({ where, field: 'aliases', message: 'must be a list of names' });
  }
  aliases = [...new Set(aliases.filter((a) => a !== ''))];
  let enabled = true;
  if (typeof raw.enabled === 'boolean') enabled = raw.enabled;
  else {
    const text = asText(raw.enabled, 'enabled', where, problems).toLowerCase();
    if (TRUE_WORDS.has(text) || text === '') enabled = true;
    else if (FALSE_WORDS.has(text)) enabled = false;
    else problems.push({ where, field: 'enabled', message: `"${text}" is not true/false (also 1/0, yes/no, oui/non)` });
  }
  const soundsLike = asText(raw.sounds_like, 'sounds_like', where, problems);
  if (problems.length > before) return undefined;
  const entry: DirectoryEntry = { id, type, firstName, lastName, serviceName, department, extension, aliases, enabled };
  if (soundsLike !== '') {
    entry.soundsLike = soundsLike;
    try {
      soundsLikeSpellings(entry);
    } catch (err) {
      problems.push({ where, field: 'sounds_like', message: (err as Error).message });
      return undefined;
    }
  }
  return entry;
}

function checkUniqueIds(entries: DirectoryEntry[], locations: string[], problems: DirectoryProblem[], derivedIds = false): void {
  const first = new Map<string, string>();
  entries.forEach((entry, index) => {
    const seen = first.get(entry.id);
    if (seen === undefined) first.set(entry.id, locations[index]);
    // Ids the file did not write are not named: the admin knows the row by its name and extension.
    else if (derivedIds)
      problems.push({ where: locations[index], message: `"${displayName(entry)}, ${entry.extension}" appears twice (first on ${seen})` });
    else problems.push({ where: locations[index], field: 'id', message: `"${entry.id}" is used twice (first on ${seen})` });
  });
}

import { formatCsvField, spreadsheetSafe } from './csv';
import { CSV_COLUMNS } from './directory-file';
import { DirectoryEntry } from './entry';

/** Directories and tables written for spreadsheets: every cell a spreadsheet would run as a formula is escaped. */

/** One CSV line, each cell quoted as needed and escaped so that a spreadsheet does not run it. */
export function csvLine(values: (string | number)[], sep: ',' | ';' = ','): string {
  return values.map((v) => formatCsvField(spreadsheetSafe(String(v)), sep)).join(sep);
}

/**
 * The directory as CSV. `excel`: as French Excel opens it with a double click (UTF-8 with a
 * byte-order mark, `;` between fields, CRLF), cells Excel would run escaped either way.
 */
export function entriesToCsv(entries: DirectoryEntry[], excel = false): string {
  const sep = excel ? ';' : ',';
  const rows = entries.map((e) => csvLine(entryCells(e), sep));
  const text = [CSV_COLUMNS.join(sep), ...rows].join(excel ? '\r\n' : '\n');
  return excel ? `\ufeff${text}\r\n` : `${text}\n`;
}

/** An entry as the cells of a row, in CSV_COLUMNS order. */
export function entryCells(e: DirectoryEntry): string[] {
  return [
    e.id,
    e.type,
    e.firstName,
    e.lastName,
    e.serviceName,
    e.department,
    e.extension,
    e.aliases.join('|'),
    String(e.enabled),
    e.soundsLike ?? '',
  ];
}

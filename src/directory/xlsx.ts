import ExcelJS from 'exceljs';
import { CsvRecord } from './csv';
import { DirectoryProblem } from './problem';
import { checkZip } from './zip-check';

/**
 * Excel workbooks (.xlsx), read and written with exceljs: the first sheet holds the same
 * columns as the CSV file (or the French back office's), one entry per row. Cells are read
 * as their values; a formula is refused rather than guessed at, so that what is imported is
 * what the admin sees.
 */

/**
 * A workbook that unpacks to more than this is refused before it is opened (a zip bomb), by
 * what its parts really inflate to (checkZip), not by the sizes its headers write. A sheet
 * of 50,000 entries unpacks to about 40 MB.
 */
export const MAX_XLSX_UNPACKED_BYTES = 100 * 1024 * 1024;

/** A cell longer than this is refused without being looked into (no directory field is longer than 200). */
export const MAX_CELL_CHARS = 1000;

/** Rows read at the most: the entry limit, the header and title rows, and one to tell "too many". */
const MAX_ROWS = 50_000 + 20 + 1;

/** True for the bytes of a ZIP archive, as every .xlsx is. */
export const isZip = (bytes: Uint8Array): boolean => bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;

const column = (n: number): string => {
  let s = '';
  for (let c = n; c > 0; c = Math.floor((c - 1) / 26)) s = String.fromCharCode(65 + ((c - 1) % 26)) + s;
  return s;
};

/** A cell's value as the text the CSV reader would have seen; problems for what cannot be taken. */
function cellText(value: ExcelJS.CellValue, where: string, problems: DirectoryProblem[]): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return boundedText(value, where, problems);
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === 'object') {
    if ('formula' in value || 'sharedFormula' in value) {
      problems.push({ where, message: 'holds a formula; save the sheet with values only (copy, paste special, values)' });
      return '';
    }
    if ('richText' in value) return boundedText(value.richText.map((r) => r.text).join(''), where, problems);
    if ('hyperlink' in value) return boundedText(String((value as ExcelJS.CellHyperlinkValue).text ?? ''), where, problems);
    if ('error' in value) {
      problems.push({ where, message: `holds the Excel error ${String((value as ExcelJS.CellErrorValue).error)}` });
      return '';
    }
  }
  return String(value);
}

/** A cell's text, or '' with a problem when it is far longer than any field may be (a shared string of 20 MB). */
function boundedText(text: string, where: string, problems: DirectoryProblem[]): string {
  if (text.length <= MAX_CELL_CHARS) return text;
  problems.push({ where, message: `holds ${text.length} characters; a directory field holds at most 200` });
  return '';
}

/**
 * The first sheet of a workbook as rows of text, each with its Excel row number; every
 * problem found on the way (a formula, an error cell) with its cell.
 */
export async function readXlsxRows(bytes: Uint8Array): Promise<{ records: CsvRecord[]; problems: DirectoryProblem[] }> {
  const zip = checkZip(bytes, MAX_XLSX_UNPACKED_BYTES);
  if (!zip.ok) return { records: [], problems: [{ message: zip.problem ?? 'this Excel file cannot be read' }] };
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as unknown as ExcelJS.Buffer);
  } catch (err) {
    return {
      records: [],
      problems: [{ message: `this Excel file cannot be read (${(err as Error).message.split('\n')[0]}); export it again as .xlsx` }],
    };
  }
  const sheet = workbook.worksheets[0];
  if (sheet === undefined) return { records: [], problems: [{ message: 'the workbook has no sheet' }] };
  const problems: DirectoryProblem[] = [];
  const records: CsvRecord[] = [];
  if (sheet.rowCount > MAX_ROWS) {
    return { records: [], problems: [{ message: `the sheet has ${sheet.rowCount} rows; a directory holds at most 50000 entries` }] };
  }
  sheet.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    const fields: string[] = [];
    row.eachCell({ includeEmpty: true }, (cell, col) => {
      while (fields.length < col - 1) fields.push('');
      fields[col - 1] = cellText(cell.value, `row ${rowNumber}, cell ${column(col)}${rowNumber}`, problems);
    });
    records.push({ line: rowNumber, fields });
  });
  // Excel leaves out empty trailing cells: a row is as wide as the header unless it holds more.
  const width = records.find((r) => r.fields.some((f) => f.trim() !== ''))?.fields.length ?? 0;
  for (const r of records) {
    while (r.fields.length < width) r.fields.push('');
    while (r.fields.length > width && r.fields[r.fields.length - 1].trim() === '') r.fields.pop();
  }
  return { records, problems };
}

/** Rows as the first sheet of a new workbook: every cell is text, never a formula. */
export async function writeXlsx(header: readonly string[], rows: string[][], sheetName = 'annuaire'): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'attendant';
  const sheet = workbook.addWorksheet(sheetName);
  sheet.addRow([...header]).font = { bold: true };
  // Strings are written as strings: "=cmd|…" is a text cell, never a formula Excel would run.
  for (const row of rows) sheet.addRow(row);
  sheet.columns.forEach((c) => (c.width = 18));
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

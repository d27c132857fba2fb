import ExcelJS from 'exceljs';
import { CsvRecord } from './csv';
import { DirectoryProblem } from './directory-file';

/**
 * Excel workbooks (.xlsx), read and written with exceljs: the first sheet holds the same
 * columns as the CSV file (or the French back office's), one entry per row. Cells are read
 * as their values; a formula is refused rather than guessed at, so that what is imported is
 * what the admin sees.
 */

/** A workbook that would unpack to more than this is refused before it is opened (a zip bomb). */
export const MAX_XLSX_UNPACKED_BYTES = 200 * 1024 * 1024;

/** True for the bytes of a ZIP archive, as every .xlsx is. */
export const isZip = (bytes: Uint8Array): boolean => bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;

/**
 * The size a ZIP archive unpacks to, from its central directory; undefined when there is
 * none (the archive is cut short or not one).
 */
export function unpackedSize(bytes: Uint8Array): number | undefined {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end-of-central-directory record is in the last 22 + 65,535 bytes.
  for (let i = view.length - 22; i >= Math.max(0, view.length - 22 - 65_535); i -= 1) {
    if (view.readUInt32LE(i) !== 0x06054b50) continue;
    const count = view.readUInt16LE(i + 10);
    let at = view.readUInt32LE(i + 16);
    let total = 0;
    for (let n = 0; n < count; n += 1) {
      if (at + 46 > view.length || view.readUInt32LE(at) !== 0x02014b50) return undefined;
      total += view.readUInt32LE(at + 24);
      at += 46 + view.readUInt16LE(at + 28) + view.readUInt16LE(at + 30) + view.readUInt16LE(at + 32);
    }
    return total;
  }
  return undefined;
}

const column = (n: number): string => {
  let s = '';
  for (let c = n; c > 0; c = Math.floor((c - 1) / 26)) s = String.fromCharCode(65 + ((c - 1) % 26)) + s;
  return s;
};

/** A cell's value as the text the CSV reader would have seen; problems for what cannot be taken. */
function cellText(value: ExcelJS.CellValue, where: string, problems: DirectoryProblem[]): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === 'object') {
    if ('formula' in value || 'sharedFormula' in value) {
      problems.push({ where, message: 'holds a formula; save the sheet with values only (copy, paste special, values)' });
      return '';
    }
    if ('richText' in value) return value.richText.map((r) => r.text).join('');
    if ('hyperlink' in value) return String((value as ExcelJS.CellHyperlinkValue).text ?? '');
    if ('error' in value) {
      problems.push({ where, message: `holds the Excel error ${String((value as ExcelJS.CellErrorValue).error)}` });
      return '';
    }
  }
  return String(value);
}

/**
 * The first sheet of a workbook as rows of text, each with its Excel row number; every
 * problem found on the way (a formula, an error cell) with its cell.
 */
export async function readXlsxRows(bytes: Uint8Array): Promise<{ records: CsvRecord[]; problems: DirectoryProblem[] }> {
  const size = unpackedSize(bytes);
  if (size === undefined) return { records: [], problems: [{ message: 'this Excel file is damaged or cut short (its ZIP directory cannot be read); export it again' }] };
  if (size > MAX_XLSX_UNPACKED_BYTES) {
    return { records: [], problems: [{ message: `this Excel file unpacks to ${size} bytes; the limit is ${MAX_XLSX_UNPACKED_BYTES}` }] };
  }
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as unknown as ExcelJS.Buffer);
  } catch (err) {
    return { records: [], problems: [{ message: `this Excel file cannot be read (${(err as Error).message.split('\n')[0]}); export it again as .xlsx` }] };
  }
  const sheet = workbook.worksheets[0];
  if (sheet === undefined) return { records: [], problems: [{ message: 'the workbook has no sheet' }] };
  const problems: DirectoryProblem[] = [];
  const records: CsvRecord[] = [];
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

/**
 * A small RFC 4180 reader: quoted fields, doubled quotes, CR/LF or LF line ends,
 * separators inside quotes. Each record keeps the line it started on, so that
 * validation can name it.
 */
export interface CsvRecord {
  line: number;
  fields: string[];
}

export interface CsvTable {
  separator: ',' | ';';
  records: CsvRecord[];
  /** Set when the text ends inside a quoted field: the file was cut short. */
  unterminatedQuoteLine?: number;
}

/** The separator of the header line: `;` when it has more of them than `,` (Excel in France). */
export function detectSeparator(text: string): ',' | ';' {
  const end = text.search(/\r?\n/);
  const header = end === -1 ? text : text.slice(0, end);
  const count = (ch: string): number => header.split(ch).length - 1;
  return count(';') > count(',') ? ';' : ',';
}

export function parseCsv(text: string, separator: ',' | ';' = detectSeparator(text)): CsvTable {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let inQuotes = false;
  let quoteLine = 0;
  let i = 0;
  const endRecord = (): void => {
    fields.push(field);
    // A line with nothing on it is not a record.
    if (!(fields.length === 1 && fields[0].trim() === '')) records.push({ line: recordLine, fields });
    fields = [];
    field = '';
  };
  while (i < text.length) {
    const ch = text[i];
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        inQuotes = false;
      } else {
        if (ch === '\n') line += 1;
        field += ch;
      }
      i += 1;
      continue;
    }
    if (ch === '"' && field.trim() === '') {
      inQuotes = true;
      quoteLine = line;
      field = '';
    } else if (ch === separator) {
      fields.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      // handled by the \n on the next turn
    } else if (ch === '\n' || ch === '\r') {
      endRecord();
      line += 1;
      recordLine = line;
    } else {
      field += ch;
    }
    i += 1;
  }
  if (inQuotes) return { separator, records, unterminatedQuoteLine: quoteLine };
  if (field !== '' || fields.length > 0) endRecord();
  return { separator, records };
}

/**
 * A cell Excel or LibreOffice would run as a formula (OWASP, "CSV injection"): one starting
 * with =, +, -, @, a tab or a carriage return, unless it is a plain number ("+33 1 23").
 * Exports prefix it with an apostrophe, which spreadsheets show as text.
 */
export function spreadsheetSafe(value: string): string {
  if (!/^[=+\-@\t\r]/.test(value) || /^[+-]?[0-9][0-9 .]*$/.test(value)) return value;
  return `'${value}`;
}

/** Quotes a field when it holds the separator, a quote or a line break. */
export function formatCsvField(value: string, separator: ',' | ';' = ','): string {
  if (value.includes(separator) || value.includes('"') || /[\r\n]/.test(value)) {
    return `"${value.replace(/"/g, '""')}"`;
  }
  return value;
}

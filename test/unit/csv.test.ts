import { detectSeparator, formatCsvField, parseCsv, spreadsheetSafe } from '../../src/directory/csv';

describe('parseCsv', () => {
  it('reads quoted fields with separators, doubled quotes and line breaks, keeping start lines', () => {
    const table = parseCsv('a,b,c\n1,"x, y","say ""hi"""\n2,"two\nlines",z\n');
    expect(table.records.map((r) => r.fields)).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x, y', 'say "hi"'],
      ['2', 'two\nlines', 'z'],
    ]);
    expect(table.records.map((r) => r.line)).toEqual([1, 2, 3]);
  });

  it('detects the semicolon of French Excel exports and accepts CRLF', () => {
    const text = 'id;type;extension\r\np01;person;2001\r\n';
    expect(detectSeparator(text)).toBe(';');
    expect(parseCsv(text).records[1].fields).toEqual(['p01', 'person', '2001']);
  });

  it('skips blank lines but keeps counting them', () => {
    const table = parseCsv('a,b\n\n1,2\n');
    expect(table.records[1]).toEqual({ line: 3, fields: ['1', '2'] });
  });

  it('reports a quoted field that is never closed', () => {
    expect(parseCsv('a,b\n1,"cut').unterminatedQuoteLine).toBe(2);
  });

  it('quotes only the fields that need it', () => {
    expect(formatCsvField('plain')).toBe('plain');
    expect(formatCsvField('a,b')).toBe('"a,b"');
    expect(formatCsvField('say "x"')).toBe('"say ""x"""');
  });

  it('exports cells a spreadsheet would run as formulas as text (OWASP CSV injection)', () => {
    for (const cell of ["=cmd|' /C calc'!A0", '+SUM(1+1)', '@SUM(A1:A9)', '=HYPERLINK("http://x","y")', '-2+3', '\t=1', '\r=1']) {
      expect(spreadsheetSafe(cell)).toBe(`'${cell}`);
    }
    for (const cell of ['Martin', '2014', '+33 1 23 45 67 89', '-5', 'Le Goff']) expect(spreadsheetSafe(cell)).toBe(cell);
  });
});

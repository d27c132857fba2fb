import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatProblem } from '../../src/directory/problem';
import { parseDirectory } from '../../src/directory/directory-file';
import { showProblem } from '../../src/console/messages';

const fixtures = join(__dirname, '..', '..', '..', 'directory-fixtures');
const load = (name: string): ReturnType<typeof parseDirectory> => parseDirectory(readFileSync(join(fixtures, name)), name);
const messages = (name: string): string[] => load(name).problems.map((p) => formatProblem(name, p));

describe('parseDirectory', () => {
  it('reads the demo store in CSV and JSON to the same entries', () => {
    const csv = load('demo-store.csv');
    const json = load('demo-store.json');
    expect(csv.problems).toEqual([]);
    expect(csv.entries).toHaveLength(72);
    expect(json.entries).toEqual(csv.entries);
    const herve = csv.entries.find((e) => e.id === 'p01');
    expect(herve).toMatchObject({
      firstName: 'Hervé',
      lastName: 'Prodhomme',
      extension: '2001',
      aliases: ['Monsieur Prodhomme', 'le directeur'],
    });
    expect(csv.entries.find((e) => e.id === 'p61')?.enabled).toBe(false);
  });

  it('reads an Excel export in Windows-1252 with semicolons and says so', () => {
    const parsed = load('excel-export-cp1252.csv');
    expect(parsed.problems).toEqual([]);
    expect(parsed.encoding).toBe('windows-1252');
    expect(parsed.entries.find((e) => e.id === 'p01')?.firstName).toBe('Hervé');
    expect(parsed.entries.find((e) => e.id === 'p10')?.firstName).toBe('Gwenaëlle');
  });

  it('reads French Excel as written in a store: UTF-16 with BOM, a sep=; line, French column names, 3001.0, rows of separators', () => {
    const parsed = load('excel-french-utf16.csv');
    expect(parsed.problems).toEqual([]);
    expect(parsed.encoding).toBe('utf-16');
    expect(parsed.entries).toHaveLength(4);
    expect(parsed.entries[0]).toMatchObject({
      id: 'prodhomme-herve-2001',
      type: 'person',
      firstName: 'Hervé',
      lastName: 'Prodhomme',
      department: 'Direction',
      extension: '2001',
    });
    expect(parsed.entries.find((e) => e.type === 'service')).toMatchObject({
      id: 'boulangerie-3001',
      serviceName: 'Boulangerie',
      extension: '3001',
    });
    expect(parsed.entries.find((e) => e.lastName === 'Kerhervé')?.firstName).toBe('Gwenaëlle');
  });

  it('names the right lines after a sep= line, and keeps refusing a file with neither ids nor names', () => {
    const bad = parseDirectory(Buffer.from('sep=,\nid,type,last_name,extension\np1,person,Martin,20x1\n'), 'x.csv');
    expect(bad.problems.map((p) => formatProblem('x.csv', p))).toEqual([
      'x.csv line 3, field extension: "20x1" is not an extension (1 to 15 of 0-9 * # +, or a sip: URI)',
    ]);
    expect(parseDirectory(Buffer.from('Prénom;Poste\nYann;2040\n'), 'y.csv').problems[0].message).toMatch(
      /the header lacks columns id, type;/,
    );
    // French names for every column, ids kept, the type read from the row.
    const french = load('french-header.csv');
    expect(french.problems).toEqual([]);
    expect(french.entries[0]).toMatchObject({ id: 'p01', type: 'person', lastName: 'Prodhomme', extension: '2001' });
  });

  it('reads a UTF-8 export with a byte order mark', () => {
    const parsed = load('excel-export-utf8-bom.csv');
    expect(parsed.problems).toEqual([]);
    expect(parsed.encoding).toBe('utf-8');
    expect(parsed.entries[0].id).toBe('p01');
  });

  it('names the line of a duplicate id and where it was first used', () => {
    expect(messages('broken-duplicate-id.csv')).toEqual([
      'broken-duplicate-id.csv line 5, field id: "p02" is used twice (first on line 3)',
    ]);
  });

  it('reports every bad field of every row, not just the first', () => {
    expect(messages('broken-fields.csv')).toEqual([
      'broken-fields.csv line 3, field type: "persn" is not a type; use person or service',
      'broken-fields.csv line 4, field last_name: is empty; a person needs a last name',
      'broken-fields.csv line 5, field service_name: is empty; a service needs a name',
      'broken-fields.csv line 6, field extension: "20-14" is not an extension (1 to 15 of 0-9 * # +, or a sip: URI)',
      'broken-fields.csv line 7, field id: "p 05" is not a valid id (1 to 64 of A-Z a-z 0-9 _ -)',
      'broken-fields.csv line 7, field enabled: "maybe" is not true/false (also 1/0, yes/no, oui/non)',
    ]);
    expect(load('broken-fields.csv').entries.map((e) => e.id)).toEqual(['p01']);
  });

  it.each([
    ['broken-header.csv', /the header lacks columns id, type, extension/],
    ['broken-short-row.csv', /line 3: has 6 fields where the header has 9/],
    ['broken-truncated.csv', /line 3: a quoted field is never closed; the file looks cut short/],
    ['broken-binary.csv', /not a text file/],
    ['broken-empty.csv', /the file is empty/],
    ['broken-truncated.json', /not valid JSON/],
    ['broken.json', /entries\[1\], field last_name: is empty/],
  ])('refuses %s with a message saying what is wrong', (name, pattern) => {
    const text = messages(name).join('\n');
    expect(text).toMatch(pattern);
  });

  it('keeps the extension as written in its message', () => {
    expect(messages('broken.json')).toContain(
      'broken.json entries[2], field extension: "ext. 2200" is not an extension (1 to 15 of 0-9 * # +, or a sip: URI)',
    );
  });

  it('accepts sip: URIs and spaced digits as extensions', () => {
    const csv = 'id,type,last_name,extension\np1,person,Martin,sip:2012@pbx.example\np2,person,Durand,20 12\n';
    const parsed = parseDirectory(Buffer.from(csv), 'x.csv');
    expect(parsed.problems).toEqual([]);
    expect(parsed.entries.map((e) => e.extension)).toEqual(['sip:2012@pbx.example', '2012']);
  });

  it('lists columns it does not use instead of refusing the file', () => {
    const parsed = parseDirectory(Buffer.from('id,type,last_name,extension,email\np1,person,Martin,2012,a@b.c\n'), 'x.csv');
    expect(parsed.problems).toEqual([]);
    expect(parsed.ignored).toEqual(['email']);
  });

  it('refuses a file over the size limit without reading it', () => {
    const parsed = parseDirectory(Buffer.alloc(10 * 1024 * 1024 + 1, 0x41), 'big.csv');
    expect(parsed.problems[0].message).toMatch(/limit is 10485760 bytes/);
  });

  it('refuses a name of only punctuation, which no caller could say', () => {
    const parsed = parseDirectory(
      Buffer.from("id,type,last_name,service_name,extension\na,person,---,,100\nb,service,,?!,101\nc,person,O'Neil,,102\n"),
      'p.csv',
    );
    expect(parsed.problems).toEqual([
      { where: 'line 2', field: 'last_name', message: '"---" has no letter or digit; a caller could not say it' },
      { where: 'line 3', field: 'service_name', message: '"?!" has no letter or digit; a caller could not say it' },
    ]);
  });
});

describe("a back office's Excel report", () => {
  it('finds the header below title rows (« Annuaire interne – Hyper Brest Iroise » in row 1, the header in row 4)', async () => {
    const ExcelJS = (await import('exceljs')).default;
    const wb = new ExcelJS.Workbook();
    const sheet = wb.addWorksheet('Feuil1');
    sheet.addRow(['Annuaire interne – Hyper Brest Iroise']);
    sheet.addRow(['Édité le 05/12/2026']);
    sheet.addRow([]);
    sheet.addRow(['Nom', 'Prénom', 'Poste']);
    sheet.addRow(['LE BIHAN', 'Ronan', 4101]);
    sheet.addRow(['Poissonnerie', '', 4200]);
    const { parseDirectoryFile } = await import('../../src/directory/directory-file');
    const parsed = await parseDirectoryFile(Buffer.from(await wb.xlsx.writeBuffer()), 'export.xlsx');
    expect(parsed.problems).toEqual([]);
    expect(parsed.entries.map((e) => [e.type, e.lastName || e.serviceName, e.extension])).toEqual([
      ['person', 'LE BIHAN', '4101'],
      ['service', 'Poissonnerie', '4200'],
    ]);
  });

  it('types a row of a Nom;Prénom;Poste export as a service when its name is a service word and it has no first name', () => {
    const parsed = parseDirectory(
      Buffer.from('Nom;Prénom;Poste\nGuivarch;Yannick;4102\nla Boulangerie;;4201\nSAV;;4300\nMartin;;4103\n'),
      'export.csv',
    );
    expect(parsed.problems).toEqual([]);
    expect(parsed.entries.map((e) => `${e.type}:${e.lastName || e.serviceName}`)).toEqual([
      'person:Guivarch',
      'service:la Boulangerie',
      'service:SAV',
      'person:Martin',
    ]);
  });
});

describe('problems named as the admin wrote the file', () => {
  it('names a person listed twice in a file without ids by name and extension, never by a generated id, in French too', () => {
    const parsed = parseDirectory(
      Buffer.from('Nom;Prénom;Poste\nMartin;Sophie;4111\nLe Bihan;Ronan;4108\nMartin;Sophie;4111\n'),
      'export.csv',
    );
    expect(parsed.problems).toEqual([{ where: 'line 4', message: '"Sophie Martin, 4111" appears twice (first on line 2)' }]);
    expect(JSON.stringify(parsed.problems)).not.toMatch(/martin-sophie/);
    expect(showProblem(parsed.problems[0], 'fr')).toEqual({
      where: 'ligne 4',
      field: undefined,
      message: '« Sophie Martin, 4111 » figure deux fois (d’abord ligne 2)',
    });
  });
});

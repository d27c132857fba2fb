import ExcelJS from 'exceljs';
import { parseDirectoryFile } from '../../src/directory/directory-file';
import { writeXlsx } from '../../src/directory/xlsx';
import { FailureLimiter } from '../../src/api/failure-limiter';
import { showProblem } from '../../src/console/messages';

async function book(rows: ExcelJS.CellValue[][]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const sheet = wb.addWorksheet('Feuil1');
  for (const r of rows) sheet.addRow(r);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

describe('Excel directories', () => {
  it("reads the first sheet with the back office's French headers, numbers as extensions, and rows by their Excel number", async () => {
    const bytes = await book([
      ['Nom', 'Prénom', 'Service', 'Poste'],
      ['Kerhervé', 'Gwenaëlle', 'Caisse', 2041],
      [],
      ['', '', 'Boulangerie', 3001.0],
    ]);
    const parsed = await parseDirectoryFile(bytes, 'export.xlsx');
    expect(parsed.problems).toEqual([]);
    expect(parsed.format).toBe('xlsx');
    expect(parsed.entries.map((e) => [e.type, e.lastName || e.serviceName, e.extension])).toEqual([
      ['person', 'Kerhervé', '2041'],
      ['service', 'Boulangerie', '3001'],
    ]);
  });

  it('names every bad row by its Excel row, refuses formulas and error cells by their cell, and the French says the same', async () => {
    const bytes = await book([
      ['id', 'type', 'last_name', 'extension'],
      ['a', 'person', 'Le Goff', '12ab'],
      ['b', 'person', { formula: 'CONCAT("Le ","Bihan")', result: 'Le Bihan' }, '2000'],
      ['c', 'person', 'Tanguy', { error: '#REF!' }],
    ]);
    const parsed = await parseDirectoryFile(bytes, 'a.xlsx');
    expect(parsed.problems.map((p) => `${p.where} ${p.field ?? ''}`.trim())).toEqual([
      'row 3, cell C3',
      'row 4, cell D4',
      'row 2 extension',
      'row 3 last_name',
      'row 4 extension',
    ]);
    expect(parsed.problems[0].message).toMatch(/holds a formula/);
    expect(showProblem(parsed.problems[0], 'fr')).toEqual({
      where: 'ligne 3 (cellule C3)',
      field: undefined,
      message: expect.stringMatching(/^contient une formule/),
    });
    expect(showProblem(parsed.problems[2], 'fr')).toMatchObject({
      where: 'ligne 2',
      field: 'poste',
      message: expect.stringMatching(/« 12ab » n’est pas un numéro de poste/),
    });
  });

  it('refuses a damaged workbook, a text file named .xlsx and a workbook whose headers lie about a size with one clear problem each', async () => {
    const good = await book([
      ['id', 'type', 'last_name', 'extension'],
      ['a', 'person', 'X', '1'],
    ]);
    const cut = await parseDirectoryFile(good.subarray(0, good.length - 200), 'cut.xlsx');
    expect(cut.problems).toEqual([{ message: expect.stringMatching(/damaged or cut short/) }]);
    const text = await parseDirectoryFile(Buffer.from('id,type\n'), 'renamed.xlsx');
    expect(text.problems).toEqual([{ message: expect.stringMatching(/is not an Excel workbook/) }]);
    // A central directory claiming 4 GB for one member (what it really inflates to is checked in hostile-files.test).
    const liar = Buffer.from(good);
    const eocd = liar.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    liar.writeUInt32LE(0xffffffff, liar.readUInt32LE(eocd + 16) + 24);
    expect((await parseDirectoryFile(liar, 'liar.xlsx')).problems).toEqual([
      { message: expect.stringMatching(/cannot be read .*export it again as \.xlsx/) },
    ]);
  });

  it('writes every cell as text: a cell starting with = is a string Excel will not run', async () => {
    const bytes = await writeXlsx(
      ['id', 'last_name'],
      [
        ['a', "=cmd|' /C calc'!A0"],
        ['b', '+SUM(1+1)'],
      ],
    );
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(bytes as unknown as ExcelJS.Buffer);
    const cell = wb.worksheets[0].getCell('B2');
    expect(cell.type).toBe(ExcelJS.ValueType.String);
    expect(cell.value).toBe("=cmd|' /C calc'!A0");
    expect(cell.formula).toBeUndefined();
  });
});

describe('failed authentications per address', () => {
  it('is one count per client address however the transport spells it', () => {
    expect(['ipv4:10.1.2.3:50123', '::ffff:10.1.2.3', '10.1.2.3', '10.1.2.3:8080'].map(FailureLimiter.addressOf)).toEqual(
      Array(4).fill('10.1.2.3'),
    );
    expect(FailureLimiter.addressOf('ipv6:[::1]:5000')).toBe('::1');
    const limiter = new FailureLimiter(3, 60_000);
    expect([limiter.fail('ipv4:10.1.2.3:1', 0), limiter.fail('::ffff:10.1.2.3', 1), limiter.fail('10.1.2.3', 2)]).toEqual([
      false,
      false,
      true,
    ]);
    expect(limiter.locked('10.1.2.3', 3)).toBe(true);
    expect(limiter.locked('10.1.2.4', 3)).toBe(false);
    expect(limiter.locked('10.1.2.3', 60_001)).toBe(false);
  });
});

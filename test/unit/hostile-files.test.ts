import ExcelJS from 'exceljs';
import { MAX_PROBLEMS } from '../../src/directory/problem';
import { parseDirectoryFile } from '../../src/directory/directory-file';
import { parseDirectoryIsolated } from '../../src/directory/isolated-parse';
import { checkZip } from '../../src/directory/zip-check';
import { zip } from '../files/zip-archive';

async function book(rows: ExcelJS.CellValue[][]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const sheet = wb.addWorksheet('Feuil1');
  for (const r of rows) sheet.addRow(r);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

describe('hostile directory files', () => {
  it('refuses a workbook whose headers say 1,000 bytes while its sheet inflates to 120 MB, by what it inflates to', async () => {
    const lying = zip([
      { name: '[Content_Types].xml', data: Buffer.from('<Types/>') },
      { name: 'xl/worksheets/sheet1.xml', data: Buffer.alloc(120 * 1024 * 1024, 0x20), saysSize: 1000 },
    ]);
    expect(lying.length).toBeLessThan(1024 * 1024);
    expect(checkZip(lying, 100 * 1024 * 1024)).toMatchObject({ ok: false, problem: expect.stringMatching(/unpacks to more than 100 MB/) });
    expect((await parseDirectoryFile(lying, 'bomb.xlsx')).problems).toEqual([
      { message: expect.stringMatching(/unpacks to more than 100 MB/) },
    ]);
  });

  it('counts every part of the ZIP directory, whatever count its end record writes', () => {
    const parts = [0, 1, 2].map((i) => ({ name: `part${i}.xml`, data: Buffer.alloc(40 * 1024 * 1024, 0x41) }));
    expect(checkZip(zip(parts, 1), 100 * 1024 * 1024)).toMatchObject({ ok: false, entries: 3 });
    expect(checkZip(zip(parts.slice(0, 2), 1), 100 * 1024 * 1024)).toMatchObject({ ok: true, entries: 2 });
  });

  it('reads an honest workbook the same as before', async () => {
    const good = await book([
      ['id', 'type', 'last_name', 'extension'],
      ['a', 'person', 'Le Goff', '2001'],
    ]);
    expect(checkZip(good, 100 * 1024 * 1024)).toMatchObject({ ok: true });
    expect((await parseDirectoryIsolated(good, 'good.xlsx')).entries.map((e) => e.lastName)).toEqual(['Le Goff']);
  });

  it('refuses a 20 MB cell without looking into it, named by its cell', async () => {
    const huge = 'x'.repeat(2_000_000);
    const bytes = await book([
      ['id', 'type', 'last_name', 'extension'],
      ...Array.from({ length: 20 }, (_, i) => [`p${i}`, 'person', huge, '2001']),
    ]);
    const t0 = Date.now();
    const parsed = await parseDirectoryIsolated(bytes, 'shared.xlsx');
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(parsed.entries).toEqual([]);
    expect(parsed.problems[0]).toEqual({
      where: 'row 2, cell C2',
      message: 'holds 2000000 characters; a directory field holds at most 200',
    });
  });

  it('refuses a file of a million rows at once and reports at most 100 problems, then how many more', async () => {
    const rows = ['id,type,last_name,extension', ...Array.from({ length: 1_000_000 }, () => 'p,x,X,1')].join('\n');
    const parsed = await parseDirectoryIsolated(Buffer.from(rows), 'big.csv');
    expect(parsed.problems).toEqual([{ message: 'the file has 1000000 rows; the limit is 50000 entries' }]);
    const bad = ['id,type,last_name,extension', ...Array.from({ length: 5000 }, (_, i) => `p${i},persn,X,${i}`)].join('\n');
    const many = await parseDirectoryIsolated(Buffer.from(bad), 'bad.csv');
    expect(many.problems).toHaveLength(MAX_PROBLEMS + 1);
    expect(many.problems[MAX_PROBLEMS]).toEqual({ message: '… and 4900 more problems' });
  });

  it('refuses a file that needs more memory or time than the reader is given, and the next file is read', async () => {
    const rows = [
      'id,type,last_name,extension',
      ...Array.from({ length: 50_000 }, (_, i) => `p${i},person,${'Kerhervé'.repeat(20)},${i}`),
    ].join('\n');
    const starved = await parseDirectoryIsolated(Buffer.from(rows), 'heavy.csv', { heapMb: 16, timeoutMs: 30_000 });
    expect(starved.problems).toEqual([{ message: expect.stringMatching(/needs more than 16 MB of memory|could not be read/) }]);
    const slow = await parseDirectoryIsolated(Buffer.from(rows), 'heavy.csv', { heapMb: 512, timeoutMs: 5 });
    expect(slow.problems).toEqual([{ message: expect.stringMatching(/took longer than 0 s/) }]);
    const next = await parseDirectoryIsolated(Buffer.from('id,type,last_name,extension\na,person,Le Bihan,2001\n'), 'ok.csv');
    expect(next.problems).toEqual([]);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/main';

const fixtures = join(__dirname, '..', '..', '..', 'directory-fixtures');

describe('attendant CLI (directory and stores)', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let out: string[];
  let err: string[];
  const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
  const attendant = (...args: string[]): Promise<number> => {
    out = [];
    err = [];
    return run(args, io, env);
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'attendant-cli-'));
    env = { ATTENDANT_DATA_DIR: dir };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('imports a directory, creating the store, and exports it back', async () => {
    expect(await attendant('directory', 'import', 'paris-11', join(fixtures, 'demo-store.csv'))).toBe(0);
    expect(out[0]).toBe('store paris-11: version 1, 72 entries (72 added, 0 changed, 0 removed)');
    expect(await attendant('directory', 'export', 'paris-11')).toBe(0);
    const exported = join(dir, 'export.csv');
    writeFileSync(exported, `${out.join('\n')}\n`);
    expect(await attendant('directory', 'import', 'paris-11', exported)).toBe(0);
    expect(out[0]).toBe('store paris-11: version 2, 72 entries (0 added, 0 changed, 0 removed)');
  });

  it('refuses a broken file with exit 1, names each problem and leaves the store as it was', async () => {
    await attendant('directory', 'import', 's', join(fixtures, 'demo-store.csv'));
    await attendant('directory', 'export', 's', '--format', 'json');
    const before = out.join('\n');
    expect(await attendant('directory', 'import', 's', join(fixtures, 'broken-fields.csv'))).toBe(1);
    expect(err).toHaveLength(7);
    expect(err[0]).toMatch(/broken-fields\.csv line 3, field type: "persn" is not a type/);
    expect(err[6]).toMatch(/6 problems; nothing was imported/);
    await attendant('directory', 'export', 's', '--format', 'json');
    expect(out.join('\n')).toBe(before);
    await attendant('directory', 'versions', 's');
    expect(out).toHaveLength(1);
  });

  it('validates without importing on --dry-run', async () => {
    expect(await attendant('directory', 'import', 'dry', join(fixtures, 'excel-export-cp1252.csv'), '--dry-run')).toBe(0);
    expect(out[0]).toMatch(/12 entries are valid; nothing imported \(--dry-run\) \(read as windows-1252\)/);
    expect(await attendant('store', 'list')).toBe(0);
    expect(out).toEqual([]);
  });

  it('lists versions, rolls back and shows the history', async () => {
    await attendant('directory', 'import', 's', join(fixtures, 'demo-store.csv'));
    await attendant('directory', 'import', 's', join(fixtures, 'excel-export-utf8-bom.csv'));
    expect(out[0]).toMatch(/version 2, 12 entries \(0 added, 0 changed, 60 removed\)/);
    expect(await attendant('directory', 'rollback', 's', '1')).toBe(0);
    expect(out[0]).toBe('store s: version 3 has the content of version 1 (72 entries)');
    await attendant('directory', 'versions', 's');
    expect(out[0]).toMatch(/^\* v3\t.*\t72 entries\t\+60 ~0 -0\tcli/);
    await attendant('directory', 'history', 's');
    expect(out.map((l) => l.split('\t')[2])).toEqual(['replace', 'replace', 'rollback to 1']);
  });

  it('creates and lists stores with their settings', async () => {
    expect(await attendant('store', 'create', 'lyon-3', '--name', 'Lyon 3', '--number', '0472000000', '--operator', '100', '--locale', 'en-US')).toBe(0);
    await attendant('store', 'list');
    expect(out).toEqual(['lyon-3\tv0\ten-US\toperator 100\t0472000000\tLyon 3']);
    expect(await attendant('store', 'create', 'lyon-3')).toBe(1);
    expect(err).toEqual(['attendant: store "lyon-3" already exists']);
  });

  it.each([
    [['directory', 'import', 'only-store'], 2],
    [['store', 'create', 'x', '--locale', 'de-DE'], 2],
    [['directory', 'frobnicate', 'x'], 2],
    [['directory', 'export', 'missing-store'], 1],
    [['directory', 'import', 's', '/nonexistent/file.csv'], 1],
    [['store', 'create', 'bad id!'], 1],
  ])('exits with the documented status for %j', async (args, code) => {
    expect(await attendant(...args)).toBe(code);
    expect(err.join('\n')).not.toBe('');
  });
});

import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { DropFolder } from '../../src/api/drop-folder';
import { DirectoryStore } from '../../src/directory/directory-store';
import { Storage } from '../../src/storage/storage';

const fixtures = join(__dirname, '..', '..', '..', 'directory-fixtures');

describe('drop folder', () => {
  let dir: string;
  let storage: Storage;
  let directory: DirectoryStore;
  let drop: DropFolder;
  const changed: string[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'attendant-drop-'));
    storage = await Storage.open({ dataDir: dir });
    directory = storage.directory;
    await directory.createStore('paris-11');
    mkdirSync(join(dir, 'drop', 'paris-11'), { recursive: true });
    drop = new DropFolder(join(dir, 'drop'), directory, pino({ level: 'silent' }), (s) => changed.push(s));
  });
  afterEach(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports a good file, refuses a broken one, and files each where it belongs', async () => {
    const folder = join(dir, 'drop', 'paris-11');
    copyFileSync(join(fixtures, 'excel-export-cp1252.csv'), join(folder, 'export.csv'));
    copyFileSync(join(fixtures, 'broken-fields.csv'), join(folder, 'broken.csv'));
    expect((await drop.scan())).toEqual([]); // first sight: maybe still being written
    const results = (await drop.scan());
    expect(results.map((r) => [r.file, r.accepted]).sort()).toEqual([['broken.csv', false], ['export.csv', true]]);
    expect(readdirSync(folder).sort()).toEqual(['processed', 'rejected']);
    expect(readdirSync(join(folder, 'processed'))[0]).toMatch(/-export\.csv$/);
    const rejected = readdirSync(join(folder, 'rejected')).sort();
    expect(rejected).toHaveLength(2);
    const errors = readFileSync(join(folder, 'rejected', rejected.find((f) => f.endsWith('.errors.txt'))!), 'utf8');
    expect(errors).toContain('broken.csv line 3, field type: "persn" is not a type; use person or service');
    expect(errors).toContain('6 problems; nothing was imported');
    expect(await directory.snapshot('paris-11')).toMatchObject({ version: 1 });
    expect((await directory.snapshot('paris-11')).entries).toHaveLength(12);
    expect((await directory.history('paris-11'))[0]).toMatchObject({ via: 'file', actor: 'export.csv' });
    expect(changed).toEqual(['paris-11']);
  });

  it('waits while a file is still growing and ignores temporary names', async () => {
    const folder = join(dir, 'drop', 'paris-11');
    writeFileSync(join(folder, 'upload.csv'), 'id,type,last_name,extension\n');
    writeFileSync(join(folder, 'other.csv.part'), 'whatever');
    (await drop.scan());
    writeFileSync(join(folder, 'upload.csv'), 'id,type,last_name,extension\np1,person,Martin,2012\n');
    expect((await drop.scan())).toEqual([]);
    expect((await drop.scan()).map((r) => r.accepted)).toEqual([true]);
    expect(existsSync(join(folder, 'other.csv.part'))).toBe(true);
  });

  it('refuses a file for a store that does not exist', async () => {
    mkdirSync(join(dir, 'drop', 'ghost'));
    copyFileSync(join(fixtures, 'demo-store.csv'), join(dir, 'drop', 'ghost', 'd.csv'));
    (await drop.scan());
    const [result] = (await drop.scan());
    expect(result.accepted).toBe(false);
    expect(result.problems[0]).toMatch(/store "ghost" does not exist/);
  });
});

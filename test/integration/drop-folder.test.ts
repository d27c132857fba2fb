import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { DropFolder } from '../../src/api/drop-folder';
import { DirectoryStore } from '../../src/directory/directory-store';
import { Storage } from '../../src/cli/storage';

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
    drop = new DropFolder(join(dir, 'drop'), directory, pino({ level: 'silent' }), (s) => changed.push(s), 0);
  });
  afterEach(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports a good file, refuses a broken one, and files each where it belongs', async () => {
    const folder = join(dir, 'drop', 'paris-11');
    copyFileSync(join(fixtures, 'excel-export-cp1252.csv'), join(folder, 'export.csv'));
    copyFileSync(join(fixtures, 'broken-fields.csv'), join(folder, 'broken.csv'));
    expect(await drop.scan()).toEqual([]); // first sight: maybe still being written
    const results = await drop.scan();
    expect(results.map((r) => [r.file, r.accepted]).sort()).toEqual([
      ['broken.csv', false],
      ['export.csv', true],
    ]);
    expect(readdirSync(folder).sort()).toEqual(['processed', 'processing', 'rejected']);
    expect(readdirSync(join(folder, 'processing'))).toEqual([]);
    expect(readdirSync(join(folder, 'processed'))[0]).toMatch(/-export\.csv$/);
    const rejected = readdirSync(join(folder, 'rejected')).sort();
    expect(rejected).toHaveLength(2);
    const errors = readFileSync(
      join(
        folder,
        'rejected',
        rejected.find((f) => f.endsWith('.errors.txt'))!,
      ),
      'utf8',
    );
    // paris-11 is a French store (the default locale): its admin reads the errors in French.
    expect(errors).toContain('broken.csv ligne 3, champ type : « persn » n’est pas un type ; écrivez person ou service');
    expect(errors).toContain('6 problème(s) ; rien n’a été importé');
    expect(await directory.snapshot('paris-11')).toMatchObject({ version: 1 });
    expect((await directory.snapshot('paris-11')).entries).toHaveLength(12);
    expect((await directory.history('paris-11'))[0]).toMatchObject({ via: 'file', actor: 'export.csv' });
    expect(changed).toEqual(['paris-11']);
  });

  it('waits while a file is still growing and ignores temporary names', async () => {
    const folder = join(dir, 'drop', 'paris-11');
    writeFileSync(join(folder, 'upload.csv'), 'id,type,last_name,extension\n');
    writeFileSync(join(folder, 'other.csv.part'), 'whatever');
    await drop.scan();
    writeFileSync(join(folder, 'upload.csv'), 'id,type,last_name,extension\np1,person,Martin,2012\n');
    expect(await drop.scan()).toEqual([]);
    expect((await drop.scan()).map((r) => r.accepted)).toEqual([true]);
    expect(existsSync(join(folder, 'other.csv.part'))).toBe(true);
  });

  it("writes an English store's errors in English", async () => {
    await directory.createStore('lyon-3', { locale: 'en-US' });
    mkdirSync(join(dir, 'drop', 'lyon-3'));
    copyFileSync(join(fixtures, 'broken-fields.csv'), join(dir, 'drop', 'lyon-3', 'broken.csv'));
    await drop.scan();
    const [result] = await drop.scan();
    expect(readFileSync(`${result.movedTo}.errors.txt`, 'utf8')).toContain(
      'broken.csv line 3, field type: "persn" is not a type; use person or service\n',
    );
  });

  it('refuses a file for a store that does not exist', async () => {
    mkdirSync(join(dir, 'drop', 'ghost'));
    copyFileSync(join(fixtures, 'demo-store.csv'), join(dir, 'drop', 'ghost', 'd.csv'));
    await drop.scan();
    const [result] = await drop.scan();
    expect(result.accepted).toBe(false);
    expect(result.problems[0]).toMatch(/store "ghost" does not exist/);
  });

  it('does not take a file written a moment ago, even unchanged on two polls (a copy that pauses)', async () => {
    const slow = new DropFolder(join(dir, 'drop'), directory, pino({ level: 'silent' }), () => undefined, 5000);
    const folder = join(dir, 'drop', 'paris-11');
    writeFileSync(join(folder, 'half.csv'), 'id,type,last_name,extension\np1,person,Martin,2012\n');
    expect(await slow.scan()).toEqual([]);
    expect(await slow.scan()).toEqual([]);
    expect(existsSync(join(folder, 'half.csv'))).toBe(true);
    // Left alone for longer than the settling time: taken.
    const past = (Date.now() - 10_000) / 1000;
    utimesSync(join(folder, 'half.csv'), past, past);
    await slow.scan();
    expect((await slow.scan()).map((r) => r.accepted)).toEqual([true]);
  });

  it('follows no link: a store folder that is a link and a file that is a link are left alone', async () => {
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    copyFileSync(join(fixtures, 'demo-store.csv'), join(elsewhere, 'secret.csv'));
    symlinkSync(elsewhere, join(dir, 'drop', 'ghost'));
    symlinkSync(join(elsewhere, 'secret.csv'), join(dir, 'drop', 'paris-11', 'linked.csv'));
    await drop.scan();
    expect(await drop.scan()).toEqual([]);
    expect(readdirSync(elsewhere)).toEqual(['secret.csv']);
    expect(existsSync(join(dir, 'drop', 'paris-11', 'linked.csv'))).toBe(true);
    expect((await directory.history('paris-11')).filter((h) => h.via === 'file')).toEqual([]);
  });

  it('rejects at start a file that was being read when the service stopped, saying so, and reads it no more', async () => {
    const folder = join(dir, 'drop', 'paris-11');
    mkdirSync(join(folder, 'processing'));
    copyFileSync(join(fixtures, 'demo-store.csv'), join(folder, 'processing', 'bomb.xlsx'));
    const [result] = drop.recover();
    expect(result).toMatchObject({ accepted: false, problems: [expect.stringMatching(/was being read when the service stopped/)] });
    expect(readdirSync(join(folder, 'processing'))).toEqual([]);
    expect(readdirSync(join(folder, 'rejected')).some((f) => f.endsWith('bomb.xlsx.errors.txt'))).toBe(true);
    await drop.scan();
    expect(await drop.scan()).toEqual([]);
  });

  it('shows a file name with terminal escape codes escaped, in the errors file and the result', async () => {
    const folder = join(dir, 'drop', 'paris-11');
    const name = 'x\u001b[2J\u001b]0;owned\u0007.csv';
    copyFileSync(join(fixtures, 'broken-fields.csv'), join(folder, name));
    await drop.scan();
    const [result] = await drop.scan();
    expect(result.accepted).toBe(false);
    const errors = readFileSync(`${result.movedTo}.errors.txt`, 'utf8');
    expect(errors).not.toMatch(/\u001b|\u0007/);
    expect(errors).toContain('x\\x1b[2J\\x1b]0;owned\\x07.csv ligne 3');
    // Accepted, it is named so in the history `attendant directory history` prints.
    const good = 'y\u001b[31m.csv';
    copyFileSync(join(fixtures, 'excel-export-cp1252.csv'), join(folder, good));
    await drop.scan();
    expect((await drop.scan()).map((r) => r.accepted)).toEqual([true]);
    expect((await directory.history('paris-11'))[0]).toMatchObject({ via: 'file', actor: 'y\\x1b[31m.csv' });
  });
});

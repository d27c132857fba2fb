import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { DropFolder } from '../../src/api/drop-folder';
import { run } from '../../src/cli/main';
import { mergeReimport } from '../../src/directory/reimport';
import { DirectoryEntry } from '../../src/directory/entry';
import { Storage } from '../../src/cli/storage';

/** The back office's weekly export: names and extensions, nothing the store fixes in the console. */
const WEEK_1 = "Nom;Prénom;Service;Poste\nGUIVARC'H;Yannick;Boucherie;4102\nLE GOFF;Tristan;Caisse;4107\nLE BIHAN;Ronan;Drive;4108\n";
/** Next week: Tristan Le Goff moved to 4117. */
const WEEK_2 = "Nom;Prénom;Service;Poste\nGUIVARC'H;Yannick;Boucherie;4102\nLE GOFF;Tristan;Caisse;4117\nLE BIHAN;Ronan;Drive;4108\n";

describe("the weekly back-office import keeps the store's fixes", () => {
  let dir: string;
  let out: string[];
  const env = (): NodeJS.ProcessEnv => ({ ATTENDANT_DATA_DIR: dir });
  const attendant = (...args: string[]): Promise<number> => {
    out = [];
    return run(args, { out: (t) => out.push(t), err: () => undefined }, env());
  };
  /** What the store admin does in the console: a "se prononce", an alias, an entry disabled. */
  const fixInTheConsole = async (): Promise<void> => {
    const storage = await Storage.open({ dataDir: dir });
    try {
      await storage.directory.updateDirectory(
        'brest-1',
        (entries) =>
          entries.map((e) =>
            e.lastName === "GUIVARC'H"
              ? { ...e, soundsLike: 'gui var', aliases: ['le boucher'] }
              : e.lastName === 'LE GOFF'
                ? { ...e, soundsLike: 'le gof' }
                : e.lastName === 'LE BIHAN'
                  ? { ...e, enabled: false }
                  : e,
          ),
        { via: 'console', actor: 'token t1' },
      );
    } finally {
      await storage.close();
    }
  };
  const stored = async (): Promise<DirectoryEntry[]> => {
    const storage = await Storage.open({ dataDir: dir });
    try {
      return (await storage.directory.snapshot('brest-1')).entries;
    } finally {
      await storage.close();
    }
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'attendant-reimport-'));
    writeFileSync(join(dir, 'week1.csv'), WEEK_1);
    writeFileSync(join(dir, 'week2.csv'), WEEK_2);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('through the CLI: the same file next week changes nothing the store fixed, and says so', async () => {
    expect(await attendant('directory', 'import', 'brest-1', join(dir, 'week1.csv'), '--create')).toBe(0);
    await fixInTheConsole();
    expect(await attendant('directory', 'import', 'brest-1', join(dir, 'week1.csv'))).toBe(0);
    expect(out[0]).toMatch(
      /version 3, 3 entries \(0 added, 0 changed, 0 removed\).*; 2 pronunciations kept, 1 alias list kept, 1 disabled entry kept$/,
    );
    const guivarch = (await stored()).find((e) => e.lastName === "GUIVARC'H")!;
    expect(guivarch).toMatchObject({ soundsLike: 'gui var', aliases: ['le boucher'] });
    expect((await stored()).find((e) => e.lastName === 'LE BIHAN')?.enabled).toBe(false);
  });

  it('keeps a person who moved to another extension: one change, the same id, their fixes kept', async () => {
    expect(await attendant('directory', 'import', 'brest-1', join(dir, 'week1.csv'), '--create')).toBe(0);
    const before = (await stored()).find((e) => e.lastName === 'LE GOFF')!;
    await fixInTheConsole();
    expect(await attendant('directory', 'import', 'brest-1', join(dir, 'week2.csv'))).toBe(0);
    expect(out[0]).toMatch(/\(0 added, 1 changed, 0 removed\)/);
    expect((await stored()).find((e) => e.lastName === 'LE GOFF')).toMatchObject({
      id: before.id,
      extension: '4117',
      soundsLike: 'le gof',
    });
  });

  it('through the drop folder too', async () => {
    expect(await attendant('directory', 'import', 'brest-1', join(dir, 'week1.csv'), '--create')).toBe(0);
    await fixInTheConsole();
    const storage = await Storage.open({ dataDir: dir });
    try {
      const drop = new DropFolder(join(dir, 'drop'), storage.directory, pino({ level: 'silent' }), () => undefined, 0);
      mkdirSync(join(dir, 'drop', 'brest-1'), { recursive: true });
      copyFileSync(join(dir, 'week2.csv'), join(dir, 'drop', 'brest-1', 'export.csv'));
      await drop.scan();
      expect((await drop.scan()).map((r) => r.accepted)).toEqual([true]);
      const entries = (await storage.directory.snapshot('brest-1')).entries;
      expect(entries.find((e) => e.lastName === "GUIVARC'H")).toMatchObject({ soundsLike: 'gui var', aliases: ['le boucher'] });
      expect(entries.find((e) => e.lastName === 'LE GOFF')).toMatchObject({ extension: '4117', soundsLike: 'le gof' });
    } finally {
      await storage.close();
    }
  });

  it("lets a file that carries the column replace the store's value, and counts it", () => {
    const e = (soundsLike?: string): DirectoryEntry => ({
      id: 'a',
      type: 'person',
      firstName: 'Yannick',
      lastName: "Guivarc'h",
      serviceName: '',
      department: '',
      extension: '4102',
      aliases: [],
      enabled: true,
      soundsLike,
    });
    const r = mergeReimport([e('gui var')], [e('gui varc')], new Set(['id', 'type', 'last_name', 'extension', 'sounds_like']), false);
    expect(r.entries[0].soundsLike).toBe('gui varc');
    expect(r.replaced.sounds_like).toBe(1);
    expect(r.kept.sounds_like).toBe(0);
  });
});

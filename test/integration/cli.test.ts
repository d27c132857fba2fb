import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/main';
import { CallRecord } from '../../src/attendant/call-records';
import { Storage } from '../../src/cli/storage';

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
    expect(await attendant('directory', 'import', 'paris-11', join(fixtures, 'demo-store.csv'), '--create')).toBe(0);
    expect(out[0]).toBe('store paris-11: version 1, 72 entries (72 added, 0 changed, 0 removed)');
    expect(await attendant('directory', 'export', 'paris-11')).toBe(0);
    const exported = join(dir, 'export.csv');
    writeFileSync(exported, `${out.join('\n')}\n`);
    expect(await attendant('directory', 'import', 'paris-11', exported)).toBe(0);
    expect(out[0]).toBe('store paris-11: version 2, 72 entries (0 added, 0 changed, 0 removed)');
  });

  it('shows what each name will be heard as with `lexicon`, the "sounds like" spelling first, and exports it back', async () => {
    expect(await attendant('directory', 'import', 'brest', join(fixtures, 'breton-sounds-like.csv'), '--create')).toBe(0);
    expect(await attendant('lexicon', 'brest', 'le', 'goff')).toBe(0);
    expect(out[0]).toBe('b01  Yann Le Goff  3001  (sounds like "le gof")');
    // A French store is heard by the US English model, and by the French one where it is installed.
    const english = out.indexOf('  en-us');
    expect(english).toBeGreaterThan(0);
    const goff = out.slice(english).find((l) => l.trim().startsWith('goff'));
    // "gof" read the French way: no final schwa, one F; the written reading follows.
    expect(goff).toMatch(/^\s+goff\s+G [A-Z]+ F(\s|$)/);
    expect(await attendant('lexicon', 'brest', '--json')).toBe(0);
    const all = JSON.parse(out[0]) as {
      id: string;
      soundsLike: string | null;
      models: Record<string, { token: string; phones: string[] }[]>;
    }[];
    expect(all.map((e) => e.id)).toEqual(['b01', 'b02', 'b03', 'b04', 'b05']);
    expect(all.every((e) => e.models['en-us'].every((w) => w.phones.length > 0))).toBe(true);
    expect(await attendant('lexicon', 'brest', 'nobody')).toBe(1);
    expect(err.join('\n')).toContain('no entry of store "brest" matches "nobody"');
    expect(await attendant('directory', 'export', 'brest')).toBe(0);
    const lines = out.join('\n').split('\n');
    expect(lines[0].split(',').pop()).toBe('sounds_like');
    expect(lines).toContain('b02,person,Gwenaëlle,Kerhervé,,Boulangerie,3002,,true,kèr èr vé');
  });

  it("names an English store's problems in English", async () => {
    expect(await attendant('store', 'create', 'en-store', '--locale', 'en-US')).toBe(0);
    expect(await attendant('directory', 'import', 'en-store', join(fixtures, 'broken-fields.csv'))).toBe(1);
    expect(err[0]).toMatch(/broken-fields\.csv line 3, field type: "persn" is not a type/);
    expect(err[6]).toMatch(/6 problems; nothing was imported/);
  });

  it('refuses a broken file with exit 1, names each problem and leaves the store as it was', async () => {
    await attendant('directory', 'import', 's', join(fixtures, 'demo-store.csv'), '--create');
    await attendant('directory', 'export', 's', '--format', 'json');
    const before = out.join('\n');
    expect(await attendant('directory', 'import', 's', join(fixtures, 'broken-fields.csv'))).toBe(1);
    // A French store's admin reads its problems in French, named as the file names them.
    expect(err).toHaveLength(7);
    expect(err[0]).toMatch(/broken-fields\.csv ligne 3, champ type : « persn » n’est pas un type/);
    expect(err[6]).toMatch(/6 problème\(s\) ; rien n’a été importé/);
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
    await attendant('directory', 'import', 's', join(fixtures, 'demo-store.csv'), '--create');
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
    expect(
      await attendant('store', 'create', 'lyon-3', '--name', 'Lyon 3', '--number', '0472000000', '--operator', '100', '--locale', 'en-US'),
    ).toBe(0);
    await attendant('store', 'list');
    expect(out).toEqual(['lyon-3\tv0\ten-US\toperator 100\t0472000000\tLyon 3']);
    expect(await attendant('store', 'create', 'lyon-3')).toBe(1);
    expect(err).toEqual(['attendant: store "lyon-3" already exists']);
  });

  const COMMANDS = [
    ['serve'],
    ['store'],
    ['store', 'create'],
    ['store', 'update'],
    ['store', 'list'],
    ['store', 'show'],
    ['store', 'delete'],
    ['directory'],
    ['directory', 'import'],
    ['directory', 'export'],
    ['directory', 'versions'],
    ['directory', 'diff'],
    ['directory', 'rollback'],
    ['directory', 'history'],
    ['directory', 'push'],
    ['token'],
    ['token', 'create'],
    ['token', 'list'],
    ['token', 'revoke'],
    ['database'],
    ['database', 'copy'],
    ['models'],
    ['models', 'list'],
    ['models', 'install'],
    ['recognize'],
    ['call'],
    ['calls'],
  ];

  it.each(COMMANDS.map((c) => [c.join(' '), c] as const))(
    'prints help for "%s --help", exit 0, and neither starts nor changes anything',
    async (_name, command) => {
      const data = join(dir, 'untouched');
      env = { ATTENDANT_DATA_DIR: data, ATTENDANT_SIP_PORT: '1' };
      expect(await attendant(...command, '--help')).toBe(0);
      expect(out.join('\n')).toMatch(new RegExp(`^Usage: attendant ${command.join(' ')} `));
      expect(out.join('\n')).toMatch(/-h, --help/);
      expect(existsSync(data)).toBe(false);
    },
  );

  it('prints its version, and refuses unknown commands and options with the usage, exit 2', async () => {
    expect(await attendant('--version')).toBe(0);
    expect(out[0]).toMatch(/^\d+\.\d+\.\d+$/);
    expect(await attendant('serve', '--port', '5070')).toBe(2);
    expect(err.join('\n')).toMatch(/unknown option '--port'/);
    expect(await attendant('store', 'frobnicate')).toBe(2);
    expect(await attendant('directory', 'import', 's', 'f.csv', '--dry')).toBe(2);
    expect(err.join('\n')).toMatch(/unknown option '--dry'.*\n.*--help/s);
    expect(existsSync(join(dir, 'directory.db'))).toBe(false);
  });

  it('names the setting that is wrong, with exit 2, before doing anything', async () => {
    env = { ATTENDANT_DATA_DIR: dir, ATTENDANT_LOG_LEVEL: 'verbose' };
    expect(await attendant('serve')).toBe(2);
    expect(err).toEqual([
      'attendant: ATTENDANT_LOG_LEVEL="verbose" is not a level; use one of fatal, error, warn, info, debug, trace, silent',
    ]);
    env = { ATTENDANT_DATA_DIR: dir, ATTENDANT_RTP_SOURCE: 'any' };
    expect(await attendant('store', 'list')).toBe(2);
    expect(err[0]).toMatch(/^attendant: ATTENDANT_RTP_SOURCE="any" is not a policy/);
    env = { ATTENDANT_DATA_DIR: dir, ATTENDANT_SIP_ADVERTISED_ADDRESS: '2001:db8::1' };
    expect(await attendant('serve')).toBe(2);
    expect(err[0]).toMatch(/^attendant: ATTENDANT_SIP_ADVERTISED_ADDRESS="2001:db8::1" is not an IPv4 address/);
    env = { ATTENDANT_DATA_DIR: dir, ATTENDANT_METRICS_STORES: 'yes please' };
    expect(await attendant('serve')).toBe(2);
    expect(err[0]).toBe('attendant: ATTENDANT_METRICS_STORES="yes please" is not on or off');
    env = { ATTENDANT_DATA_DIR: dir, ATTENDANT_STORE_MEMORY_MB: '1.5' };
    expect(await attendant('serve')).toBe(2);
    expect(err[0]).toBe('attendant: ATTENDANT_STORE_MEMORY_MB="1.5" must be a whole number of megabytes, 16 or more (default 1024)');
  });

  it('refuses to import into a store that does not exist unless --create, naming the stores', async () => {
    await attendant('directory', 'import', 'paris-11', join(fixtures, 'demo-store.csv'), '--create');
    expect(await attendant('directory', 'import', 'paris-12', join(fixtures, 'demo-store.csv'))).toBe(1);
    expect(err[0]).toBe('attendant: no store "paris-12" (stores: paris-11); add --create to create it');
    await attendant('store', 'list');
    expect(out).toHaveLength(1);
  });

  it('shows a store, diffs two versions, and deletes a store with its tokens', async () => {
    await attendant('directory', 'import', 's', join(fixtures, 'demo-store.csv'), '--create');
    await attendant('directory', 'import', 's', join(fixtures, 'excel-export-utf8-bom.csv'));
    expect(await attendant('store', 'show', 's')).toBe(0);
    expect(out.join('\n')).toMatch(/^store s \(s\)\n {2}version {6}2 \(12 entries, 12 enabled\)\n {2}locale {7}fr-FR/);
    expect(await attendant('directory', 'diff', 's', '1', '2')).toBe(0);
    expect(out[out.length - 1]).toBe('0 added, 0 changed, 60 removed');
    expect(out.filter((l) => l.startsWith('- '))).toHaveLength(60);
    await attendant('token', 'create', 's');
    expect(await attendant('store', 'delete', 's')).toBe(2); // not a terminal: --yes needed
    expect(await attendant('store', 'delete', 's', '--yes')).toBe(0);
    expect(out).toEqual(['store s deleted']);
    await attendant('token', 'list');
    expect(out[0]).toMatch(/\ts\t.*\trevoked /);
    expect(await attendant('store', 'show', 's')).toBe(1);
    // Created again, it goes on with new version numbers.
    await attendant('directory', 'import', 's', join(fixtures, 'demo-store.csv'), '--create');
    expect(out[0]).toMatch(/^store s: version 3, /);
  });

  it('exports for French Excel with --excel: BOM, semicolons, CRLF, formulas escaped', async () => {
    await attendant('directory', 'import', 's', join(fixtures, 'demo-store.csv'), '--create');
    expect(await attendant('directory', 'export', 's', '--excel')).toBe(0);
    const text = out.join('\n');
    expect(text.startsWith('\ufeffid;type;first_name;last_name;')).toBe(true);
    expect(text).toContain('\r\n');
    expect(text.split('\r\n')).toHaveLength(73);
  });

  it('refuses to list stores or calls from a folder with no data, instead of making one', async () => {
    env = { ATTENDANT_DATA_DIR: join(dir, 'elsewhere') };
    expect(await attendant('store', 'list')).toBe(1);
    expect(err[0]).toMatch(/no data in .*elsewhere: set ATTENDANT_DATA_DIR/);
    expect(await attendant('calls', '--all-stores')).toBe(1);
    expect(existsSync(join(dir, 'elsewhere'))).toBe(false);
  });

  it('lists calls by store, outcome and time, and writes a CDR file', async () => {
    await attendant('store', 'create', 'a');
    await attendant('store', 'create', 'b');
    const storage = await Storage.open({ dataDir: dir });
    const records = storage.records;
    const call = (id: string, store: string, outcome: CallRecord['outcome'], startedAt: string): CallRecord => ({
      callId: id,
      store,
      sipCallId: `sip-${id}`,
      startedAt,
      endedAt: startedAt,
      outcome,
      extension: outcome === 'transferred' ? '2014' : '',
      entryId: '',
      path: ['greeting', 'heard'],
      durationMs: 5000,
      decisionMs: 200,
      transcripts: [],
      transfer: 'refer',
      reason: '',
    });
    await records.add(call('c1', 'a', 'transferred', '2026-11-01T10:00:00.000Z'));
    await records.add(call('c2', 'a', 'operator', '2026-11-20T10:00:00.000Z'));
    await records.add(call('c3', 'b', 'transferred', '2026-11-21T10:00:00.000Z'));
    await storage.close();
    expect(await attendant('calls', 'a', '--json')).toBe(0);
    expect(out.map((l) => JSON.parse(l).callId)).toEqual(['c2', 'c1']);
    await attendant('calls', '--all-stores', '--outcome', 'transferred', '--json');
    expect(out.map((l) => JSON.parse(l).callId)).toEqual(['c3', 'c1']);
    await attendant('calls', '--all-stores', '--since', '2026-11-15', '--csv');
    expect(out[0]).toMatch(/^call_id,store,started_at,ended_at,outcome,extension/);
    expect(out.slice(1).map((l) => l.split(',')[0])).toEqual(['c3', 'c2']);
    expect(await attendant('calls', 'a', '--outcome', 'lost')).toBe(2);
    expect(await attendant('calls')).toBe(2);
    expect(await attendant('calls', 'a', '--since', 'last tuesday')).toBe(2);
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

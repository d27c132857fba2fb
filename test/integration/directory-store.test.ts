import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryStore, KEPT_VERSIONS, StoreNotFoundError, VersionConflictError } from '../../src/directory/directory-store';
import { DirectoryEntry } from '../../src/directory/entry';
import { Storage } from '../../src/cli/storage';
import { DatabaseUnavailableError } from '../../src/storage/sql';
import { PgCluster } from './postgres';

const entry = (id: string, lastName: string, extension: string): DirectoryEntry => ({
  id,
  type: 'person',
  firstName: '',
  lastName,
  serviceName: '',
  department: '',
  extension,
  aliases: [],
  enabled: true,
});
const cli = { via: 'cli', actor: 'test' };

let cluster: PgCluster | undefined;
let databases = 0;
beforeAll(async () => {
  cluster = await PgCluster.start();
}, 120_000);
afterAll(() => cluster?.stop());

/** The same semantics on both backends: every test below runs on each. */
describe.each(['sqlite', 'postgres'] as const)('DirectoryStore (%s)', (backend) => {
  let dir: string;
  let storage: Storage;
  let store: DirectoryStore;
  /** A second connection to the same data: another process, or another node. */
  let open: () => Promise<Storage>;
  /** Another node: its own data dir, the same PostgreSQL database (SQLite: the same file, as one node). */
  let openNode: (dataDir: string) => Promise<Storage>;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'attendant-store-'));
    openNode = () => Storage.open({ dataDir: dir });
    if (backend === 'postgres') {
      if (cluster === undefined) return;
      const url = await cluster.createDatabase(`store_test_${++databases}`);
      open = () => Storage.open({ dataDir: dir, databaseUrl: url });
      openNode = (dataDir) => Storage.open({ dataDir, databaseUrl: url });
    } else {
      open = () => Storage.open({ dataDir: dir });
    }
    storage = await open();
    store = storage.directory;
    await store.createStore('s1', { operator: '9' });
  });
  afterEach(async () => {
    await storage?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  /** PostgreSQL tests need the cluster; without it they say so and pass nothing off as tested. */
  const on = (name: string, fn: () => Promise<void>, timeout?: number): void =>
    it(
      name,
      async () => {
        if (backend === 'postgres' && cluster === undefined) return console.log(`skipped on PostgreSQL (not installed): ${name}`);
        await fn();
      },
      timeout,
    );

  on(
    "keeps a store's prompt recordings for every node: written into each node's prompts folder, removed everywhere, hand-placed files left alone",
    async () => {
      const other = backend === 'postgres' ? join(dir, 'node-b') : dir;
      const b = await openNode(other);
      try {
        const folder = (d: string): string => join(d, 'stores', 's1', 'prompts');
        const wav = Buffer.from('RIFF-not-checked-here');
        await storage.recordings.save('s1', 'greeting.fr-FR.wav', wav);
        expect(readFileSync(join(folder(dir), 'greeting.fr-FR.wav')).equals(wav)).toBe(true);
        mkdirSync(folder(other), { recursive: true });
        writeFileSync(join(folder(other), 'goodbye.wav'), 'by hand');
        expect((await b.recordings.digests()).get('s1')).toContain('greeting.fr-FR.wav:');
        await b.recordings.materialize('s1');
        expect(readFileSync(join(folder(other), 'greeting.fr-FR.wav')).equals(wav)).toBe(true);
        // A node hears its own change's notification while it writes the folder: the writes do not collide.
        const wav3 = Buffer.from('RIFF-third-take');
        await Promise.all([
          storage.recordings.save('s1', 'greeting.fr-FR.wav', wav3),
          ...[1, 2, 3].map(() => storage.recordings.materialize('s1')),
        ]);
        expect(readFileSync(join(folder(dir), 'greeting.fr-FR.wav')).equals(wav3)).toBe(true);
        // Changed again on the first node, then removed there: the other follows, and keeps its own file.
        const wav2 = Buffer.from('RIFF-second-take');
        await storage.recordings.save('s1', 'greeting.fr-FR.wav', wav2);
        await b.recordings.materialize('s1');
        expect(readFileSync(join(folder(other), 'greeting.fr-FR.wav')).equals(wav2)).toBe(true);
        await storage.recordings.remove('s1', ['greeting.fr-FR.wav', 'greeting.wav']);
        await b.recordings.materialize('s1');
        expect(existsSync(join(folder(other), 'greeting.fr-FR.wav'))).toBe(false);
        expect(readFileSync(join(folder(other), 'goodbye.wav'), 'utf8')).toBe('by hand');
        expect((await b.recordings.digests()).has('s1')).toBe(false);
      } finally {
        if (b !== storage) await b.close();
      }
    },
  );

  on('numbers each import and counts what changed', async () => {
    const v1 = await store.replaceDirectory('s1', [entry('a', 'Martin', '1'), entry('b', 'Durand', '2')], cli);
    const v2 = await store.replaceDirectory('s1', [entry('a', 'Martin', '11'), entry('c', 'Petit', '3')], cli);
    expect(v1).toMatchObject({ version: 1, added: 2, changed: 0, removed: 0 });
    expect(v2).toMatchObject({ version: 2, added: 1, changed: 1, removed: 1 });
    expect((await store.snapshot('s1')).entries.map((e) => e.id)).toEqual(['a', 'c']);
    expect((await store.snapshot('s1', 1)).entries.map((e) => e.extension)).toEqual(['1', '2']);
  });

  on('rolls back by making the old content a new version, and records it', async () => {
    await store.replaceDirectory('s1', [entry('a', 'Martin', '1')], cli);
    await store.replaceDirectory('s1', [entry('b', 'Durand', '2')], cli);
    const info = await store.rollback('s1', 1, cli);
    expect(info.version).toBe(3);
    expect((await store.snapshot('s1')).entries.map((e) => e.id)).toEqual(['a']);
    expect((await store.history('s1')).map((h) => h.action)).toEqual(['replace', 'replace', 'rollback to 1']);
    expect((await store.listVersions('s1')).find((v) => v.current)?.version).toBe(3);
  });

  on('refuses a stale expected version and changes nothing', async () => {
    await store.replaceDirectory('s1', [entry('a', 'Martin', '1')], cli);
    await expect(store.replaceDirectory('s1', [entry('b', 'Durand', '2')], cli, 0)).rejects.toThrow(VersionConflictError);
    expect(await store.snapshot('s1')).toMatchObject({ version: 1 });
  });

  on('keeps the last versions only', async () => {
    for (let i = 0; i < KEPT_VERSIONS + 5; i += 1) await store.replaceDirectory('s1', [entry('a', 'Martin', String(i))], cli);
    const versions = await store.listVersions('s1');
    expect(versions).toHaveLength(KEPT_VERSIONS);
    await expect(store.rollback('s1', 1, cli)).rejects.toThrow(/has no version 1; kept versions: 25, 24/);
  });

  on('keeps stores apart and finds a store by one of its numbers', async () => {
    await store.createStore('s2', { numbers: ['0142000000'] });
    await store.replaceDirectory('s2', [entry('z', 'Zola', '9')], cli);
    expect((await store.snapshot('s1')).entries).toEqual([]);
    expect((await store.resolveStore('0142000000'))?.id).toBe('s2');
    // The same number as PBXs and carriers send it: E.164, the international prefix, the trunk 0 dropped.
    for (const form of ['+33142000000', '0033142000000', '142000000', '33142000000'])
      expect([form, (await store.resolveStore(form))?.id]).toEqual([form, 's2']);
    expect(await store.resolveStore('0000')).toBeUndefined();
    expect(await store.resolveStore('+33142000001')).toBeUndefined();
    await expect(store.createStore('s2')).rejects.toThrow(/already exists/);
  });

  on('says how to create a store that does not exist', async () => {
    await expect(store.snapshot('nope')).rejects.toThrow(StoreNotFoundError);
    await expect(store.snapshot('nope')).rejects.toThrow(/attendant store create nope/);
  });

  on('is durable: a second connection sees the committed version', async () => {
    await store.replaceDirectory('s1', [entry('a', 'Martin', '1')], cli);
    const other = await open();
    expect((await other.directory.snapshot('s1')).entries).toHaveLength(1);
    await other.close();
  });

  on(
    'puts concurrent changes from two connections one after the other: one version each, expected_version holds',
    async () => {
      const other = await open();
      try {
        // 10 changes at once from each side, as two nodes would.
        const changes = Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? store : other.directory).replaceDirectory('s1', [entry('a', 'Martin', String(i))], cli),
        );
        const versions = (await Promise.all(changes)).map((v) => v.version).sort((a, b) => a - b);
        expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        // Both read version 20; only the first of two changes that expect it is taken.
        const both = await Promise.allSettled([
          store.replaceDirectory('s1', [entry('b', 'Durand', '1')], cli, 20),
          other.directory.replaceDirectory('s1', [entry('c', 'Petit', '1')], cli, 20),
        ]);
        expect(both.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect(both.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason)).toEqual([
          expect.any(VersionConflictError),
        ]);
        expect((await store.snapshot('s1')).version).toBe(21);
      } finally {
        await other.close();
      }
    },
    30_000,
  );

  on(
    'applies its migrations once when two nodes start at once, and again as a no-op',
    async () => {
      const opened = await Promise.all([open(), open(), open()]);
      for (const s of opened) expect((await s.directory.listStores()).map((st) => st.id)).toEqual(['s1']);
      const names = await opened[0].sql.all<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
      expect(names.map((n) => n.name)).toEqual(['001_directory', '002_tokens', '003_calls', '004_prompt_recordings']);
      await Promise.all(opened.map((s) => s.close()));
    },
    30_000,
  );

  on('keeps tokens and call records in the same database', async () => {
    const { id, token } = await storage.tokens.create('s1');
    const other = await open();
    try {
      expect(await other.tokens.verify(token)).toMatchObject({ id, store: 's1' });
      expect(await other.tokens.revoke(id)).toBe(true);
      expect(await storage.tokens.verify(token)).toBeUndefined();
      const record = {
        callId: 'c1',
        store: 's1',
        sipCallId: 'x',
        startedAt: '2026-11-23T10:00:00.000Z',
        endedAt: '2026-11-23T10:00:09.000Z',
        outcome: 'transferred' as const,
        extension: '1',
        entryId: 'a',
        path: ['voice'],
        durationMs: 9000,
        decisionMs: 210,
        transcripts: [],
        transfer: 'refer',
        reason: '',
      };
      await storage.records.add(record);
      await storage.records.add({ ...record, outcome: 'operator' });
      expect(await other.records.list('s1')).toEqual([{ ...record, outcome: 'operator' }]);
    } finally {
      await other.close();
    }
  });
});

describe('PostgreSQL away', () => {
  it('refuses a change with a clear error, and takes changes again when the server is back', async () => {
    if (cluster === undefined) return console.log('skipped: PostgreSQL not installed');
    const dir = mkdtempSync(join(tmpdir(), 'attendant-store-'));
    const storage = await Storage.open({ dataDir: dir, databaseUrl: await cluster.createDatabase('away_test') });
    try {
      await storage.directory.createStore('s1');
      await storage.directory.replaceDirectory('s1', [entry('a', 'Martin', '1')], cli);
      cluster.down(true);
      const refused = storage.directory.replaceDirectory('s1', [entry('b', 'Durand', '2')], cli);
      await expect(refused).rejects.toThrow(DatabaseUnavailableError);
      await expect(storage.directory.replaceDirectory('s1', [entry('b', 'Durand', '2')], cli)).rejects.toThrow(
        /cannot be reached.*nothing was changed/,
      );
      await cluster.up();
      const info = await storage.directory.replaceDirectory('s1', [entry('b', 'Durand', '2')], cli);
      expect(info.version).toBe(2);
    } finally {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

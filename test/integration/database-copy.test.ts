import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/main';
import { CallRecord } from '../../src/attendant/call-records';
import { Storage } from '../../src/cli/storage';
import { PgCluster } from './postgres';

/**
 * `attendant database copy --to postgres://…` (issue 12): a site that ran one node on SQLite
 * moves to two nodes sharing PostgreSQL without losing a version, an audit line, a token or
 * a call record, and the copy goes on working (new versions, new history lines).
 */

const root = join(__dirname, '..', '..', '..');
let cluster: PgCluster | undefined;
let dir: string;

beforeAll(async () => {
  cluster = await PgCluster.start();
  dir = mkdtempSync(join(tmpdir(), 'attendant-copy-'));
}, 120_000);

afterAll(() => {
  cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function attendant(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(args, { out: (t) => out.push(t), err: (t) => err.push(t) }, { ...env, ATTENDANT_LOG_LEVEL: 'silent' });
  return { code, out, err };
}

/** Everything a user can see of a database: stores, versions, history, tokens, calls. */
async function contents(storage: Storage, secret: string): Promise<unknown> {
  const stores = await storage.directory.listStores();
  const perStore = await Promise.all(
    stores.map(async (s) => ({
      store: s,
      versions: await storage.directory.listVersions(s.id),
      history: await storage.directory.history(s.id),
      entries: (await storage.directory.snapshot(s.id)).entries,
    })),
  );
  return {
    perStore,
    tokens: await storage.tokens.list(),
    verified: await storage.tokens.verify(secret),
    calls: await storage.records.list(undefined, 100),
  };
}

it('copies a SQLite site into PostgreSQL whole, refuses a target that is not empty, and the copy takes new versions', async () => {
  if (cluster === undefined) return;
  const sqlite = { ATTENDANT_DATA_DIR: join(dir, 'data') };
  const fixture = (name: string): string => join(root, 'directory-fixtures', name);
  expect((await attendant(sqlite, 'directory', 'import', 'brest', fixture('demo-store.csv'), '--create')).code).toBe(0);
  expect((await attendant(sqlite, 'directory', 'import', 'brest', fixture('heldout-store.csv'))).code).toBe(0);
  expect((await attendant(sqlite, 'directory', 'rollback', 'brest', '1')).code).toBe(0);
  expect((await attendant(sqlite, 'directory', 'import', 'quimper', fixture('heldout-store.csv'), '--create')).code).toBe(0);
  const token = await attendant(sqlite, 'token', 'create', 'brest');
  expect(token.code).toBe(0);
  const secret = token.out[0];
  expect(secret.length).toBeGreaterThan(20);
  const storage = await Storage.open({ dataDir: sqlite.ATTENDANT_DATA_DIR });
  const call = (id: string, startedAt: string): CallRecord => ({
    callId: id,
    store: 'brest',
    sipCallId: `sip-${id}`,
    startedAt,
    endedAt: startedAt,
    outcome: 'transferred',
    extension: '2014',
    entryId: 'p04',
    path: ['heard:transfer', 'transfer:2014:speech'],
    durationMs: 5000,
    decisionMs: 180,
    transcripts: [],
    transfer: 'refer',
    reason: 'the PBX reports 200',
  });
  // Two calls in the same millisecond: the copy keeps their order.
  for (const c of [call('c1', '2026-11-20T10:00:00.000Z'), call('c2', '2026-11-21T10:00:00.000Z'), call('c3', '2026-11-21T10:00:00.000Z')])
    await storage.records.add(c);
  // A store's own greeting (bytes of any value: a BLOB becomes a BYTEA).
  const greeting = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) % 256));
  await storage.recordings.save('brest', 'greeting.fr-FR.wav', greeting);
  const before = await contents(storage, secret);
  await storage.close();

  const url = await cluster.createDatabase('copied');
  const copied = await attendant(sqlite, 'database', 'copy', '--to', url);
  expect(copied.err).toEqual([]);
  expect(copied.code).toBe(0);
  expect(copied.out[0]).toMatch(
    /^copied to PostgreSQL 127\.0\.0\.1:\d+\/copied: 2 stores, 4 versions, \d+ history, 1 tokens, 3 calls, 1 prompt recordings$/,
  );
  expect(copied.out.join('\n')).not.toContain(secret);

  const pg = await Storage.open({ dataDir: join(dir, 'pg-node'), databaseUrl: url });
  try {
    expect(await contents(pg, secret)).toEqual(before);
    await pg.recordings.materialize('brest');
    expect(readFileSync(join(dir, 'pg-node', 'stores', 'brest', 'prompts', 'greeting.fr-FR.wav')).equals(greeting)).toBe(true);
  } finally {
    await pg.close();
  }

  // Copied once: a second copy into it is refused, and changes nothing.
  const again = await attendant(sqlite, 'database', 'copy', '--to', url);
  expect(again.code).toBe(1);
  expect(again.err[0]).toMatch(/already holds stores \(2 rows\): nothing was copied/);
  // Nodes on PostgreSQL go on from there: a new version and a new history line.
  const onPg = { ATTENDANT_DATA_DIR: dir, ATTENDANT_DATABASE_URL: url };
  expect((await attendant(onPg, 'directory', 'import', 'brest', fixture('heldout-store.csv'))).code).toBe(0);
  const history = await attendant(onPg, 'directory', 'history', 'brest');
  expect(history.code).toBe(0);
  expect(history.out.length).toBeGreaterThanOrEqual(4);
  // Into the database in use: refused.
  const self = await attendant(onPg, 'database', 'copy', '--to', url);
  expect(self.code).toBe(2);
  expect(self.err[0]).toMatch(/names the database attendant uses now/);
}, 120_000);

it('explains why a target cannot be opened, and copies nothing', async () => {
  if (cluster === undefined) return;
  const sqlite = { ATTENDANT_DATA_DIR: join(dir, 'data') };
  const r = await attendant(sqlite, 'database', 'copy', '--to', `postgres://nobody@127.0.0.1:${cluster.port}/no_such_database`);
  expect(r.code).toBe(3);
  expect(r.err[0]).toMatch(/^attendant: the target database \(PostgreSQL 127\.0\.0\.1:\d+\/no_such_database\) cannot be opened: /);
}, 60_000);

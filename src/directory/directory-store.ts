import { sameNumber } from './phone-number';
import { Sql } from '../storage/sql';
import { DirectoryEntry } from './entry';
import { AttendantError } from '../util/errors';

/**
 * The versioned store of every store's directory, in SQLite (WAL) in the data dir or in PostgreSQL.
 * Each accepted import is a whole new numbered version written in one transaction,
 * so a reader sees the old directory or the new one, never a mix.
 */

export const STORE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const KEPT_VERSIONS = 20;

export type Locale = 'fr-FR' | 'en-US';
export type TransferMode = 'refer' | 'grpc';

export interface StoreSettings {
  name: string;
  numbers: string[];
  operator: string;
  locale: Locale;
  transfer: TransferMode;
  pbx: string;
  hooks: string;
  /** Whether call records keep what the recognizer heard (off by default: personal data). */
  transcripts: boolean;
}

export interface Store extends StoreSettings {
  id: string;
  createdAt: string;
  version: number;
}

export interface VersionInfo {
  version: number;
  createdAt: string;
  via: string;
  actor: string;
  entries: number;
  added: number;
  changed: number;
  removed: number;
  current: boolean;
}

export interface HistoryRecord {
  at: string;
  via: string;
  actor: string;
  action: string;
  version: number;
  added: number;
  changed: number;
  removed: number;
}

export interface Snapshot {
  store: string;
  version: number;
  entries: DirectoryEntry[];
}

export interface ChangeOrigin {
  via: 'cli' | 'grpc' | 'file' | string;
  actor: string;
}

export class StoreNotFoundError extends AttendantError {
  constructor(readonly store: string) {
    super('not-found', `store "${store}" does not exist; create it with: attendant store create ${store}`);
  }
}

export class InvalidStoreIdError extends AttendantError {
  constructor(readonly store: string) {
    super('invalid', `"${store}" is not a valid store id (1 to 64 of A-Z a-z 0-9 _ -)`);
  }
}

export class StoreExistsError extends AttendantError {
  constructor(readonly store: string) {
    super('conflict', `store "${store}" already exists`);
  }
}

export class VersionNotFoundError extends AttendantError {
  constructor(
    readonly store: string,
    readonly version: number,
    readonly kept: number[],
  ) {
    super('not-found', `store "${store}" has no version ${version}; kept versions: ${kept.length > 0 ? kept.join(', ') : 'none'}`);
  }
}

/**
 * A directory with no entries is refused by every path (file, drop folder, gRPC, CLI): a
 * store with nobody to reach would send every call to the operator, and calls would keep
 * the previous version anyway.
 */
export class EmptyDirectoryError extends AttendantError {
  constructor(readonly store: string) {
    super(
      'invalid',
      `a directory needs at least one entry; store "${store}" keeps its current version (to stop taking calls, disable the entries or remove the store's number)`,
    );
  }
}

export class VersionConflictError extends AttendantError {
  constructor(
    readonly store: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super('conflict', `store "${store}" is at version ${actual}, not ${expected}; fetch it again and retry`);
  }
}

export const DEFAULT_SETTINGS: StoreSettings = {
  name: '',
  numbers: [],
  operator: '9',
  locale: 'fr-FR',
  transfer: 'refer',
  pbx: '',
  hooks: '',
  transcripts: false,
};

const DIRECTORY_TABLES = `
CREATE TABLE IF NOT EXISTS stores (
  id TEXT PRIMARY KEY,
  settings TEXT NOT NULL,
  created_at TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS versions (
  store_id TEXT NOT NULL REFERENCES stores(id),
  version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  via TEXT NOT NULL,
  actor TEXT NOT NULL,
  entry_count INTEGER NOT NULL,
  added INTEGER NOT NULL,
  changed INTEGER NOT NULL,
  removed INTEGER NOT NULL,
  entries TEXT NOT NULL,
  PRIMARY KEY (store_id, version)
);
CREATE TABLE IF NOT EXISTS history (
  seq SEQ,
  store_id TEXT NOT NULL,
  at TEXT NOT NULL,
  via TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  version INTEGER NOT NULL,
  added INTEGER NOT NULL,
  changed INTEGER NOT NULL,
  removed INTEGER NOT NULL
)`;

/** The directory tables (migration "001_directory"): the same in both dialects but for history's sequence. */
export const DIRECTORY_MIGRATION = {
  name: '001_directory',
  sqlite: `${DIRECTORY_TABLES.replace('SEQ', 'INTEGER PRIMARY KEY AUTOINCREMENT')};`,
  postgres: `${DIRECTORY_TABLES.replace('SEQ', 'BIGSERIAL PRIMARY KEY')};
CREATE INDEX IF NOT EXISTS history_by_store ON history (store_id, seq)`,
};

interface StoreRow {
  id: string;
  settings: string;
  created_at: string;
  version: number;
}

const toStore = (row: StoreRow): Store => ({
  ...DEFAULT_SETTINGS,
  ...(JSON.parse(row.settings) as StoreSettings),
  id: row.id,
  createdAt: row.created_at,
  version: Number(row.version),
});

/**
 * Every store and its directory versions, on SQLite or PostgreSQL (the same statements).
 * Each change is one transaction that takes the store's row first, so that two nodes
 * changing one store at once are put one after the other: the second sees the first's
 * version (and `expected_version` holds across nodes).
 */
export class DirectoryStore {
  constructor(private readonly sql: Sql) {}

  async createStore(id: string, settings: Partial<StoreSettings> = {}): Promise<Store> {
    if (!STORE_ID_PATTERN.test(id)) {
      throw new InvalidStoreIdError(id);
    }
    const full: StoreSettings = { ...DEFAULT_SETTINGS, name: id, ...settings };
    const created = await this.sql.transaction(async (tx) => {
      const inserted = await tx.run('INSERT INTO stores (id, settings, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING', [
        id,
        JSON.stringify(full),
        new Date().toISOString(),
      ]);
      if (inserted === 0) throw new StoreExistsError(id);
      await tx.notify(id);
      return this.readStore(tx, id);
    });
    return created;
  }

  async updateStore(id: string, settings: Partial<StoreSettings>): Promise<Store> {
    return this.sql.transaction(async (tx) => {
      const store = await this.lockStore(tx, id);
      const { id: _id, createdAt: _c, version: _v, ...current } = store;
      const next: StoreSettings = { ...current, ...settings };
      await tx.run('UPDATE stores SET settings = ? WHERE id = ?', [JSON.stringify(next), id]);
      await tx.notify(id);
      return this.readStore(tx, id);
    });
  }

  async findStore(id: string): Promise<Store | undefined> {
    const row = await this.sql.get<StoreRow>('SELECT id, settings, created_at, version FROM stores WHERE id = ?', [id]);
    return row === undefined ? undefined : toStore(row);
  }

  async getStore(id: string): Promise<Store> {
    const store = await this.findStore(id);
    if (store === undefined) throw new StoreNotFoundError(id);
    return store;
  }

  async listStores(): Promise<Store[]> {
    const rows = await this.sql.all<StoreRow>('SELECT id, settings, created_at, version FROM stores ORDER BY id');
    return rows.map(toStore);
  }

  /** The store whose id or one of whose numbers (in any of its forms: phone-number.ts) is `user` (the Request-URI user of a call). */
  async resolveStore(user: string): Promise<Store | undefined> {
    const direct = await this.findStore(user);
    if (direct !== undefined) return direct;
    return (await this.listStores()).find((store) => store.numbers.some((n) => sameNumber(user, n, store.locale)));
  }

  /** Replaces a store's whole directory with `entries` as a new version, atomically. */
  async replaceDirectory(storeId: string, entries: DirectoryEntry[], origin: ChangeOrigin, expectedVersion?: number): Promise<VersionInfo> {
    if (entries.length === 0) throw new EmptyDirectoryError(storeId);
    return this.sql.transaction((tx) => this.replaceIn(tx, storeId, () => entries, origin, expectedVersion, 'replace'));
  }

  /** Reads the current directory, applies `change` and stores the result as a new version, in one transaction. */
  async updateDirectory(
    storeId: string,
    change: (entries: DirectoryEntry[]) => DirectoryEntry[],
    origin: ChangeOrigin,
    expectedVersion?: number,
  ): Promise<VersionInfo> {
    return this.sql.transaction((tx) => this.replaceIn(tx, storeId, change, origin, expectedVersion, 'update'));
  }

  /**
   * Deletes a store and its versions. Its history stays (with a "delete" line), so that a
   * store created again under the same id goes on with new version numbers.
   */
  async deleteStore(storeId: string, origin: ChangeOrigin): Promise<void> {
    await this.sql.transaction(async (tx) => {
      const store = await this.lockStore(tx, storeId);
      await tx.run('DELETE FROM versions WHERE store_id = ?', [storeId]);
      await tx.run('DELETE FROM stores WHERE id = ?', [storeId]);
      await this.record(tx, storeId, new Date().toISOString(), origin, 'delete', store.version, { added: 0, changed: 0, removed: 0 });
      await tx.notify(storeId);
    });
  }

  /** Makes an older version current again, as a new version with that content. */
  async rollback(storeId: string, toVersion: number, origin: ChangeOrigin): Promise<VersionInfo> {
    return this.sql.transaction(async (tx) => {
      await this.lockStore(tx, storeId);
      const entries = await this.readEntries(tx, storeId, toVersion);
      return this.replaceIn(tx, storeId, () => entries, origin, undefined, `rollback to ${toVersion}`);
    });
  }

  /** The store's current directory (version 0 and no entries before the first import). */
  async snapshot(storeId: string, version?: number): Promise<Snapshot> {
    const store = await this.getStore(storeId);
    const wanted = version ?? store.version;
    if (wanted === 0) return { store: storeId, version: 0, entries: [] };
    return { store: storeId, version: wanted, entries: await this.readEntries(this.sql, storeId, wanted) };
  }

  async listVersions(storeId: string): Promise<VersionInfo[]> {
    return this.versionsIn(this.sql, await this.getStore(storeId));
  }

  async history(storeId: string): Promise<HistoryRecord[]> {
    await this.getStore(storeId);
    const rows = await this.sql.all<HistoryRecord>(
      'SELECT at, via, actor, action, version, added, changed, removed FROM history WHERE store_id = ? ORDER BY seq',
      [storeId],
    );
    return rows.map((r) => ({
      ...r,
      version: Number(r.version),
      added: Number(r.added),
      changed: Number(r.changed),
      removed: Number(r.removed),
    }));
  }

  private async replaceIn(
    tx: Sql,
    storeId: string,
    change: (entries: DirectoryEntry[]) => DirectoryEntry[],
    origin: ChangeOrigin,
    expectedVersion: number | undefined,
    action: string,
  ): Promise<VersionInfo> {
    const store = await this.lockStore(tx, storeId);
    if (expectedVersion !== undefined && expectedVersion !== store.version) {
      throw new VersionConflictError(storeId, expectedVersion, store.version);
    }
    const previous = store.version === 0 ? [] : await this.readEntries(tx, storeId, store.version);
    const entries = change(previous);
    if (entries.length === 0) throw new EmptyDirectoryError(storeId);
    const diff = diffEntries(previous, entries);
    const last = await tx.get<{ v: number | null }>('SELECT MAX(version) AS v FROM history WHERE store_id = ?', [storeId]);
    const version = Number(last?.v ?? 0) + 1;
    const now = new Date().toISOString();
    await tx.run(
      `INSERT INTO versions (store_id, version, created_at, via, actor, entry_count, added, changed, removed, entries)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [storeId, version, now, origin.via, origin.actor, entries.length, diff.added, diff.changed, diff.removed, JSON.stringify(entries)],
    );
    await tx.run('UPDATE stores SET version = ? WHERE id = ?', [version, storeId]);
    await this.record(tx, storeId, now, origin, action, version, diff);
    await tx.run('DELETE FROM versions WHERE store_id = ? AND version <= ?', [storeId, version - KEPT_VERSIONS]);
    await tx.notify(storeId);
    return { version, createdAt: now, ...origin, entries: entries.length, ...diff, current: true };
  }

  /** The store's row, locked until the transaction ends (PostgreSQL; SQLite has locked the file). */
  private async lockStore(tx: Sql, id: string): Promise<Store> {
    const row = await tx.get<StoreRow>(
      `SELECT id, settings, created_at, version FROM stores WHERE id = ?${tx.dialect === 'postgres' ? ' FOR UPDATE' : ''}`,
      [id],
    );
    if (row === undefined) throw new StoreNotFoundError(id);
    return toStore(row);
  }

  private async readStore(tx: Sql, id: string): Promise<Store> {
    const row = await tx.get<StoreRow>('SELECT id, settings, created_at, version FROM stores WHERE id = ?', [id]);
    if (row === undefined) throw new StoreNotFoundError(id);
    return toStore(row);
  }

  private async versionsIn(tx: Sql, store: Store): Promise<VersionInfo[]> {
    const rows = await tx.all<{
      version: number;
      created_at: string;
      via: string;
      actor: string;
      entry_count: number;
      added: number;
      changed: number;
      removed: number;
    }>(
      `SELECT version, created_at, via, actor, entry_count, added, changed, removed
       FROM versions WHERE store_id = ? ORDER BY version DESC`,
      [store.id],
    );
    return rows.map((r) => ({
      version: Number(r.version),
      createdAt: r.created_at,
      via: r.via,
      actor: r.actor,
      entries: Number(r.entry_count),
      added: Number(r.added),
      changed: Number(r.changed),
      removed: Number(r.removed),
      current: Number(r.version) === store.version,
    }));
  }

  private async readEntries(tx: Sql, storeId: string, version: number): Promise<DirectoryEntry[]> {
    const row = await tx.get<{ entries: string }>('SELECT entries FROM versions WHERE store_id = ? AND version = ?', [storeId, version]);
    if (row === undefined) {
      const kept = (await this.versionsIn(tx, await this.readStore(tx, storeId))).map((v) => v.version);
      throw new VersionNotFoundError(storeId, version, kept);
    }
    return JSON.parse(row.entries) as DirectoryEntry[];
  }

  private async record(
    tx: Sql,
    storeId: string,
    at: string,
    origin: ChangeOrigin,
    action: string,
    version: number,
    diff: { added: number; changed: number; removed: number },
  ): Promise<void> {
    await tx.run(
      `INSERT INTO history (store_id, at, via, actor, action, version, added, changed, removed)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [storeId, at, origin.via, origin.actor, action, version, diff.added, diff.changed, diff.removed],
    );
  }
}

export function diffEntries(before: DirectoryEntry[], after: DirectoryEntry[]): { added: number; changed: number; removed: number } {
  const d = entryChanges(before, after);
  return { added: d.added.length, changed: d.changed.length, removed: d.removed.length };
}

/** What changed between two versions, entry by entry (matched by id). */
export function entryChanges(
  before: DirectoryEntry[],
  after: DirectoryEntry[],
): { added: DirectoryEntry[]; changed: { before: DirectoryEntry; after: DirectoryEntry }[]; removed: DirectoryEntry[] } {
  const old = new Map(before.map((e) => [e.id, e]));
  const added: DirectoryEntry[] = [];
  const changed: { before: DirectoryEntry; after: DirectoryEntry }[] = [];
  for (const entry of after) {
    const previous = old.get(entry.id);
    if (previous === undefined) added.push(entry);
    else if (JSON.stringify(previous) !== JSON.stringify(entry)) changed.push({ before: previous, after: entry });
    old.delete(entry.id);
  }
  return { added, changed, removed: [...old.values()] };
}

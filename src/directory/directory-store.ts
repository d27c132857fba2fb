import Database from 'better-sqlite3';
import { openDatabase } from './database';
import { DirectoryEntry } from './entry';

/**
 * The versioned store of every store's directory, in SQLite (WAL) in the data dir.
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

export class StoreNotFoundError extends Error {
  constructor(readonly store: string) {
    super(`store "${store}" does not exist; create it with: attendant store create ${store}`);
    this.name = 'StoreNotFoundError';
  }
}

/**
 * A directory with no entries is refused by every path (file, drop folder, gRPC, CLI): a
 * store with nobody to reach would send every call to the operator, and calls would keep
 * the previous version anyway.
 */
export class EmptyDirectoryError extends Error {
  constructor(readonly store: string) {
    super(`a directory needs at least one entry; store "${store}" keeps its current version (to stop taking calls, disable the entries or remove the store's number)`);
    this.name = 'EmptyDirectoryError';
  }
}

export class VersionConflictError extends Error {
  constructor(
    readonly store: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`store "${store}" is at version ${actual}, not ${expected}; fetch it again and retry`);
    this.name = 'VersionConflictError';
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

const SCHEMA = `
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
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  store_id TEXT NOT NULL,
  at TEXT NOT NULL,
  via TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  version INTEGER NOT NULL,
  added INTEGER NOT NULL,
  changed INTEGER NOT NULL,
  removed INTEGER NOT NULL
);
`;

export class DirectoryStore {
  private constructor(private readonly db: Database.Database) {}

  static open(dataDir: string): DirectoryStore {
    return new DirectoryStore(openDatabase(dataDir, SCHEMA));
  }

  close(): void {
    this.db.close();
  }

  createStore(id: string, settings: Partial<StoreSettings> = {}): Store {
    if (!STORE_ID_PATTERN.test(id)) {
      throw new Error(`"${id}" is not a valid store id (1 to 64 of A-Z a-z 0-9 _ -)`);
    }
    if (this.findStore(id) !== undefined) throw new Error(`store "${id}" already exists`);
    const full: StoreSettings = { ...DEFAULT_SETTINGS, name: id, ...settings };
    this.db
      .prepare('INSERT INTO stores (id, settings, created_at) VALUES (?, ?, ?)')
      .run(id, JSON.stringify(full), new Date().toISOString());
    return this.getStore(id);
  }

  updateStore(id: string, settings: Partial<StoreSettings>): Store {
    const store = this.getStore(id);
    const { id: _id, createdAt: _c, version: _v, ...current } = store;
    const next: StoreSettings = { ...current, ...settings };
    this.db.prepare('UPDATE stores SET settings = ? WHERE id = ?').run(JSON.stringify(next), id);
    return this.getStore(id);
  }

  findStore(id: string): Store | undefined {
    const row = this.db.prepare('SELECT id, settings, created_at, version FROM stores WHERE id = ?').get(id) as
      | { id: string; settings: string; created_at: string; version: number }
      | undefined;
    if (row === undefined) return undefined;
    return { ...DEFAULT_SETTINGS, ...(JSON.parse(row.settings) as StoreSettings), id: row.id, createdAt: row.created_at, version: row.version };
  }

  getStore(id: string): Store {
    const store = this.findStore(id);
    if (store === undefined) throw new StoreNotFoundError(id);
    return store;
  }

  listStores(): Store[] {
    const rows = this.db.prepare('SELECT id FROM stores ORDER BY id').all() as { id: string }[];
    return rows.map((row) => this.getStore(row.id));
  }

  /** The store whose id or one of whose numbers is `user` (the Request-URI user of a call). */
  resolveStore(user: string): Store | undefined {
    const direct = this.findStore(user);
    if (direct !== undefined) return direct;
    return this.listStores().find((store) => store.numbers.includes(user));
  }

  /** Replaces a store's whole directory with `entries` as a new version, atomically. */
  replaceDirectory(
    storeId: string,
    entries: DirectoryEntry[],
    origin: ChangeOrigin,
    expectedVersion?: number,
  ): VersionInfo {
    if (entries.length === 0) throw new EmptyDirectoryError(storeId);
    return this.db.transaction(() => {
      const store = this.getStore(storeId);
      if (expectedVersion !== undefined && expectedVersion !== store.version) {
        throw new VersionConflictError(storeId, expectedVersion, store.version);
      }
      const previous = store.version === 0 ? [] : this.readEntries(storeId, store.version);
      const diff = diffEntries(previous, entries);
      const version = this.nextVersion(storeId);
      const now = new Date().toISOString();
      this.db
        .prepare(
          `INSERT INTO versions (store_id, version, created_at, via, actor, entry_count, added, changed, removed, entries)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(storeId, version, now, origin.via, origin.actor, entries.length, diff.added, diff.changed, diff.removed, JSON.stringify(entries));
      this.db.prepare('UPDATE stores SET version = ? WHERE id = ?').run(version, storeId);
      this.record(storeId, now, origin, 'replace', version, diff);
      this.db
        .prepare('DELETE FROM versions WHERE store_id = ? AND version <= ?')
        .run(storeId, version - KEPT_VERSIONS);
      return { version, createdAt: now, ...origin, entries: entries.length, ...diff, current: true };
    })();
  }

  /** Reads the current directory, applies `change` and stores the result as a new version, in one transaction. */
  updateDirectory(
    storeId: string,
    change: (entries: DirectoryEntry[]) => DirectoryEntry[],
    origin: ChangeOrigin,
    expectedVersion?: number,
  ): VersionInfo {
    return this.db.transaction(() =>
      this.replaceDirectory(storeId, change(this.snapshot(storeId).entries), origin, expectedVersion),
    )();
  }

  /**
   * Deletes a store and its versions. Its history stays (with a "delete" line), so that a
   * store created again under the same id goes on with new version numbers.
   */
  deleteStore(storeId: string, origin: ChangeOrigin): void {
    this.db.transaction(() => {
      const store = this.getStore(storeId);
      this.db.prepare('DELETE FROM versions WHERE store_id = ?').run(storeId);
      this.db.prepare('DELETE FROM stores WHERE id = ?').run(storeId);
      this.record(storeId, new Date().toISOString(), origin, 'delete', store.version, { added: 0, changed: 0, removed: 0 });
    })();
  }

  /** Makes an older version current again, as a new version with that content. */
  rollback(storeId: string, toVersion: number, origin: ChangeOrigin): VersionInfo {
    return this.db.transaction(() => {
      const entries = this.readEntries(storeId, toVersion);
      const info = this.replaceDirectory(storeId, entries, origin);
      this.db
        .prepare("UPDATE history SET action = ? WHERE store_id = ? AND version = ? AND action = 'replace'")
        .run(`rollback to ${toVersion}`, storeId, info.version);
      return info;
    })();
  }

  /** The store's current directory (version 0 and no entries before the first import). */
  snapshot(storeId: string, version?: number): Snapshot {
    const store = this.getStore(storeId);
    const wanted = version ?? store.version;
    if (wanted === 0) return { store: storeId, version: 0, entries: [] };
    return { store: storeId, version: wanted, entries: this.readEntries(storeId, wanted) };
  }

  listVersions(storeId: string): VersionInfo[] {
    const store = this.getStore(storeId);
    const rows = this.db
      .prepare(
        `SELECT version, created_at, via, actor, entry_count, added, changed, removed
         FROM versions WHERE store_id = ? ORDER BY version DESC`,
      )
      .all(storeId) as {
      version: number;
      created_at: string;
      via: string;
      actor: string;
      entry_count: number;
      added: number;
      changed: number;
      removed: number;
    }[];
    return rows.map((r) => ({
      version: r.version,
      createdAt: r.created_at,
      via: r.via,
      actor: r.actor,
      entries: r.entry_count,
      added: r.added,
      changed: r.changed,
      removed: r.removed,
      current: r.version === store.version,
    }));
  }

  history(storeId: string): HistoryRecord[] {
    this.getStore(storeId);
    return this.db
      .prepare(
        'SELECT at, via, actor, action, version, added, changed, removed FROM history WHERE store_id = ? ORDER BY seq',
      )
      .all(storeId) as HistoryRecord[];
  }

  private readEntries(storeId: string, version: number): DirectoryEntry[] {
    const row = this.db.prepare('SELECT entries FROM versions WHERE store_id = ? AND version = ?').get(storeId, version) as
      | { entries: string }
      | undefined;
    if (row === undefined) {
      const kept = this.listVersions(storeId).map((v) => v.version);
      throw new Error(
        `store "${storeId}" has no version ${version}; kept versions: ${kept.length > 0 ? kept.join(', ') : 'none'}`,
      );
    }
    return JSON.parse(row.entries) as DirectoryEntry[];
  }

  private nextVersion(storeId: string): number {
    const row = this.db
      .prepare('SELECT MAX(version) AS v FROM history WHERE store_id = ?')
      .get(storeId) as { v: number | null };
    return (row.v ?? 0) + 1;
  }

  private record(
    storeId: string,
    at: string,
    origin: ChangeOrigin,
    action: string,
    version: number,
    diff: { added: number; changed: number; removed: number },
  ): void {
    this.db
      .prepare(
        `INSERT INTO history (store_id, at, via, actor, action, version, added, changed, removed)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(storeId, at, origin.via, origin.actor, action, version, diff.added, diff.changed, diff.removed);
  }
}

export function diffEntries(
  before: DirectoryEntry[],
  after: DirectoryEntry[],
): { added: number; changed: number; removed: number } {
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

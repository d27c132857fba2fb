import Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { openDatabase } from '../directory/database';

/**
 * API tokens: per store, or admin (every store). A token is shown once when created;
 * only its SHA-256 is stored.
 */

export interface TokenInfo {
  id: string;
  /** The store it works for; null for an admin token. */
  store: string | null;
  createdAt: string;
  revokedAt: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tokens (
  id TEXT PRIMARY KEY,
  store_id TEXT,
  hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);`;

const hash = (token: string): string => createHash('sha256').update(token).digest('hex');

export class TokenStore {
  private constructor(private readonly db: Database.Database) {}

  /** Opens the tokens table in the data dir's database (the directory store's file). */
  static open(dataDir: string): TokenStore {
    return new TokenStore(openDatabase(dataDir, SCHEMA));
  }

  close(): void {
    this.db.close();
  }

  /** Creates a token; the returned secret is never stored and cannot be shown again. */
  create(store: string | null): { id: string; token: string } {
    const id = randomBytes(4).toString('hex');
    const token = `att_${randomBytes(24).toString('base64url')}`;
    this.db
      .prepare('INSERT INTO tokens (id, store_id, hash, created_at) VALUES (?, ?, ?, ?)')
      .run(id, store, hash(token), new Date().toISOString());
    return { id, token };
  }

  list(): TokenInfo[] {
    return (
      this.db.prepare('SELECT id, store_id, created_at, revoked_at FROM tokens ORDER BY created_at').all() as {
        id: string;
        store_id: string | null;
        created_at: string;
        revoked_at: string | null;
      }[]
    ).map((r) => ({ id: r.id, store: r.store_id, createdAt: r.created_at, revokedAt: r.revoked_at }));
  }

  revoke(id: string): boolean {
    const result = this.db
      .prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
      .run(new Date().toISOString(), id);
    return result.changes === 1;
  }

  /** The live token whose secret this is, or undefined. */
  verify(token: string): TokenInfo | undefined {
    const row = this.db
      .prepare('SELECT id, store_id, created_at, revoked_at FROM tokens WHERE hash = ? AND revoked_at IS NULL')
      .get(hash(token)) as { id: string; store_id: string | null; created_at: string; revoked_at: null } | undefined;
    return row === undefined ? undefined : { id: row.id, store: row.store_id, createdAt: row.created_at, revokedAt: null };
  }
}

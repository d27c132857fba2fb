import { createHash, randomBytes } from 'node:crypto';
import { Sql } from '../storage/sql';

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

const TABLE = `
CREATE TABLE IF NOT EXISTS tokens (
  id TEXT PRIMARY KEY,
  store_id TEXT,
  hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  revoked_at TEXT
)`;

/** The tokens table (migration "002_tokens"), the same in both dialects. */
export const TOKENS_MIGRATION = { name: '002_tokens', sqlite: TABLE, postgres: TABLE };

const hash = (token: string): string => createHash('sha256').update(token).digest('hex');

export class TokenStore {
  constructor(private readonly sql: Sql) {}

  /** Creates a token; the returned secret is never stored and cannot be shown again. */
  async create(store: string | null): Promise<{ id: string; token: string }> {
    const id = randomBytes(4).toString('hex');
    const token = `att_${randomBytes(24).toString('base64url')}`;
    await this.sql.run('INSERT INTO tokens (id, store_id, hash, created_at) VALUES (?, ?, ?, ?)', [
      id,
      store,
      hash(token),
      new Date().toISOString(),
    ]);
    return { id, token };
  }

  async list(): Promise<TokenInfo[]> {
    const rows = await this.sql.all<{ id: string; store_id: string | null; created_at: string; revoked_at: string | null }>(
      'SELECT id, store_id, created_at, revoked_at FROM tokens ORDER BY created_at',
    );
    return rows.map((r) => ({ id: r.id, store: r.store_id, createdAt: r.created_at, revokedAt: r.revoked_at }));
  }

  async revoke(id: string): Promise<boolean> {
    return (
      (await this.sql.run('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [new Date().toISOString(), id])) === 1
    );
  }

  /** The live token whose secret this is, or undefined. Checked in the database each time: a revocation on any node holds at once. */
  async verify(token: string): Promise<TokenInfo | undefined> {
    const row = await this.sql.get<{ id: string; store_id: string | null; created_at: string }>(
      'SELECT id, store_id, created_at FROM tokens WHERE hash = ? AND revoked_at IS NULL',
      [hash(token)],
    );
    return row === undefined ? undefined : { id: row.id, store: row.store_id, createdAt: row.created_at, revokedAt: null };
  }
}

import Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { AttendantError } from '../util/errors';

/**
 * The one SQL interface the directory store, the tokens and the call records are written
 * against: SQLite in the data dir (the embedded default) or PostgreSQL
 * (ATTENDANT_DATABASE_URL), with the same statements. Statements use `?` placeholders;
 * the PostgreSQL side numbers them. Transactions are serializable per store by taking the
 * store's row `FOR UPDATE` (PostgreSQL) or by SQLite's single writer.
 */

export type Row = Record<string, unknown>;

export interface Sql {
  readonly dialect: 'sqlite' | 'postgres';
  all<T = Row>(text: string, params?: unknown[]): Promise<T[]>;
  get<T = Row>(text: string, params?: unknown[]): Promise<T | undefined>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(text: string, params?: unknown[]): Promise<number>;
  /** Runs `fn` in one transaction: every statement of `tx` commits together or none does. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  /** Tells every node that a store changed, once the current transaction commits (PostgreSQL; nothing on SQLite). */
  notify(store: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A database that cannot be reached: changes are refused with this, while calls go on with
 * the directories each node holds.
 */
export class DatabaseUnavailableError extends AttendantError {
  constructor(cause: string) {
    super('unavailable', `the directory database cannot be reached (${cause}); nothing was changed, try again when it is back`);
  }
}

export interface Migration {
  name: string;
  sqlite: string;
  postgres: string;
}

/** Channel of PostgreSQL notifications: the payload is the id of the store that changed. */
export const CHANGES_CHANNEL = 'attendant_changes';

/** Statements on one better-sqlite3 connection, run directly (inside a transaction, or when none is open). */
class SqliteStatements {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(readonly db: Database.Database) {}

  statement(text: string): Database.Statement {
    let s = this.statements.get(text);
    if (s === undefined) {
      s = this.db.prepare(text);
      if (this.statements.size > 500) this.statements.clear();
      this.statements.set(text, s);
    }
    return s;
  }

  all<T>(text: string, params: unknown[]): T[] {
    return this.statement(text).all(...params) as T[];
  }

  run(text: string, params: unknown[]): number {
    const s = this.statement(text);
    if (!s.reader) return s.run(...params).changes;
    s.all(...params);
    return 0;
  }
}

/** The view of a transaction in progress: its statements run at once, on its connection. */
class SqliteTx implements Sql {
  readonly dialect = 'sqlite' as const;
  constructor(private readonly s: SqliteStatements) {}
  async all<T>(text: string, params: unknown[] = []): Promise<T[]> {
    return this.s.all<T>(text, params);
  }
  async get<T>(text: string, params: unknown[] = []): Promise<T | undefined> {
    return this.s.all<T>(text, params)[0];
  }
  async run(text: string, params: unknown[] = []): Promise<number> {
    return this.s.run(text, params);
  }
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    return fn(this);
  }
  async notify(): Promise<void> {}
  async close(): Promise<void> {}
}

/**
 * The transactions of every connection of this process to one SQLite file, one after
 * another, and statements outside them wait for the one open. A connection waiting for
 * SQLite's lock would block the only thread while the transaction holding it awaits.
 */
class SqliteGate {
  queue: Promise<unknown> = Promise.resolve();
  open = 0;

  async idle(): Promise<void> {
    while (this.open > 0) await this.queue;
  }
}

const gates = new Map<string, SqliteGate>();

class SqliteSql implements Sql {
  readonly dialect = 'sqlite' as const;
  private readonly s: SqliteStatements;

  constructor(
    db: Database.Database,
    private readonly gate: SqliteGate,
  ) {
    this.s = new SqliteStatements(db);
  }

  async all<T>(text: string, params: unknown[] = []): Promise<T[]> {
    if (this.gate.open > 0) await this.gate.idle();
    return this.s.all<T>(text, params);
  }

  async get<T>(text: string, params: unknown[] = []): Promise<T | undefined> {
    return (await this.all<T>(text, params))[0];
  }

  async run(text: string, params: unknown[] = []): Promise<number> {
    if (this.gate.open > 0) await this.gate.idle();
    return this.s.run(text, params);
  }

  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    const db = this.s.db;
    const gate = this.gate;
    gate.open += 1;
    const next = gate.queue.then(async () => {
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(new SqliteTx(this.s));
        db.exec('COMMIT');
        return result;
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw err;
      }
    });
    gate.queue = next.catch(() => undefined).finally(() => (gate.open -= 1));
    return next;
  }

  async notify(): Promise<void> {
    // One file on one machine: other processes see changes by polling it.
  }

  async close(): Promise<void> {
    await this.gate.idle();
    this.s.db.close();
  }
}

/**
 * The data dir's SQLite database (WAL), its migrations applied. `synchronous` FULL for
 * directory data; NORMAL for a connection that only writes call records (a power cut may
 * lose the last few, never corrupt).
 */
export function openSqlite(dataDir: string, migrations: Migration[], synchronous: 'FULL' | 'NORMAL' = 'FULL'): Sql {
  mkdirSync(dataDir, { recursive: true });
  const file = resolve(dataDir, 'attendant.sqlite');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('busy_timeout = 5000');
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  db.transaction(() => {
    for (const m of migrations) {
      if (db.prepare('SELECT 1 FROM schema_migrations WHERE name = ?').get(m.name) !== undefined) continue;
      db.exec(m.sqlite);
      db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run(m.name, new Date().toISOString());
    }
  }).immediate();
  let gate = gates.get(file);
  if (gate === undefined) gates.set(file, (gate = new SqliteGate()));
  return new SqliteSql(db, gate);
}

/** `?` placeholders as PostgreSQL's `$1, $2…` (our statements hold no `?` in literals). */
export function numbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

/** Errors of the connection itself (refused, reset, timed out, server shutting down), as opposed to a bad statement. */
function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (typeof e.code === 'string' && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|57P0[123]|08\d\d\d)$/.test(e.code))
    return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(
    e.message ?? '',
  );
}

function wrap(err: unknown): never {
  if (isConnectionError(err)) throw new DatabaseUnavailableError((err as Error).message || String((err as { code?: string }).code));
  throw err;
}

/**
 * Statements on the pool, or on one connection checked out of it for a transaction (then
 * `transaction` runs inside it, and `pool` is undefined).
 */
class PostgresSql implements Sql {
  readonly dialect = 'postgres' as const;

  constructor(
    private readonly db: pg.Pool | pg.PoolClient,
    readonly pool?: pg.Pool,
  ) {
    // An idle connection that breaks (the server restarted) must not crash the process.
    pool?.on('error', () => undefined);
  }

  async all<T>(text: string, params: unknown[] = []): Promise<T[]> {
    return (await this.db.query(numbered(text), params).catch(wrap)).rows as T[];
  }

  async get<T>(text: string, params: unknown[] = []): Promise<T | undefined> {
    return (await this.all<T>(text, params))[0];
  }

  async run(text: string, params: unknown[] = []): Promise<number> {
    return (await this.db.query(numbered(text), params).catch(wrap)).rowCount ?? 0;
  }

  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    if (this.pool === undefined) return fn(this);
    const client = await this.pool.connect().catch(wrap);
    let broken = false;
    // The connection may break while it is checked out (the server stopped): its statement
    // fails, and the event must not be an unhandled 'error' that ends the process.
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await fn(new PostgresSql(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      if (isConnectionError(err)) broken = true;
      return wrap(err);
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async notify(store: string): Promise<void> {
    await this.run('SELECT pg_notify(?, ?)', [CHANGES_CHANNEL, store]);
  }

  async close(): Promise<void> {
    await this.pool?.end();
  }
}

/** Settings of the pool: a dead server is noticed in seconds, not minutes. */
function poolConfig(url: string): pg.PoolConfig {
  return {
    connectionString: url,
    max: 8,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
    query_timeout: 15_000,
    keepAlive: true,
  };
}

/**
 * Opens a PostgreSQL database and applies the migrations it lacks. Two nodes starting at
 * once take turns on an advisory lock, so each migration runs exactly once.
 */
export async function openPostgres(url: string, migrations: Migration[]): Promise<PostgresSql> {
  const pool = new pg.Pool(poolConfig(url));
  const sql = new PostgresSql(pool, pool);
  try {
    await sql.transaction(async (tx) => {
      await tx.run('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK]);
      await tx.run('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
      for (const m of migrations) {
        if ((await tx.get('SELECT 1 FROM schema_migrations WHERE name = ?', [m.name])) !== undefined) continue;
        for (const statement of m.postgres
          .split(/;\s*\n/)
          .map((s) => s.trim())
          .filter((s) => s.length > 0))
          await tx.run(statement);
        await tx.run('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)', [m.name, new Date().toISOString()]);
      }
    });
  } catch (err) {
    await sql.close().catch(() => undefined);
    throw err;
  }
  return sql;
}

/** An arbitrary, fixed key of the advisory lock that migrations take. */
const MIGRATION_LOCK = 0x61747464;

/**
 * Listens to the changes made by every node (PostgreSQL LISTEN), on a connection of its
 * own: 'change' (store id) for each; 'reconnected' after the connection was lost and came
 * back, since notifications sent meanwhile are lost and the listener must check everything.
 */
export class ChangeListener extends EventEmitter {
  private client: pg.Client | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private lost = false;

  constructor(private readonly url: string) {
    super();
  }

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 3000, keepAlive: true });
    client.on('notification', (n) => {
      if (n.channel === CHANGES_CHANNEL && n.payload !== undefined) this.emit('change', n.payload);
    });
    const retry = (err: Error): void => {
      client.removeAllListeners('end');
      client.end().catch(() => undefined);
      if (this.closed) return;
      if (!this.lost) this.emit('lost', err);
      this.lost = true;
      this.client = undefined;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.connect(), 1000);
      this.timer.unref();
    };
    client.on('error', retry);
    client.on('end', () => retry(new Error('connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
      this.client = client;
      if (this.lost) {
        this.lost = false;
        this.emit('reconnected');
      }
    } catch (err) {
      retry(err as Error);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
    }
  }
}

/** postgres://user:secret@host:5432/db → "PostgreSQL host:5432/db". */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `PostgreSQL ${u.hostname || u.searchParams.get('host') || 'localhost'}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return 'PostgreSQL';
  }
}

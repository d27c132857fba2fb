import { DirectoryStore, DIRECTORY_MIGRATION } from '../directory/directory-store';
import { TokenStore, TOKENS_MIGRATION } from '../api/tokens';
import { CALL_FIELDS, CallRecords, CALLS_MIGRATION } from '../attendant/call-records';
import { PromptRecordings, PROMPTS_MIGRATION } from '../media/prompt-recordings';
import { ChangeListener, describeUrl, Migration, openPostgres, openSqlite, Sql } from '../storage/sql';
import { copyDatabase as copyTables, Table } from '../storage/copy';

/**
 * The assembly of the stores on one database: which tables there are, in which order their
 * migrations run and their rows are copied. storage/ knows SQL and nothing of the domain;
 * this module, beside the wiring, is where the two meet.
 */

/** Every table, in the order the migrations run. A new one goes at the end, never in between. */
export const MIGRATIONS: Migration[] = [DIRECTORY_MIGRATION, TOKENS_MIGRATION, CALLS_MIGRATION, PROMPTS_MIGRATION];

export interface StorageOptions {
  dataDir: string;
  /** postgres://… : PostgreSQL shared by every node; absent: SQLite in the data dir. */
  databaseUrl?: string;
}

/** The directory store, the tokens, the call records and the prompt recordings, on one database. */
export class Storage {
  readonly directory: DirectoryStore;
  readonly tokens: TokenStore;
  readonly records: CallRecords;
  /** Stores' own prompt recordings, shared by every node. */
  readonly recordings: PromptRecordings;

  private constructor(
    readonly sql: Sql,
    private readonly recordsSql: Sql,
    readonly databaseUrl: string | undefined,
    dataDir: string,
  ) {
    this.directory = new DirectoryStore(sql);
    this.tokens = new TokenStore(sql);
    this.records = new CallRecords(recordsSql);
    this.recordings = new PromptRecordings(sql, dataDir);
  }

  /** Opens the database and applies the migrations it lacks (safe when several nodes start at once). */
  static async open(options: StorageOptions): Promise<Storage> {
    if (options.databaseUrl !== undefined) {
      const sql = await openPostgres(options.databaseUrl, MIGRATIONS);
      return new Storage(sql, sql, options.databaseUrl, options.dataDir);
    }
    const sql = openSqlite(options.dataDir, MIGRATIONS);
    return new Storage(sql, openSqlite(options.dataDir, [], 'NORMAL'), undefined, options.dataDir);
  }

  /** Where the data is, for logs: the data dir's file, or the PostgreSQL host and database (never the password). */
  get where(): string {
    return this.databaseUrl === undefined ? 'SQLite' : describeUrl(this.databaseUrl);
  }

  /**
   * Changes made by other nodes, as they commit (PostgreSQL only; undefined on SQLite, where
   * other processes are noticed by polling).
   */
  listen(): ChangeListener | undefined {
    return this.databaseUrl === undefined ? undefined : new ChangeListener(this.databaseUrl);
  }

  async close(): Promise<void> {
    if (this.recordsSql !== this.sql) await this.recordsSql.close();
    await this.sql.close();
  }
}

export { describeUrl };

/** In the order rows can be written: a version refers to its store. */
export const TABLES: Table[] = [
  { name: 'stores', columns: ['id', 'settings', 'created_at', 'version'], order: { sqlite: 'id', postgres: 'id' } },
  {
    name: 'versions',
    columns: ['store_id', 'version', 'created_at', 'via', 'actor', 'entry_count', 'added', 'changed', 'removed', 'entries'],
    order: { sqlite: 'store_id, version', postgres: 'store_id, version' },
  },
  {
    name: 'history',
    columns: ['seq', 'store_id', 'at', 'via', 'actor', 'action', 'version', 'added', 'changed', 'removed'],
    order: { sqlite: 'seq', postgres: 'seq' },
    serial: 'seq',
  },
  {
    name: 'tokens',
    columns: ['id', 'store_id', 'hash', 'created_at', 'revoked_at'],
    order: { sqlite: 'created_at, id', postgres: 'created_at, id' },
  },
  // SQLite numbers calls by rowid, PostgreSQL by seq: read in that order, numbered anew.
  { name: 'calls', columns: CALL_FIELDS, order: { sqlite: 'rowid', postgres: 'seq' } },
  {
    name: 'prompt_recordings',
    columns: ['store_id', 'name', 'audio', 'sha256', 'updated_at'],
    order: { sqlite: 'store_id, name', postgres: 'store_id, name' },
  },
];

/** Copies every table of one attendant database into another, empty one, in one transaction. */
export function copyDatabase(from: Sql, to: Sql): Promise<Record<string, number>> {
  return copyTables(from, to, TABLES);
}

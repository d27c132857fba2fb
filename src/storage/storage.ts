import { DirectoryStore, DIRECTORY_MIGRATION } from '../directory/directory-store';
import { TokenStore, TOKENS_MIGRATION } from '../api/tokens';
import { CallRecords, CALLS_MIGRATION } from '../attendant/call-records';
import { PromptRecordings, PROMPTS_MIGRATION } from '../media/prompt-recordings';
import { ChangeListener, Migration, openPostgres, openSqlite, Sql } from './sql';

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

/** postgres://user:secret@host:5432/db → "PostgreSQL host:5432/db". */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `PostgreSQL ${u.hostname || u.searchParams.get('host') || 'localhost'}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return 'PostgreSQL';
  }
}

import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Sql } from '../storage/sql';

/**
 * A store's own prompt recordings, kept in the database beside its directory, so that every
 * node plays the same greeting: one uploaded in the console of one node is written to the
 * database, announced like a directory change, and written by each node into its own
 * `<data>/stores/<store>/prompts/` folder, where PromptLibrary reads it for the next call.
 *
 * A file put into that folder by hand stays the node's own (it is never in the database, and
 * never removed here); files this class wrote are listed in the folder's `.database.json`, so
 * that a recording removed through another node is removed here too.
 */

const TABLE = `CREATE TABLE IF NOT EXISTS prompt_recordings (
  store_id TEXT NOT NULL,
  name TEXT NOT NULL,
  audio {BLOB} NOT NULL,
  sha256 TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (store_id, name)
)`;

export const PROMPTS_MIGRATION = {
  name: '004_prompt_recordings',
  sqlite: TABLE.replace('{BLOB}', 'BLOB'),
  postgres: TABLE.replace('{BLOB}', 'BYTEA'),
};

/** The folder's list of files written from the database: name → sha256. */
const WRITTEN = '.database.json';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export class PromptRecordings {
  /** Each store's folder is written by one materialize at a time (a change's own node hears its notification too). */
  private readonly writing = new Map<string, Promise<void>>();

  constructor(
    private readonly sql: Sql,
    private readonly dataDir: string,
  ) {}

  private folder(store: string): string {
    return join(this.dataDir, 'stores', store, 'prompts');
  }

  /** Keeps `bytes` (a WAV file, checked by the caller) as the store's recording `name`, on every node. */
  async save(store: string, name: string, bytes: Buffer): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO prompt_recordings (store_id, name, audio, sha256, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (store_id, name) DO UPDATE SET audio = excluded.audio, sha256 = excluded.sha256, updated_at = excluded.updated_at`,
        [store, name, bytes, sha256(bytes), new Date().toISOString()],
      );
      await tx.notify(store);
    });
    await this.materialize(store);
  }

  /** Removes the store's recordings `names` on every node (this node's hand-placed files of those names too). */
  async remove(store: string, names: string[]): Promise<void> {
    await this.sql.transaction(async (tx) => {
      for (const name of names) await tx.run('DELETE FROM prompt_recordings WHERE store_id = ? AND name = ?', [store, name]);
      await tx.notify(store);
    });
    for (const name of names) await rm(join(this.folder(store), name), { force: true });
    await this.materialize(store);
  }

  /** Each store's recordings as the database holds them: a digest per store, to notice a change. */
  async digests(): Promise<Map<string, string>> {
    const rows = await this.sql.all<{ store_id: string; name: string; sha256: string }>(
      'SELECT store_id, name, sha256 FROM prompt_recordings ORDER BY store_id, name',
    );
    const out = new Map<string, string>();
    for (const r of rows) out.set(r.store_id, `${out.get(r.store_id) ?? ''}${r.name}:${r.sha256};`);
    return out;
  }

  /**
   * Writes the store's recordings from the database into its prompts folder (only those that
   * differ), and removes the files written from the database that it no longer holds.
   */
  materialize(store: string): Promise<void> {
    const run = (this.writing.get(store) ?? Promise.resolve()).catch(() => undefined).then(() => this.writeFolder(store));
    this.writing.set(store, run);
    void run
      .finally(() => {
        if (this.writing.get(store) === run) this.writing.delete(store);
      })
      .catch(() => undefined);
    return run;
  }

  private async writeFolder(store: string): Promise<void> {
    const rows = await this.sql.all<{ name: string; sha256: string }>('SELECT name, sha256 FROM prompt_recordings WHERE store_id = ?', [
      store,
    ]);
    const dir = this.folder(store);
    const written = await readWritten(dir);
    const held = new Map(rows.map((r) => [r.name, r.sha256]));
    if (held.size === 0 && written.size === 0) return;
    await mkdir(dir, { recursive: true });
    for (const [name, sum] of held) {
      if (
        written.get(name) === sum &&
        (await readFile(join(dir, name)).then(
          (b) => sha256(b) === sum,
          () => false,
        ))
      )
        continue;
      const row = await this.sql.get<{ audio: Buffer | Uint8Array }>(
        'SELECT audio FROM prompt_recordings WHERE store_id = ? AND name = ?',
        [store, name],
      );
      if (row === undefined) continue; // removed meanwhile: the next change says so
      const file = join(dir, name);
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, Buffer.from(row.audio));
      await rename(tmp, file);
      written.set(name, sum);
    }
    for (const name of [...written.keys()]) {
      if (held.has(name)) continue;
      await rm(join(dir, name), { force: true });
      written.delete(name);
    }
    await writeFile(join(dir, WRITTEN), `${JSON.stringify(Object.fromEntries(written), null, 1)}\n`);
  }
}

async function readWritten(dir: string): Promise<Map<string, string>> {
  try {
    return new Map(Object.entries(JSON.parse(await readFile(join(dir, WRITTEN), 'utf8')) as Record<string, string>));
  } catch {
    return new Map();
  }
}

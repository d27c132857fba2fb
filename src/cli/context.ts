import { existsSync } from 'node:fs';
import { loadSettings, Settings } from '../config/settings';
import { DirectoryStore, Locale, Snapshot } from '../directory/directory-store';
import { openStore } from '../attendant/store-directory';
import { EXIT_OK, invalidInput, unavailable } from './exit-codes';
import { TokenStore } from '../api/tokens';
import { describeUrl, Storage } from './storage';
import { DatabaseUnavailableError } from '../storage/sql';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** What every command's action uses: the settings (read when a command runs), the database, the exit status. */
export interface CliContext {
  io: Io;
  env: NodeJS.ProcessEnv;
  settings: () => Settings;
  origin: { via: string; actor: string };
  withStorage: <T>(fn: (storage: Storage) => Promise<T>) => Promise<T>;
  withStore: <T>(fn: (store: DirectoryStore) => Promise<T>) => Promise<T>;
  storeDirectory: (id: string) => Promise<{ snapshot: Snapshot; locale: Locale }>;
  withTokens: <T>(fn: (tokens: TokenStore) => Promise<T>) => Promise<T>;
  existingData: () => void;
  done: (code?: number) => void;
}

export function cliContext(io: Io, env: NodeJS.ProcessEnv, result: { code: number }): CliContext {
  let loaded: Settings | undefined;
  // Read when a command runs, not before: --help must work whatever the environment says.
  const settings = (): Settings => (loaded ??= loadSettings(env));
  const origin = { via: 'cli', actor: env.USER ?? 'cli' };
  const withStorage = async <T>(fn: (storage: Storage) => Promise<T>): Promise<T> => {
    const { dataDir, databaseUrl } = settings();
    let storage: Storage;
    try {
      storage = await Storage.open({ dataDir, databaseUrl });
    } catch (err) {
      const where = databaseUrl === undefined ? `in ${dataDir}` : `(${describeUrl(databaseUrl)})`;
      throw unavailable(`the directory database ${where} cannot be opened: ${(err as Error).message}`);
    }
    try {
      return await fn(storage);
    } catch (err) {
      if (err instanceof DatabaseUnavailableError) throw unavailable(err.message);
      throw err;
    } finally {
      await storage.close();
    }
  };
  const withStore = <T>(fn: (store: DirectoryStore) => Promise<T>): Promise<T> => withStorage((s) => fn(s.directory));
  /** A store's current directory and its locale (the models it is heard with). */
  const storeDirectory = (id: string) =>
    withStore(async (db) => {
      const found = await openStore(id, db);
      return { snapshot: await db.snapshot(found.id), locale: found.locale };
    });
  const withTokens = <T>(fn: (tokens: TokenStore) => Promise<T>): Promise<T> => withStorage((s) => fn(s.tokens));
  /** Commands that read data refuse a data folder that does not exist rather than make an empty one. */
  const existingData = (): void => {
    const { dataDir, databaseUrl } = settings();
    if (databaseUrl === undefined && !existsSync(dataDir))
      throw invalidInput(`no data in ${dataDir}: set ATTENDANT_DATA_DIR to the folder attendant serve uses, or create a store first`);
  };
  const done = (code = EXIT_OK): void => {
    result.code = code;
  };

  return { io, env, settings, origin, withStorage, withStore, storeDirectory, withTokens, existingData, done };
}

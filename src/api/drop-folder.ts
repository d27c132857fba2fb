import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from 'pino';
import { formatProblem, parseDirectoryFile } from '../directory/directory-file';
import { DirectoryStore } from '../directory/directory-store';
import { DatabaseUnavailableError } from '../storage/sql';

/**
 * The drop folder: a file put in ATTENDANT_DATA_DIR/drop/<store>/ is imported as that
 * store's whole directory once it is complete (written then renamed in, or unchanged
 * for a poll). An accepted file moves to drop/<store>/processed/, a refused one to
 * drop/<store>/rejected/ beside a .errors.txt that names each bad row and field.
 */

export interface DropResult {
  store: string;
  file: string;
  accepted: boolean;
  movedTo: string;
  version?: number;
  problems: string[];
}

const IGNORED = /^\.|\.(tmp|part|crdownload|swp)$|~$/i;

export class DropFolder {
  private readonly seen = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private scanning = false;

  constructor(
    private readonly root: string,
    private readonly directory: DirectoryStore,
    private readonly log: Logger,
    private readonly onChange: (store: string) => void = () => undefined,
  ) {
    mkdirSync(root, { recursive: true });
  }

  /** Polls every `intervalMs`; a file must look the same on two polls in a row to be taken. */
  start(intervalMs = 1000): void {
    this.timer = setInterval(() => {
      if (this.scanning) return;
      this.scanning = true;
      this.scan()
        .catch((err: Error) => this.log.error({ err: err.message }, 'drop folder scan failed'))
        .finally(() => (this.scanning = false));
    }, intervalMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  /** One pass: imports the files that were already there, unchanged, on the previous pass. */
  async scan(): Promise<DropResult[]> {
    const results: DropResult[] = [];
    const present = new Set<string>();
    for (const store of readdirSync(this.root)) {
      const folder = join(this.root, store);
      if (!statSync(folder).isDirectory()) continue;
      for (const name of readdirSync(folder)) {
        const path = join(folder, name);
        if (IGNORED.test(name)) continue;
        const stat = statSync(path);
        if (!stat.isFile()) continue;
        present.add(path);
        const signature = `${stat.size}:${stat.mtimeMs}`;
        if (this.seen.get(path) !== signature) {
          this.seen.set(path, signature);
          continue;
        }
        this.seen.delete(path);
        const result = await this.take(store, folder, name);
        if (result !== undefined) results.push(result);
      }
    }
    for (const path of this.seen.keys()) if (!present.has(path)) this.seen.delete(path);
    return results;
  }

  /** Imports one file; undefined when the database cannot be reached (the file stays, and is tried again). */
  private async take(store: string, folder: string, name: string): Promise<DropResult | undefined> {
    const path = join(folder, name);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const move = (to: 'processed' | 'rejected'): string => {
      mkdirSync(join(folder, to), { recursive: true });
      const target = join(folder, to, `${stamp}-${name}`);
      renameSync(path, target);
      return target;
    };
    let problems: string[];
    const unavailable = (err: unknown): boolean => {
      if (!(err instanceof DatabaseUnavailableError)) return false;
      this.log.warn({ store, file: name, err: err.message }, 'drop folder: the database cannot be reached; the file stays and is tried again');
      return true;
    };
    let exists: boolean;
    try {
      exists = (await this.directory.findStore(store)) !== undefined;
    } catch (err) {
      if (unavailable(err)) return undefined;
      throw err;
    }
    if (!exists) {
      problems = [`store "${store}" does not exist; create it with: attendant store create ${store}`];
    } else {
      const parsed = await parseDirectoryFile(readFileSync(path), name);
      problems = parsed.problems.map((p) => formatProblem(name, p));
      if (problems.length === 0) {
        try {
          const info = await this.directory.replaceDirectory(store, parsed.entries, { via: 'file', actor: name });
          const movedTo = move('processed');
          this.log.info({ store, file: name, version: info.version, encoding: parsed.encoding, added: info.added, changed: info.changed, removed: info.removed }, 'drop folder: directory imported');
          this.onChange(store);
          return { store, file: name, accepted: true, movedTo, version: info.version, problems };
        } catch (err) {
          if (unavailable(err)) return undefined;
          problems = [`${name}: could not be stored: ${(err as Error).message}`];
        }
      }
    }
    const movedTo = move('rejected');
    writeFileSync(`${movedTo}.errors.txt`, `${problems.join('\n')}\n${problems.length} problem${problems.length > 1 ? 's' : ''}; nothing was imported\n`);
    this.log.warn({ store, file: name, problems: problems.length }, 'drop folder: file rejected');
    return { store, file: name, accepted: false, movedTo, problems };
  }
}

export function dropFolderFor(dataDir: string): string {
  const root = join(dataDir, 'drop');
  if (!existsSync(root)) mkdirSync(root, { recursive: true });
  return root;
}

import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from 'pino';
import { formatProblemIn, problemLangOf } from '../directory/problem-text';
import { parseDirectoryIsolated } from '../directory/isolated-parse';
import { describeReimport, reimportOver } from '../directory/reimport';
import { DirectoryStore } from '../directory/directory-store';
import { DatabaseUnavailableError } from '../storage/sql';

/**
 * The drop folder: a file put in ATTENDANT_DATA_DIR/drop/<store>/ is imported as that
 * store's whole directory once it is complete (unchanged in size and time on two polls, and
 * last written `SETTLE_MS` ago). It is first claimed (moved to drop/<store>/processing/),
 * then read in a child process (parseDirectoryIsolated); an accepted file moves to
 * drop/<store>/processed/, a refused one to drop/<store>/rejected/ beside a .errors.txt that
 * names each bad row and field. A file found in processing/ at start was being read when the
 * service stopped: it is rejected, so that a file that stops the service cannot do so again.
 * Links are never followed, for store folders or files.
 */

/** How long a file must have been left alone before it is read: a copy that pauses is not half-imported. */
export const SETTLE_MS = 5000;

/** A file name as it may be shown in a log, a terminal or a file: control characters escaped. */
export function shownName(name: string): string {
  return name.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

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
    private readonly settleMs = SETTLE_MS,
  ) {
    mkdirSync(root, { recursive: true });
  }

  /**
   * Files left in a store's processing/ folder (the service stopped while reading them) go
   * to rejected/ with a note: read again, the same file could stop it again.
   */
  recover(): DropResult[] {
    const results: DropResult[] = [];
    for (const store of readdirSync(this.root)) {
      const processing = join(this.root, store, 'processing');
      if (!isRealDirectory(join(this.root, store)) || !isRealDirectory(processing)) continue;
      for (const name of readdirSync(processing)) {
        const path = join(processing, name);
        if (!lstatSync(path).isFile()) continue;
        const problems = [
          `${shownName(name)}: was being read when the service stopped; it is not read again: check it, then drop it again`,
        ];
        const movedTo = this.moveTo(join(this.root, store), path, name, 'rejected');
        writeFileSync(`${movedTo}.errors.txt`, `${problems.join('\n')}\nnothing was imported\n`);
        this.log.warn({ store, file: shownName(name) }, 'drop folder: a file was being read when the service stopped; rejected');
        results.push({ store, file: name, accepted: false, movedTo, problems });
      }
    }
    return results;
  }

  private moveTo(folder: string, path: string, name: string, to: 'processing' | 'processed' | 'rejected'): string {
    // A folder of that name that is a link is not followed.
    if (lstatSync(join(folder, to), { throwIfNoEntry: false })?.isSymbolicLink() === true)
      throw new Error(`drop folder: ${join(folder, to)} is a link; remove it`);
    mkdirSync(join(folder, to), { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const target = join(folder, to, to === 'processing' ? name : `${stamp}-${name}`);
    renameSync(path, target);
    return target;
  }

  /** Polls every `intervalMs`; a file must look the same on two polls in a row to be taken. */
  start(intervalMs = 1000): void {
    this.recover();
    this.timer = setInterval(() => {
      if (this.scanning) return;
      this.scanning = true;
      this.scan()
        .catch((err: Error) => this.log.error({ err }, 'drop folder scan failed'))
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
      // lstat: a store folder that is a link to elsewhere is not a store folder.
      if (!isRealDirectory(folder)) continue;
      for (const name of readdirSync(folder)) {
        const path = join(folder, name);
        if (IGNORED.test(name)) continue;
        const stat = lstatSync(path, { throwIfNoEntry: false });
        if (stat === undefined || !stat.isFile()) continue;
        present.add(path);
        const signature = `${stat.size}:${stat.mtimeMs}`;
        if (this.seen.get(path) !== signature || (this.settleMs > 0 && Date.now() - stat.mtimeMs < this.settleMs)) {
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
    let path = join(folder, name);
    const shown = shownName(name);
    const move = (to: 'processed' | 'rejected'): string => this.moveTo(folder, path, name, to);
    let problems: string[];
    const unavailable = (err: unknown): boolean => {
      if (!(err instanceof DatabaseUnavailableError)) return false;
      this.log.warn({ store, file: shown, err }, 'drop folder: the database cannot be reached; the file stays and is tried again');
      return true;
    };
    let found: Awaited<ReturnType<DirectoryStore['findStore']>>;
    try {
      found = await this.directory.findStore(store);
    } catch (err) {
      if (unavailable(err)) return undefined;
      throw err;
    }
    const exists = found !== undefined;
    // The errors file is read by the store's admin: in French for a French store.
    const lang = found === undefined ? 'en' : problemLangOf(found.locale);
    if (!exists) {
      problems = [`store "${shownName(store)}" does not exist; create it with: attendant store create ${shownName(store)}`];
    } else {
      // Claimed before it is read: a file that stops the service is found in processing/ at the next start.
      path = this.moveTo(folder, path, name, 'processing');
      const parsed = await parseDirectoryIsolated(readFileSync(path), name);
      problems = parsed.problems.map((p) => formatProblemIn(shown, p, lang));
      if (problems.length === 0) {
        try {
          const merged = reimportOver((await this.directory.snapshot(store)).entries, parsed);
          const info = await this.directory.replaceDirectory(store, merged.entries, { via: 'file', actor: shown });
          const movedTo = move('processed');
          this.log.info(
            {
              store,
              file: shown,
              version: info.version,
              encoding: parsed.encoding,
              added: info.added,
              changed: info.changed,
              removed: info.removed,
              store_fixes: describeReimport(merged) || undefined,
            },
            'drop folder: directory imported',
          );
          this.onChange(store);
          return { store, file: name, accepted: true, movedTo, version: info.version, problems };
        } catch (err) {
          if (unavailable(err)) {
            // Back where it was dropped, to be tried again.
            renameSync(path, join(folder, name));
            return undefined;
          }
          problems = [`${shown}: could not be stored: ${(err as Error).message}`];
        }
      }
    }
    const movedTo = move('rejected');
    const summary =
      lang === 'fr'
        ? `${problems.length} problème(s) ; rien n’a été importé`
        : `${problems.length} problem${problems.length > 1 ? 's' : ''}; nothing was imported`;
    writeFileSync(`${movedTo}.errors.txt`, `${problems.join('\n')}\n${summary}\n`);
    this.log.warn({ store, file: shown, problems: problems.length }, 'drop folder: file rejected');
    return { store, file: name, accepted: false, movedTo, problems };
  }
}

function isRealDirectory(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
}

export function dropFolderFor(dataDir: string): string {
  const root = join(dataDir, 'drop');
  if (!existsSync(root)) mkdirSync(root, { recursive: true });
  return root;
}

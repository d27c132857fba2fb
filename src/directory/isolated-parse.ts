import { ChildProcess, fork } from 'node:child_process';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { ParsedDirectory } from './directory-file';

/**
 * Directory files sent by store admins (console uploads, drop folders) are untrusted: a
 * workbook can inflate to gigabytes, a sheet can hold a million rows or a 20 MB cell. They
 * are read here in a child process, never in the process that serves calls: its heap capped
 * (`heapMb`), its time bounded (`timeoutMs`), at the lowest CPU priority, one file at a time.
 * A file that breaks a limit is refused with a problem saying so; the server carries on.
 */

export interface IsolatedParseOptions {
  /** The child's V8 heap, in MB. */
  heapMb: number;
  timeoutMs: number;
}

/**
 * 512 MB reads a 50,000-entry workbook (about 40 MB unpacked) with room to spare; the
 * server itself stays well under 1.5 GB whatever a file holds.
 */
export const ISOLATED_PARSE: IsolatedParseOptions = { heapMb: 512, timeoutMs: 60_000 };

const fail = (message: string): ParsedDirectory => ({
  entries: [],
  problems: [{ message }],
  ignored: [],
  format: 'csv',
  encoding: 'utf-8',
});

/** One at a time: files wait for the one before them. */
let queue: Promise<unknown> = Promise.resolve();

export function parseDirectoryIsolated(
  bytes: Uint8Array,
  fileName: string,
  options: IsolatedParseOptions = ISOLATED_PARSE,
): Promise<ParsedDirectory> {
  const turn = queue.then(() => runChild(bytes, fileName, options));
  queue = turn.catch(() => undefined);
  return turn;
}

function runChild(bytes: Uint8Array, fileName: string, options: IsolatedParseOptions): Promise<ParsedDirectory> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = fork(join(__dirname, 'parse-child.js'), [], {
        execArgv: [`--max-old-space-size=${options.heapMb}`],
        serialization: 'advanced',
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
    } catch (err) {
      resolve(fail(`the file could not be read (${(err as Error).message})`));
      return;
    }
    let settled = false;
    let stderr = '';
    const done = (parsed: ParsedDirectory): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
      resolve(parsed);
    };
    const timer = setTimeout(
      () =>
        done(
          fail(
            `reading the file took longer than ${Math.round(options.timeoutMs / 1000)} s; a directory is read in a few seconds: export only the directory's columns`,
          ),
        ),
      options.timeoutMs,
    );
    try {
      if (child.pid !== undefined) setPriority(child.pid, 19);
    } catch {
      // Not allowed to lower it: the limits still hold.
    }
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.on('message', (m: { parsed?: ParsedDirectory; error?: string }) => {
      if (m.parsed !== undefined) done(m.parsed);
      else done(fail(`the file could not be read (${m.error ?? 'unknown error'})`));
    });
    child.on('error', (err) => done(fail(`the file could not be read (${err.message})`)));
    child.on('exit', (code, signal) => {
      const memory = /heap out of memory|Allocation failed/i.test(stderr);
      done(
        fail(
          memory
            ? `reading the file needs more than ${options.heapMb} MB of memory; a directory needs far less: export only the directory's columns, at most 50000 rows`
            : `the file could not be read (the reader stopped: ${signal ?? `exit ${code}`})`,
        ),
      );
    });
    child.send({ bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), fileName });
  });
}

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import {
  AcousticModel,
  catalogAt,
  findDictionary,
  localeFromName,
  ModelLocale,
  modelsForLocale,
  POCKETSPHINX_FILES,
  readModel,
} from '../asr/models';
import { invalidInput, unavailable } from './exit-codes';

const run = promisify(execFile);

/**
 * `attendant models list` and `attendant models install <dir|archive|url>`: models are
 * unpacked into a temporary folder beside their destination, checked by the same reader
 * `serve` uses, and only then renamed into place, so that no half model is ever left behind.
 */

export interface StoreModelUse {
  store: string;
  locale: string;
}

/** One line per model, with the stores heard with it (as `serve` chooses: see StoreLexicons). */
export function listModels(root: string, stores: StoreModelUse[]): string[] {
  const catalog = catalogAt(root);
  const lines = catalog.models.map((m) => {
    const users = stores.filter((s) => modelsForLocale(catalog, s.locale).includes(m)).map((s) => s.store);
    return [
      m.id,
      m.engine,
      m.locale,
      `${m.sampleRate / 1000} kHz`,
      m.source === 'system' ? 'Debian (pocketsphinx-en-us)' : m.dir,
      `stores: ${users.join(' ') || '-'}`,
    ].join('\t');
  });
  for (const p of catalog.problems) lines.push(`not a model: ${p}`);
  return lines;
}

export interface InstallOptions {
  sha256?: string;
  /** The folder name under the models directory; from the source's name when absent. */
  name?: string;
  locale?: ModelLocale;
  /** A pronunciation dictionary to install with a PocketSphinx model that lacks one. */
  dictionary?: string;
}

/** Installs a model from a folder, a .tar.gz/.tgz/.zip archive or an http(s) URL; returns it. */
export async function installModel(root: string, source: string, options: InstallOptions = {}): Promise<AcousticModel> {
  mkdirSync(root, { recursive: true });
  const work = mkdtempSync(join(root, '.install-'));
  try {
    let local = source;
    if (/^https?:\/\//i.test(source)) {
      local = join(work, basename(new URL(source).pathname) || 'model.tar.gz');
      await download(source, local);
    } else if (!existsSync(source)) {
      throw invalidInput(`${source}: no such file or folder`);
    }
    if (options.sha256 !== undefined) {
      if (statSync(local).isDirectory()) throw invalidInput('--sha256 checks an archive, not a folder');
      const actual = await sha256(local);
      if (actual !== options.sha256.toLowerCase())
        throw invalidInput(`${source}: SHA-256 is ${actual}, not ${options.sha256}; nothing was installed`);
    }
    const unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    if (statSync(local).isDirectory()) cpSync(local, unpacked, { recursive: true });
    else await unpack(local, unpacked);
    // An archive (or a folder) holds the model's folder, perhaps with its dictionary beside
    // it (CMU Sphinx ships "fr.dict" apart from the acoustic model), or the model's files directly.
    const entries = readdirSync(unpacked).filter((n) => !n.startsWith('.'));
    const folders = entries.filter((n) => statSync(join(unpacked, n)).isDirectory());
    const besideFiles = entries.filter((n) => !folders.includes(n));
    const single = folders.length === 1 && besideFiles.every((n) => !isModelFile(n)) ? folders[0] : undefined;
    const name = options.name ?? single ?? basename(source).replace(/\.(tar\.gz|tgz|zip)$/i, '');
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$/.test(name)) throw invalidInput(`"${name}" is not a model name (letters, digits, . _ -)`);
    const staged = join(work, name);
    renameSync(single === undefined ? unpacked : join(unpacked, single), staged);
    if (options.dictionary !== undefined) cpSync(options.dictionary, join(staged, basename(options.dictionary)));
    else if (!hasDictionary(staged)) {
      const found =
        (single !== undefined ? dictionaryAmong(besideFiles.map((n) => join(unpacked, n))) : undefined) ??
        (statSync(local).isDirectory() ? dictionaryBeside(local, options.locale) : undefined);
      if (found !== undefined) cpSync(found, join(staged, basename(found)));
    }
    if (options.locale !== undefined) writeFileSync(join(staged, 'model.json'), `${JSON.stringify({ locale: options.locale }, null, 2)}\n`);
    try {
      readModel(staged);
    } catch (err) {
      const hint = /no pronunciation dictionary/.test((err as Error).message) ? ' (or give it: --dictionary <file.dict>)' : '';
      throw invalidInput(`${source} is not a usable model: ${(err as Error).message}${hint}; nothing was installed`);
    }
    const target = join(root, name);
    if (existsSync(target)) throw invalidInput(`a model named ${name} is installed already (${target}); remove it first or give --name`);
    renameSync(staged, target);
    return readModel(target);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Files of a PocketSphinx model itself (a folder holding them is the model, not beside it). */
function isModelFile(name: string): boolean {
  return [...POCKETSPHINX_FILES, 'mixture_weights', 'sendump', 'feat.params'].includes(name);
}

const isDictionary = (name: string): boolean => name.endsWith('.dict');

/** Whether a model's folder has a dictionary of its own, or a manifest that may name one. */
function hasDictionary(dir: string): boolean {
  return readdirSync(dir).some(isDictionary) || existsSync(join(dir, 'model.json'));
}

/** The one pronunciation dictionary among `files`, if there is exactly one. */
function dictionaryAmong(files: string[]): string | undefined {
  const dicts = files.filter(isDictionary);
  return dicts.length === 1 ? dicts[0] : undefined;
}

/** The dictionary the models folder would find beside a model's folder ("fr.dict" next to "fr-ptm-8khz"). */
function dictionaryBeside(folder: string, locale = localeFromName(basename(resolve(folder)))): string | undefined {
  return locale === undefined ? undefined : findDictionary(resolve(folder), locale);
}

async function download(url: string, file: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw unavailable(
      `${url} could not be downloaded (${cause?.code ?? cause?.message ?? (err as Error).message}); download it on a machine with access and install the file: attendant models install <file>`,
    );
  }
  if (!response.ok || response.body === null) throw unavailable(`${url} could not be downloaded: HTTP ${response.status}`);
  await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), createWriteStream(file));
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

async function unpack(archive: string, into: string): Promise<void> {
  const lower = archive.toLowerCase();
  try {
    if (lower.endsWith('.zip')) await run('unzip', ['-q', archive, '-d', into]);
    else if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz') || lower.endsWith('.tar'))
      await run('tar', ['-xf', archive, '-C', into, '--no-same-owner']);
    else throw invalidInput(`${archive}: not a folder, .tar.gz, .tgz or .zip`);
  } catch (err) {
    if ((err as { exitCode?: number }).exitCode !== undefined) throw err;
    const stderr = (err as { stderr?: string }).stderr?.trim().split('\n')[0];
    throw invalidInput(
      `${basename(archive)} could not be unpacked (${stderr ?? (err as Error).message}); it may be truncated; nothing was installed`,
    );
  }
}

import { numberForms } from '../directory/phone-number';
import { describeReimport, reimportOver } from '../directory/reimport';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { modelsDir } from '../asr/models';
import { installModel, listModels } from './models-command';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Command, CommanderError } from 'commander';
import { loadSettings, pemFile, Settings, SettingsError } from '../config/settings';
import { SettingsGroup, settingsHelp } from '../config/setting-list';
import { formatProblem } from '../directory/problem';
import { CSV_COLUMNS, ParsedDirectory, parseDirectoryFile } from '../directory/directory-file';
import { status as grpcStatus } from '@grpc/grpc-js';
import { pushDirectory, PushError, Transport } from '../api/directory-client';
import { DirectoryStore, Locale, StoreSettings, TransferMode, entryChanges } from '../directory/directory-store';
import { csvLine, entriesToCsv, entryCells } from '../directory/export';
import { writeXlsx } from '../directory/xlsx';
import { DirectoryEntry, displayName, normalizeText } from '../directory/entry';
import { openStore } from '../attendant/store-directory';
import { CliError, EXIT_INVALID, EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE, invalidInput, unavailable, usageError } from './exit-codes';
import { ErrorKind, kindOf, messageOf } from '../util/errors';
import { recognizeFiles } from './recognize-command';
import { storeLexicons } from '../asr/store-lexicons';
import { entryPronunciations } from '../asr/grammar';
import { serve } from './serve-command';
import { TokenStore } from '../api/tokens';
import { copyDatabase, describeUrl, Storage } from './storage';
import { DatabaseUnavailableError } from '../storage/sql';
import { TargetNotEmptyError } from '../storage/copy';
import { CallResult, describeCall, describeStep, placeCall, Turn } from './call-command';
import { CallOutcome } from '../attendant/call-records';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** The environment settings each command reads, listed in its --help (config/setting-list.ts). */
const SETTINGS_HELP: Record<SettingsGroup, string> = {
  serve: settingsHelp('serve'),
  data: settingsHelp('data'),
  database: settingsHelp('database'),
  models: settingsHelp('models'),
  push: settingsHelp('push'),
  call: settingsHelp('call'),
};

const EXIT_HELP = 'Exit status: 0 ok, 1 invalid input, 2 usage, 3 unavailable.';

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function withStoreOptions(command: Command): Command {
  return command
    .option('--name <name>', "the store's name")
    .option('--number <did>', 'a number that reaches the store (repeat for several)', collect)
    .option('--operator <ext>', 'extension of the human operator (default 9)')
    .option('--locale <locale>', 'fr-FR or en-US (default fr-FR)')
    .option('--transfer <mode>', 'refer (SIP REFER, default) or grpc (PBX hooks)')
    .option('--pbx <host[:port]>', 'host put in Refer-To (default: where the call came from)')
    .option('--hooks <host:port>', "the PBX's gRPC hooks, with --transfer grpc")
    .option('--transcripts <on|off>', 'keep what callers said in the call records');
}

function storeSettings(values: Record<string, unknown>): Partial<StoreSettings> {
  const settings: Partial<StoreSettings> = {};
  if (typeof values.name === 'string') settings.name = values.name;
  if (Array.isArray(values.number)) {
    for (const n of values.number as string[]) {
      if (!/^\+?[0-9]{2,20}$/.test(n)) throw usageError(`--number "${n}" is not a phone number (digits, optional leading +)`);
    }
    settings.numbers = values.number as string[];
  }
  if (typeof values.operator === 'string') {
    if (!/^[0-9*#+]{1,15}$/.test(values.operator)) throw usageError(`--operator "${values.operator}" is not an extension`);
    settings.operator = values.operator;
  }
  if (typeof values.locale === 'string') {
    if (values.locale !== 'fr-FR' && values.locale !== 'en-US') throw usageError('--locale is fr-FR or en-US');
    settings.locale = values.locale as Locale;
  }
  if (typeof values.transfer === 'string') {
    if (values.transfer !== 'refer' && values.transfer !== 'grpc') throw usageError('--transfer is refer or grpc');
    settings.transfer = values.transfer as TransferMode;
  }
  if (typeof values.pbx === 'string') settings.pbx = values.pbx;
  if (typeof values.hooks === 'string') {
    if (!/^[^\s:]+:\d{1,5}$/.test(values.hooks)) throw usageError('--hooks is HOST:PORT');
    settings.hooks = values.hooks;
  }
  if (typeof values.transcripts === 'string') {
    if (values.transcripts !== 'on' && values.transcripts !== 'off') throw usageError('--transcripts is on or off');
    settings.transcripts = values.transcripts === 'on';
  }
  return settings;
}

/** Reads and validates a directory file, printing every problem; undefined when it is refused. */
async function readAndCheck(file: string, io: Io): Promise<ParsedDirectory | undefined> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw invalidInput(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const parsed = await parseDirectoryFile(bytes, file);
  if (parsed.problems.length === 0) return parsed;
  for (const p of parsed.problems) io.err(formatProblem(file, p));
  io.err(`${file}: ${parsed.problems.length} problem${parsed.problems.length > 1 ? 's' : ''}; nothing was imported`);
  return undefined;
}

function describeEntry(e: DirectoryEntry): string {
  const name = e.type === 'person' ? `${e.firstName} ${e.lastName}`.trim() : e.serviceName;
  return `${e.id} ${name} (${e.extension}${e.enabled ? '' : ', disabled'})`;
}

const OUTCOMES: CallOutcome[] = ['transferred', 'operator', 'abandoned', 'failed', 'rejected'];

/** `--since`: an ISO date or time, or a duration back from now: 30m, 24h, 7d. */
function parseSince(text: string, now = Date.now()): string {
  const ago = /^(\d+)([mhd])$/.exec(text);
  if (ago !== null)
    return new Date(now - Number(ago[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2] as 'm' | 'h' | 'd']).toISOString();
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw usageError(`--since "${text}" is not a date (2026-11-23, 2026-11-23T08:00) or a duration (30m, 24h, 7d)`);
  return new Date(t).toISOString();
}

/**
 * The `attendant` program. Each action sets `result.code`; errors thrown by an action
 * become the exit status in `run`. `--help` on any command prints and returns before any
 * action runs, so it never starts a server or changes data.
 */
function program(io: Io, env: NodeJS.ProcessEnv, result: { code: number }): Command {
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

  const root = new Command('attendant')
    .description("offline speech auto-attendant: answers a PBX's calls, hears a name, transfers the call")
    .version(version(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .addHelpText('after', `\n${SETTINGS_HELP.serve}\n\n${EXIT_HELP}`)
    .exitOverride()
    .showHelpAfterError('(attendant <command> --help shows its options)')
    .configureOutput({ writeOut: (t) => io.out(t.trimEnd()), writeErr: (t) => io.err(t.trimEnd()) })
    .enablePositionalOptions();

  root
    .command('serve')
    .description('answer calls: SIP, RTP, recognition, gRPC and HTTP, until SIGTERM')
    .addHelpText('after', `\n${SETTINGS_HELP.serve}`)
    .action(async () => done(await serve(settings())));

  // store
  const store = root
    .command('store')
    .description('create, change, list, show and delete stores')
    .addHelpText('after', `\n${SETTINGS_HELP.data}`);
  withStoreOptions(store.command('create <store>').description('create a store (its id is what the PBX calls)')).action(
    (id: string, values: Record<string, unknown>) =>
      withStore(async (db) => {
        await db.createStore(id, storeSettings(values));
        io.out(`store ${id} created`);
        done();
      }),
  );
  withStoreOptions(store.command('update <store>').description("change a store's settings")).action(
    (id: string, values: Record<string, unknown>) =>
      withStore(async (db) => {
        await db.updateStore(id, storeSettings(values));
        io.out(`store ${id} updated`);
        done();
      }),
  );
  store
    .command('list')
    .description('every store: id, version, locale, operator, numbers, name')
    .action(() => {
      existingData();
      return withStore(async (db) => {
        for (const s of await db.listStores())
          io.out([s.id, `v${s.version}`, s.locale, `operator ${s.operator}`, s.numbers.join(' '), s.name].join('\t'));
        done();
      });
    });
  store
    .command('show <store>')
    .description("a store's settings and directory version")
    .option('--json', 'as JSON')
    .action((id: string, values: { json?: boolean }) => {
      existingData();
      return withStore(async (db) => {
        const s = await openStore(id, db);
        const snapshot = await db.snapshot(s.id);
        if (values.json === true) io.out(JSON.stringify({ ...s, entries: snapshot.entries.length }, null, 2));
        else {
          io.out(`store ${s.id}${s.name === '' ? '' : ` (${s.name})`}`);
          io.out(
            `  version      ${s.version} (${snapshot.entries.length} entries, ${snapshot.entries.filter((e) => e.enabled).length} enabled)`,
          );
          io.out(`  locale       ${s.locale}`);
          io.out(`  numbers      ${s.numbers.join(' ') || '-'}`);
          for (const n of s.numbers) io.out(`    ${n} answers as ${numberForms(n, s.locale).join(', ')}`);
          io.out(`  operator     ${s.operator}`);
          io.out(`  transfer     ${s.transfer}${s.transfer === 'grpc' ? ` via ${s.hooks}` : ''}${s.pbx === '' ? '' : `, PBX ${s.pbx}`}`);
          io.out(`  transcripts  ${s.transcripts ? 'on' : 'off'}`);
        }
        done();
      });
    });
  store
    .command('delete <store>')
    .description('delete a store, its directory versions and its tokens (its history stays)')
    .option('--yes', 'do it without asking')
    .action(async (id: string, values: { yes?: boolean }) => {
      existingData();
      if (values.yes !== true) {
        if (!process.stdin.isTTY) throw usageError(`store delete ${id} needs --yes when not run from a terminal`);
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        const answer = await new Promise<string>((resolve) =>
          rl.question(`delete store ${id}, its versions and its tokens? [y/N] `, resolve),
        );
        rl.close();
        if (!/^y(es)?$/i.test(answer.trim())) {
          io.err('nothing deleted');
          return done(EXIT_INVALID);
        }
      }
      await withStore((db) => db.deleteStore(id, origin));
      await withTokens(async (tokens) => {
        for (const t of await tokens.list()) if (t.store === id && t.revokedAt === null) await tokens.revoke(t.id);
      });
      io.out(`store ${id} deleted`);
      done();
    });

  // directory
  const directory = root
    .command('directory')
    .description("a store's directory: import, export, versions, diff, rollback, history, push")
    .addHelpText('after', `\n${SETTINGS_HELP.data}`);
  directory
    .command('import <store> <file>')
    .description("make a CSV, JSON or Excel (.xlsx) file the store's directory, as a new version")
    .option('--dry-run', 'check the file, change nothing')
    .option('--create', 'create the store if it does not exist')
    .action((storeId: string, file: string, values: { dryRun?: boolean; create?: boolean }) =>
      withStore(async (db) => {
        if ((await db.findStore(storeId)) === undefined && values.create !== true && values.dryRun !== true) {
          const known = (await db.listStores()).map((s) => s.id);
          throw invalidInput(`no store "${storeId}"${known.length > 0 ? ` (stores: ${known.join(', ')})` : ''}; add --create to create it`);
        }
        const parsed = await readAndCheck(file, io);
        if (parsed === undefined) return done(EXIT_INVALID);
        const notes: string[] = [];
        if (parsed.encoding !== 'utf-8') notes.push(`read as ${parsed.encoding}`);
        if (parsed.ignored.length > 0) notes.push(`ignored column${parsed.ignored.length > 1 ? 's' : ''} ${parsed.ignored.join(', ')}`);
        const suffix = notes.length > 0 ? ` (${notes.join('; ')})` : '';
        if (values.dryRun === true) {
          io.out(`${file}: ${parsed.entries.length} entries are valid; nothing imported (--dry-run)${suffix}`);
          return done();
        }
        if ((await db.findStore(storeId)) === undefined) await db.createStore(storeId);
        // The store's own fixes (pronunciations, aliases, disabled entries) survive a back-office file that does not carry them.
        const merged = reimportOver((await db.snapshot(storeId)).entries, parsed);
        const info = await db.replaceDirectory(storeId, merged.entries, origin);
        const fixes = describeReimport(merged);
        io.out(
          `store ${storeId}: version ${info.version}, ${info.entries} entries (${info.added} added, ${info.changed} changed, ${info.removed} removed)${suffix}${fixes === '' ? '' : `; ${fixes}`}`,
        );
        done();
      }),
    );
  directory
    .command('export <store>')
    .description("print the store's current directory, or write it to an Excel file")
    .option('--format <format>', 'csv, json or xlsx (xlsx needs --output)', 'csv')
    .option('--excel', 'CSV for French Excel: UTF-8 with BOM, ";" between fields')
    .option('--output <file>', 'write to this file instead of printing')
    .option('--version <n>', 'an older version instead of the current one')
    .action((storeId: string, values: { format: string; excel?: boolean; version?: string; output?: string }) => {
      if (!['csv', 'json', 'xlsx'].includes(values.format)) throw usageError('--format is csv, json or xlsx');
      if (values.format === 'xlsx' && values.output === undefined)
        throw usageError('--format xlsx writes a file: add --output <file>.xlsx');
      return withStore(async (db) => {
        const wanted = values.version === undefined ? undefined : versionNumber(values.version);
        const snapshot = await db.snapshot((await openStore(storeId, db)).id, wanted);
        const body =
          values.format === 'xlsx'
            ? await writeXlsx(CSV_COLUMNS, snapshot.entries.map(entryCells))
            : values.format === 'json'
              ? `${JSON.stringify({ entries: snapshot.entries }, null, 2)}\n`
              : entriesToCsv(snapshot.entries, values.excel === true);
        if (values.output === undefined) io.out(String(body).replace(/\r?\n$/, ''));
        else {
          writeFileSync(values.output, body);
          io.err(`${values.output}: ${snapshot.entries.length} entries of store ${snapshot.store}, version ${snapshot.version}`);
        }
        done();
      });
    });
  directory
    .command('versions <store>')
    .description('the kept versions (20), newest first; * marks the current one')
    .action((storeId: string) =>
      withStore(async (db) => {
        for (const v of await db.listVersions(storeId)) {
          io.out(
            `${v.current ? '*' : ' '} v${v.version}\t${v.createdAt}\t${v.entries} entries\t+${v.added} ~${v.changed} -${v.removed}\t${v.via} ${v.actor}`,
          );
        }
        done();
      }),
    );
  directory
    .command('diff <store> <v1> <v2>')
    .description('entries added, changed and removed from version v1 to v2')
    .action((storeId: string, v1: string, v2: string) =>
      withStore(async (db) => {
        const changes = entryChanges(
          (await db.snapshot(storeId, versionNumber(v1))).entries,
          (await db.snapshot(storeId, versionNumber(v2))).entries,
        );
        for (const e of changes.added) io.out(`+ ${describeEntry(e)}`);
        for (const c of changes.changed) io.out(`~ ${describeEntry(c.before)} -> ${describeEntry(c.after)}`);
        for (const e of changes.removed) io.out(`- ${describeEntry(e)}`);
        io.out(`${changes.added.length} added, ${changes.changed.length} changed, ${changes.removed.length} removed`);
        done();
      }),
    );
  directory
    .command('rollback <store> <version>')
    .description('make an older version current again (as a new version)')
    .action((storeId: string, v: string) =>
      withStore(async (db) => {
        const version = versionNumber(v);
        const info = await db.rollback(storeId, version, origin);
        io.out(`store ${storeId}: version ${info.version} has the content of version ${version} (${info.entries} entries)`);
        done();
      }),
    );
  directory
    .command('history <store>')
    .description('who changed the directory, when and how')
    .action((storeId: string) =>
      withStore(async (db) => {
        for (const h of await db.history(storeId))
          io.out(`${h.at}\tv${h.version}\t${h.action}\t+${h.added} ~${h.changed} -${h.removed}\t${h.via}\t${h.actor}`);
        done();
      }),
    );
  directory
    .command('push <store> <file>')
    .description('send a directory file to a running attendant over gRPC')
    .requiredOption('--server <host:port>', "attendant's gRPC address")
    .option('--token <token>', 'a store or admin token (default: ATTENDANT_TOKEN)')
    .option('--tls', "TLS, checking the server's certificate with the system's authorities")
    .option('--ca <file>', "TLS, checking the server's certificate with this authority (PEM; default: ATTENDANT_GRPC_TLS_CA)")
    .addHelpText('after', `\n${SETTINGS_HELP.push}`)
    .action(async (storeId: string, file: string, values: { server: string; token?: string; tls?: boolean; ca?: string }) => {
      const token = values.token ?? env.ATTENDANT_TOKEN;
      if (token === undefined || token === '') throw usageError('push needs a token: --token T or ATTENDANT_TOKEN');
      const caFile = values.ca ?? (env.ATTENDANT_GRPC_TLS_CA || undefined);
      let transport: Transport = { tls: values.tls === true };
      if (caFile !== undefined) {
        try {
          transport = { tls: true, ca: pemFile(values.ca !== undefined ? '--ca' : 'ATTENDANT_GRPC_TLS_CA', caFile, 'CERTIFICATE') };
        } catch (err) {
          throw usageError((err as Error).message);
        }
      }
      const parsed = await readAndCheck(file, io);
      if (parsed === undefined) return done(EXIT_INVALID);
      try {
        const r = await pushDirectory(values.server, token, storeId, parsed.entries, transport);
        io.out(
          `store ${storeId}: version ${r.version}, ${r.entries} entries (${r.added} added, ${r.changed} changed, ${r.removed} removed)`,
        );
        done();
      } catch (err) {
        if (err instanceof PushError && err.code === grpcStatus.UNAVAILABLE) throw unavailable(`${values.server}: ${err.message}`);
        throw invalidInput(`${values.server}: ${(err as Error).message}`);
      }
    });

  // token
  const token = root
    .command('token')
    .description('tokens for gRPC and the store console: create, list, revoke')
    .addHelpText('after', `\n${SETTINGS_HELP.data}`);
  token
    .command('create [store]')
    .description('a token for one store, or --admin for every store (printed once)')
    .option('--admin', 'a token for every store')
    .action(async (storeId: string | undefined, values: { admin?: boolean }) => {
      if ((values.admin === true) === (storeId !== undefined)) throw usageError('token create needs <store> or --admin');
      if (storeId !== undefined) await withStore((db) => db.getStore(storeId));
      const created = await withTokens((tokens) => tokens.create(storeId ?? null));
      io.out(created.token);
      io.err(`token ${created.id} for ${storeId === undefined ? 'every store (admin)' : `store ${storeId}`}; it is shown only now`);
      done();
    });
  token
    .command('list')
    .description('tokens: id, store, created, state')
    .action(() =>
      withTokens(async (tokens) => {
        for (const t of await tokens.list())
          io.out([t.id, t.store ?? '(admin)', t.createdAt, t.revokedAt === null ? 'active' : `revoked ${t.revokedAt}`].join('\t'));
        done();
      }),
    );
  token
    .command('revoke <id>')
    .description('revoke a token at once')
    .action((id: string) =>
      withTokens(async (tokens) => {
        if (!(await tokens.revoke(id))) throw invalidInput(`no active token "${id}"`);
        io.out(`token ${id} revoked`);
        done();
      }),
    );

  // models
  const models = root.command('models').description('acoustic models: list, install').addHelpText('after', `\n${SETTINGS_HELP.models}`);
  models
    .command('list')
    .description('installed models and the stores heard with each')
    .action(async () => {
      const { dataDir, databaseUrl } = settings();
      const stores =
        existsSync(dataDir) || databaseUrl !== undefined
          ? await withStore(async (db) => (await db.listStores()).map((st) => ({ store: st.id, locale: st.locale })))
          : [];
      for (const line of listModels(modelsDir(env), stores)) io.out(line);
      done();
    });
  models
    .command('install <source>')
    .description('unpack a PocketSphinx or Vosk model (folder, .tar.gz, .zip or URL) into the models folder, checked')
    .option('--sha256 <hash>', 'refuse the archive unless its SHA-256 is this')
    .option('--name <name>', "the model's folder name")
    .option('--locale <locale>', 'fr-FR or en-US, when the name does not say')
    .option('--dictionary <file.dict>', 'a pronunciation dictionary to install with it')
    .action(async (source: string, values: { sha256?: string; name?: string; locale?: string; dictionary?: string }) => {
      if (values.locale !== undefined && values.locale !== 'fr-FR' && values.locale !== 'en-US')
        throw usageError('--locale is fr-FR or en-US');
      const model = await installModel(modelsDir(env), source, { ...values, locale: values.locale as Locale | undefined });
      io.out(
        `installed ${model.id}: ${model.engine}, ${model.locale}, ${model.sampleRate / 1000} kHz, in ${model.dir}; restart attendant serve to use it`,
      );
      done();
    });

  // recognize
  root
    .command('recognize <file...>')
    .description('what attendant would hear and decide for recorded WAV files')
    .requiredOption('--store <store>', 'the store whose directory is matched')
    .addHelpText('after', `\n${SETTINGS_HELP.serve}`)
    .action(async (files: string[], values: { store: string }) => {
      const s = settings();
      const { snapshot, locale } = await storeDirectory(values.store);
      if (snapshot.entries.length === 0)
        throw invalidInput(`store "${values.store}" has no directory yet; import one: attendant directory import ${values.store} <file>`);
      const failures = await recognizeFiles(s, snapshot, locale, files, io.out);
      done(failures > 0 ? EXIT_INVALID : EXIT_OK);
    });

  // lexicon
  root
    .command('lexicon <store> [name...]')
    .description("the phones each name of a store will be heard as, per acoustic model (fix one with the entry's sounds_like)")
    .option('--json', 'print JSON')
    .addHelpText('after', `\n${SETTINGS_HELP.models}`)
    .action(async (storeId: string, name: string[], values: { json?: boolean }) => {
      const { snapshot, locale } = await storeDirectory(storeId);
      const query = normalizeText(name.join(' '));
      const entries = snapshot.entries.filter(
        (e) => query === '' || [e.id, displayName(e), ...e.aliases].some((t) => normalizeText(t).includes(query)),
      );
      if (entries.length === 0) {
        throw invalidInput(
          snapshot.entries.length === 0
            ? `store "${storeId}" has no directory yet`
            : `no entry of store "${storeId}" matches "${name.join(' ')}"`,
        );
      }
      const lexicons = storeLexicons(locale);
      const heard = await Promise.all(lexicons.map(async (l) => ({ model: l.model, entries: await entryPronunciations(entries, l) })));
      if (values.json === true) {
        io.out(
          JSON.stringify(
            entries.map((e, i) => ({
              id: e.id,
              name: displayName(e),
              extension: e.extension,
              soundsLike: e.soundsLike ?? null,
              models: Object.fromEntries(heard.map((h) => [h.model, h.entries[i].words])),
            })),
          ),
        );
      } else {
        entries.forEach((e, i) => {
          io.out(`${e.id}  ${displayName(e)}  ${e.extension}${e.soundsLike === undefined ? '' : `  (sounds like "${e.soundsLike}")`}`);
          for (const h of heard) {
            io.out(`  ${h.model}`);
            const width = Math.max(...h.entries[i].words.map((w) => w.token.length));
            for (const w of h.entries[i].words) io.out(`    ${w.token.padEnd(width)}  ${w.phones.join('  |  ')}`);
          }
        });
      }
      done();
    });

  /**
   * attendant's record of a test call, when the server shares this command's database (a
   * local `npm start`): waited for a few seconds, since it is written when the call ends.
   */
  const recordOf = async (storeId: string, sipCallId: string | undefined): Promise<CallResult['record']> => {
    if (sipCallId === undefined) return undefined;
    try {
      return await withStorage(async ({ records, directory }) => {
        const store = await directory.findStore(storeId);
        if (store === undefined) return undefined;
        for (let tries = 0; tries < 30; tries += 1) {
          const found = (await records.list(store.id, 20)).find((c) => c.sipCallId === sipCallId);
          if (found !== undefined) {
            const entries = (await directory.snapshot(store.id)).entries;
            const nameOf = (ext: string): string | undefined => {
              const e = entries.find((x) => x.extension === ext);
              return e === undefined ? undefined : displayName(e);
            };
            const operator = found.outcome === 'operator';
            return {
              outcome: found.outcome,
              extension: found.extension,
              name: operator ? undefined : nameOf(found.extension),
              steps: found.path.map((step) => describeStep(step, store.operator, nameOf)),
              operator,
            };
          }
          await new Promise((r) => setTimeout(r, 200));
        }
        return undefined;
      });
    } catch {
      return undefined; // another node's database, or none here: the REFER alone is told
    }
  };

  // call
  const turns: Turn[] = [];
  root
    .command('call <store>')
    .description('place a test call to a running attendant: say names, type digits, see where it goes')
    .option('--say <text>', 'speak this (synthesised); repeat for each turn', (v: string) => (turns.push({ say: v }), v))
    .option('--wav <file>', 'play this recording; repeat for each turn', (v: string) => (turns.push({ wav: v }), v))
    .option('--dtmf <digits>', 'press these keys (RFC 4733); repeat for each turn', (v: string) => {
      if (!/^[0-9*#A-D]+$/.test(v)) throw usageError(`--dtmf "${v}" is not keypad digits (0-9 * #)`);
      turns.push({ dtmf: v });
      return v;
    })
    .option('--server <host:port>', "attendant's SIP address (default 127.0.0.1:ATTENDANT_SIP_PORT)")
    .option('--tcp', 'SIP over TCP')
    .option('--voice <lang>', 'en or fr (default en)')
    .option('--timeout <seconds>', 'give up after', '60')
    .option('--json', 'print the result as JSON')
    .option('--expect <ext>', 'exit 0 only when the call is transferred to this extension')
    .addHelpText('after', `\n${SETTINGS_HELP.call}`)
    .action(
      async (
        storeId: string,
        values: { server?: string; tcp?: boolean; voice?: string; timeout: string; json?: boolean; expect?: string },
      ) => {
        if (turns.length === 0) throw usageError('call needs --say "text", --wav file or --dtmf digits');
        const s = settings();
        const server = values.server ?? `127.0.0.1:${s.sipPort === 0 ? 5060 : s.sipPort}`;
        const hp = /^([^\s:]+|\[[^\]]+\]):(\d{1,5})$/.exec(server);
        if (hp === null) throw usageError('--server is HOST:PORT');
        if (values.voice !== undefined && values.voice !== 'fr' && values.voice !== 'en') throw usageError('--voice is fr or en');
        const timeout = Number(values.timeout);
        if (!(timeout > 0)) throw usageError('--timeout is a number of seconds');
        const callResult = await placeCall({
          store: storeId,
          server: { host: hp[1], port: Number(hp[2]), transport: values.tcp === true ? 'TCP' : 'UDP' },
          turns,
          // The caller's voice: English by default, which the en-US PocketSphinx model hears best.
          locale: values.voice === 'fr' ? 'fr-FR' : 'en-US',
          dataDir: s.dataDir,
          timeoutMs: timeout * 1000,
        });
        callResult.record = await recordOf(storeId, callResult.sipCallId);
        io.out(values.json === true ? JSON.stringify(callResult) : describeCall(callResult));
        // A fallback to the operator is not the transfer asked for.
        if (callResult.record?.outcome === 'operator' && values.expect !== undefined && values.expect !== callResult.record.extension)
          done(EXIT_INVALID);
        else if (callResult.outcome === 'transferred')
          done(values.expect === undefined || values.expect === callResult.extension ? EXIT_OK : EXIT_INVALID);
        else done(callResult.outcome === 'refused' && callResult.status === 404 ? EXIT_INVALID : EXIT_UNAVAILABLE);
      },
    );

  // calls
  root
    .command('calls [store]')
    .description('recent calls: when, outcome, where they went, how')
    .option('--limit <n>', 'how many, newest first (default 20; 100000 with --csv)')
    .option('--since <when>', 'from this date or time, or this long ago: 30m, 24h, 7d')
    .option('--outcome <outcome>', `only ${OUTCOMES.join(', ')}`)
    .option('--all-stores', 'every store')
    .option('--json', 'one JSON object a line')
    .option('--csv', 'a CDR file: CSV with a header line')
    .addHelpText('after', `\n${SETTINGS_HELP.data}`)
    .action(
      async (
        storeId: string | undefined,
        values: { limit?: string; since?: string; outcome?: string; allStores?: boolean; json?: boolean; csv?: boolean },
      ) => {
        if ((storeId === undefined) === (values.allStores !== true)) throw usageError('calls needs <store> or --all-stores');
        const limit = values.limit === undefined ? (values.csv === true ? 100_000 : 20) : Number(values.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw usageError('--limit is a whole number from 1 to 100000');
        if (values.outcome !== undefined && !OUTCOMES.includes(values.outcome as CallOutcome))
          throw usageError(`--outcome is one of ${OUTCOMES.join(', ')}`);
        const since = values.since === undefined ? undefined : parseSince(values.since);
        existingData();
        if (storeId !== undefined) await withStore((db) => db.getStore(storeId));
        await withStorage(async ({ records }) => {
          const calls = await records.list(storeId, limit, { since, outcome: values.outcome as CallOutcome | undefined });
          if (values.csv === true) {
            io.out(
              csvLine([
                'call_id',
                'store',
                'started_at',
                'ended_at',
                'outcome',
                'extension',
                'entry_id',
                'duration_ms',
                'decision_ms',
                'path',
                'transfer',
                'reason',
                'sip_call_id',
              ]),
            );
            for (const c of calls)
              io.out(
                csvLine([
                  c.callId,
                  c.store,
                  c.startedAt,
                  c.endedAt,
                  c.outcome,
                  c.extension,
                  c.entryId,
                  c.durationMs,
                  c.decisionMs,
                  c.path.join(' > '),
                  c.transfer,
                  c.reason,
                  c.sipCallId,
                ]),
              );
          } else if (values.json === true) for (const c of calls) io.out(JSON.stringify(c));
          else if (calls.length === 0) io.out(`no calls recorded${storeId === undefined ? '' : ` for store "${storeId}"`} yet`);
          else {
            io.out(
              `started                   ${storeId === undefined ? 'store        ' : ''}outcome      extension  duration  decision  path`,
            );
            for (const c of calls) {
              io.out(
                `${c.startedAt.padEnd(25)} ${storeId === undefined ? `${c.store.padEnd(12)} ` : ''}${c.outcome.padEnd(12)} ${(c.extension || '-').padEnd(10)} ${`${(c.durationMs / 1000).toFixed(1)} s`.padEnd(9)} ${(c.decisionMs < 0 ? '-' : `${c.decisionMs} ms`).padEnd(9)} ${c.path.join(' > ')}`,
              );
            }
          }
        });
        done();
      },
    );

  // database
  const database = root
    .command('database')
    .description('the database itself: copy it to another (SQLite to PostgreSQL for two sites)')
    .addHelpText('after', `\n${SETTINGS_HELP.database}`);
  database
    .command('copy')
    .description('copy every store, version, history line, token and call record into another, empty database, in one transaction')
    .requiredOption('--to <database>', 'postgres://user:password@host/db, or a folder for SQLite')
    .action(async (values: { to: string }) => {
      if (settings().databaseUrl === undefined) existingData();
      const to = values.to;
      const target = /^postgres(ql)?:\/\//.test(to) ? { dataDir: settings().dataDir, databaseUrl: to } : { dataDir: resolve(to) };
      const where = target.databaseUrl === undefined ? `SQLite in ${target.dataDir}` : describeUrl(target.databaseUrl);
      await withStorage(async (source) => {
        if (
          target.databaseUrl === undefined
            ? source.databaseUrl === undefined && resolve(settings().dataDir) === target.dataDir
            : source.databaseUrl === target.databaseUrl
        ) {
          throw usageError('--to names the database attendant uses now: copy into another one');
        }
        let into: Storage;
        try {
          into = await Storage.open(target);
        } catch (err) {
          throw unavailable(`the target database (${where}) cannot be opened: ${(err as Error).message}`);
        }
        try {
          const copied = await copyDatabase(source.sql, into.sql).catch((err: Error) => {
            throw err instanceof TargetNotEmptyError
              ? invalidInput(err.message)
              : unavailable(`nothing was copied to ${where}: ${err.message}`);
          });
          io.out(
            `copied to ${where}: ${Object.entries(copied)
              .map(([table, n]) => `${n} ${table.replace(/_/g, ' ')}`)
              .join(', ')}`,
          );
          io.out(
            `point every node at it (ATTENDANT_DATABASE_URL${target.databaseUrl === undefined ? ' unset, ATTENDANT_DATA_DIR' : ''}) and restart them`,
          );
        } finally {
          await into.close();
        }
      });
      done();
    });

  return root;
}

function versionNumber(text: string): number {
  const version = Number(text.replace(/^v/, ''));
  if (!Number.isInteger(version) || version < 1) throw usageError(`"${text}" is not a version number`);
  return version;
}

/** The exit status of each kind of error (util/errors.ts); anything else is "unavailable" (3). */
const EXIT_STATUS: Record<ErrorKind | 'internal', number> = {
  invalid: EXIT_INVALID,
  'not-found': EXIT_INVALID,
  conflict: EXIT_INVALID,
  unauthorized: EXIT_INVALID,
  forbidden: EXIT_INVALID,
  unavailable: EXIT_UNAVAILABLE,
  busy: EXIT_UNAVAILABLE,
  internal: EXIT_UNAVAILABLE,
};

/** Maps any error to its message and exit status. */
export function exitCodeFor(err: unknown): { message: string; code: number } {
  if (err instanceof CliError) return { message: err.message, code: err.exitCode };
  // A setting the operator gave is a usage mistake, as a wrong option is.
  if (err instanceof SettingsError) return { message: err.message, code: EXIT_USAGE };
  return { message: messageOf(err), code: EXIT_STATUS[kindOf(err)] };
}

/** Runs one `attendant` command; errors are printed on `io.err` and become the exit status. */
export async function run(argv: string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const result = { code: EXIT_OK };
  try {
    await program(io, env, result).parseAsync(argv, { from: 'user' });
    return result.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with 0; a usage mistake (already printed by commander) with 2.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT_OK;
      return EXIT_USAGE;
    }
    const { message, code } = exitCodeFor(err);
    io.err(`attendant: ${message}`);
    return code;
  }
}

export async function main(argv: string[]): Promise<void> {
  // `attendant ... | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  const io: Io = { out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`) };
  process.exitCode = await run(argv, io);
}

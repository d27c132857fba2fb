import { existsSync, readFileSync } from 'node:fs';
import { modelsDir } from '../asr/models';
import { installModel, listModels } from './models-command';
import { parseArgs, ParseArgsConfig } from 'node:util';
import { loadSettings, SettingsError } from '../config/settings';
import { DirectoryFileError, ParsedDirectory, formatProblem, parseDirectory } from '../directory/directory-file';
import { status as grpcStatus } from '@grpc/grpc-js';
import { pushDirectory, PushError } from '../api/directory-client';
import {
  DirectoryStore,
  Locale,
  StoreNotFoundError,
  StoreSettings,
  TransferMode,
  VersionConflictError,
} from '../directory/directory-store';
import { formatCsvField, spreadsheetSafe } from '../directory/csv';
import { DirectoryEntry } from '../directory/entry';
import { openStore } from '../attendant/store-directory';
import { CliError, EXIT_INVALID, EXIT_OK, EXIT_UNAVAILABLE, invalidInput, unavailable, usageError } from './exit-codes';
import { recognizeFiles } from './recognize-command';
import { serve } from './serve-command';
import { TokenStore } from '../api/tokens';
import { describeCall, placeCall, Turn } from './call-command';
import { CallRecords } from '../attendant/call-records';

const USAGE = `attendant: offline speech auto-attendant

  attendant serve
  attendant store create <store> [--name N] [--number DID]... [--operator EXT] [--locale fr-FR|en-US]
                         [--transfer refer|grpc] [--pbx HOST[:PORT]] [--hooks HOST:PORT] [--transcripts on|off]
  attendant store update <store> [same options]
  attendant store list
  attendant directory import <store> <file.csv|file.json> [--dry-run]
  attendant directory export <store> [--format csv|json]
  attendant directory versions <store>
  attendant directory rollback <store> <version>
  attendant directory history <store>
  attendant directory push <store> <file> --server host:port --token T
  attendant recognize --store <store> <file.wav>...
  attendant models list
  attendant models install <dir|file.tar.gz|file.zip|url> [--sha256 H] [--name N] [--locale fr-FR|en-US] [--dictionary file.dict]
  attendant call <store> [--say "text" | --wav file | --dtmf digits]... [--server host:port] [--tcp]
                         [--voice en|fr] [--timeout seconds]
  attendant calls <store> [--limit N] [--json]
  attendant token create <store> | --admin
  attendant token list
  attendant token revoke <id>

Settings come from the environment: ATTENDANT_DATA_DIR (default ./data), ATTENDANT_ASR_ENGINE
(auto|vosk|pocketsphinx), ATTENDANT_ASR_PROFILE (auto|accurate|fast), ATTENDANT_VOSK_MODEL (default models/vosk), ATTENDANT_LOG_LEVEL,
ATTENDANT_SIP_HOST, ATTENDANT_SIP_PORT (default 5060), ATTENDANT_RTP_PORTS (default 20000-20999),
ATTENDANT_HTTP_PORT (default 8080), ATTENDANT_GRPC_PORT (default 50051), ATTENDANT_MAX_CALLS (default 100),
ATTENDANT_SIP_ALLOW (addresses or subnets that may send SIP; default any), ATTENDANT_MODELS_DIR (default ./models).
Exit status: 0 ok, 1 invalid input, 2 usage, 3 unavailable.`;

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const STORE_OPTIONS = {
  name: { type: 'string' },
  number: { type: 'string', multiple: true },
  operator: { type: 'string' },
  locale: { type: 'string' },
  transfer: { type: 'string' },
  pbx: { type: 'string' },
  hooks: { type: 'string' },
  transcripts: { type: 'string' },
} as const;

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

function parse<T extends OptionsConfig>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true as const, strict: true as const });
  } catch (err) {
    throw usageError(`${(err as Error).message}\n\n${USAGE}`);
  }
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

function need(positionals: string[], count: number, what: string): void {
  if (positionals.length < count) throw usageError(`missing ${what}\n\n${USAGE}`);
}

/** Reads and validates a directory file, printing every problem; undefined when it is refused. */
function readAndCheck(file: string, io: Io): ParsedDirectory | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw invalidInput(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const parsed = parseDirectory(bytes, file);
  if (parsed.problems.length === 0) return parsed;
  for (const p of parsed.problems) io.err(formatProblem(file, p));
  io.err(`${file}: ${parsed.problems.length} problem${parsed.problems.length > 1 ? 's' : ''}; nothing was imported`);
  return undefined;
}

export function entriesToCsv(entries: DirectoryEntry[]): string {
  const header = 'id,type,first_name,last_name,service_name,department,extension,aliases,enabled';
  const rows = entries.map((e) =>
    [e.id, e.type, e.firstName, e.lastName, e.serviceName, e.department, e.extension, e.aliases.join('|'), String(e.enabled)]
      .map((v) => formatCsvField(spreadsheetSafe(v)))
      .join(','),
  );
  return `${[header, ...rows].join('\n')}\n`;
}

async function runCommand(argv: string[], io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  const [command, sub, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    io.out(USAGE);
    return command === undefined ? 2 : 0;
  }
  const settings = loadSettings(env);
  if (command === 'serve') return serve(settings, io);

  const withStore = async <T>(fn: (store: DirectoryStore) => T | Promise<T>): Promise<T> => {
    let store: DirectoryStore;
    try {
      store = DirectoryStore.open(settings.dataDir);
    } catch (err) {
      throw unavailable(`the directory database in ${settings.dataDir} cannot be opened: ${(err as Error).message}`);
    }
    try {
      return await fn(store);
    } finally {
      store.close();
    }
  };
  const origin = { via: 'cli', actor: env.USER ?? 'cli' };

  if (command === 'store') {
    const { values, positionals } = parse(rest, STORE_OPTIONS);
    return withStore((store) => {
      if (sub === 'list') {
        for (const s of store.listStores()) {
          io.out([s.id, `v${s.version}`, s.locale, `operator ${s.operator}`, s.numbers.join(' '), s.name].join('\t'));
        }
        return EXIT_OK;
      }
      if (sub === 'create' || sub === 'update') {
        need(positionals, 1, '<store>');
        const settingsGiven = storeSettings(values);
        const s = sub === 'create' ? store.createStore(positionals[0], settingsGiven) : store.updateStore(positionals[0], settingsGiven);
        io.out(`store ${s.id} ${sub === 'create' ? 'created' : 'updated'}`);
        return EXIT_OK;
      }
      throw usageError(`unknown store command "${sub ?? ''}"\n\n${USAGE}`);
    });
  }

  if (command === 'directory') {
    const { values, positionals } = parse(rest, {
      'dry-run': { type: 'boolean' },
      format: { type: 'string' },
      server: { type: 'string' },
      token: { type: 'string' },
    });
    if (sub === 'push') {
      need(positionals, 2, '<store> <file>');
      if (values.server === undefined || values.token === undefined) throw usageError(`push needs --server host:port and --token T\n\n${USAGE}`);
      const [storeId, file] = positionals;
      const parsed = readAndCheck(file, io);
      if (parsed === undefined) return EXIT_INVALID;
      try {
        const r = await pushDirectory(values.server, values.token, storeId, parsed.entries);
        io.out(`store ${storeId}: version ${r.version}, ${r.entries} entries (${r.added} added, ${r.changed} changed, ${r.removed} removed)`);
        return EXIT_OK;
      } catch (err) {
        if (err instanceof PushError && err.code === grpcStatus.UNAVAILABLE) throw unavailable(`${values.server}: ${err.message}`);
        throw invalidInput(`${values.server}: ${(err as Error).message}`);
      }
    }
    return withStore((store) => {
      switch (sub) {
        case 'import': {
          need(positionals, 2, '<store> <file>');
          const [storeId, file] = positionals;
          const parsed = readAndCheck(file, io);
          if (parsed === undefined) return EXIT_INVALID;
          const notes: string[] = [];
          if (parsed.encoding !== 'utf-8') notes.push(`read as ${parsed.encoding}`);
          if (parsed.ignored.length > 0) notes.push(`ignored column${parsed.ignored.length > 1 ? 's' : ''} ${parsed.ignored.join(', ')}`);
          const suffix = notes.length > 0 ? ` (${notes.join('; ')})` : '';
          if (values['dry-run'] === true) {
            io.out(`${file}: ${parsed.entries.length} entries are valid; nothing imported (--dry-run)${suffix}`);
            return EXIT_OK;
          }
          if (store.findStore(storeId) === undefined) store.createStore(storeId);
          const info = store.replaceDirectory(storeId, parsed.entries, origin);
          io.out(
            `store ${storeId}: version ${info.version}, ${info.entries} entries (${info.added} added, ${info.changed} changed, ${info.removed} removed)${suffix}`,
          );
          return EXIT_OK;
        }
        case 'export': {
          need(positionals, 1, '<store>');
          const snapshot = store.snapshot(openStore(positionals[0], store).id);
          const format = values.format ?? 'csv';
          if (format === 'json') io.out(JSON.stringify({ entries: snapshot.entries }, null, 2));
          else if (format === 'csv') io.out(entriesToCsv(snapshot.entries).trimEnd());
          else throw usageError('--format is csv or json');
          return EXIT_OK;
        }
        case 'versions': {
          need(positionals, 1, '<store>');
          for (const v of store.listVersions(positionals[0])) {
            io.out(
              `${v.current ? '*' : ' '} v${v.version}\t${v.createdAt}\t${v.entries} entries\t+${v.added} ~${v.changed} -${v.removed}\t${v.via} ${v.actor}`,
            );
          }
          return EXIT_OK;
        }
        case 'rollback': {
          need(positionals, 2, '<store> <version>');
          const version = Number(positionals[1].replace(/^v/, ''));
          if (!Number.isInteger(version) || version < 1) throw usageError(`"${positionals[1]}" is not a version number`);
          const info = store.rollback(positionals[0], version, origin);
          io.out(`store ${positionals[0]}: version ${info.version} has the content of version ${version} (${info.entries} entries)`);
          return EXIT_OK;
        }
        case 'history': {
          need(positionals, 1, '<store>');
          for (const h of store.history(positionals[0])) {
            io.out(`${h.at}\tv${h.version}\t${h.action}\t+${h.added} ~${h.changed} -${h.removed}\t${h.via}\t${h.actor}`);
          }
          return EXIT_OK;
        }
        default:
          throw usageError(`unknown directory command "${sub ?? ''}"\n\n${USAGE}`);
      }
    });
  }

  if (command === 'token') {
    const { values, positionals } = parse(rest, { admin: { type: 'boolean' } });
    if (sub === 'create') {
      if (values.admin !== true && positionals.length !== 1) throw usageError(`token create needs <store> or --admin\n\n${USAGE}`);
      const storeId = values.admin === true ? null : positionals[0];
      return withStore((store) => {
        if (storeId !== null) store.getStore(storeId);
        const tokens = TokenStore.open(settings.dataDir);
        try {
          const { id, token } = tokens.create(storeId);
          io.out(token);
          io.err(`token ${id} for ${storeId === null ? 'every store (admin)' : `store ${storeId}`}; it is shown only now`);
          return EXIT_OK;
        } finally {
          tokens.close();
        }
      });
    }
    if (sub === 'list' || sub === 'revoke') {
      return withStore(() => {
        const tokens = TokenStore.open(settings.dataDir);
        try {
          if (sub === 'list') {
            for (const t of tokens.list()) io.out([t.id, t.store ?? '(admin)', t.createdAt, t.revokedAt === null ? 'active' : `revoked ${t.revokedAt}`].join('\t'));
            return EXIT_OK;
          }
          need(positionals, 1, '<id>');
          if (!tokens.revoke(positionals[0])) throw invalidInput(`no active token "${positionals[0]}"`);
          io.out(`token ${positionals[0]} revoked`);
          return EXIT_OK;
        } finally {
          tokens.close();
        }
      });
    }
    throw usageError(`unknown token command "${sub ?? ''}"\n\n${USAGE}`);
  }

  if (command === 'models') {
    const root = modelsDir(env);
    if (sub === 'list') {
      parse(rest, {});
      const stores = existsSync(settings.dataDir) ? await withStore((store) => store.listStores().map((st) => ({ store: st.id, locale: st.locale }))) : [];
      for (const line of listModels(root, stores)) io.out(line);
      return EXIT_OK;
    }
    if (sub === 'install') {
      const { values, positionals } = parse(rest, { sha256: { type: 'string' }, name: { type: 'string' }, locale: { type: 'string' }, dictionary: { type: 'string' } });
      need(positionals, 1, '<dir|archive|url>');
      if (values.locale !== undefined && values.locale !== 'fr-FR' && values.locale !== 'en-US') throw usageError('--locale is fr-FR or en-US');
      const model = await installModel(root, positionals[0], { sha256: values.sha256, name: values.name, locale: values.locale as Locale | undefined, dictionary: values.dictionary });
      io.out(`installed ${model.id}: ${model.engine}, ${model.locale}, ${model.sampleRate / 1000} kHz, in ${model.dir}; restart attendant serve to use it`);
      return EXIT_OK;
    }
    throw usageError(`unknown models command "${sub ?? ''}"\n\n${USAGE}`);
  }

  if (command === 'recognize') {
    const { values, positionals } = parse(sub === undefined ? [] : [sub, ...rest], { store: { type: 'string' } });
    if (values.store === undefined) throw usageError(`recognize needs --store <store>\n\n${USAGE}`);
    need(positionals, 1, '<file.wav>');
    const storeId = values.store;
    const { snapshot, locale } = await withStore((store) => {
      const found = openStore(storeId, store);
      return { snapshot: store.snapshot(found.id), locale: found.locale };
    });
    if (snapshot.entries.length === 0) {
      throw invalidInput(`store "${storeId}" has no directory yet; import one: attendant directory import ${storeId} <file>`);
    }
    const failures = await recognizeFiles(settings, snapshot, locale, positionals, io.out);
    return failures > 0 ? EXIT_INVALID : EXIT_OK;
  }

  if (command === 'call') {
    need(sub === undefined ? [] : [sub], 1, '<store>');
    const turns: Turn[] = [];
    let server = `127.0.0.1:${settings.sipPort === 0 ? 5060 : settings.sipPort}`;
    let locale: 'fr-FR' | 'en-US' | undefined;
    let tcp = false;
    let timeout = 60;
    for (let i = 0; i < rest.length; i += 1) {
      const option = rest[i];
      const value = (): string => {
        const v = rest[i + 1];
        if (v === undefined) throw usageError(`${option} needs a value\n\n${USAGE}`);
        i += 1;
        return v;
      };
      if (option === '--say') turns.push({ say: value() });
      else if (option === '--wav') turns.push({ wav: value() });
      else if (option === '--dtmf') {
        const digits = value();
        if (!/^[0-9*#A-D]+$/.test(digits)) throw usageError(`--dtmf "${digits}" is not keypad digits (0-9 * #)`);
        turns.push({ dtmf: digits });
      } else if (option === '--server') server = value();
      else if (option === '--voice') {
        const v = value();
        if (v !== 'fr' && v !== 'en') throw usageError('--voice is fr or en');
        locale = v === 'fr' ? 'fr-FR' : 'en-US';
      } else if (option === '--tcp') tcp = true;
      else if (option === '--timeout') timeout = Number(value());
      else throw usageError(`unknown option ${option}\n\n${USAGE}`);
    }
    if (turns.length === 0) throw usageError(`call needs --say "text", --wav file or --dtmf digits\n\n${USAGE}`);
    const hp = /^([^\s:]+|\[[^\]]+\]):(\d{1,5})$/.exec(server);
    if (hp === null) throw usageError('--server is HOST:PORT');
    if (!(timeout > 0)) throw usageError('--timeout is a number of seconds');
    // The caller's voice: English by default, which the en-US PocketSphinx model hears best.
    const known = locale ?? 'en-US';
    const result = await placeCall({
      store: sub as string,
      server: { host: hp[1], port: Number(hp[2]), transport: tcp ? 'TCP' : 'UDP' },
      turns,
      locale: known,
      dataDir: settings.dataDir,
      timeoutMs: timeout * 1000,
    });
    io.out(describeCall(result));
    if (result.outcome === 'transferred') return EXIT_OK;
    return result.outcome === 'refused' && result.status === 404 ? EXIT_INVALID : EXIT_UNAVAILABLE;
  }

  if (command === 'calls') {
    const { values, positionals } = parse(sub === undefined ? [] : [sub, ...rest], { limit: { type: 'string' }, json: { type: 'boolean' } });
    need(positionals, 1, '<store>');
    const limit = values.limit === undefined ? 20 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw usageError('--limit is a whole number from 1 to 1000');
    const storeId = positionals[0];
    await withStore((store) => store.getStore(storeId));
    const records = CallRecords.open(settings.dataDir);
    try {
      const calls = records.list(storeId, limit);
      if (values.json === true) for (const c of calls) io.out(JSON.stringify(c));
      else if (calls.length === 0) io.out(`no calls recorded for store "${storeId}" yet`);
      else {
        io.out('started                   outcome      extension  duration  decision  path');
        for (const c of calls) {
          io.out(
            `${c.startedAt.padEnd(25)} ${c.outcome.padEnd(12)} ${(c.extension || '-').padEnd(10)} ${`${(c.durationMs / 1000).toFixed(1)} s`.padEnd(9)} ${(c.decisionMs < 0 ? '-' : `${c.decisionMs} ms`).padEnd(9)} ${c.path.join(' > ')}`,
          );
        }
      }
    } finally {
      records.close();
    }
    return EXIT_OK;
  }

  throw usageError(`unknown command "${command}"\n\n${USAGE}`);
}

/** Maps any error to its message and exit status. */
export function exitCodeFor(err: unknown): { message: string; code: number } {
  if (err instanceof CliError) return { message: err.message, code: err.exitCode };
  if (err instanceof SettingsError) return { message: err.message, code: 2 };
  if (err instanceof DirectoryFileError) return { message: err.message, code: EXIT_INVALID };
  if (err instanceof StoreNotFoundError || err instanceof VersionConflictError) return { message: err.message, code: EXIT_INVALID };
  const message = (err as Error).message ?? String(err);
  if (/not a valid store id|already exists|has no version/.test(message)) return { message, code: EXIT_INVALID };
  return { message, code: EXIT_UNAVAILABLE };
}

/** Runs one `attendant` command; errors are printed on `io.err` and become the exit status. */
export async function run(argv: string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    return await runCommand(argv, io, env);
  } catch (err) {
    const { message, code } = exitCodeFor(err);
    io.err(`attendant: ${message}`);
    return code;
  }
}

export async function main(argv: string[]): Promise<void> {
  const io: Io = { out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`) };
  process.exitCode = await run(argv, io);
}

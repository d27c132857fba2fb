import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { SettingsGroup, settingsHelp } from '../config/setting-list';
import { ParsedDirectory, parseDirectoryFile } from '../directory/directory-file';
import { Locale, StoreSettings, TransferMode } from '../directory/directory-store';
import { DirectoryEntry } from '../directory/entry';
import { invalidInput, usageError } from './exit-codes';
import { CallOutcome } from '../attendant/call-records';

import type { Io } from './context';
import { formatProblemIn, ProblemLang } from '../directory/problem-text';

/** What several commands of the CLI share: help texts, store options, parsing of options. */

/** The environment settings each command reads, listed in its --help (config/setting-list.ts). */
export const SETTINGS_HELP: Record<SettingsGroup, string> = {
  serve: settingsHelp('serve'),
  data: settingsHelp('data'),
  database: settingsHelp('database'),
  models: settingsHelp('models'),
  push: settingsHelp('push'),
  call: settingsHelp('call'),
};

export const EXIT_HELP = 'Exit status: 0 ok, 1 invalid input, 2 usage, 3 unavailable.';

export function version(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function withStoreOptions(command: Command): Command {
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

export function storeSettings(values: Record<string, unknown>): Partial<StoreSettings> {
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
export async function readAndCheck(file: string, io: Io, lang: ProblemLang = 'en'): Promise<ParsedDirectory | undefined> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw invalidInput(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const parsed = await parseDirectoryFile(bytes, file);
  if (parsed.problems.length === 0) return parsed;
  // In the store's language, as the console and the drop folder say them (a French store's admin reads French).
  for (const p of parsed.problems) io.err(formatProblemIn(file, p, lang));
  const n = parsed.problems.length;
  io.err(
    lang === 'fr' ? `${file} : ${n} problème(s) ; rien n’a été importé` : `${file}: ${n} problem${n > 1 ? 's' : ''}; nothing was imported`,
  );
  return undefined;
}

export function describeEntry(e: DirectoryEntry): string {
  const name = e.type === 'person' ? `${e.firstName} ${e.lastName}`.trim() : e.serviceName;
  return `${e.id} ${name} (${e.extension}${e.enabled ? '' : ', disabled'})`;
}

export const OUTCOMES: CallOutcome[] = ['transferred', 'operator', 'abandoned', 'failed', 'rejected'];

/** `--since`: an ISO date or time, or a duration back from now: 30m, 24h, 7d. */
export function parseSince(text: string, now = Date.now()): string {
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
export function versionNumber(text: string): number {
  const version = Number(text.replace(/^v/, ''));
  if (!Number.isInteger(version) || version < 1) throw usageError(`"${text}" is not a version number`);
  return version;
}

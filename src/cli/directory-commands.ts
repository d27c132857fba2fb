import { describeReimport, reimportOver } from '../directory/reimport';
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { pemFile } from '../config/settings';
import { CSV_COLUMNS } from '../directory/directory-file';
import { status as grpcStatus } from '@grpc/grpc-js';
import { pushDirectory, PushError, Transport } from '../api/directory-client';
import { DEFAULT_SETTINGS, entryChanges } from '../directory/directory-store';
import { entriesToCsv, entryCells } from '../directory/export';
import { writeXlsx } from '../directory/xlsx';
import { openStore } from '../attendant/store-directory';
import { EXIT_INVALID, invalidInput, unavailable, usageError } from './exit-codes';
import { problemLangOf } from '../directory/problem-text';
import { readAndCheck, SETTINGS_HELP, describeEntry, versionNumber } from './cli-helpers';
import { CliContext } from './context';

/** `attendant directory …`. */
export function directoryCommands(root: Command, ctx: CliContext): void {
  const { io, env, origin, withStore, done } = ctx;
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
        const found = await db.findStore(storeId);
        if (found === undefined && values.create !== true && values.dryRun !== true) {
          const known = (await db.listStores()).map((s) => s.id);
          throw invalidInput(`no store "${storeId}"${known.length > 0 ? ` (stores: ${known.join(', ')})` : ''}; add --create to create it`);
        }
        // A store created here is French by default (DEFAULT_SETTINGS).
        const parsed = await readAndCheck(file, io, problemLangOf(found?.locale ?? DEFAULT_SETTINGS.locale));
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
}

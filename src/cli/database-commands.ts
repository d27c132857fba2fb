import { resolve } from 'node:path';
import { Command } from 'commander';
import { invalidInput, unavailable, usageError } from './exit-codes';
import { copyDatabase, describeUrl, Storage } from './storage';
import { TargetNotEmptyError } from '../storage/copy';
import { SETTINGS_HELP } from './cli-helpers';
import { CliContext } from './context';

/** `attendant database copy`. */
export function databaseCommands(root: Command, ctx: CliContext): void {
  const { io, settings, withStorage, existingData, done } = ctx;
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
}

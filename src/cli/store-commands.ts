import { numberForms } from '../directory/phone-number';
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { openStore } from '../attendant/store-directory';
import { EXIT_INVALID, invalidInput, usageError } from './exit-codes';
import { SETTINGS_HELP, withStoreOptions, storeSettings } from './cli-helpers';
import { CliContext } from './context';

/** `attendant store …` and `attendant token …`. */
export function storeCommands(root: Command, ctx: CliContext): void {
  const { io, origin, withStore, withTokens, existingData, done } = ctx;
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
}

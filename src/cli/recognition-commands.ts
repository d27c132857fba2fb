import { existsSync } from 'node:fs';
import { modelsDir } from '../asr/models';
import { installModel, listModels } from './models-command';
import { Command } from 'commander';
import { Locale } from '../directory/directory-store';
import { displayName, normalizeText } from '../directory/entry';
import { EXIT_INVALID, EXIT_OK, invalidInput, usageError } from './exit-codes';
import { recognizeFiles } from './recognize-command';
import { storeLexicons } from '../asr/store-lexicons';
import { entryPronunciations } from '../asr/grammar';
import { SETTINGS_HELP } from './cli-helpers';
import { CliContext } from './context';

/** `attendant models …`, `attendant recognize` and `attendant lexicon`. */
export function recognitionCommands(root: Command, ctx: CliContext): void {
  const { io, env, settings, withStore, storeDirectory, done } = ctx;
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
}

import { access } from 'node:fs/promises';
import { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { DirectoryStore } from '../directory/directory-store';
import { decodeWav } from '../media/audio-file';
import { PromptRecordings } from '../media/prompt-recordings';
import { encodeWav, Prompt, PromptLibrary, PromptLocale, promptText, RECORDABLE } from '../media/prompts';
import { Download, HttpError, Json, readBody } from './http';
import { say } from './messages';
import { ConsoleLang } from './sessions';

/** A store's recording of a prompt may be this large (a few seconds at 8 kHz need far less). */
export const MAX_AUDIO_BYTES = 8 * 1024 * 1024;

export interface PromptDeps {
  directory: DirectoryStore;
  prompts: PromptLibrary;
  recordings: PromptRecordings;
  dataDir: string;
  log: Logger;
}

/** The console's prompts page: what each prompt says, listen, record a store's own, back to the synthesised voice. */
export class PromptRoutes {
  constructor(private readonly deps: PromptDeps) {}

  private storeDir(store: string): string {
    return join(this.deps.dataDir, 'stores', store);
  }

  async list(store: string): Promise<Json> {
    const st = await this.deps.directory.getStore(store);
    const locale = st.locale as PromptLocale;
    const own = await Promise.all(
      RECORDABLE.map(async (key) => {
        for (const name of [`${key}.${locale}.wav`, `${key}.wav`]) {
          if (
            await access(join(this.storeDir(store), 'prompts', name)).then(
              () => true,
              () => false,
            )
          )
            return true;
        }
        return false;
      }),
    );
    return { locale, prompts: RECORDABLE.map((key, i) => ({ key, text: promptText({ key } as Prompt, locale), recorded: own[i] })) };
  }

  private promptKey(key: string, lang: ConsoleLang): Prompt['key'] {
    const k = key.replace(/\.wav$/, '') as Prompt['key'];
    if (!RECORDABLE.includes(k)) throw new HttpError(404, say('badPrompt', lang, { key }));
    return k;
  }

  async play(store: string, key: string, lang: ConsoleLang): Promise<Download> {
    const k = this.promptKey(key, lang);
    const st = await this.deps.directory.getStore(store);
    const pcm = await this.deps.prompts.render({ key: k } as Prompt, st.locale as PromptLocale, this.storeDir(store));
    return new Download(`${k}.wav`, 'audio/wav', await encodeWav(pcm, 8000));
  }

  /** A store's own recording of a prompt: checked playable first, heard by the next call. */
  async record(req: IncomingMessage, store: string, key: string, actor: string, lang: ConsoleLang): Promise<Json> {
    const k = this.promptKey(key, lang);
    const st = await this.deps.directory.getStore(store);
    const bytes = await readBody(req, MAX_AUDIO_BYTES, lang);
    let pcm: Int16Array;
    try {
      pcm = (await decodeWav(bytes, 'upload', 8000)).pcm;
    } catch (err) {
      throw new HttpError(400, say('badWav', lang, { why: (err as Error).message }));
    }
    // A header with no sound (or a fraction of a second of it) would play callers nothing.
    if (pcm.length < 1600 || pcm.every((v) => Math.abs(v) < 8)) throw new HttpError(400, say('noAudio', lang));
    // In the database, for every node; written into this node's prompts folder at once.
    await this.deps.recordings.save(store, `${k}.${st.locale}.wav`, bytes);
    this.deps.log.info({ store, prompt: k, actor }, 'console: prompt recording replaced');
    return { key: k, recorded: true };
  }

  async reset(store: string, key: string, actor: string, lang: ConsoleLang): Promise<Json> {
    const k = this.promptKey(key, lang);
    const st = await this.deps.directory.getStore(store);
    await this.deps.recordings.remove(store, [`${k}.${st.locale}.wav`, `${k}.wav`]);
    this.deps.log.info({ store, prompt: k, actor }, 'console: prompt back to the synthesised voice');
    return { key: k, recorded: false };
  }
}

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Writer } from 'wav';
import { decodeWav } from './audio-file';

/**
 * What attendant says, in French and English: prompts synthesised by espeak-ng once and
 * cached as 8 kHz WAV files, or a store's own recordings when it has them
 * (`<data>/stores/<store>/prompts/<prompt>.wav`, any common WAV format).
 */

const run = promisify(execFile);

export type PromptLocale = 'fr-FR' | 'en-US';

export type Prompt =
  | { key: 'greeting' }
  | { key: 'retry' }
  | { key: 'no-input' }
  | { key: 'confirm'; name: string }
  | { key: 'disambiguate'; choices: { name: string; department: string }[]; again?: boolean; keysOnly?: boolean }
  | { key: 'connecting'; name: string }
  | { key: 'connecting-extension'; extension: string }
  | { key: 'operator' }
  | { key: 'unknown-extension' }
  | { key: 'transfer-failed' }
  | { key: 'goodbye' }
  | { key: 'spell' }
  | { key: 'spell-more'; count: number }
  | { key: 'spell-none' }
  | { key: 'spell-choices'; choices: { name: string; department: string }[] };

/** Prompts a store can replace with its own recording (those without a name in them). */
export const RECORDABLE: Prompt['key'][] = [
  'greeting',
  'retry',
  'no-input',
  'operator',
  'unknown-extension',
  'transfer-failed',
  'goodbye',
  'spell',
  'spell-none',
];

const NUMBER_FR = ['un', 'deux', 'trois', 'quatre'];

function spellDigits(extension: string): string {
  return extension.split('').join(' ');
}

export function promptText(prompt: Prompt, locale: PromptLocale): string {
  const fr = locale === 'fr-FR';
  switch (prompt.key) {
    case 'greeting':
      return fr
        ? 'Bonjour. Dites le nom de la personne ou du service que vous souhaitez joindre. Vous pouvez aussi taper un numéro de poste suivi de dièse.'
        : 'Hello. Please say the name of the person or the department you want to reach. You can also dial an extension followed by the pound key.';
    case 'retry':
      return fr
        ? "Je n'ai pas bien compris. Pouvez-vous répéter le nom ? Vous pouvez aussi taper étoile pour le composer sur le clavier."
        : "Sorry, I didn't get that. Please say the name again, or press star to spell it on the keypad.";
    case 'no-input':
      return fr ? 'Je ne vous ai pas entendu. Quel nom souhaitez-vous joindre ?' : "I didn't hear anything. Who would you like to reach?";
    case 'confirm':
      return fr
        ? `Vous avez dit ${prompt.name} ? Dites oui ou non, ou tapez 1 pour oui, 2 pour non.`
        : `Did you say ${prompt.name}? Say yes or no, or press 1 for yes, 2 for no.`;
    case 'disambiguate': {
      const again = fr ? 'Lequel souhaitez-vous ?' : 'Which one would you like?';
      const names = new Set(prompt.choices.map((c) => c.name.toLowerCase()));
      if (names.size === prompt.choices.length) {
        // Different names (the two models heard different entries): the caller says the name.
        const keys = prompt.choices.map((c, i) => (fr ? `${i + 1} pour ${c.name}` : `${i + 1} for ${c.name}`)).join(', ');
        // Names one model heard confused are chosen on the keypad alone (Decision.keysOnly).
        const press = prompt.keysOnly === true ? (fr ? 'Tapez' : 'Press') : fr ? 'Dites le nom, ou tapez' : 'Say the name, or press';
        // The names heard may all be wrong (a name not in the directory is offered its nearest
        // ones): 0 reaches the operator at once rather than after three noes.
        const operator = fr ? ', ou 0 pour le standard' : ', or 0 for the operator';
        return fr
          ? `${prompt.again === true ? `${again} ` : ''}${prompt.choices.map((c) => c.name).join(', ou ')} ? ${press} ${keys}${operator}.`
          : `${prompt.again === true ? `${again} ` : 'Did you mean '}${prompt.choices.map((c) => c.name).join(', or ')}? ${press} ${keys}${operator}.`;
      }
      return [
        prompt.again === true
          ? again
          : fr
            ? `Il y a ${prompt.choices.length} correspondances.`
            : `There are ${prompt.choices.length} matches.`,
        ...prompt.choices.map((c, i) => {
          const who = fr
            ? `Pour ${c.name}${c.department === '' ? '' : `, ${c.department}`}`
            : `For ${c.name}${c.department === '' ? '' : ` in ${c.department}`}`;
          if (prompt.keysOnly === true) return fr ? `${who}, tapez ${i + 1}.` : `${who}, press ${i + 1}.`;
          return fr
            ? `${who}, dites ${c.department === '' ? `le numéro ${NUMBER_FR[i] ?? i + 1}` : c.department} ou tapez ${i + 1}.`
            : `${who}, say ${c.department === '' ? `number ${i + 1}` : c.department} or press ${i + 1}.`;
        }),
      ].join(' ');
    }
    case 'connecting':
      return fr ? `Je vous mets en relation avec ${prompt.name}.` : `Connecting you to ${prompt.name}.`;
    case 'connecting-extension':
      return fr
        ? `Je vous passe le poste ${spellDigits(prompt.extension)}.`
        : `Connecting you to extension ${spellDigits(prompt.extension)}.`;
    case 'operator':
      return fr ? 'Je vous passe le standard.' : 'Let me put you through to the operator.';
    case 'unknown-extension':
      return fr
        ? "Ce numéro de poste n'existe pas. Dites un nom ou tapez un autre numéro."
        : 'That extension does not exist. Say a name or dial another extension.';
    case 'transfer-failed':
      return fr
        ? "La personne n'est pas joignable. Je vous passe le standard."
        : 'That line is not available. Let me put you through to the operator.';
    case 'goodbye':
      return fr
        ? 'Désolé, personne ne peut vous répondre pour le moment. Au revoir.'
        : 'Sorry, nobody can take your call right now. Goodbye.';
    case 'spell':
      return fr
        ? 'Tapez les premières lettres du nom de famille sur le clavier, une touche par lettre, puis dièse. Zéro pour le standard.'
        : 'Type the first letters of the last name on the keypad, one key per letter, then the pound key. Zero for the operator.';
    case 'spell-more':
      return fr ? `${prompt.count} noms correspondent. Tapez une lettre de plus.` : `${prompt.count} names match. Type one more letter.`;
    case 'spell-none':
      return fr
        ? 'Aucun nom ne correspond. Dites le nom, ou tapez étoile pour recommencer.'
        : 'No name matches. Say the name, or press star to try again.';
    case 'spell-choices':
      return prompt.choices
        .map((c, i) =>
          fr
            ? `Pour ${c.name}${c.department === '' ? '' : `, ${c.department}`}, tapez ${i + 1}.`
            : `For ${c.name}${c.department === '' ? '' : ` in ${c.department}`}, press ${i + 1}.`,
        )
        .join(' ');
  }
}

/** Called once per version of a store's recording that cannot be played: the synthesised prompt is used instead. */
export type BadRecording = (file: string, message: string) => void;

export class PromptLibrary {
  private readonly memory = new Map<string, Promise<Int16Array>>();
  private readonly cacheDir: string;
  /** Versions (path, size, time) of recordings found unplayable, reported once each. */
  private readonly bad = new Set<string>();

  constructor(
    dataDir: string,
    private readonly espeak = 'espeak-ng',
    private readonly onBadRecording: BadRecording = () => undefined,
  ) {
    this.cacheDir = join(dataDir, 'prompts');
    mkdirSync(this.cacheDir, { recursive: true });
  }

  /**
   * 8 kHz audio for a prompt: the store's recording if it has one, else synthesised (cached).
   * A recording is read again when it changes (its size or time), so a replaced file is
   * heard by the next call; one that cannot be played is reported and the synthesised
   * prompt is used.
   */
  async render(prompt: Prompt, locale: PromptLocale, storeDir?: string): Promise<Int16Array> {
    if (storeDir !== undefined && RECORDABLE.includes(prompt.key)) {
      for (const name of [`${prompt.key}.${locale}.wav`, `${prompt.key}.wav`]) {
        const file = join(storeDir, 'prompts', name);
        let version: string;
        try {
          const st = await stat(file);
          version = `file:${file}:${st.size}:${st.mtimeMs}`;
        } catch {
          continue;
        }
        if (this.bad.has(version)) break;
        try {
          return await this.once(version, async () => (await decodeWav(await readFile(file), file, 8000)).pcm);
        } catch (err) {
          if (!this.bad.has(version)) {
            this.bad.add(version);
            this.onBadRecording(file, (err as Error).message);
          }
          break;
        }
      }
    }
    return this.synthesize(promptText(prompt, locale), locale);
  }

  synthesize(text: string, locale: PromptLocale): Promise<Int16Array> {
    const voice = locale === 'fr-FR' ? 'fr' : 'en-us';
    const key = createHash('sha256').update(`${voice}\n${text}`).digest('hex').slice(0, 24);
    return this.once(key, async () => {
      const file = join(this.cacheDir, `${key}.wav`);
      if (existsSync(file)) return (await decodeWav(await readFile(file), file, 8000)).pcm;
      let stdout: Buffer;
      try {
        ({ stdout } = (await run(this.espeak, ['-v', voice, '-s', '165', '--stdout', text], {
          encoding: 'buffer',
          maxBuffer: 64 << 20,
        })) as unknown as { stdout: Buffer });
      } catch (err) {
        throw new Error(
          `espeak-ng could not synthesise a prompt (${(err as Error).message.split('\n')[0]}); install it with: apt-get install espeak-ng`,
          { cause: err },
        );
      }
      const pcm = (await decodeWav(stdout, 'espeak-ng output', 8000)).pcm;
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, await encodeWav(pcm, 8000));
      await rename(tmp, file);
      return pcm;
    });
  }

  private once(key: string, make: () => Promise<Int16Array>): Promise<Int16Array> {
    let pending = this.memory.get(key);
    if (pending === undefined) {
      pending = make();
      pending.catch(() => this.memory.delete(key));
      this.memory.set(key, pending);
      // Prompts with names in them are many: keep the most recent few thousand.
      if (this.memory.size > 4000) this.memory.delete(this.memory.keys().next().value as string);
    }
    return pending;
  }
}

/** 16-bit mono PCM as a WAV file, through the `wav` package's Writer. */
export function encodeWav(pcm: Int16Array, sampleRate: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const writer = new Writer({ sampleRate, channels: 1, bitDepth: 16 });
    const chunks: Buffer[] = [];
    writer.on('data', (c: Buffer) => chunks.push(c));
    writer.on('end', () => {
      const out = Buffer.concat(chunks);
      // The streaming writer leaves the RIFF sizes open; fill them in for strict readers.
      out.writeUInt32LE(out.length - 8, 4);
      out.writeUInt32LE(pcm.byteLength, 40);
      resolve(out);
    });
    writer.on('error', reject);
    writer.end(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  });
}

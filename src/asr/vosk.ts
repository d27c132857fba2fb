import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Grammar } from './grammar';
import { normalizeText } from '../directory/entry';
import { Decoder, DecoderFactory, GrammarDecoders, RecognitionResult, SAMPLE_RATE, normalizeNbest } from './recognizer';

/**
 * Vosk (the design card's engine) through the `vosk` npm package and the libvosk it ships.
 * The recognizer is restricted to the store's words, with "[unk]" for the rest, and returns
 * alternatives with their scores, when every word of the store is in the model's vocabulary.
 * Vosk drops a grammar word it does not know, so a store with a name outside it (most Breton
 * surnames in a general French model) is heard by free transcription instead, and the
 * matcher finds the name in what was written, by spelling and by sound ("guy var" for
 * Guivarc'h): voskGrammar.
 */

export const DEFAULT_VOSK_MODEL = 'models/vosk';

/**
 * The phrase list a Vosk recognizer is restricted to, or undefined for free transcription:
 * when a word of the store is missing from the model's vocabulary (`words`, from its
 * graph/words.txt), a restricted recognizer could never hear that name. Without a known
 * vocabulary the grammar is used as it is.
 */
export function voskGrammar(phrases: string[], words: Map<string, string> | undefined): string[] | undefined {
  if (words === undefined) return [...phrases, '[unk]'];
  const spelled: string[] = [];
  for (const phrase of phrases) {
    // The grammar's tokens are folded ("herve"); the model spells its words ("hervé").
    const tokens = phrase
      .split(/\s+/)
      .filter((w) => w !== '')
      .map((w) => words.get(w));
    if (tokens.some((w) => w === undefined)) return undefined;
    spelled.push(tokens.join(' '));
  }
  return [...new Set(spelled), '[unk]'];
}

/** The model's vocabulary (graph/words.txt: "word id" lines), by folded spelling, when it has one. */
export function voskVocabulary(modelPath: string): Map<string, string> | undefined {
  const file = join(resolve(modelPath), 'graph', 'words.txt');
  if (!existsSync(file)) return undefined;
  const words = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const word = line.split(' ')[0];
    if (word === '' || word.startsWith('<') || word.startsWith('#') || word.startsWith('[')) continue;
    const folded = normalizeText(word).replace(/ /g, '');
    if (folded !== '' && !words.has(folded)) words.set(folded, word);
  }
  return words;
}

/** Why a directory is not a Vosk model, or undefined when it looks like one. */
export function voskModelProblem(modelPath: string): string | undefined {
  const dir = resolve(modelPath);
  if (!existsSync(dir)) {
    return `no Vosk model at ${dir}: download one (e.g. vosk-model-small-fr-0.22), unpack it there or set ATTENDANT_VOSK_MODEL to its folder`;
  }
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    return `the Vosk model folder ${dir} cannot be read: ${(err as Error).message}`;
  }
  const hasAm = names.includes('am') || names.includes('final.mdl');
  const hasGraph = names.includes('graph') || names.includes('HCLG.fst') || names.includes('HCLr.fst');
  if (!hasAm || !hasGraph) {
    return `${dir} is not a Vosk model (expected am/ and graph/ folders, as in vosk-model-small-fr-0.22)`;
  }
  return undefined;
}

interface VoskModule {
  setLogLevel(level: number): void;
  Model: new (path: string) => { free(): void };
  Recognizer: new (param: { model: unknown; sampleRate: number; grammar?: string[] }) => VoskRecognizer;
}

interface VoskRecognizer {
  setMaxAlternatives(n: number): void;
  setWords(words: boolean): void;
  acceptWaveform(data: Buffer): boolean;
  finalResult(): { text?: string; alternatives?: { text: string; confidence: number }[] };
  reset(): void;
  free(): void;
}

class VoskDecoder implements Decoder {
  private samples = 0;

  constructor(private readonly recognizer: VoskRecognizer) {}

  write(pcm16k: Int16Array): void {
    this.samples += pcm16k.length;
    this.recognizer.acceptWaveform(Buffer.from(pcm16k.buffer, pcm16k.byteOffset, pcm16k.byteLength));
  }

  end(): RecognitionResult {
    const result = this.recognizer.finalResult();
    const alternatives = result.alternatives ?? (result.text !== undefined ? [{ text: result.text, confidence: 0 }] : []);
    const raw = alternatives
      .map((a) => ({ text: a.text.replace(/\[unk\]/g, 'ph_unk').trim(), logScore: a.confidence }))
      .filter((a) => a.text !== '');
    const { nbest, confidence } = normalizeNbest(raw);
    this.recognizer.free();
    return { nbest, confidence, audioMs: Math.round((this.samples / SAMPLE_RATE) * 1000) };
  }
}

export class VoskFactory implements DecoderFactory {
  private readonly vosk: VoskModule;
  private readonly model: { free(): void };
  private readonly words: Map<string, string> | undefined;

  constructor(modelPath: string) {
    const problem = voskModelProblem(modelPath);
    if (problem !== undefined) throw new Error(problem);
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      this.vosk = require('vosk') as VoskModule;
    } catch (err) {
      throw new Error(`the vosk package could not load libvosk: ${(err as Error).message}`, { cause: err });
    }
    this.vosk.setLogLevel(-1);
    this.model = new this.vosk.Model(resolve(modelPath));
    this.words = voskVocabulary(modelPath);
  }

  create(grammar: Grammar): GrammarDecoders {
    const phrases = voskGrammar(grammar.phrases, this.words);
    return {
      open: () => {
        const recognizer = new this.vosk.Recognizer({
          model: this.model,
          sampleRate: SAMPLE_RATE,
          ...(phrases === undefined ? {} : { grammar: phrases }),
        });
        recognizer.setMaxAlternatives(8);
        recognizer.setWords(false);
        return new VoskDecoder(recognizer);
      },
      free: () => undefined,
    };
  }

  close(): void {
    this.model.free();
  }
}

export function voskModelPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.ATTENDANT_VOSK_MODEL ?? join(process.cwd(), DEFAULT_VOSK_MODEL);
}

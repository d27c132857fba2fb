import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Grammar } from './grammar';
import { Decoder, DecoderFactory, GrammarDecoders, RecognitionResult, SAMPLE_RATE, normalizeNbest } from './recognizer';

/**
 * Vosk (the design card's engine) through the `vosk` npm package and the libvosk it ships.
 * The recognizer is restricted to the store's words, with "[unk]" for the rest, and
 * returns alternatives with their scores.
 */

export const DEFAULT_VOSK_MODEL = 'models/vosk';

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

  constructor(modelPath: string) {
    const problem = voskModelProblem(modelPath);
    if (problem !== undefined) throw new Error(problem);
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      this.vosk = require('vosk') as VoskModule;
    } catch (err) {
      throw new Error(`the vosk package could not load libvosk: ${(err as Error).message}`);
    }
    this.vosk.setLogLevel(-1);
    this.model = new this.vosk.Model(resolve(modelPath));
  }

  create(grammar: Grammar): GrammarDecoders {
    const phrases = [...grammar.phrases, '[unk]'];
    return {
      open: () => {
        const recognizer = new this.vosk.Recognizer({ model: this.model, sampleRate: SAMPLE_RATE, grammar: phrases });
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

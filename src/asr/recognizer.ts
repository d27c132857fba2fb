import { Grammar } from './grammar';

/**
 * The Recognizer port (DESIGN.md, "Recognition"): audio in, n-best hypotheses out.
 * Audio is 16 kHz mono signed 16-bit PCM.
 */

export interface Hypothesis {
  text: string;
  /** Log-probability relative to the best hypothesis: 0 for the best, negative for the others. */
  score: number;
}

export interface RecognitionResult {
  nbest: Hypothesis[];
  /** The engine's belief in the best hypothesis, 0 to 1. */
  confidence: number;
  /** Milliseconds of audio decoded. */
  audioMs: number;
  /** Milliseconds of it that the front end took for speech (speech-span.ts); absent where it found none. */
  speechMs?: number;
  /** Whether that speech stood clear of the line's noise (SpeechSpan.clear). */
  clearSpeech?: boolean;
  /**
   * How well the best hypothesis fits the audio against a free phone loop: log-likelihood
   * ratio per 10 ms frame (0 = as good as any phone sequence, more negative = worse).
   * Absent when the engine has no such measure.
   */
  fit?: number;
  /** How to read `fit` as a belief (fitToBelief): the engine's settings change its scale. */
  fitCalibration?: FitCalibration;
  /** The speed it was decoded at (engines with a choice). */
  speed?: Speed;
  /**
   * Each search's score per 10 ms frame: the grammar's and the phone loop's (fit = grammar -
   * loop); a half of an utterance decoded on two workers has its own half alone.
   */
  fitParts?: { grammar?: number; loop?: number };
  /**
   * Where a name would be asked about (or offered beside another model's), the store's own
   * model (a store's first): the best path through its grammar of the store without that name
   * (`without`, a second search of the same audio: hearUtterance), and its fit against the
   * same phone loop.
   */
  runnerUp?: { text: string; fit: number; without?: string };
}

/** A logistic curve from fit to belief: 0.5 at `midpoint`, `slope` fit units per e-fold. */
export interface FitCalibration {
  midpoint: number;
  slope: number;
}

/**
 * Pocketsphinx's default (accurate) calibration, fitted on `npm run bench:accuracy`; used
 * for a fit that comes without one.
 */
export const DEFAULT_FIT_CALIBRATION: FitCalibration = { midpoint: -1.65, slope: 0.54 };

/**
 * How an engine spends CPU on one utterance, where it has a choice (pocketsphinx):
 * `accurate` recognizes more names, `fast` takes about half the CPU.
 */
export type Speed = 'accurate' | 'fast';

/** Which searches a decoder runs: both (default), or one half of a split utterance. */
export type DecoderPart = 'both' | 'grammar' | 'loop';

/** Joins the halves of an utterance decoded on two workers into one result. */
export function joinParts(grammar: RecognitionResult, loop: RecognitionResult): RecognitionResult {
  const g = grammar.fitParts?.grammar;
  const l = loop.fitParts?.loop;
  const joined: RecognitionResult = {
    nbest: grammar.nbest,
    confidence: grammar.confidence,
    audioMs: grammar.audioMs,
    speechMs: grammar.speechMs,
    clearSpeech: grammar.clearSpeech,
    fitCalibration: grammar.fitCalibration,
    speed: grammar.speed,
  };
  if (grammar.nbest.length > 0 && g !== undefined && l !== undefined) {
    joined.fit = g - l;
    joined.fitParts = { grammar: g, loop: l };
  }
  return joined;
}

export interface RecognizerSession {
  write(pcm16k: Int16Array): void;
  /** Resolves once every write so far has been decoded (benchmarks time from there). */
  flush(): Promise<void>;
  end(): Promise<RecognitionResult>;
  /** Drops the session without a result; safe to call at any time, more than once. */
  close(): void;
  /**
   * Gives up the result of an end() asked for: end() rejects with RecognitionCancelled when
   * the utterance had not been decoded yet (its decode is then never run), and resolves as
   * usual when it had. An early hearing whose caller went on speaking (CallSession).
   */
  cancel?(): void;
}

/** What end() rejects with when the session was cancelled before its utterance was decoded. */
export class RecognitionCancelled extends Error {
  constructor() {
    super('recognition cancelled');
    this.name = 'RecognitionCancelled';
  }
}

export interface StartOptions {
  /** The same utterance is heard with another grammar too: not counted again as an utterance. */
  also?: boolean;
  /**
   * 'grammar': the grammar's search alone, on one worker, with no phone loop (the utterance's
   * loop score is known already): `fitParts.grammar` is the result. Engines without a phone
   * loop decode as usual.
   */
  part?: 'grammar';
  /** The speed to decode at (engines with a choice), instead of the one the load gives. */
  speed?: Speed;
  /**
   * Decoded whole on one worker, not split in two halves (grammar search, phone loop) on two:
   * a short utterance (an answer), whose wait is then one queue's, not the longer of two.
   */
  whole?: boolean;
  /** A short utterance (an answer to a question): on the worker of answers where there is one (PoolOptions.answerWorker). */
  short?: boolean;
  /** On the same worker as this session of the same recognizer (the first model's, `whole`), where it can be. */
  beside?: RecognizerSession;
  /** A recording heard for the console, not a caller: not counted among the utterances callers wait behind. */
  background?: boolean;
}

/** `recognizer` with every session started in the background (StartOptions.background). */
export function inBackground(recognizer: Recognizer): Recognizer {
  return forwarding(recognizer, { start: (grammar, options) => recognizer.start(grammar, { ...options, background: true }) });
}

/**
 * `recognizer` as on a quiet host (Recognizer.quiet): benchmarks that hear many recordings at
 * once to measure recognition, not latency, hear each as a store's caller alone would be.
 */
export function asQuiet(recognizer: Recognizer): Recognizer {
  return forwarding(recognizer, { quiet: true });
}

/** `recognizer` with its `start` or its `quiet` changed; its engine, `close` and `busy` as they are. */
function forwarding(recognizer: Recognizer, change: { start?: Recognizer['start']; quiet?: boolean }): Recognizer {
  return {
    engine: recognizer.engine,
    start: change.start ?? ((grammar, options) => recognizer.start(grammar, options)),
    close: () => recognizer.close(),
    get busy() {
      return recognizer.busy;
    },
    get quiet() {
      return change.quiet ?? recognizer.quiet;
    },
  };
}

export interface Recognizer {
  readonly engine: EngineName;
  /**
   * An utterance on one grammar. `also`: the same utterance is heard with another grammar
   * too (a second acoustic model), started with it; such a session is not counted again
   * as an utterance when the recognizer tells whether it is busy.
   */
  start(grammar: Grammar, options?: StartOptions): Promise<RecognizerSession>;
  /** Loads a grammar ahead of its first utterance; rejects, saying why, when it cannot be. */
  prepare?(grammar: Grammar): Promise<void>;
  close(): Promise<void>;
  /** True while an utterance would wait for a worker: a recognizer that sheds load says so. */
  readonly busy?: boolean;
  /**
   * False while another utterance is being decoded (a recognizer that knows says so): the
   * searches a French store adds to a question (its runner-up) are made only on a quiet one.
   */
  readonly quiet?: boolean;
}

export type EngineName = 'pocketsphinx' | 'vosk';

/** One utterance being decoded, synchronously, inside a worker thread. */
export interface Decoder {
  write(pcm16k: Int16Array): void;
  end(): RecognitionResult;
}

/** An engine's decoders for one grammar, loaded once; each utterance opens its own Decoder. */
export interface GrammarDecoders {
  /** An utterance; `speed` is a wish an engine without the choice ignores. */
  open(part?: DecoderPart, speed?: Speed): Decoder;
  free(): void;
}

export interface DecoderFactory {
  /** Loads a grammar, ready for utterances at `speed` first (engines with a choice of speed). */
  create(grammar: Grammar, speed?: Speed): GrammarDecoders;
  /**
   * The phone-loop half of a split utterance, which needs no grammar (engines with a phone
   * loop only): a worker then does not load a grammar just to run the loop.
   */
  openLoop?(speed?: Speed, model?: string): Decoder;
  close(): void;
}

export const SAMPLE_RATE = 16000;

/**
 * Turns raw n-best path scores (natural-log units, best first) into relative scores and a
 * posterior for the best text, merging hypotheses that read the same.
 */
export function normalizeNbest(raw: { text: string; logScore: number }[], limit = 8): { nbest: Hypothesis[]; confidence: number } {
  if (raw.length === 0) return { nbest: [], confidence: 0 };
  const best = Math.max(...raw.map((h) => h.logScore));
  const merged = new Map<string, number>();
  for (const h of raw) {
    const text = h.text.trim().replace(/\s+/g, ' ');
    const p = Math.exp(h.logScore - best);
    merged.set(text, (merged.get(text) ?? 0) + p);
  }
  const total = [...merged.values()].reduce((a, b) => a + b, 0);
  const nbest = [...merged.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([text, p]) => ({ text, score: Math.log(p / total) }));
  return { nbest, confidence: Math.exp(nbest[0].score) };
}

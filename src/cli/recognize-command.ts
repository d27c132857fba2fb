import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { resolveEngine } from '../asr/engine';
import { Cmudict, Lexicon } from '../asr/lexicon';
import { POCKETSPHINX_MODEL_DIR } from '../asr/pocketsphinx';
import { RecognizerPool } from '../asr/pool';
import { Recognizer } from '../asr/recognizer';
import { hearUtterance, StoreUnderstanding, Understanding } from '../attendant/understanding';
import { loadCatalog } from '../asr/models';
import { StoreLexicons } from '../asr/store-lexicons';
import { Snapshot } from '../directory/directory-store';
import { readAudioFile } from '../media/audio-file';
import { Settings } from '../config/settings';

/** One line of `attendant recognize` output (DESIGN.md). */
export interface RecognizeLine {
  file: string;
  transcript: string;
  decision: string;
  entry: { id: string; extension: string } | null;
  confidence: number;
  candidates: { id: string; score: number }[];
  ms: number;
}

const FRAME = 320; // 20 ms at 16 kHz

export function loadCmudict(): Cmudict {
  return Cmudict.loadIfPresent(`${POCKETSPHINX_MODEL_DIR}/cmudict-en-us.dict`);
}

export async function createRecognizer(settings: Settings, workers: number, profile = settings.asrProfile): Promise<RecognizerPool> {
  const spec = resolveEngine(settings.asrEngine, settings.voskModel, profile);
  return RecognizerPool.create(spec, workers);
}

/** Streams 16 kHz PCM in 20 ms frames, as a call would, and times end of audio to decision. */
export async function recognizePcm(
  recognizer: Recognizer,
  understanding: StoreUnderstanding,
  pcm: Int16Array,
): Promise<{ understanding: Understanding; ms: number }> {
  let t0 = 0;
  const { understood } = await hearUtterance(
    recognizer,
    understanding,
    (send) => {
      for (let i = 0; i < pcm.length; i += FRAME) send(pcm.subarray(i, Math.min(pcm.length, i + FRAME)));
    },
    // In a call the decoder keeps up with live audio; wait for it here so that `ms`
    // is the time from the end of speech to the decision, as in a call.
    async (flush) => {
      await flush();
      t0 = performance.now();
    },
  );
  return { understanding: understood, ms: performance.now() - t0 };
}

/** The lexicons of a store of `locale` with the models installed (see StoreLexicons). */
export function storeLexicons(locale: string): Lexicon[] {
  return new StoreLexicons(loadCmudict(), loadCatalog()).forLocale(locale);
}

export function toLine(file: string, understood: Understanding, ms: number): RecognizeLine {
  const { decision } = understood;
  const showCandidates = decision.kind === 'disambiguate' ? decision.choices.map((e) => e.id) : undefined;
  return {
    file: basename(file),
    transcript: understood.transcript,
    decision: decision.kind,
    entry: decision.entry === undefined ? null : { id: decision.entry.id, extension: decision.entry.extension },
    confidence: round(decision.confidence),
    candidates: understood.candidates
      .filter((c) => showCandidates === undefined || showCandidates.includes(c.entry.id))
      .slice(0, 5)
      .map((c) => ({ id: c.entry.id, score: round(c.score) })),
    ms: Math.round(ms),
  };
}

const round = (x: number): number => Math.round(x * 100) / 100;

export async function recognizeFiles(
  settings: Settings,
  snapshot: Snapshot,
  locale: string,
  files: string[],
  write: (line: string) => void,
): Promise<number> {
  const understanding = await StoreUnderstanding.build(snapshot, ...storeLexicons(locale));
  // Files are heard one after the other, each as on a quiet line: with `auto`, the speed of
  // a file's second model would depend on how soon it followed the previous file.
  const recognizer = await createRecognizer(settings, 1, settings.asrProfile === 'auto' ? 'accurate' : settings.asrProfile);
  let failures = 0;
  try {
    for (const file of files) {
      try {
        const audio = await readAudioFile(file);
        const { understanding: understood, ms } = await recognizePcm(recognizer, understanding, audio.pcm);
        write(JSON.stringify(toLine(file, understood, ms)));
      } catch (err) {
        failures += 1;
        write(JSON.stringify({ file: basename(file), error: (err as Error).message }));
      }
    }
  } finally {
    await recognizer.close();
  }
  return failures;
}

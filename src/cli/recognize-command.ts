import { basename } from 'node:path';
import { resolveEngine } from '../asr/engine';
import { RecognizerPool } from '../asr/pool';
import { storeLexicons } from '../asr/store-lexicons';
import { recognizePcm, StoreUnderstanding, Understanding } from '../attendant/understanding';
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

export async function createRecognizer(settings: Settings, workers: number, profile = settings.asrProfile): Promise<RecognizerPool> {
  const spec = resolveEngine(settings.asrEngine, settings.voskModel, profile);
  return RecognizerPool.create(spec, workers);
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

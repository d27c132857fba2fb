import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { areaUnderRoc } from '../../src/attendant/confidence';
import { resolveEngine } from '../../src/asr/engine';
import { Lexicon } from '../../src/asr/lexicon';
import { loadCatalog, modelsForLocale } from '../../src/asr/models';
import { RecognizerPool } from '../../src/asr/pool';
import { asQuiet, RecognitionResult } from '../../src/asr/recognizer';
import { CrossHearing, hearUtterance, StoreUnderstanding } from '../../src/attendant/understanding';
import { storeLexicons } from '../../src/asr/store-lexicons';
import { readDirectory } from '../../src/directory/directory-file';
import { DirectoryEntry } from '../../src/directory/entry';
import { readAudioFile } from '../../src/media/audio-file';
import {
  CUT_SOURCES,
  cutSource,
  loadRealSource,
  RealClip,
  realSources,
  Surround,
  SURROUNDS,
  SYNTHESIZED_SOURCES,
  synthesizedSource,
  telephoneClip,
} from '../audio/real-speech';
import { PlainHearing, plainEngine } from './plain-engine';
import { benchProfile, mapLimit, pct } from './stats';

/**
 * npm run bench:real [-- --source fr-speech-to-phrase] [--surround tight,silence] [--levels=-40,-6] [--takes N] [--services N] [--verbose]
 *
 * `--source fr-digits-espeak` hears French digits synthesized here (SYNTHESIZED_SOURCES): there
 * are no real recordings of them; its heading says it is synthetic.
 *
 * Real people's recordings (../shared/real-speech beside the project), telephone-banded and
 * put on a line (tight, digital silence, comfort noise, line noise, long waits), each
 * source's transcripts made services of a store among the people of the demo store. Every
 * clip is heard by attendant (as `attendant recognize` hears a file) and by the plain engine
 * (pocketsphinx_continuous, default settings, the same model and grammar): per source, per
 * surround and per speaker, right, wrong transfers, and what was heard as nothing. `--levels`
 * hears every clip again at each level (dBFS of the speech's peak, as a quiet handset or a
 * loud one puts it on the line) and adds a table per level. `--services N` splits the source's
 * words into stores of N services each beside the same people (storesOf), as a shop names a
 * handful of services, rather than one store of all its words.
 */

export interface RealCall {
  clip: RealClip;
  surround: Surround;
  /** dBFS of the speech's peak; the recording's own level when undefined. */
  level?: number;
  /** The service the clip's transcript is; undefined for `<OOV>`. */
  expect?: string;
}

export interface RealOutcome {
  call: RealCall;
  results: RecognitionResult[];
  cross?: CrossHearing;
  decision: string;
  entryId?: string;
  choices: string[];
  plain: PlainHearing;
  /** The best entry and its probability (the confidence), where anything was heard. */
  best?: { id: string; score: number };
  ms: number;
}

const ROOT = join(__dirname, '..', '..', '..');

/** The demo store's people, and one service per distinct transcript of the source. */
export function realStore(clips: RealClip[]): { entries: DirectoryEntry[]; serviceOf: Map<string, string> } {
  const file = join(ROOT, 'directory-fixtures', 'demo-store.csv');
  const people = readDirectory(readFileSync(file), file).entries.filter((e) => e.type === 'person');
  const serviceOf = new Map<string, string>();
  const services: DirectoryEntry[] = [];
  for (const t of [...new Set(clips.map((c) => c.transcript))].filter((t) => t !== '<OOV>')) {
    const id = `r${String(services.length + 1).padStart(3, '0')}`;
    serviceOf.set(t, id);
    services.push({
      id,
      type: 'service',
      firstName: '',
      lastName: '',
      serviceName: t,
      department: '',
      extension: String(3000 + services.length + 1),
      aliases: [],
      enabled: true,
    });
  }
  return { entries: [...people, ...services], serviceOf };
}

/**
 * The clips split into stores of `perStore` words each (in alphabetical order, the last
 * store holding the rest), the `<OOV>` clips with the first: a caller of a store whose
 * directory names a handful of services among its people, as a shop's would (five command
 * words among 52 people), rather than every word of the source at once. Undefined: one store.
 */
export function storesOf(clips: RealClip[], perStore: number | undefined): RealClip[][] {
  const words = [...new Set(clips.map((c) => c.transcript))].filter((t) => t !== '<OOV>').sort();
  if (perStore === undefined || perStore >= words.length) return [clips];
  const groups: string[][] = [];
  for (let i = 0; i < words.length; i += perStore) groups.push(words.slice(i, i + perStore));
  return groups.map((g, i) => clips.filter((c) => g.includes(c.transcript) || (i === 0 && c.transcript === '<OOV>')));
}

/** The clips of a source a run hears: every one, but `takes` of each digit per speaker for the digits. */
export function pickClips(source: string, takes: number): RealClip[] {
  const clips = loadRealSource(source);
  if (source !== 'en-fsdd') return clips;
  return clips.filter((c) => Number(/_(\d+)\.wav$/.exec(c.file)?.[1] ?? 0) < takes);
}

export const localeOf = (source: string): string => (source.startsWith('en-') ? 'en-US' : 'fr-FR');

type Verdict = 'right' | 'wrong-transfer' | 'wrong-asked' | 'missed' | 'rejected' | 'absent-asked';

export function verdictOf(expect: string | undefined, kind: string, entryId: string | undefined, choices: string[]): Verdict {
  if (expect === undefined)
    return kind === 'transfer' ? 'wrong-transfer' : kind === 'confirm' || kind === 'disambiguate' ? 'absent-asked' : 'rejected';
  if ((kind === 'transfer' || kind === 'confirm') && entryId === expect) return 'right';
  if (kind === 'transfer') return 'wrong-transfer';
  if (kind === 'confirm' || kind === 'disambiguate') return choices.includes(expect) || entryId === expect ? 'right' : 'wrong-asked';
  return 'missed';
}

/**
 * How well the confidence ranks the best entry's being the one meant, on a source it was not
 * fitted on (the weights and thresholds come from synthetic voices alone): the area under
 * the ROC curve, over the calls where an entry was heard.
 */
export function confidenceLine(outcomes: RealOutcome[]): string {
  const heard = outcomes.filter((o) => o.best !== undefined);
  const labels = heard.map((o) => (o.best!.id === o.call.expect ? 1 : 0));
  const auc = areaUnderRoc(
    heard.map((o) => o.best!.score),
    labels,
  );
  const right = labels.filter((l) => l === 1).length;
  return `Confidence out of source: AUC ${Number.isNaN(auc) ? '— (one class only)' : auc.toFixed(3)} of the best entry's probability, over ${heard.length} calls with an entry (${right} the one meant)`;
}

function table(outcomes: RealOutcome[], by: (o: RealOutcome) => string[]): string {
  const groups = new Map<string, RealOutcome[]>();
  for (const o of outcomes) for (const k of ['all', ...by(o)]) groups.set(k, [...(groups.get(k) ?? []), o]);
  const lines = [
    '| group | clips | right | of which offered among two to four | confirmed (of right) | wrong transfers | heard as nothing | absent not transferred | plain engine right | plain engine wrong |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [name, list] of groups) {
    const present = list.filter((o) => o.call.expect !== undefined);
    const absent = list.filter((o) => o.call.expect === undefined);
    const v = list.map((o) => verdictOf(o.call.expect, o.decision, o.entryId, o.choices));
    const right = list.filter((_, i) => v[i] === 'right');
    const confirmed = right.filter((o) => o.decision !== 'transfer').length;
    const offered = right.filter((o) => o.decision === 'disambiguate').length;
    const wrong = v.filter((x) => x === 'wrong-transfer').length;
    const nothing = list.filter((o) => o.results.every((r) => r.nbest.length === 0)).length;
    const absentOk = absent.filter((o) => o.decision !== 'transfer').length;
    const plainRight = present.filter((o) => o.plain.entryId === o.call.expect).length;
    const plainWrong = list.filter((o) => o.plain.entryId !== undefined && o.plain.entryId !== o.call.expect).length;
    lines.push(
      `| ${name} | ${list.length} | ${pct(right.length, present.length)} | ${pct(offered, present.length)} | ${pct(confirmed, right.length)} | ${pct(wrong, list.length)} | ${nothing} | ${pct(absentOk, absent.length)} | ${pct(plainRight, present.length)} | ${pct(plainWrong, list.length)} |`,
    );
  }
  return lines.join('\n');
}

/** A cut source's words, aligned with the French model and pronounced as a French store's names are. */
async function cutWords(source: string, catalog: ReturnType<typeof loadCatalog>, lexicons: Lexicon[]): Promise<RealClip[]> {
  const model = modelsForLocale(catalog, 'fr-FR').find((m) => m.locale === 'fr-FR');
  const lexicon = lexicons.find((l) => l.model === model?.id);
  if (model === undefined || lexicon === undefined) throw new Error(`${source}: no French model installed (ATTENDANT_MODELS_DIR)`);
  return cutSource(source, model, lexicon);
}

/** The clips a run hears of a source: synthesized, cut out of sentences, or recorded (`takes` of each digit). */
export async function clipsOf(
  source: string,
  takes: number,
  catalog: ReturnType<typeof loadCatalog>,
  lexicons: Lexicon[],
): Promise<RealClip[]> {
  if (source in SYNTHESIZED_SOURCES) return synthesizedSource(source);
  if (source in CUT_SOURCES) return cutWords(source, catalog, lexicons);
  return pickClips(source, takes);
}

/** One store of a source: its clips, its directory (the demo store's people and the clips' words as services), heard as a store. */
export interface SourceStore {
  clips: RealClip[];
  entries: DirectoryEntry[];
  serviceOf: Map<string, string>;
  understanding: StoreUnderstanding;
}

/**
 * The stores a source's clips are heard in (storesOf), built one after the other; the
 * source's lexicons are loaded once for all of them.
 */
export async function* sourceStores(
  source: string,
  takes: number,
  catalog: ReturnType<typeof loadCatalog>,
  servicesPerStore: number | undefined,
): AsyncGenerator<SourceStore> {
  const lexicons = storeLexicons(localeOf(source));
  const clips = await clipsOf(source, takes, catalog, lexicons);
  for (const group of storesOf(clips, servicesPerStore)) {
    const { entries, serviceOf } = realStore(group);
    const understanding = await StoreUnderstanding.build({ store: source, version: 1, entries }, ...lexicons);
    yield { clips: group, entries, serviceOf, understanding };
  }
}

export async function hearReal(
  sources: string[],
  surrounds: Surround[],
  takes: number,
  workers: number,
  log: (s: string) => void = console.log,
  levels: (number | undefined)[] = [undefined],
  servicesPerStore?: number,
): Promise<Map<string, RealOutcome[]>> {
  const catalog = loadCatalog();
  const pool = await RecognizerPool.create(resolveEngine('pocketsphinx', undefined, benchProfile(), catalog.models), workers);
  const all = new Map<string, RealOutcome[]>();
  try {
    for (const source of sources) {
      const locale = localeOf(source);
      const t0 = performance.now();
      const outcomes: RealOutcome[] = [];
      let models: string[] = [];
      let clipCount = 0;
      for await (const { clips: group, serviceOf, understanding } of sourceStores(source, takes, catalog, servicesPerStore)) {
        models = understanding.models;
        clipCount += group.length;
        const plain = plainEngine(understanding, modelsForLocale(catalog, locale));
        const calls: RealCall[] = group.flatMap((clip) =>
          surrounds.flatMap((surround) => levels.map((level) => ({ clip, surround, level, expect: serviceOf.get(clip.transcript) }))),
        );
        outcomes.push(
          ...(await mapLimit(calls, workers * 2, async (call): Promise<RealOutcome> => {
            const wav = await telephoneClip(call.clip, { surround: call.surround, level: call.level });
            const audio = await readAudioFile(wav);
            const started = performance.now();
            // Heard as a store's caller alone would be (recognition, not latency: bench:calls).
            const { understood, results, cross } = await hearUtterance(asQuiet(pool), understanding, (send) => {
              for (let k = 0; k < audio.pcm.length; k += 320) send(audio.pcm.subarray(k, Math.min(audio.pcm.length, k + 320)));
            });
            const ms = performance.now() - started;
            const heardPlain = await plain(wav);
            const d = understood.decision;
            return {
              call,
              results,
              cross,
              decision: d.kind,
              entryId: d.entry?.id,
              choices: d.choices.map((e) => e.id),
              plain: heardPlain,
              best: understood.candidates[0] && { id: understood.candidates[0].entry.id, score: understood.candidates[0].score },
              ms,
            };
          })),
        );
      }
      log(
        `\n## ${source}${source in SYNTHESIZED_SOURCES ? ' (SYNTHESIZED with espeak-ng, not real speech)' : ''} (${locale}, models ${models.join(' + ')}${servicesPerStore === undefined ? '' : `, ${servicesPerStore} services a store`}): ${clipCount} clips x ${surrounds.length} surrounds${levels.length > 1 ? ` x ${levels.length} levels` : ''} in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`,
      );
      log(table(outcomes, (o) => [`surround ${o.call.surround}`]));
      log('');
      if (levels.length > 1) {
        log(table(outcomes, (o) => [o.call.level === undefined ? 'level as recorded' : `level ${o.call.level} dBFS`]));
        log('');
      }
      log(table(outcomes, (o) => [`speaker ${o.call.clip.speaker}`]));
      log(`\n${confidenceLine(outcomes)}`);
      all.set(source, outcomes);
    }
  } finally {
    await pool.close();
  }
  return all;
}

/** bench:real with `args` (also `bench:accuracy -- --set real ...`). */
export async function realSpeechMain(args: string[] = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      source: { type: 'string' },
      surround: { type: 'string' },
      levels: { type: 'string' },
      takes: { type: 'string', default: '3' },
      workers: { type: 'string', default: '2' },
      services: { type: 'string' },
      verbose: { type: 'boolean', default: false },
    },
  });
  const servicesPerStore = values.services === undefined ? undefined : Number(values.services);
  if (servicesPerStore !== undefined && !(Number.isInteger(servicesPerStore) && servicesPerStore >= 1))
    throw new Error(`--services takes a number of services a store, not ${values.services}`);
  const sources = values.source === undefined ? realSources('bench:real') : values.source.split(',');
  const surrounds = (values.surround?.split(',') ?? SURROUNDS) as Surround[];
  for (const s of surrounds) if (!SURROUNDS.includes(s)) throw new Error(`--surround takes ${SURROUNDS.join(', ')}, not ${s}`);
  console.log(`bench:real, profile ${benchProfile()}, ${new Date().toISOString()}`);
  const levels = values.levels?.split(',').map((l) => (l === 'own' ? undefined : Number(l))) ?? [undefined];
  for (const l of levels)
    if (l !== undefined && !(l <= 0 && l >= -60)) throw new Error(`--levels takes dBFS from -60 to 0 (or "own"), not ${values.levels}`);
  const all = await hearReal(sources, surrounds, Number(values.takes), Number(values.workers), console.log, levels, servicesPerStore);
  const out = join(ROOT, '.cache', 'bench');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'real-speech.json'), JSON.stringify(Object.fromEntries(all), null, 1));
  if (values.verbose) {
    for (const outcomes of all.values()) {
      for (const o of outcomes) {
        const v = verdictOf(o.call.expect, o.decision, o.entryId, o.choices);
        if (v === 'right' || v === 'rejected') continue;
        console.log(
          `${v}\t${o.call.clip.file}/${o.call.surround}${o.call.level === undefined ? '' : `/${o.call.level}dBFS`}\t"${o.call.clip.transcript}" -> ${o.results.map((r) => `"${r.nbest[0]?.text ?? ''}" fit ${r.fit?.toFixed(2)}`).join(' | ')} => ${o.decision} ${o.entryId ?? o.choices.join(',')}; plain "${o.plain.text}"`,
        );
      }
    }
  }
}

if (require.main === module) {
  realSpeechMain().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

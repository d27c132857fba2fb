import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveEngine } from '../../src/asr/engine';
import { loadCatalog, modelsForLocale } from '../../src/asr/models';
import { RecognizerPool } from '../../src/asr/pool';
import { performance } from 'node:perf_hooks';
import { asQuiet, DEFAULT_FIT_CALIBRATION, FitCalibration, RecognitionResult, Recognizer } from '../../src/asr/recognizer';
import { areaUnderRoc, entryFeatures, fitWeights, score, Weights } from '../../src/attendant/confidence';
import {
  COMBINED_THRESHOLDS,
  CrossHearing,
  CrossRule,
  decodeAll,
  hearUtterance,
  StoreUnderstanding,
} from '../../src/attendant/understanding';
import { storeLexicons } from '../../src/asr/store-lexicons';
import { DecisionThresholds, DEFAULT_THRESHOLDS } from '../../src/directory/decision';
import { readDirectory } from '../../src/directory/directory-file';
import { Candidate } from '../../src/directory/matcher';
import { readAudioFile } from '../../src/media/audio-file';
import { Answer } from '../../src/attendant/flow';
import {
  agreedAnswer,
  choiceAnswers,
  CHOICE_MIN_BELIEF,
  CONFIRM_MIN_BELIEF,
  confirmAnswers,
  confirmedAnswer,
  hearConfirmation,
} from '../../src/attendant/answers';
import { DirectoryEntry, displayName, normalizeText } from '../../src/directory/entry';
import {
  buildCallerSet,
  Call,
  CallerSetOptions,
  DEV_ABSENT,
  DEV_PHRASES,
  DEV_VOICES,
  FRESH_ABSENT,
  FRESH_PHRASES,
  FRESH_VOICES,
  HELDOUT_ABSENT,
  HELDOUT_PHRASES,
  HELDOUT_VOICES,
} from '../audio/caller-set';
import { synthesize } from '../audio/synth';
import { PlainHearing, plainEngine } from './plain-engine';
import { realSpeechMain } from './real-speech';
import { benchProfile, mapLimit, pct, percentile } from './stats';
import { cpuSeconds } from './proc';

/**
 * npm run bench:accuracy [-- --set dev|heldout|fresh] [--locale fr|en] [--workers N] [--fit] [--shed] [--companion fast] [--verbose]
 * npm run bench:accuracy -- --set real [bench:real's options]: the real speech sets (real-speech.ts).
 * Generates a synthetic caller set for a store directory, sends each utterance through the
 * real recognizer (every model the store is heard with) and matcher, and prints right /
 * wrong-transfer / rejection rates per condition, language and voice, and the latency from
 * end of audio to decision. --fit (dev set, two models) fits the combination's weights and
 * chooses the thresholds on leave-one-voice-out scores. --shed hears every utterance as under
 * load (one model); --companion fast decodes the second model fast, as beside another
 * utterance on a busy pool (--fit then chooses that case's second-hearing rule). Every table
 * shows beside attendant the plain engine on the same audio (plain-engine.ts), its top
 * hypothesis transferred as it is.
 */

interface Outcome {
  call: Call;
  /** What each model returned, in the store's grammar order: decisions are made again from these. */
  results: RecognitionResult[];
  /** The second hearing, where the two models heard different names. */
  cross?: CrossHearing;
  ms: number;
  /** The plain engine on the same audio: its hypothesis and the entry it names. */
  plain?: PlainHearing;
}

interface Decided {
  transcript: string;
  decision: string;
  entryId?: string;
  choices: string[];
  candidates: Candidate[];
}

type Verdict = 'right' | 'wrong-transfer' | 'wrong-confirm' | 'missed' | 'rejected' | 'false-accept';

export function judge(expect: Call['expect'], decision: { kind: string; entryId?: string; choices: string[] }): Verdict {
  const { kind, entryId, choices } = decision;
  if (expect.kind === 'absent') {
    if (kind === 'reprompt' || kind === 'operator') return 'rejected';
    return kind === 'transfer' ? 'wrong-transfer' : 'false-accept';
  }
  if (expect.kind === 'homonym') {
    if (kind === 'disambiguate' && expect.ids.every((id) => choices.includes(id))) return 'right';
  } else if ((kind === 'transfer' || kind === 'confirm') && entryId === expect.ids[0]) return 'right';
  else if (kind === 'disambiguate' && choices.includes(expect.ids[0])) return 'right';
  if (kind === 'transfer') return 'wrong-transfer';
  if (kind === 'confirm' || kind === 'disambiguate') return 'wrong-confirm';
  return 'missed';
}

type PlainVerdict = 'right' | 'wrong' | 'none';

/**
 * The plain engine transfers its top hypothesis as it is: right where it names the entry
 * meant (one of the namesakes, for a name several people share: it cannot ask which),
 * wrong where it names anyone else (any entry, for a name not in the directory).
 */
export function plainVerdict(expect: Call['expect'], plain: PlainHearing | undefined): PlainVerdict {
  if (plain?.entryId === undefined) return 'none';
  return expect.kind !== 'absent' && expect.ids.includes(plain.entryId) ? 'right' : 'wrong';
}

/** The plain engine's hypothesis of each call's audio (cached), and the entry the matcher finds in it. */
async function hearPlain(understanding: StoreUnderstanding, locale: string, outcomes: Outcome[], paths: string[]): Promise<void> {
  const plain = plainEngine(understanding, modelsForLocale(loadCatalog(), locale));
  await mapLimit(outcomes, 2, async (o, i) => {
    o.plain = await plain(paths[i]);
  });
}

function table(outcomes: Outcome[], decided: Decided[], verdicts: Verdict[], by: (o: Outcome) => string[]): string {
  const groups = new Map<string, number[]>();
  outcomes.forEach((o, i) => {
    for (const key of ['all', ...by(o)]) groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  const lines = [
    '| group | calls | right: transferred or confirmed | offered the right entry among two to four | either | wrong transfer | absent not transferred | absent rejected | confirmed | right among top 3 | plain engine right | plain engine wrong | p50 ms | p95 ms |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [name, idx] of groups) {
    const present = idx.filter((i) => outcomes[i].call.expect.kind !== 'absent');
    const absent = idx.filter((i) => outcomes[i].call.expect.kind === 'absent');
    const either = present.filter((i) => verdicts[i] === 'right').length;
    // Homonyms asked which one are right; a caller offered two different names is not put through yet.
    const offered = present.filter(
      (i) => verdicts[i] === 'right' && decided[i].decision === 'disambiguate' && outcomes[i].call.expect.kind === 'entry',
    ).length;
    const right = either - offered;
    const wrong = idx.filter((i) => verdicts[i] === 'wrong-transfer').length;
    const notTransferred = absent.filter((i) => verdicts[i] !== 'wrong-transfer').length;
    const rejected = absent.filter((i) => verdicts[i] === 'rejected').length;
    const confirmed = present.filter((i) => decided[i].decision === 'confirm').length;
    const top3 = present.filter((i) =>
      decided[i].candidates.slice(0, 3).some((c) => outcomes[i].call.expect.ids.includes(c.entry.id)),
    ).length;
    const ms = idx.map((i) => outcomes[i].ms);
    const plain = (i: number): PlainVerdict => plainVerdict(outcomes[i].call.expect, outcomes[i].plain);
    const plainRight = present.filter((i) => plain(i) === 'right').length;
    const plainWrong = idx.filter((i) => plain(i) === 'wrong').length;
    const heardPlain = idx.some((i) => outcomes[i].plain !== undefined);
    lines.push(
      `| ${name} | ${idx.length} | ${pct(right, present.length)} | ${pct(offered, present.length)} | ${pct(either, present.length)} | ${pct(wrong, idx.length)} | ${pct(notTransferred, absent.length)} | ${pct(rejected, absent.length)} | ${pct(confirmed, present.length)} | ${pct(top3, present.length)} | ${heardPlain ? pct(plainRight, present.length) : '-'} | ${heardPlain ? pct(plainWrong, idx.length) : '-'} | ${percentile(ms, 50).toFixed(0)} | ${percentile(ms, 95).toFixed(0)} |`,
    );
  }
  return lines.join('\n');
}

function decideAgain(
  understanding: StoreUnderstanding,
  o: Outcome,
  t?: DecisionThresholds,
  w?: Weights,
  rule?: CrossRule | 'none',
): Decided {
  const u = understanding.understandAll(o.results, t, w, rule === 'none' ? undefined : o.cross, rule === 'none' ? undefined : rule);
  return {
    transcript: u.transcript,
    decision: u.decision.kind,
    entryId: u.decision.entry?.id,
    choices: u.decision.choices.map((e) => e.id),
    candidates: u.candidates,
  };
}

const verdictOf = (o: Outcome, d: Decided): Verdict => judge(o.call.expect, { kind: d.decision, entryId: d.entryId, choices: d.choices });

/**
 * Right (transferred or confirmed to the right entry, or asked which of its namesakes: a
 * caller offered two different names is not right yet), wrong transfers and absent names
 * transferred, as fractions, for a set of decisions.
 */
function rates(outcomes: Outcome[], decided: Decided[]): { right: number; wrong: number; absentTransferred: number } {
  const v = outcomes.map((o, i) => verdictOf(o, decided[i]));
  const present = outcomes.filter((o) => o.call.expect.kind !== 'absent').length;
  const absent = outcomes.length - present;
  const offered = (i: number): boolean => decided[i].decision === 'disambiguate' && outcomes[i].call.expect.kind === 'entry';
  return {
    right: v.filter((x, i) => x === 'right' && outcomes[i].call.expect.kind !== 'absent' && !offered(i)).length / Math.max(1, present),
    wrong: v.filter((x) => x === 'wrong-transfer').length / Math.max(1, outcomes.length),
    absentTransferred: v.filter((x, i) => x === 'wrong-transfer' && outcomes[i].call.expect.kind === 'absent').length / Math.max(1, absent),
  };
}

/**
 * Leave one voice out: the combination's weights are fitted on every voice but one and
 * score that voice's calls; the thresholds are then chosen on those out-of-fold decisions:
 * the pairs (transfer, confirm) within the limits below, and of those with the most right
 * answers the median pair.
 */
function fitAndChoose(understanding: StoreUnderstanding, outcomes: Outcome[]): void {
  const rowsOf = (o: Outcome) => {
    const ids = o.call.expect.kind === 'absent' ? [] : o.call.expect.ids;
    return entryFeatures(understanding.views(o.results)).map((r) => ({
      features: r.features,
      label: ids.includes(r.candidate.entry.id) ? 1 : 0,
    }));
  };
  const voices = [...new Set(outcomes.map((o) => o.call.utterance.voice))];
  const weightsFor = new Map<string, Weights>();
  const oofScores: number[] = [];
  const oofLabels: number[] = [];
  for (const voice of voices) {
    const train = outcomes.filter((o) => o.call.utterance.voice !== voice).flatMap(rowsOf);
    const w = fitWeights(
      train.map((r) => r.features),
      train.map((r) => r.label),
    );
    weightsFor.set(voice, w);
    for (const o of outcomes.filter((x) => x.call.utterance.voice === voice)) {
      // The call's best entry under the held-out weights: is it the one meant?
      const rows = rowsOf(o)
        .map((r) => ({ ...r, p: score(r.features, w) }))
        .sort((a, b) => b.p - a.p);
      if (rows.length === 0) continue;
      oofScores.push(rows[0].p);
      oofLabels.push(rows[0].label);
    }
  }
  const all = outcomes.flatMap(rowsOf);
  const weights = fitWeights(
    all.map((r) => r.features),
    all.map((r) => r.label),
  );
  console.log(
    `\nleave-one-voice-out over ${voices.length} voices: AUC of the best entry's combined probability ${areaUnderRoc(oofScores, oofLabels).toFixed(3)} (${oofScores.length} calls with a candidate)`,
  );
  console.log(
    `weights fitted on every dev call: ${JSON.stringify(Object.fromEntries(Object.entries(weights).map(([k, v]) => [k, Number(v.toFixed(3))])))}`,
  );
  // The thresholds are chosen on the first pass alone; the second hearing's rule after them, at the thresholds in force.
  const oofDecided = (t: DecisionThresholds): Decided[] =>
    outcomes.map((o) => decideAgain(understanding, o, t, weightsFor.get(o.call.utterance.voice), 'none'));
  const allowed: { t: DecisionThresholds; right: number; direct: number }[] = [];
  for (const transfer of [0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99]) {
    for (const confirm of [0.1, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7]) {
      if (confirm >= transfer) continue;
      const t = { transfer, confirm, tieRatio: COMBINED_THRESHOLDS.tieRatio };
      const decisions = oofDecided(t);
      const r = rates(outcomes, decisions);
      // An offer of two entries is a question like a reprompt ("X, ou Y ?"): only a transfer or
      // a yes/no on one entry counts as accepting an absent name.
      const absentConfirmedOrTransferred = outcomes.filter(
        (o, i) => o.call.expect.kind === 'absent' && ['transfer', 'confirm'].includes(decisions[i].decision),
      ).length;
      const absent = outcomes.filter((o) => o.call.expect.kind === 'absent').length;
      // Limits with room for callers never seen: half the 1% wrong transfers allowed, 95% of
      // absent names not transferred (90% allowed), and at most half of them confirmed.
      const ok = r.wrong <= 0.005 && r.absentTransferred <= 0.05 && absentConfirmedOrTransferred <= 0.5 * absent;
      console.log(
        `  out-of-fold ${transfer} / ${confirm}: right ${(100 * r.right).toFixed(1)}%, wrong transfers ${(100 * r.wrong).toFixed(1)}%, absent accepted ${absentConfirmedOrTransferred}/${absent}${ok ? '' : ' (over the limits)'}`,
      );
      if (ok) allowed.push({ t, right: r.right, direct: decisions.filter((d) => d.decision === 'transfer').length });
    }
  }
  // Of the pairs with the most right answers (right counts transfers and confirmations
  // alike, so many pairs tie), those that put the most callers straight through (a
  // confirmation is one more question: as for one model's calibration), and of those the
  // median one: the farthest from where the limits break.
  const most = Math.max(...allowed.map((a) => a.right));
  const tied = allowed.filter((a) => a.right === most);
  const direct = Math.max(...tied.map((a) => a.direct));
  const straight = tied.filter((a) => a.direct === direct);
  const best = straight.length === 0 ? undefined : straight[Math.floor(straight.length / 2)];
  console.log(`chosen thresholds: ${best === undefined ? 'none within the limits' : JSON.stringify(best.t)}`);
  chooseCrossRule(understanding, outcomes);
}

/**
 * The second hearing's rule (CrossRule), chosen on a grid within the same limits as the
 * thresholds, at the thresholds in force: of the rules with the most right answers, the
 * median. Leave one voice out: each voice is decided with the rule chosen on the others.
 */
function chooseCrossRule(understanding: StoreUnderstanding, outcomes: Outcome[]): void {
  const grid: CrossRule[] = [];
  for (const secondWeight of [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2])
    for (let minFit = -6; minFit <= -1.999; minFit += 0.25) grid.push({ secondWeight, minFit: Number(minFit.toFixed(2)) });
  const judgeAll = (subset: Outcome[], rule: CrossRule | 'none') => {
    const decided = subset.map((o) => decideAgain(understanding, o, undefined, undefined, rule));
    const r = rates(subset, decided);
    const absent = subset.filter((o) => o.call.expect.kind === 'absent').length;
    const accepted = subset.filter(
      (o, i) => o.call.expect.kind === 'absent' && ['transfer', 'confirm'].includes(decided[i].decision),
    ).length;
    // A confirmation is a question, like the offer of two names it replaces: only transfers
    // count against the limits here (absent names confirmed are printed).
    return { decided, r, ok: r.wrong <= 0.005 && r.absentTransferred <= 0.05, accepted, absent };
  };
  const choose = (subset: Outcome[]): CrossRule | undefined => {
    const ok = grid.map((rule) => ({ rule, ...judgeAll(subset, rule) })).filter((x) => x.ok);
    if (ok.length === 0) return undefined;
    const most = Math.max(...ok.map((x) => x.r.right));
    const tied = ok.filter((x) => x.r.right === most);
    return tied[Math.floor(tied.length / 2)].rule;
  };
  const voices = [...new Set(outcomes.map((o) => o.call.utterance.voice))];
  const oof: { o: Outcome; d: Decided }[] = [];
  for (const voice of voices) {
    const rule = choose(outcomes.filter((o) => o.call.utterance.voice !== voice)) ?? 'none';
    const mine = outcomes.filter((o) => o.call.utterance.voice === voice);
    mine.forEach((o) => oof.push({ o, d: decideAgain(understanding, o, undefined, undefined, rule) }));
  }
  const r = rates(
    oof.map((x) => x.o),
    oof.map((x) => x.d),
  );
  const without = judgeAll(outcomes, 'none');
  console.log(
    `\nsecond hearing, leave one voice out over ${voices.length} voices: right ${(100 * r.right).toFixed(1)}%, wrong transfers ${(100 * r.wrong).toFixed(1)}%, absent transferred ${(100 * r.absentTransferred).toFixed(1)}% (without it: right ${(100 * without.r.right).toFixed(1)}%)`,
  );
  const chosen = choose(outcomes);
  const all = chosen === undefined ? undefined : judgeAll(outcomes, chosen);
  console.log(
    `second-hearing rule chosen on every dev call: ${chosen === undefined ? 'none within the limits' : `${JSON.stringify(chosen)}: right ${(100 * all!.r.right).toFixed(1)}%, absent confirmed or transferred ${all!.accepted} of ${all!.absent}`}`,
  );
}

/**
 * One model alone (--shed, or an English store): its fit calibration (the logistic curve from
 * fit to belief), chosen on a grid with the default thresholds. Leave one voice out: each
 * voice is decided with the pair chosen on the others; the pair printed last is chosen on all.
 */
function fitCalibration(understanding: StoreUnderstanding, outcomes: Outcome[]): void {
  const grid: FitCalibration[] = [];
  for (let m = -4; m <= 1.001; m += 0.1)
    for (const slope of [0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.5, 2, 3]) grid.push({ midpoint: Number(m.toFixed(2)), slope });
  const decideWith = (subset: Outcome[], c: FitCalibration): Decided[] =>
    subset.map((o) => decideAgain(understanding, { ...o, results: o.results.map((r) => ({ ...r, fitCalibration: c })) }));
  // Of the calibrations within the limits, those with the most right answers; of these, the
  // ones that put the most callers straight through (a confirmation is one more question),
  // and of those the median.
  const choose = (subset: Outcome[]): { c: FitCalibration; right: number; transfers: number } | undefined => {
    const ok = grid
      .map((c) => {
        const decided = decideWith(subset, c);
        const transfers = decided.filter((d) => d.decision === 'transfer').length / Math.max(1, subset.length);
        return { c, r: rates(subset, decided), transfers };
      })
      .filter(({ r }) => r.wrong <= 0.005 && r.absentTransferred <= 0.05);
    if (ok.length === 0) return undefined;
    const most = Math.max(...ok.map((x) => x.r.right));
    const tied = ok.filter((x) => x.r.right === most);
    const direct = Math.max(...tied.map((x) => x.transfers));
    const best = tied.filter((x) => x.transfers === direct);
    return { c: best[Math.floor(best.length / 2)].c, right: most, transfers: direct };
  };
  const voices = [...new Set(outcomes.map((o) => o.call.utterance.voice))];
  const oof: { o: Outcome; d: Decided }[] = [];
  for (const voice of voices) {
    const chosen = choose(outcomes.filter((o) => o.call.utterance.voice !== voice))?.c ?? DEFAULT_FIT_CALIBRATION;
    const mine = outcomes.filter((o) => o.call.utterance.voice === voice);
    decideWith(mine, chosen).forEach((d, i) => oof.push({ o: mine[i], d }));
  }
  const r = rates(
    oof.map((x) => x.o),
    oof.map((x) => x.d),
  );
  const transfers = oof.filter((x) => x.d.decision === 'transfer').length / oof.length;
  console.log(
    `\nleave-one-voice-out over ${voices.length} voices: right ${(100 * r.right).toFixed(1)}%, wrong transfers ${(100 * r.wrong).toFixed(1)}%, absent transferred ${(100 * r.absentTransferred).toFixed(1)}%, put straight through ${(100 * transfers).toFixed(1)}%`,
  );
  console.log(`calibration chosen on every call: ${JSON.stringify(choose(outcomes))}`);
}

/** `--set real` or `--set=real`: the real speech sets (bench:real), with the rest of the arguments. */
export function realSetArgs(args: string[]): string[] | undefined {
  const at = args.findIndex((a, i) => a === '--set=real' || (a === '--set' && args[i + 1] === 'real'));
  if (at < 0) return undefined;
  return args.filter((_, i) => i !== at && !(args[at] === '--set' && i === at + 1));
}

async function main(): Promise<void> {
  const real = realSetArgs(process.argv.slice(2));
  if (real !== undefined) return realSpeechMain(real);
  const { values } = parseArgs({
    options: {
      set: { type: 'string', default: 'dev' },
      workers: { type: 'string', default: '2' },
      locale: { type: 'string', default: 'fr' },
      fit: { type: 'boolean', default: false },
      replay: { type: 'boolean', default: false },
      turns: { type: 'boolean', default: false },
      english: { type: 'string' },
      shed: { type: 'boolean', default: false },
      companion: { type: 'string' },
      verbose: { type: 'boolean', default: false },
    },
  });
  // dev: thresholds and weights are chosen on it; heldout and fresh: other stores, voices, phrasings and absent names.
  const sets: Record<string, { store: string } & Omit<CallerSetOptions, 'english'>> = {
    dev: { store: 'demo-store.csv', voices: DEV_VOICES, phrases: DEV_PHRASES, absent: DEV_ABSENT, perEntry: 3, seed: 1 },
    heldout: { store: 'heldout-store.csv', voices: HELDOUT_VOICES, phrases: HELDOUT_PHRASES, absent: HELDOUT_ABSENT, perEntry: 2, seed: 7 },
    fresh: { store: 'fresh-store.csv', voices: FRESH_VOICES, phrases: FRESH_PHRASES, absent: FRESH_ABSENT, perEntry: 2, seed: 11 },
  };
  if (sets[values.set ?? 'dev'] === undefined) throw new Error(`--set takes dev, heldout, fresh or real, not ${values.set}`);
  const { store, ...callers } = sets[values.set ?? 'dev'];
  const root = join(__dirname, '..', '..', '..');
  const file = join(root, 'directory-fixtures', store);
  const { entries } = readDirectory(readFileSync(file), file);
  const calls = buildCallerSet(entries, {
    ...callers,
    // A French store's callers are mostly French; an English store's are all English.
    english: values.english !== undefined ? Number(values.english) : values.locale === 'en' ? 1 : 0.2,
  });
  const t0 = Date.now();
  const paths = await mapLimit(calls, 4, (c) => synthesize(c.utterance));
  console.log(`${calls.length} calls synthesized in ${((Date.now() - t0) / 1000).toFixed(1)} s (cached in .cache/audio)`);

  const locale = values.locale === 'en' ? 'en-US' : 'fr-FR';
  const understanding = await StoreUnderstanding.build({ store: 'bench', version: 1, entries }, ...storeLexicons(locale));
  const saved = join(
    root,
    '.cache',
    'bench',
    `accuracy-${values.set}-${values.locale}-${understanding.models.join('+')}${values.shed ? `-shed-${benchProfile()}` : ''}${values.companion === 'fast' ? '-companion-fast' : ''}.json`,
  );
  if (values.replay) {
    // Decisions made again from the last run's recognition results (thresholds, weights).
    const outcomes = (JSON.parse(readFileSync(saved, 'utf8')) as Outcome[]).map((o) => ({
      call: o.call,
      results: o.results,
      cross: o.cross,
      ms: o.ms,
    }));
    await hearPlain(understanding, locale, outcomes, paths);
    report(understanding, outcomes, values, `replayed from ${saved.replace(`${root}/`, '')}`);
    if (values.turns) {
      // The questions that follow (offers, confirmations), heard again from synthesized answers.
      const pool = await RecognizerPool.create(
        resolveEngine((process.env.ATTENDANT_ASR_ENGINE as 'auto') ?? 'auto', undefined, benchProfile()),
        Number(values.workers),
      );
      await secondTurn(pool, understanding, entries, outcomes);
      await confirmTurn(pool, understanding, outcomes);
      await pool.close();
    }
    return;
  }
  // --companion fast needs both speeds loaded (the auto profile); each session's speed is then set here.
  const spec = resolveEngine(
    (process.env.ATTENDANT_ASR_ENGINE as 'auto') ?? 'auto',
    undefined,
    values.companion === 'fast' ? 'auto' : benchProfile(),
  );
  const workers = Number(values.workers);
  const pool = await RecognizerPool.create(spec, workers);
  // --shed: every utterance heard as under load (one model, at the speed the profile gives).
  const shedding: Recognizer = { engine: pool.engine, busy: true, start: (g, o) => pool.start(g, o), close: () => pool.close() };
  // --companion fast: the second model of each utterance decoded fast, as beside another
  // utterance on a busy pool (companionSpeed); its second hearing at that speed too.
  if (values.companion !== undefined && values.companion !== 'fast') throw new Error(`--companion takes "fast", not ${values.companion}`);
  const companionFast: Recognizer = {
    engine: pool.engine,
    start: (g, o = {}) => pool.start(g, o.speed !== undefined ? o : { ...o, speed: o.also === true ? 'fast' : 'accurate' }),
    close: () => pool.close(),
  };
  const t1 = Date.now();
  const cpu0 = process.cpuUsage();
  const workerCpu0 = pool.pids.reduce((n, pid) => n + cpuSeconds(pid), 0);
  const outcomes = await mapLimit(calls, workers * 2, async (call, i): Promise<Outcome> => {
    const audio = await readAudioFile(paths[i]);
    let t0 = 0;
    const { results, cross } = await hearUtterance(
      // Heard as a store's caller alone would be (recognition, not latency: bench:calls).
      asQuiet(values.shed ? shedding : values.companion === 'fast' ? companionFast : pool),
      understanding,
      (send) => {
        for (let k = 0; k < audio.pcm.length; k += 320) send(audio.pcm.subarray(k, Math.min(audio.pcm.length, k + 320)));
      },
      async (flush) => {
        await flush();
        t0 = performance.now();
      },
    );
    return { call, results, cross, ms: performance.now() - t0 };
  });
  const own = process.cpuUsage(cpu0);
  await secondTurn(pool, understanding, entries, outcomes);
  await confirmTurn(pool, understanding, outcomes);
  // This process and the recognition workers (processes of their own).
  const workersMs = (pool.pids.reduce((n, pid) => n + cpuSeconds(pid), 0) - workerCpu0) * 1e3;
  const cpuMs = (own.user + own.system) / 1e3 + workersMs;
  await pool.close();
  // The floor, on the same audio, once attendant's workers are done.
  await hearPlain(understanding, locale, outcomes, paths);
  const decided = report(
    understanding,
    outcomes,
    values,
    `engine ${spec.engine} (profile ${spec.profile}), models ${understanding.models.join(' + ')}, ${workers} workers, ${calls.length} calls decoded in ${((Date.now() - t1) / 1000).toFixed(1)} s, ${(cpuMs / calls.length).toFixed(0)} ms CPU per call (${(workersMs / calls.length).toFixed(0)} in the workers)\nset: ${values.set} (${file.replace(`${root}/`, '')}), store locale ${locale}`,
  );
  const verdicts = outcomes.map((o, i) => verdictOf(o, decided[i]));
  const out = join(root, '.cache', 'bench');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    saved,
    JSON.stringify(
      outcomes.map((o, i) => ({
        call: o.call,
        results: o.results,
        cross: o.cross,
        ms: o.ms,
        plain: o.plain,
        decided: { ...decided[i], candidates: decided[i].candidates.slice(0, 5).map((c) => ({ id: c.entry.id, score: c.score })) },
        verdict: verdicts[i],
      })),
      null,
      1,
    ),
  );
}

/**
 * Where a caller is offered two different names ("Sophie Martin, ou Élodie Masson ?"), they
 * say the name again (its display name, in the same voice and condition; an absent name's
 * caller says the whole sentence again), heard against the offer's choice grammar by each
 * model. Prints the picks by rule: each model alone, both agreeing at any fit or with both
 * fits above a belief, and attendant's own (agreedAnswer), apart for callers whose entry was
 * offered and those whose entry was not (absent names included): any pick of theirs is wrong.
 */
async function secondTurn(
  pool: RecognizerPool,
  understanding: StoreUnderstanding,
  entries: DirectoryEntry[],
  outcomes: Outcome[],
): Promise<void> {
  const { lexicons } = understanding;
  const byId = new Map(entries.map((e) => [e.id, e]));
  const offers = outcomes.flatMap((o) => {
    const d = understanding.understandAll(o.results, undefined, undefined, o.cross).decision;
    const names = new Set(d.choices.map((e) => normalizeText(displayName(e))));
    return d.kind === 'disambiguate' && names.size === d.choices.length ? [{ o, choices: d.choices }] : [];
  });
  if (offers.length === 0 || lexicons.length < 2) return;
  const tally = new Map<string, { right: number; wrong: number; none: number; notOffered: number }>();
  let offeredRight = 0;
  await mapLimit(offers, 4, async ({ o, choices }) => {
    const { expect } = o.call;
    const u = o.call.utterance;
    const text = expect.kind === 'absent' ? u.text : displayName(byId.get(expect.ids[0])!);
    const wanted = expect.kind !== 'absent' && choices.some((c) => expect.ids.includes(c.id));
    if (wanted) offeredRight += 1;
    const count = (rule: string, answer: Answer): void => {
      const t = tally.get(rule) ?? { right: 0, wrong: 0, none: 0, notOffered: 0 };
      tally.set(rule, t);
      if (answer.kind !== 'choice') t.none += wanted ? 1 : 0;
      else if (!wanted) t.notOffered += 1;
      else if (expect.ids.includes(choices[answer.index].id)) t.right += 1;
      else t.wrong += 1;
    };
    const audio = await readAudioFile(await synthesize({ ...u, text }));
    const grammars = await Promise.all(lexicons.map((l) => choiceAnswers(choices, l)));
    const results = await decodeAll(
      pool,
      grammars.map((g) => g.grammar),
      (send) => send(audio.pcm),
    );
    const heard = grammars.map((g, i) => g.hear(results[i]));
    understanding.models.forEach((m, i) => count(`${m} alone`, heard[i].answer));
    const same = heard.every(
      (h) => h.answer.kind === 'choice' && heard[0].answer.kind === 'choice' && h.answer.index === heard[0].answer.index,
    );
    for (const min of [0, 0.5, 0.6, 0.7, 0.8])
      count(
        `both the same, both beliefs ≥ ${min}`,
        same && Math.min(...heard.map((h) => h.belief)) >= min ? heard[0].answer : { kind: 'unclear' },
      );
    count(`attendant (agreedAnswer, ${CHOICE_MIN_BELIEF})`, agreedAnswer(heard));
  });
  console.log(
    `\nSecond turn: ${offers.length} callers offered two different names say the name again; ${offeredRight} of them were offered their entry, ${offers.length - offeredRight} were not (${offers.filter(({ o }) => o.call.expect.kind === 'absent').length} absent names):\n`,
  );
  console.log(
    '| rule | put through to their entry | to the other one | no pick (read again) | callers not offered their entry put through to one |',
  );
  console.log('|---|---|---|---|---|');
  for (const [rule, t] of tally)
    console.log(
      `| ${rule} | ${t.right} of ${offeredRight} | ${t.wrong} | ${t.none} | ${t.notOffered} of ${offers.length - offeredRight} |`,
    );
}

/**
 * Where a caller is asked "Vous avez dit X ?", they answer: yes where X is theirs, no
 * otherwise (absent names included), in their language ("oui" / "non", "yes" / "no", a longer
 * form every third caller), same voice and condition. Heard by each of the store's models
 * against the yes/no grammar; prints what each rule makes of it: a yes heard from a caller
 * who said no is a wrong transfer.
 */
async function confirmTurn(pool: RecognizerPool, understanding: StoreUnderstanding, outcomes: Outcome[]): Promise<void> {
  const asked = outcomes.flatMap((o) => {
    const d = understanding.understandAll(o.results, undefined, undefined, o.cross).decision;
    return d.kind === 'confirm' && d.entry !== undefined ? [{ o, entry: d.entry }] : [];
  });
  if (asked.length === 0) return;
  const grammars = await Promise.all(understanding.lexicons.map((l) => confirmAnswers(l)));
  const tally = new Map<string, { yesYes: number; yesNo: number; yesOther: number; noYes: number; noNo: number; noOther: number }>();
  const count = (rule: string, said: 'yes' | 'no', answer: Answer): void => {
    const t = tally.get(rule) ?? { yesYes: 0, yesNo: 0, yesOther: 0, noYes: 0, noNo: 0, noOther: 0 };
    tally.set(rule, t);
    const heard = answer.kind === 'yes' ? 'Yes' : answer.kind === 'no' ? 'No' : 'Other';
    t[`${said}${heard}` as keyof typeof t] += 1;
  };
  await mapLimit(asked, 4, async ({ o, entry }, i) => {
    const said = o.call.expect.ids.includes(entry.id) ? 'yes' : 'no';
    const fr = o.call.language === 'fr';
    const long = i % 3 === 2;
    const text =
      said === 'yes'
        ? fr
          ? long
            ? "oui c'est ça"
            : 'oui'
          : long
            ? 'yes please'
            : 'yes'
        : fr
          ? long
            ? 'non merci'
            : 'non'
          : long
            ? 'no thanks'
            : 'no';
    const audio = await readAudioFile(await synthesize({ ...o.call.utterance, text }));
    const results = await decodeAll(
      pool,
      grammars.map((g) => g.grammar),
      (send) => send(audio.pcm),
    );
    const heard = grammars.map((g, k) => g.hear(results[k]));
    understanding.models.forEach((m, k) => count(`${m} alone`, said, heard[k].answer));
    count('both the same (agreedAnswer, any belief)', said, agreedAnswer(heard));
    // A yes taken only where both heard it with at least this belief: a no heard as yes is a wrong transfer.
    for (const min of [0.5, 0.6, 0.7, 0.8, 0.9]) {
      const both = heard.every((h) => h.answer.kind === 'yes') && Math.min(...heard.map((h) => h.belief)) >= min;
      const agreed = agreedAnswer(heard);
      count(`both yes, both beliefs ≥ ${min}`, said, agreed.kind === 'yes' && !both ? { kind: 'unclear' } : agreed);
    }
    count(
      `both yes, the first model's belief ≥ ${CONFIRM_MIN_BELIEF}, any other's`,
      said,
      confirmedAnswer([heard[0], ...heard.slice(1).map((h) => ({ ...h, belief: 1 }))]),
    );
    // As attendant hears it (hearConfirmation: the second model searches its grammar alone, without its phone loop).
    count(`attendant (hearConfirmation, ${CONFIRM_MIN_BELIEF})`, said, (await hearConfirmation(pool, grammars, audio.pcm)).answer);
    if (process.env.BENCH_VERBOSE === '1' && said === 'no' && agreedAnswer(heard).kind === 'yes') {
      console.log(
        `no heard as yes: "${text}" ${o.call.utterance.voice}/${o.call.utterance.condition} -> ${results.map((r, k) => `${r.nbest[0]?.text} (${heard[k].belief.toFixed(2)})`).join(' | ')}`,
      );
    }
  });
  const yes = asked.filter(({ o, entry }) => o.call.expect.ids.includes(entry.id)).length;
  console.log(
    `\nConfirmation: ${asked.length} callers asked "Vous avez dit … ?" answer; ${yes} say yes (theirs), ${asked.length - yes} no:\n`,
  );
  console.log(
    '| rule | yes heard as yes (put through) | yes heard as no | yes unclear (asked again) | no heard as yes (wrong transfer) | no heard as no | no unclear |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const [rule, t] of tally)
    console.log(
      `| ${rule} | ${t.yesYes} of ${yes} | ${t.yesNo} | ${t.yesOther} | ${t.noYes} of ${asked.length - yes} | ${t.noNo} | ${t.noOther} |`,
    );
}

/**
 * espeak-ng's French voices read some names with their English voice ("Arthur", "Mathis":
 * `-x` shows "(en)"), unlike a French caller: how many French callers that touches, and how
 * many of them were right, apart from the others.
 */
function englishSwitches(outcomes: Outcome[], verdicts: Verdict[]): void {
  const counts = { switched: [0, 0], french: [0, 0] };
  outcomes.forEach((o, i) => {
    const u = o.call.utterance;
    if (o.call.language !== 'fr' || u.synth !== 'espeak' || o.call.expect.kind === 'absent') return;
    const phonemes = execFileSync('espeak-ng', ['-q', '-x', '-v', u.voice, u.text]).toString();
    const c = phonemes.includes('(en)') ? counts.switched : counts.french;
    c[1] += 1;
    if (verdicts[i] === 'right') c[0] += 1;
  });
  console.log(
    `\nFrench callers whose voice read a word in English (espeak "(en)"): ${counts.switched[1]}, right ${pct(counts.switched[0], counts.switched[1])}; the others: ${counts.french[1]}, right ${pct(counts.french[0], counts.french[1])}`,
  );
}

/** Prints the tables (and, with --fit, the fit); returns the decisions. */
function report(
  understanding: StoreUnderstanding,
  outcomes: Outcome[],
  values: { fit?: boolean; verbose?: boolean },
  header: string,
): Decided[] {
  const decided = outcomes.map((o) => decideAgain(understanding, o));
  const verdicts = outcomes.map((o, i) => verdictOf(o, decided[i]));
  console.log(header);
  console.log(`thresholds ${JSON.stringify(understanding.models.length > 1 ? COMBINED_THRESHOLDS : DEFAULT_THRESHOLDS)}\n`);
  console.log(table(outcomes, decided, verdicts, (o) => [o.call.utterance.condition, `lang ${o.call.language}`]));
  console.log('\nby voice:\n');
  console.log(table(outcomes, decided, verdicts, (o) => [o.call.utterance.voice]));
  englishSwitches(outcomes, verdicts);
  if (values.verbose) {
    outcomes.forEach((o, i) => {
      const d = decided[i];
      if (verdicts[i] !== 'right' && verdicts[i] !== 'rejected') {
        const heard = understanding
          .views(o.results)
          .map((v) => `${v.model}:"${v.transcript}" fit ${v.result.fit?.toFixed(2)} ${v.candidates[0]?.entry.id ?? '-'}`)
          .join(' | ');
        console.log(
          `${verdicts[i]}\t${o.call.utterance.voice}/${o.call.utterance.condition}\t"${o.call.utterance.text}" -> ${heard} => ${d.decision} ${d.entryId ?? d.choices.join(',')} [${d.candidates
            .slice(0, 3)
            .map((c) => `${c.entry.id}:${c.score.toFixed(2)}`)
            .join(' ')}]`,
        );
      }
    });
  }
  if (values.fit) {
    if (outcomes.every((o) => o.results.length === 1)) fitCalibration(understanding, outcomes);
    else if (understanding.models.length < 2)
      console.log('\n--fit needs a store heard by two models (a French store with a French model installed)');
    else fitAndChoose(understanding, outcomes);
  }
  return decided;
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

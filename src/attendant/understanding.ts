import { performance } from 'node:perf_hooks';
import { carrierTokens, GARBAGE_PREFIX, Grammar, buildGrammar, operatorRequests } from '../asr/grammar';
import { Lexicon } from '../asr/lexicon';
import { touchRecent } from '../asr/recent';
import {
  DEFAULT_FIT_CALIBRATION,
  FitCalibration,
  RecognitionCancelled,
  RecognitionResult,
  Recognizer,
  RecognizerSession,
  Speed,
  StartOptions,
} from '../asr/recognizer';
import { combineModels, ModelView, Weights } from './confidence';
import { Decision, DecisionThresholds, decide, differentNames, HeardEvidence, MAX_CHOICES, withEvidence } from '../directory/decision';
import { Snapshot } from '../directory/directory-store';
import { DirectoryEntry, displayName, normalizeText } from '../directory/entry';
import { Candidate, DirectoryMatcher } from '../directory/matcher';

/**
 * What attendant understood of one utterance: the transcript, the ranked
 * candidates and the decision. Built once per directory snapshot, then pure.
 */

export interface Understanding {
  transcript: string;
  /** The recognizer's fit score, when it gives one (see fitToBelief). */
  fit?: number;
  decision: Decision;
  candidates: Candidate[];
  /** With several models: what each heard, its fit and its best entry. */
  models?: { model: string; transcript: string; fit?: number; top?: Candidate }[];
}

/**
 * Thresholds on the combined belief of two models (combineModels), chosen on out-of-fold
 * scores of the development set (`npm run bench:accuracy -- --fit`, docs/benchmarks.md): of
 * the pairs with the most right callers within the limits, the one that puts the most of them
 * straight through. Transfer 0.97 -> 0.9: out of fold, the same right and wrong transfers
 * (66.2 %, 0.4 %), more callers put through without a question.
 */
export const COMBINED_THRESHOLDS: DecisionThresholds = { transfer: 0.9, confirm: 0.4, tieRatio: 0.75 };

/**
 * Decodes one utterance (16 kHz) with each of the store's grammars at once, and understands
 * it from all of them. `beforeEnd` runs once the audio is written (benchmarks time from there).
 */
export async function hearUtterance(
  recognizer: Recognizer,
  understanding: StoreUnderstanding,
  write: (send: (pcm16k: Int16Array) => void) => void,
  beforeEnd?: (flush: () => Promise<void>) => Promise<void>,
  /** Gives the hearing up (an early hearing whose caller went on): it rejects with RecognitionCancelled. */
  signal?: AbortSignal,
): Promise<{ understood: Understanding; results: RecognitionResult[]; shed: boolean; cross?: CrossHearing }> {
  // Under load a store heard by two models is heard by its own locale's model alone (the
  // French rebuild for a French store), at its fast speed and on its own calibration:
  // recognition degrades before latency does. (The US English model alone, at its fast speed,
  // took 1.6 times the CPU and heard the store's French callers worse: docs/benchmarks.md.)
  if (understanding.grammars.length === 0) throw new Error('the store has no directory to recognize');
  const shed = understanding.grammars.length > 1 && recognizer.busy === true;
  if (shed) {
    const results = await decodeAll(recognizer, understanding.grammars.slice(0, 1), write, beforeEnd, { signal });
    return { understood: understanding.understand(results[0]), results, shed };
  }
  // The audio is kept for a second hearing of the names the models disagree on.
  const chunks: Int16Array[] = [];
  const results = await decodeAll(
    recognizer,
    understanding.grammars,
    (send) =>
      write((pcm) => {
        chunks.push(pcm);
        send(pcm);
      }),
    beforeEnd,
    { signal },
  );
  // Heard again only where the first pass would ask (a transfer or the operator stands as it is).
  const first = understanding.understandAll(results);
  const asks = understanding.grammars.length === 2 && CROSS_DECISIONS.includes(first.decision.kind);
  const cross = asks
    ? await crossHear(
        recognizer,
        understanding,
        results,
        chunks,
        first.models?.map((m) => m.top?.entry),
        signal,
      )
    : undefined;
  if (signal?.aborted === true) throw new RecognitionCancelled();
  const understood = cross === undefined ? first : understanding.heardAgain(first, cross, undefined, results);
  // Where one name would still be asked about, the store's own model hears its runner-up
  // (RUNNER_UP_RULE). A store of two models has made four more searches already: its runner-up
  // waits for a quiet pool (100 calls at once: decisions p95 up to 1.4 s and 3 to 99 of 200
  // calls failed when it was heard whenever the pool was not busy; docs/benchmarks.md).
  // Where the two models' names are offered, the French model's runner-up beside its own
  // name may be the one meant: heard on the same rule, it is offered third (withRunnerUp).
  const alone = understanding.grammars.length === 1 || recognizer.quiet !== false;
  const asked = understood.decision.kind === 'confirm' ? understood.decision.entry : offeredOwn(understood, first);
  if (asked !== undefined && recognizer.busy !== true && alone) {
    const runnerUp = await hearRunnerUp(recognizer, understanding, results[0], asked, chunks, signal);
    // Given up while it searched: given up all the same.
    if ((signal as AbortSignal | undefined)?.aborted === true) throw new RecognitionCancelled();
    if (runnerUp !== undefined) {
      const heard = [{ ...results[0], runnerUp }, ...results.slice(1)];
      return { understood: understanding.understandAll(heard, undefined, undefined, cross), results: heard, shed, cross };
    }
  }
  return { understood, results, shed, cross };
}

/**
 * Where two models' different names are offered (two to three choices, no namesakes among
 * them), the name the store's own model heard, if it is offered: its runner-up may be offered
 * beside them (withRunnerUp).
 */
function offeredOwn(understood: Understanding, first: Understanding): DirectoryEntry | undefined {
  const d = understood.decision;
  if (d.kind !== 'disambiguate' || d.choices.length >= MAX_CHOICES || !differentNames(d.choices) || first.models === undefined) {
    return undefined;
  }
  const names = new Set(d.choices.map((e) => displayName(e)));
  const own = first.models[0]?.top?.entry;
  return own !== undefined && names.has(displayName(own)) ? own : undefined;
}

/**
 * Hears a whole recording as one utterance (`attendant recognize`, the console's test audio):
 * 16 kHz PCM streamed in 20 ms frames, as a call would; `ms` is the time from the end of the
 * audio to the decision (the decoder is let catch up first, as it keeps up with a live call).
 */
export async function recognizePcm(
  recognizer: Recognizer,
  understanding: StoreUnderstanding,
  pcm: Int16Array,
): Promise<{ understanding: Understanding; ms: number }> {
  const FRAME = 320;
  let t0 = 0;
  const { understood } = await hearUtterance(
    recognizer,
    understanding,
    (send) => {
      for (let i = 0; i < pcm.length; i += FRAME) send(pcm.subarray(i, Math.min(pcm.length, i + FRAME)));
    },
    async (flush) => {
      await flush();
      t0 = performance.now();
    },
  );
  return { understanding: understood, ms: performance.now() - t0 };
}

/**
 * The runner-up of the store's own model (RecognitionResult.runnerUp): the utterance searched
 * again in that model's grammar of the store without the name the decision would ask about.
 * Undefined where the first pass has no fit, the store has no other name, or the search
 * fails: the first pass's question then stands.
 */
export async function hearRunnerUp(
  recognizer: Recognizer,
  understanding: StoreUnderstanding,
  result: RecognitionResult,
  asked: DirectoryEntry | undefined,
  chunks: Int16Array[],
  signal?: AbortSignal,
): Promise<RecognitionResult['runnerUp']> {
  const loop = result.fitParts?.loop;
  if (asked === undefined || result.fit === undefined || loop === undefined) return undefined;
  try {
    const grammar = await understanding.othersGrammar(displayName(asked));
    if (grammar === undefined || signal?.aborted === true) return undefined;
    const found = await searchAgain(recognizer, grammar, result, chunks, signal);
    return found === undefined ? undefined : { ...found, without: displayName(asked) };
  } catch {
    return undefined;
  }
}

/**
 * The first pass's utterance searched again in `grammar` alone (no phone loop), at the first
 * pass's speed: the best path and its fit against the first pass's loop. Undefined where
 * nothing was found, or the search's fit is on another scale than the first pass's.
 */
async function searchAgain(
  recognizer: Recognizer,
  grammar: Grammar,
  first: RecognitionResult,
  chunks: Int16Array[],
  signal?: AbortSignal,
): Promise<{ text: string; fit: number } | undefined> {
  const loop = first.fitParts?.loop;
  if (loop === undefined) return undefined;
  const session = await recognizer.start(grammar, { also: true, part: 'grammar', speed: first.speed });
  const stop = whenAborted(signal, () => session.cancel?.());
  let heard: RecognitionResult;
  try {
    for (const pcm of chunks) session.write(pcm);
    heard = await session.end();
  } finally {
    stop();
    session.close();
  }
  const text = heard.nbest[0]?.text;
  const grammarScore = heard.fitParts?.grammar;
  const same =
    heard.fitCalibration?.midpoint === first.fitCalibration?.midpoint && heard.fitCalibration?.slope === first.fitCalibration?.slope;
  return text === undefined || grammarScore === undefined || !same ? undefined : { text, fit: grammarScore - loop };
}

/**
 * Where a store heard by one model would ask "Did you say X?", and X's runner-up (heard
 * again without X's name: hearRunnerUp) fits the speech almost as well, both are offered,
 * to choose on the keypad: "X, or Y? Press 1 for X, 2 for Y." (Decision.keysOnly). The lead
 * is the difference of their fits per frame times the seconds of speech, as a second
 * hearing's (crossLead). On real English digits, one short word heard by the US English
 * model, the first pass asked about someone else for 202 of 349 callers it asked; for 44 of
 * those the runner-up was the one meant (jackson 10, yweweler 20, george 14: every speaker).
 * Chosen by keys, not by voice: the offered names are the two the model confused, and one
 * model heard the caller's spoken choice between them with the same confusion (whole calls
 * of real English digits, a spoken choice: 20 of 90 callers put through to the other one).
 * Asked about in turn instead ("Did you say Y?" after a no), no caller more got through and
 * calls took 5.33 turns against 4.89.
 *
 * A French store heard by two models asks about one name after its second hearing too: there
 * the French model's runner-up is heard, on the same rule (not chosen again on French callers).
 * On the French sets, where the decision asked about someone else, the runner-up was the one
 * meant for 4 of 237 synthetic dev callers and 3 of 196 real commands, 2 of 88 held out and 1 of
 * 76 in the fresh store, each under a lead of 0.14 (docs/benchmarks.md).
 *
 * Where the two models' different names are offered, the French model's runner-up beside
 * its own name is offered third, on the same rule, and the three on the keypad: on the real
 * words cut out of French sentences (a source no rule was chosen on), 9 of 460 callers had
 * neither name offered and the runner-up was the one meant (docs/benchmarks.md).
 */
export const RUNNER_UP_RULE = { offerLead: 0.2 };

/** The first-pass decisions a second hearing may change. */
const CROSS_DECISIONS: Decision['kind'][] = ['reprompt', 'disambiguate', 'confirm'];

/**
 * Where two models each heard a different name (or one heard a name, the other none), how
 * well each model fits each of the names: `fits[model][name]`, the fit (grammar against phone loop, per 10 ms frame) of the
 * model's best path through that name alone; undefined where a fit is missing, or the second
 * search ran at another speed than the first. Every name is searched again, a model's own
 * first one too: its fit in the whole grammar is not on the same footing (dev set, 126
 * callers the models disagreed on: the sum picked the right name for 73 with the first
 * pass's fits for the models' own names, 88 with each name searched alone).
 */
export interface CrossHearing {
  names: string[];
  fits: (number | undefined)[][];
  /** Each model's speed in the first pass (and its second search): the rule is chosen by them (crossRuleFor). */
  speeds?: Speed[];
}

/**
 * The second hearing: each model searches the utterance again within each of the names the
 * two models heard (a grammar of that name alone, its search without a phone loop: the loop's
 * score per frame is the first pass's). The searches run at once. Undefined when the models
 * agree, neither heard a name, or a search fails: the decision is then made from the first
 * pass alone.
 */
export async function crossHear(
  recognizer: Recognizer,
  understanding: StoreUnderstanding,
  results: RecognitionResult[],
  chunks: Int16Array[],
  /** Each model's first entry, when the caller has ranked the results already (Understanding.models). */
  tops: (DirectoryEntry | undefined)[] = understanding.views(results).map((v) => v.candidates[0]?.entry),
  signal?: AbortSignal,
): Promise<CrossHearing | undefined> {
  // Only where a rule was chosen for the models' speeds (both accurate on a quiet pool, the
  // second one fast beside the first on a busy one; both fast would cost more than a busy host has).
  if (results.some((r) => r.fit === undefined || r.fitParts?.loop === undefined)) return undefined;
  const speeds = results.map((r) => r.speed ?? 'accurate');
  if (crossRuleFor(speeds) === undefined) return undefined;
  // Two names, or one name that the other model did not hear (it heard only carrier or operator words).
  const names = [...new Set(tops.flatMap((e) => (e === undefined ? [] : [displayName(e)])))];
  if (names.length === 0 || (names.length === 1 && tops.every((e) => e !== undefined))) return undefined;
  try {
    const fits = await Promise.all(
      results.map((result, model) =>
        Promise.all(
          names.map(async (name) => {
            const grammar = await understanding.nameGrammar(name, model);
            if (grammar === undefined) return undefined;
            if (signal?.aborted === true) throw new RecognitionCancelled();
            return (await searchAgain(recognizer, grammar, result, chunks, signal))?.fit;
          }),
        ),
      ),
    );
    return { names, fits, speeds };
  } catch {
    return undefined;
  }
}

/**
 * One utterance decoded against each grammar at once (the first counts as the utterance, the
 * others are `also`); results in `grammars` order. If one cannot start, the others are closed
 * and the error is thrown: the call degrades as for any recognition failure.
 */
export async function decodeAll(
  recognizer: Recognizer,
  grammars: Grammar[],
  write: (send: (pcm16k: Int16Array) => void) => void,
  beforeEnd?: (flush: () => Promise<void>) => Promise<void>,
  /**
   * `parts`: per grammar, 'grammar' to search it without the phone loop (no fit); each is
   * decoded whole by default. `together`: a short utterance, every grammar's session on the
   * first one's worker (StartOptions.whole, short, beside). `signal`: the decodes are given up
   * when it aborts (RecognizerSession.cancel), and the call rejects with RecognitionCancelled.
   */
  how: { parts?: ('grammar' | undefined)[]; together?: boolean; signal?: AbortSignal } = {},
): Promise<RecognitionResult[]> {
  const options = (i: number): StartOptions => ({
    also: i > 0,
    ...(how.parts?.[i] !== undefined ? { part: how.parts[i] } : {}),
    ...(how.together === true ? { whole: true, short: true } : {}),
  });
  const started: PromiseSettledResult<RecognizerSession>[] = [];
  if (how.together === true && grammars.length > 1) {
    // The first model's session first, then the others beside it.
    const [first] = await Promise.allSettled([recognizer.start(grammars[0], options(0))]);
    started.push(first);
    const beside = first.status === 'fulfilled' ? first.value : undefined;
    started.push(...(await Promise.allSettled(grammars.slice(1).map((g, i) => recognizer.start(g, { ...options(i + 1), beside })))));
  } else {
    started.push(...(await Promise.allSettled(grammars.map((g, i) => recognizer.start(g, options(i))))));
  }
  const sessions = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) {
    for (const s of sessions) s.close();
    throw failed.reason;
  }
  const stop = whenAborted(how.signal, () => {
    for (const s of sessions) s.cancel?.();
  });
  try {
    if (how.signal?.aborted === true) throw new RecognitionCancelled();
    write((pcm) => {
      for (const s of sessions) s.write(pcm);
    });
    if (beforeEnd !== undefined) await beforeEnd(async () => void (await Promise.all(sessions.map((s) => s.flush()))));
    const results = await Promise.all(sessions.map((s) => s.end()));
    // Decoded already when it was given up: given up all the same.
    if ((how.signal as AbortSignal | undefined)?.aborted === true) throw new RecognitionCancelled();
    return results;
  } finally {
    stop();
    for (const s of sessions) s.close();
  }
}

/** Runs `fn` once when `signal` aborts; returns what stops listening. */
function whenAborted(signal: AbortSignal | undefined, fn: () => void): () => void {
  if (signal === undefined) return () => undefined;
  signal.addEventListener('abort', fn, { once: true });
  return () => signal.removeEventListener('abort', fn);
}

const CARRIERS = carrierTokens();
const OPERATOR_REQUESTS = operatorRequests();

/**
 * How a second hearing decides (crossDecision): the name with the highest French fit plus
 * `secondWeight` times the English fit, when that sum is at least `minFit`. Chosen on a grid
 * on two development sets together, the synthetic dev callers and the real French commands
 * (`npm run bench:real` replayed): 0.75 was chosen on the synthetic set alone, and there the
 * English model outvoted the French one on real French phrases ("minuteur 5 minutes" asked
 * as "Karine Muller"). 0.5: French commands 80.0 -> 82.8 % right, synthetic dev 81.7 -> 80.8 %;
 * out of source, synthetic held out 79.2 -> 80.6 %, fresh store, voxforge and fleurs unchanged
 * (docs/benchmarks.md). minFit is the middle of the plateau (-5 to -3 give the same figures).
 */
export interface CrossRule {
  secondWeight: number;
  minFit: number;
  /**
   * At or above, the name is put through without a question: its lead over the next name
   * (the same sum, per frame) times the seconds of speech, the evidence the whole utterance
   * gives for it over the other. Undefined: the name is always asked about. A lead per frame
   * alone does not carry over from phrases to short words (French digits synthesized: a
   * wrong name led by 0.8 per frame on a 0.5-s word); times the speech, it does.
   */
  transferLead?: number;
  /**
   * Below this lead (as transferLead), the second hearing has not told the names apart: both
   * are offered ("X ou Y ?") rather than one asked about.
   */
  offerLead?: number;
}

/**
 * transferLead 1.0: chosen on the two development sets (synthetic dev callers, real French
 * commands) as the least lead at which neither put a caller through to someone else or to
 * an absent name (0.75: one absent name on each); out of source, held out, fresh store,
 * voxforge, fleurs and synthesized French digits: docs/benchmarks.md.
 *
 * offerLead 0.1: on the same two development sets, where the meant name was one of the two
 * heard again, the one the rule picked was the meant one 9 times in 14 under a lead of 0.1
 * (3 of 7 synthetic, 6 of 7 real), 19 in 20 from 0.1 to 0.2: under 0.1 the pick is little
 * better than a coin, and both names are offered instead. Synthetic dev 81.2 -> 83.1 %
 * right, French commands 88.9 -> 89.4 %, no transfer changed (docs/benchmarks.md).
 */
export const CROSS_RULE: CrossRule = { secondWeight: 0.5, minFit: -4.5, transferLead: 1.0, offerLead: 0.1 };

/**
 * The rule where the French model was decoded accurately and the English one fast beside it
 * (a busy pool, companionSpeed): the English fits are on the fast speed's scale. Chosen on
 * the dev set heard that way (`npm run bench:accuracy -- --fit --companion fast`).
 */
export const CROSS_RULE_COMPANION_FAST: CrossRule = { secondWeight: 0.5, minFit: -3.25 };

/** The second hearing's rule for the speeds the two models were decoded at; none where no rule was chosen. */
export function crossRuleFor(speeds: Speed[] | undefined): CrossRule | undefined {
  const [first, second] = speeds ?? ['accurate', 'accurate'];
  if (first === 'accurate' && second === 'accurate') return CROSS_RULE;
  if (first === 'accurate' && second === 'fast') return CROSS_RULE_COMPANION_FAST;
  return undefined;
}

/**
 * The best name's lead in a second hearing: its fused fit (per frame) over the next name's,
 * times the seconds of speech the front end measured (the shortest any model was given).
 * Undefined with one name, or without a measure of the speech.
 */
export function crossLead(fused: number[], best: number, heard: HeardEvidence[]): number | undefined {
  const others = fused.filter((_, j) => j !== best);
  const spans = heard.map((h) => h.speechMs).filter((ms): ms is number => ms !== undefined && ms > 0);
  if (others.length === 0 || spans.length === 0) return undefined;
  const lead = fused[best] - Math.max(...others);
  return Number.isFinite(lead) ? (lead * Math.min(...spans)) / 1000 : undefined;
}

/** Name grammars a store keeps built (each model's), most recently used kept. */
const NAME_GRAMMARS = 256;

export class StoreUnderstanding {
  private readonly nameGrammars = new Map<string, Promise<Grammar | undefined>>();

  private constructor(
    readonly snapshot: Snapshot,
    /** One grammar per acoustic model the store is heard with (a French store: French, then US English). */
    readonly grammars: Grammar[],
    readonly matcher: DirectoryMatcher,
    /** The lexicons of `grammars`, in order: answers to a choice are heard by the same models. */
    readonly lexicons: Lexicon[] = [],
  ) {}

  /** The first grammar: the store's own model. */
  get grammar(): Grammar {
    return this.grammars[0];
  }

  /** The models the store is heard with, in `grammars` order. */
  get models(): string[] {
    return this.grammars.map((g) => g.model ?? 'en-us');
  }

  /** A store with no enabled entry: nothing to hear, its calls go to the operator (flow 'start'). */
  static empty(snapshot: Snapshot): StoreUnderstanding {
    return new StoreUnderstanding(snapshot, [], new DirectoryMatcher([], { carrierWords: CARRIERS, minFuzzyScore: 0.35 }));
  }

  /** `lexicons`: one per acoustic model, the store's own first (see lexiconsFor). */
  static async build(snapshot: Snapshot, ...lexicons: Lexicon[]): Promise<StoreUnderstanding> {
    if (lexicons.length === 0) throw new Error('a store needs at least one lexicon');
    const grammars = await Promise.all(lexicons.map((l) => buildGrammar(snapshot.entries, l)));
    const matcher = await DirectoryMatcher.create(snapshot.entries, { carrierWords: CARRIERS, minFuzzyScore: 0.35 });
    return new StoreUnderstanding(snapshot, grammars, matcher, lexicons);
  }

  /**
   * One utterance heard by every model (results in `grammars` order): with one model as
   * `understand`; with two, one decision from both (combineModels): agreement, each
   * model's fit and the margin between entries; where they disagree, the caller is asked.
   */
  understandAll(
    results: RecognitionResult[],
    thresholds?: DecisionThresholds,
    weights?: Weights,
    cross?: CrossHearing,
    crossRule?: CrossRule,
  ): Understanding {
    if (results.length === 1) return this.understand(results[0], thresholds);
    // A second model that heard nothing at all (its search found no path through the store's
    // grammar: the US English model on a long French sentence) says nothing for or against
    // any entry: the first model decides alone, as where the second is shed. Counted as a
    // model that proposed nothing, it held real French sentences down (fleurs: 19 of 40
    // calls, 12 asked and 1 asked again though the French model heard the sentence right).
    if (results.length === 2 && results[1].nbest.length === 0 && results[0].nbest.length > 0) return this.understand(results[0]);
    const views = this.views(results);
    const candidates = combineModels(views, weights);
    // The operator when a model heard it asked for and the other heard no name it trusts.
    const asked = views.map((v) => this.operatorAsked(v.result));
    const operatorAsked = views.some(
      (_, i) => asked[i] && views.every((w, j) => j === i || asked[j] || (w.candidates[0]?.score ?? 0) < 0.5),
    );
    const models = views.map((v) => ({ model: v.model, transcript: v.transcript, fit: v.result.fit, top: v.candidates[0] }));
    const best = models.find((m) => m.top?.entry.id === candidates[0]?.entry.id) ?? models[0];
    const first: Understanding = {
      transcript: best.transcript,
      fit: best.fit,
      candidates,
      models,
      decision: withEvidence(
        offerBoth(decide(candidates, { operatorAsked, thresholds: thresholds ?? COMBINED_THRESHOLDS }), views, candidates),
        results,
      ),
    };
    const decided = cross === undefined ? first : this.heardAgain(first, cross, crossRule, results);
    return this.offeringRunnerUp(decided, results[0]);
  }

  /**
   * The first pass's understanding of two models (understandAll) after a second hearing:
   * the name asked about leads the candidates and gives the transcript.
   */
  heardAgain(
    first: Understanding,
    cross: CrossHearing,
    rule: CrossRule | undefined = crossRuleFor(cross.speeds),
    /** What the first pass heard (its results): the speech a lead is measured over. */
    heard: HeardEvidence[] = [],
  ): Understanding {
    if (rule === undefined) return first;
    const decision = this.crossDecision(first.decision, cross, rule, first.candidates, heard);
    if (decision === first.decision) return first;
    const chosen = decision.entry !== undefined ? [decision.entry.id] : decision.choices.map((e) => e.id);
    const candidates = [
      ...first.candidates.filter((c) => chosen.includes(c.entry.id)),
      ...first.candidates.filter((c) => !chosen.includes(c.entry.id)),
    ];
    const models = first.models ?? [];
    const best =
      models.find((m) => m.top?.entry.id === candidates[0]?.entry.id) ??
      models.find((m) => chosen.includes(m.top?.entry.id ?? '')) ??
      models[0];
    return { ...first, transcript: best?.transcript ?? first.transcript, fit: best?.fit, candidates, decision };
  }

  /**
   * Where the models heard different names and the first pass would ask again or offer both,
   * the name that both models fit best together (CrossRule) is the one asked about: "Vous
   * avez dit X ?" (or which X, for namesakes); put through at once where it leads the other
   * name by the rule's `transferLead` over the speech (and the evidence rules of a transfer
   * hold: withEvidence). Below the rule's fit, the first pass's decision stands.
   */
  private crossDecision(
    decision: Decision,
    cross: CrossHearing | undefined,
    rule: CrossRule,
    candidates: Candidate[],
    heard: HeardEvidence[],
  ): Decision {
    if (cross === undefined || !CROSS_DECISIONS.includes(decision.kind)) return decision;
    // A model without a fit for one of the names (its lexicon cannot spell it, as the US
    // English one cannot spell a French sentence; or its search ran at another speed) says
    // nothing about any of them: the names are compared on the other model's fits alone. (A
    // name it could not search counted as unheard, so the other name won: on real French
    // sentences, 5 of 40 voxforge and 6 of 40 fleurs callers were asked about someone else.)
    const usable = cross.fits.map((f) => f.length === cross.names.length && f.every((x) => Number.isFinite(x)));
    if (!usable.some(Boolean)) return decision;
    const weight = [1, rule.secondWeight];
    const fused = cross.names.map((_, j) => cross.fits.reduce((sum, f, m) => sum + (usable[m] ? weight[m] * (f[j] as number) : 0), 0));
    const best = fused.indexOf(Math.max(...fused));
    if (!(fused[best] >= rule.minFit)) return decision;
    const namesakes = this.snapshot.entries.filter((e) => e.enabled && displayName(e) === cross.names[best]);
    if (namesakes.length === 0) return decision;
    const reason = `the two models heard different names; heard again, both fit ${cross.names[best]} best`;
    const confidence = Math.max(0, ...candidates.filter((c) => namesakes.some((e) => e.id === c.entry.id)).map((c) => c.score));
    if (namesakes.length > 1 && !namesakes.every((e) => e.extension === namesakes[0].extension)) {
      return { kind: 'disambiguate', choices: namesakes.slice(0, MAX_CHOICES), confidence, reason };
    }
    const lead = crossLead(fused, best, heard);
    if (rule.offerLead !== undefined && lead !== undefined && lead < rule.offerLead) {
      // Heard again, the names still stand as close as two guesses can: both are offered.
      const order = fused.map((_, j) => j).sort((x, y) => fused[y] - fused[x]);
      const choices = order
        .flatMap((j) => this.snapshot.entries.filter((e) => e.enabled && displayName(e) === cross.names[j]))
        .slice(0, MAX_CHOICES);
      const offeredScore = Math.max(0, ...candidates.filter((c) => choices.some((e) => e.id === c.entry.id)).map((c) => c.score));
      return {
        kind: 'disambiguate',
        choices,
        confidence: offeredScore,
        reason: `${reason}, by only ${lead.toFixed(2)} over the speech: both offered`,
      };
    }
    if (rule.transferLead !== undefined && lead !== undefined && lead >= rule.transferLead) {
      const transfer: Decision = {
        kind: 'transfer',
        entry: namesakes[0],
        choices: [],
        confidence,
        reason: `${reason}, by ${lead.toFixed(2)} over the speech`,
      };
      return withEvidence(transfer, heard);
    }
    return { kind: 'confirm', entry: namesakes[0], choices: [], confidence, reason };
  }

  /** The store's grammar without one name (its entries sharing that display name), for the first model; cached. */
  othersGrammar(name: string): Promise<Grammar | undefined> {
    return this.subsetGrammar(`others\u0000${name}`, 0, (e) => displayName(e) !== name);
  }

  /** A grammar of one name of the store (its entries sharing that display name), for `model`'s lexicon; cached. */
  nameGrammar(name: string, model: number): Promise<Grammar | undefined> {
    return this.subsetGrammar(`${model}\u0000${name}`, model, (e) => displayName(e) === name);
  }

  /** A grammar of the enabled entries `keep` keeps, for `model`'s lexicon, kept as a name grammar (Grammar.kind); cached by `key`. */
  private subsetGrammar(key: string, model: number, keep: (e: DirectoryEntry) => boolean): Promise<Grammar | undefined> {
    let made = this.nameGrammars.get(key);
    if (made === undefined) {
      const entries = this.snapshot.entries.filter((e) => e.enabled && keep(e));
      const lexicon = this.lexicons[model];
      made =
        entries.length === 0 || lexicon === undefined
          ? Promise.resolve(undefined)
          : buildGrammar(entries, lexicon).then((g) => ({ ...g, kind: 'name' as const }));
      // A failed build is not kept: the next utterance tries again.
      made.catch(() => this.nameGrammars.delete(key));
      touchRecent(this.nameGrammars, key, made, NAME_GRAMMARS);
    }
    return made.catch(() => undefined);
  }

  /** What each model heard, ranked against the directory (results in `grammars` order). */
  views(results: RecognitionResult[]): ModelView[] {
    return results.map((result, i) => ({
      model: this.models[i],
      result,
      candidates: this.rankResult(result),
      transcript: readable(result.nbest[0]?.text ?? ''),
    }));
  }

  private rankResult(result: RecognitionResult): Candidate[] {
    const belief = result.fit === undefined ? 1 : fitToBelief(result.fit, result.fitCalibration);
    return this.matcher.rank(result.nbest.map((h) => ({ text: stripGarbage(h.text), probability: Math.exp(h.score) * belief })));
  }

  private operatorAsked(result: RecognitionResult): boolean {
    const tokens = normalizeText(stripGarbage(result.nbest[0]?.text ?? '')).split(' ');
    return OPERATOR_REQUESTS.some((run) => run.every((t) => tokens.includes(t)));
  }

  understand(result: RecognitionResult, thresholds?: DecisionThresholds, rule = RUNNER_UP_RULE): Understanding {
    const candidates = this.rankResult(result);
    const transcript = readable(result.nbest[0]?.text ?? '');
    const decision = withEvidence(decide(candidates, { operatorAsked: this.operatorAsked(result), thresholds }), [result]);
    return this.offeringRunnerUp({ transcript, fit: result.fit, candidates, decision }, result, rule);
  }

  /**
   * An understanding that asks about one name, with the runner-up the first model heard
   * (`result.runnerUp`) offered beside it where it fits almost as well (withRunnerUp): its
   * entries among the candidates, after the name asked about. As it was otherwise.
   */
  private offeringRunnerUp(understood: Understanding, result: RecognitionResult, rule = RUNNER_UP_RULE): Understanding {
    const offer = this.withRunnerUp(understood.decision, result, rule);
    if (offer === undefined) return understood;
    const { decision, runnerUp } = offer;
    const offered = new Set(decision.choices.map((e) => e.id));
    const known = new Set(understood.candidates.map((c) => c.entry.id));
    const ranked = [...understood.candidates, ...runnerUp.filter((c) => !known.has(c.entry.id))];
    return {
      ...understood,
      candidates: [...ranked.filter((c) => offered.has(c.entry.id)), ...ranked.filter((c) => !offered.has(c.entry.id))],
      decision,
    };
  }

  /**
   * A question about one name becomes an offer of two, on the keypad, where its runner-up fits
   * almost as well (RUNNER_UP_RULE); an offer of two or three names among which the one
   * searched without, one more. The offer, and the runner-up ranked against the directory;
   * undefined where the decision stands.
   */
  private withRunnerUp(
    decision: Decision,
    result: RecognitionResult,
    rule: { offerLead: number },
  ): { decision: Decision; runnerUp: Candidate[] } | undefined {
    const { runnerUp, fit, speechMs } = result;
    if (runnerUp === undefined || fit === undefined || speechMs === undefined) return undefined;
    // Asked about one name, or offered two or three names among which the one searched without.
    const offered =
      decision.kind === 'confirm' && decision.entry !== undefined
        ? [decision.entry]
        : decision.kind === 'disambiguate' && runnerUp.without !== undefined && decision.choices.length < MAX_CHOICES
          ? decision.choices
          : [];
    const asked = offered.find((e) => runnerUp.without === undefined || displayName(e) === runnerUp.without);
    if (asked === undefined) return undefined;
    const lead = (fit - runnerUp.fit) * (speechMs / 1000);
    if (!(lead < rule.offerLead)) return undefined;
    const ranked = this.rankResult({ ...result, nbest: [{ text: runnerUp.text, score: 0 }], fit: runnerUp.fit });
    const other = ranked[0]?.entry;
    if (other === undefined || offered.some((e) => displayName(e) === displayName(other) || e.extension === other.extension)) {
      return undefined;
    }
    const others = this.snapshot.entries.filter((e) => e.enabled && displayName(e) === displayName(other));
    const what = offered.length === 1 ? 'both offered' : `offered with ${offered.map((e) => displayName(e)).join(' and ')}`;
    return {
      decision: {
        kind: 'disambiguate',
        choices: [...offered, ...others].slice(0, MAX_CHOICES),
        keysOnly: true,
        confidence: decision.confidence,
        reason: `${decision.reason}; heard again without ${displayName(asked)}, ${displayName(other)} fits almost as well (by ${lead.toFixed(2)} over the speech): ${what}, on the keypad`,
      },
      runnerUp: ranked,
    };
  }
}

/**
 * Where the two models each heard a different entry and neither is sure enough to transfer,
 * the caller is offered both ("Hervé Prodhomme, ou Paul Martin ?") rather than asked to
 * confirm one guess or to repeat: the models are wrong on different callers, so one of the
 * two is often right. The entry the combination ranks higher is offered first.
 */
export function offerBoth(decision: Decision, views: ModelView[], combined: Candidate[]): Decision {
  if (decision.kind !== 'reprompt') return decision;
  const tops = views.map((v) => v.candidates[0]?.entry);
  if (tops.length !== 2 || tops[0] === undefined || tops[1] === undefined || tops[0].id === tops[1].id) return decision;
  if (tops[0].extension === tops[1].extension) return decision;
  // Both tops are among the combined candidates (entryFeatures takes each model's first five),
  // each with the entries that share its name: a model that heard "Paul Martin" heard either
  // Paul Martin, and the caller is asked which (up to four choices in all).
  const names = new Set(tops.map((e) => displayName(e!)));
  const choices = combined
    .filter((c) => names.has(displayName(c.entry)))
    .map((c) => c.entry)
    .slice(0, MAX_CHOICES);
  return { kind: 'disambiguate', choices, confidence: decision.confidence, reason: 'the two models heard different entries' };
}

/**
 * The fit of the grammar's best path against a free phone loop (log-likelihood ratio per
 * 10 ms frame) mapped to a belief from 0 to 1 by a logistic curve whose midpoint and slope
 * the engine gives with the fit (they were fitted on `npm run bench:accuracy`, README,
 * "Recognition accuracy").
 */
export function fitToBelief(fit: number, calibration: FitCalibration = DEFAULT_FIT_CALIBRATION): number {
  return 1 / (1 + Math.exp(-(fit - calibration.midpoint) / calibration.slope));
}

function stripGarbage(text: string): string {
  return text.replace(new RegExp(`${GARBAGE_PREFIX}\\w+`, 'g'), ' ');
}

/** The best hypothesis as a person reads it: each run of unrecognized sounds is "[unk]". */
function readable(text: string): string {
  return text
    .replace(new RegExp(`(${GARBAGE_PREFIX}\\w+\\s*)+`, 'g'), '[unk] ')
    .replace(/<\/?s>|<sil>|\[NOISE\]|\+\w+\+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

import { carrierTokens, GARBAGE_PREFIX, Grammar, buildGrammar, operatorRequests } from '../asr/grammar';
import { Cmudict } from '../asr/lexicon';
import { DEFAULT_FIT_CALIBRATION, FitCalibration, RecognitionResult } from '../asr/recognizer';
import { Decision, DecisionThresholds, decide } from '../directory/decision';
import { Snapshot } from '../directory/directory-store';
import { normalizeText } from '../directory/entry';
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
}

const CARRIERS = carrierTokens();
const OPERATOR_REQUESTS = operatorRequests();

export class StoreUnderstanding {
  private constructor(
    readonly snapshot: Snapshot,
    readonly grammar: Grammar,
    readonly matcher: DirectoryMatcher,
  ) {}

  static async build(snapshot: Snapshot, cmudict: Cmudict): Promise<StoreUnderstanding> {
    const grammar = await buildGrammar(snapshot.entries, cmudict);
    const matcher = new DirectoryMatcher(snapshot.entries, { carrierWords: CARRIERS, minFuzzyScore: 0.35 });
    return new StoreUnderstanding(snapshot, grammar, matcher);
  }

  understand(result: RecognitionResult, thresholds?: DecisionThresholds): Understanding {
    const belief = result.fit === undefined ? 1 : fitToBelief(result.fit, result.fitCalibration);
    const hypotheses = result.nbest.map((h) => ({ text: stripGarbage(h.text), probability: Math.exp(h.score) * belief }));
    const candidates = this.matcher.rank(hypotheses);
    const best = result.nbest[0]?.text ?? '';
    const transcript = readable(best);
    const tokens = normalizeText(stripGarbage(best)).split(' ');
    const operatorAsked = OPERATOR_REQUESTS.some((run) => run.every((t) => tokens.includes(t)));
    return { transcript, fit: result.fit, candidates, decision: decide(candidates, { operatorAsked, thresholds }) };
  }
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

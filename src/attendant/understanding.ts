import { carrierTokens, GARBAGE_PREFIX, Grammar, buildGrammar, operatorRequests } from '../asr/grammar';
import { Cmudict } from '../asr/lexicon';
import { RecognitionResult } from '../asr/recognizer';
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
    const hypotheses = result.nbest.map((h) => ({ text: stripGarbage(h.text), probability: Math.exp(h.score) }));
    const candidates = this.matcher.rank(hypotheses);
    const best = result.nbest[0]?.text ?? '';
    const transcript = readable(best);
    const tokens = normalizeText(stripGarbage(best)).split(' ');
    const operatorAsked = OPERATOR_REQUESTS.some((run) => run.every((t) => tokens.includes(t)));
    return { transcript, candidates, decision: decide(candidates, { operatorAsked, thresholds }) };
  }
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

import { displayName, DirectoryEntry } from './entry';
import { Candidate } from './matcher';

/**
 * The decision policy (DESIGN.md, "Call flow"): from ranked candidates to one of
 * transfer, confirm, disambiguate, reprompt, operator.
 */

export type DecisionKind = 'transfer' | 'confirm' | 'disambiguate' | 'reprompt' | 'operator';

export interface Decision {
  kind: DecisionKind;
  /** The entry to transfer to or confirm; absent otherwise. */
  entry?: DirectoryEntry;
  /** For disambiguate: the entries to choose between, best first. */
  choices: DirectoryEntry[];
  confidence: number;
  reason: string;
}

export interface DecisionThresholds {
  /** At or above: transfer without asking. */
  transfer: number;
  /** At or above (and below transfer): ask "Did you say …?". Below: reprompt. */
  confirm: number;
  /** A second candidate scoring at least this fraction of the first is a near tie. */
  tieRatio: number;
}

/** Tuned on `npm run bench:accuracy` (README, "Recognition accuracy"). */
export const DEFAULT_THRESHOLDS: DecisionThresholds = { transfer: 0.8, confirm: 0.45, tieRatio: 0.75 };

export function decide(
  candidates: Candidate[],
  options: { operatorAsked?: boolean; thresholds?: DecisionThresholds } = {},
): Decision {
  const t = options.thresholds ?? DEFAULT_THRESHOLDS;
  const top = candidates[0];
  if (options.operatorAsked === true && (top === undefined || top.score < t.confirm)) {
    return { kind: 'operator', choices: [], confidence: 1, reason: 'the caller asked for the operator' };
  }
  if (top === undefined) return { kind: 'reprompt', choices: [], confidence: 0, reason: 'no directory entry was heard' };
  const ties = candidates.filter((c) => c.score >= top.score * t.tieRatio);
  if (top.score < t.confirm) {
    return { kind: 'reprompt', choices: [], confidence: top.score, reason: `best match ${top.score.toFixed(2)} is below ${t.confirm}` };
  }
  if (ties.length > 1) {
    const sameExtension = ties.every((c) => c.entry.extension === top.entry.extension);
    if (!sameExtension) {
      const homonyms = ties.every((c) => displayName(c.entry) === displayName(top.entry));
      return {
        kind: 'disambiguate',
        choices: ties.slice(0, 4).map((c) => c.entry),
        confidence: top.score,
        reason: homonyms ? `${ties.length} entries share the name heard` : `${ties.length} entries are near ties`,
      };
    }
  }
  if (top.score >= t.transfer) {
    return { kind: 'transfer', entry: top.entry, choices: [], confidence: top.score, reason: 'clear match' };
  }
  return { kind: 'confirm', entry: top.entry, choices: [], confidence: top.score, reason: 'likely match, to confirm' };
}

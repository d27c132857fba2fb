import { RecognitionResult } from '../asr/recognizer';
import { Candidate } from '../directory/matcher';

/**
 * One decision from two acoustic models (a French store heard by the French model and by
 * the US English one). The two are wrong on different callers, so whether they agree is
 * the strongest sign that a name was really said; each model's own belief (its fit against
 * its phone loop, through the matcher) and the margin to the next entry add the rest.
 *
 * For each entry either model proposes, a logistic model turns those signs into the
 * probability that it is the entry the caller meant. Its weights were fitted on the
 * development callers and checked on voices left out of the fit (leave one voice out):
 * `npm run bench:accuracy -- --fit` prints them and the out-of-fold figures
 * (docs/benchmarks.md).
 */

export interface ModelView {
  model: string;
  result: RecognitionResult;
  /** The entries this model's hypothesis matches, with its belief folded in, best first. */
  candidates: Candidate[];
  transcript: string;
}

/** The signs for one entry; names are the weights' keys. */
export interface EntryFeatures {
  /** logit of the first model's score for the entry (0 when it did not propose it). */
  first: number;
  /** logit of the second model's score. */
  second: number;
  /** 1 when both models put the entry first. */
  agree: number;
  /** 1 when the entry is one model's first and the other model's first is another entry. */
  contested: number;
  /** Best score of the entry minus the best score of any other entry, either model. */
  margin: number;
}

export type Weights = Record<keyof EntryFeatures | 'bias', number>;

/** Fitted by `npm run bench:accuracy -- --fit` on the dev set (docs/benchmarks.md). */
export const COMBINED_WEIGHTS: Weights = { bias: 1.174, first: 0.627, second: 0.79, agree: 0.181, contested: 0.409, margin: 1.421 };

const EPS = 0.02;
const logit = (p: number): number => {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q / (1 - q));
};
export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** The signs for every entry either of two models proposes. */
export function entryFeatures(views: ModelView[]): { candidate: Candidate; features: EntryFeatures }[] {
  const [a, b] = views;
  const scoreIn = (v: ModelView, id: string): number => v.candidates.find((c) => c.entry.id === id)?.score ?? 0;
  const entries = new Map<string, Candidate>();
  for (const v of views) for (const c of v.candidates.slice(0, 5)) if (!entries.has(c.entry.id)) entries.set(c.entry.id, c);
  const topA = a.candidates[0]?.entry.id;
  const topB = b.candidates[0]?.entry.id;
  return [...entries.values()].map((candidate) => {
    const id = candidate.entry.id;
    const sa = scoreIn(a, id);
    const sb = scoreIn(b, id);
    const others = Math.max(0, ...views.flatMap((v) => v.candidates.filter((c) => c.entry.id !== id).map((c) => c.score)));
    const isTop = id === topA || id === topB;
    return {
      candidate,
      features: {
        first: sa > 0 ? logit(sa) : logit(0),
        second: sb > 0 ? logit(sb) : logit(0),
        agree: id === topA && id === topB ? 1 : 0,
        contested: isTop && topA !== undefined && topB !== undefined && topA !== topB ? 1 : 0,
        margin: Math.max(sa, sb) - others,
      },
    };
  });
}

export function score(features: EntryFeatures, weights: Weights): number {
  let x = weights.bias;
  for (const key of Object.keys(features) as (keyof EntryFeatures)[]) x += weights[key] * features[key];
  return sigmoid(x);
}

/** Entries ranked by the combined probability, best first. */
export function combineModels(views: ModelView[], weights: Weights = COMBINED_WEIGHTS): Candidate[] {
  return entryFeatures(views)
    .map(({ candidate, features }) => ({ entry: candidate.entry, score: score(features, weights) }))
    .sort((x, y) => y.score - x.score || x.entry.id.localeCompare(y.entry.id));
}

/**
 * Fits logistic weights by gradient descent with a little L2 shrinkage: `rows` are entries'
 * features, `labels` 1 where the entry was the one meant.
 */
export function fitWeights(rows: EntryFeatures[], labels: number[], iterations = 3000, rate = 0.1, l2 = 0.01): Weights {
  const keys = ['first', 'second', 'agree', 'contested', 'margin'] as const;
  const w: Weights = { bias: 0, first: 0, second: 0, agree: 0, contested: 0, margin: 0 };
  const n = Math.max(1, rows.length);
  for (let it = 0; it < iterations; it += 1) {
    const grad: Weights = { bias: 0, first: 0, second: 0, agree: 0, contested: 0, margin: 0 };
    rows.forEach((row, i) => {
      const err = score(row, w) - labels[i];
      grad.bias += err;
      for (const k of keys) grad[k] += err * row[k];
    });
    w.bias -= (rate * grad.bias) / n;
    for (const k of keys) w[k] -= rate * (grad[k] / n + l2 * w[k]);
  }
  return w;
}

/** Area under the ROC curve: the chance that a random positive outscores a random negative. */
export function areaUnderRoc(scores: number[], labels: number[]): number {
  const pos = scores.filter((_, i) => labels[i] === 1);
  const neg = scores.filter((_, i) => labels[i] !== 1);
  if (pos.length === 0 || neg.length === 0) return NaN;
  let wins = 0;
  for (const p of pos) for (const q of neg) wins += p > q ? 1 : p === q ? 0.5 : 0;
  return wins / (pos.length * neg.length);
}

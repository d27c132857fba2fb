import type { PocketsphinxProfile } from './pocketsphinx-tuning';
import type { Speed } from './recognizer';

/**
 * The recognizer pool's decisions, as functions of what it counts: which speed an utterance
 * is decoded at, whether its two searches go to two workers, which worker takes a session.
 * RecognizerPool supplies the counts and carries the decisions out.
 */

/** How long before an utterance no other may have started for its second model to be decoded accurately (companionSpeed). */
export const COMPANION_QUIET_MS = 400;

/** How many open sessions a worker loading a grammar counts as, when sessions are given out. */
export const LOADING_WEIGHT = 4;

/**
 * With ATTENDANT_ASR_PROFILE=auto: accurate while the workers can take the utterance at once
 * (a split utterance takes two), fast when it would wait behind others. Both halves of an
 * utterance run at one speed, since each speed reads its fit on its own scale.
 */
export function utteranceSpeed(p: {
  profile: PocketsphinxProfile;
  /** Serving workers. */
  workers: number;
  /** Utterances started and not decoded, this one included. */
  utterances: number;
  split: boolean;
  /** Utterances of those not to count (a second model's own first one). */
  own?: number;
}): Speed {
  if (p.profile !== 'auto') return p.profile;
  const atOnce = Math.max(1, Math.floor(p.workers / (p.split ? 2 : 1)));
  return p.utterances - (p.own ?? 0) >= atOnce ? 'fast' : 'accurate';
}

/**
 * The speed of the same utterance heard by a second model (started right after the first,
 * which is counted already and is not a reason to go fast): accurate on a quiet pool, fast
 * when another utterance is being decoded or started less than COMPANION_QUIET_MS before this
 * one. Callers of a busy host arrive one after the other: an utterance that starts alone is
 * soon decoded beside the next ones, and a second model at the accurate speed (as costly as
 * the first) then delays them all (bench:calls, 100 calls, 8 new a second: p95 314 ms without
 * the rule, 254 with it). A wider window (1 s) also sent most callers of 10 calls (1 new a
 * second) to the fast speed (then without a second hearing for a French store).
 */
export function companionSpeed(p: Parameters<typeof utteranceSpeed>[0] & { sincePreviousStartMs: number }): Speed {
  if (p.profile !== 'auto') return p.profile;
  if (p.sincePreviousStartMs < COMPANION_QUIET_MS) return 'fast';
  return utteranceSpeed({ ...p, own: 1 });
}

/**
 * Whether a PocketSphinx utterance's two searches (the grammar and the phone loop) go to two
 * workers, so that the caller waits for one search, not two in a row: with two workers free
 * of loads or more, and always for a large grammar (its search on the worker of large
 * grammars); never for a search alone, nor for a session asked whole, nor for other engines.
 */
export function splitsUtterance(p: {
  pocketsphinx: boolean;
  large: boolean;
  searchOnly: boolean;
  whole: boolean;
  workersNotLoading: number;
}): boolean {
  if (!p.pocketsphinx || p.searchOnly || p.whole) return false;
  return p.large || p.workersNotLoading >= 2;
}

/** The least busy of `workers` (a worker loading a grammar counts as LOADING_WEIGHT sessions); the first of equals. */
export function leastBusy<W extends { open: number; loading: boolean }>(workers: W[]): W {
  if (workers.length === 0) throw new Error('no worker to choose from');
  const load = (w: W): number => w.open + (w.loading ? LOADING_WEIGHT : 0);
  return workers.reduce((a, b) => (load(b) < load(a) ? b : a));
}

/** How long a worker that died waits to be started again: a pause when it died starting (a model that cannot load would loop). */
export function restartPause(p: { started: boolean; livedMs: number; pauseMs: number }): number {
  return p.started || p.livedMs > p.pauseMs ? 0 : p.pauseMs;
}

import { PocketsphinxProfile, pocketsphinxProfile } from '../../src/asr/pocketsphinx-tuning';
import { percentile as quantile } from '../../src/attendant/percentile';

/**
 * The recognition benchmarks measure one speed: ATTENDANT_ASR_PROFILE when set, else
 * accurate (auto would mix speeds as the benchmark's own queue fills).
 */
export function benchProfile(env: NodeJS.ProcessEnv = process.env): PocketsphinxProfile {
  return env.ATTENDANT_ASR_PROFILE === undefined ? 'accurate' : pocketsphinxProfile(env);
}

/** Percentiles and a few figures for benchmarks. `p` from 0 to 100, of unsorted values; NaN for none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  return quantile(
    [...values].sort((a, b) => a - b),
    p / 100,
  );
}

export function pct(part: number, whole: number): string {
  return whole === 0 ? '—' : `${((100 * part) / whole).toFixed(1)}%`;
}

/** Runs `fn` over `items` with at most `limit` at once, keeping order in the results. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await fn(items[index], index);
    }
  });
  await Promise.all(lanes);
  return results;
}

/**
 * Marks `key` as the most recently used entry of `map` (a Map keeps insertion order) and
 * drops the least recently used ones beyond `limit`. The pool and each worker apply it to
 * the same sequence of sessions, so the pool knows which grammars a worker holds.
 */
export function touchRecent<V>(map: Map<string, V>, key: string, value: V, limit: number): V[] {
  map.delete(key);
  map.set(key, value);
  const dropped: V[] = [];
  while (map.size > limit) {
    const [oldestKey, oldest] = map.entries().next().value as [string, V];
    map.delete(oldestKey);
    dropped.push(oldest);
  }
  return dropped;
}

/**
 * Grammar texts a recognition worker keeps, most recently used kept; the pool keeps the
 * same list for each worker and sends a grammar's text only when the worker lacks it.
 */
export const GRAMMAR_TEXTS = 256;

/**
 * The grammars this project writes (JSGF: words, <rule> references, `|`, `[...]`, `(...)`),
 * compiled to pocketsphinx's finite-state grammar text (FSG_BEGIN ... FSG_END).
 *
 * pocketsphinx's own JSGF compiler finds each word of each transition by a linear search of
 * the grammar's vocabulary (fsg_model_word_id): in it alone a 5,000-entry store took 4.6 s,
 * a 50,000-entry one minutes, on the worker every call needs. Its FSG reader keeps the vocabulary in a hash
 * table, so a grammar compiled here loads in time proportional to its size. The compiled
 * grammar is the same automaton: each word a transition of probability 1 (as JSGF's default
 * weight), an optional part a null transition beside it, a rule reference its rule's body
 * in place (the grammars here are not recursive).
 */

type Node =
  | { kind: 'word'; word: string }
  | { kind: 'rule'; name: string }
  | { kind: 'optional'; body: Node }
  | { kind: 'alternatives'; options: Node[][] };

/** Word transitions kept between the same two states (see build). */
const PAIR_LIMIT = 256;

/** The FSG text of a JSGF grammar; `names(word)` gives the dictionary words that a grammar word stands for (its pronunciations). */
export function jsgfToFsg(jsgf: string, names: (word: string) => string[] = (w) => [w]): string {
  const rules = new Map<string, Node>();
  let root: string | undefined;
  for (const statement of jsgf.split(';')) {
    const m = /^\s*(public\s+)?<([^>]+)>\s*=([\s\S]*)$/.exec(statement);
    if (m === null) continue;
    rules.set(m[2], parseBody(m[3], m[2]));
    if (m[1] !== undefined && root === undefined) root = m[2];
  }
  if (root === undefined) throw new Error('the grammar has no public rule');

  const lines: string[] = [];
  let states = 2;
  const expanding: string[] = [];
  // Where words from one state to another go now (see 'word'), and the state reached by a
  // word that begins several sequences from one state.
  const overflow = new Map<string, { via: number; held: number }>();
  const prefixes = new Map<string, number>();
  const suffixes = new Map<string, number>();
  const build = (node: Node, from: number, to: number): void => {
    switch (node.kind) {
      case 'word': {
        // pocketsphinx searches the list of transitions between two states on each addition:
        // past PAIR_LIMIT, words go on to a state of their own that leads on by a null
        // transition (one such state per PAIR_LIMIT words).
        const words = names(node.word);
        let pair = overflow.get(`${from} ${to}`) ?? { via: to, held: 0 };
        if (pair.held + words.length > PAIR_LIMIT && pair.held > 0) {
          pair = { via: states++, held: 0 };
          lines.push(`TRANSITION ${pair.via} ${to} 1.0`);
        }
        pair.held += words.length;
        overflow.set(`${from} ${to}`, pair);
        for (const name of words) lines.push(`TRANSITION ${from} ${pair.via} 1.0 ${name}`);
        return;
      }
      case 'optional':
        lines.push(`TRANSITION ${from} ${to} 1.0`);
        build(node.body, from, to);
        return;
      case 'rule': {
        const body = rules.get(node.name);
        if (body === undefined) throw new Error(`the grammar refers to <${node.name}>, which it does not define`);
        if (expanding.includes(node.name)) throw new Error(`the rule <${node.name}> refers to itself`);
        expanding.push(node.name);
        build(body, from, to);
        expanding.pop();
        return;
      }
      case 'alternatives': {
        // pocketsphinx's grammar set-up grows with the square of the number of states, so
        // sequences share states, as in a prefix tree or a suffix tree: "paul martin" and
        // "paul dupont" the state after "paul", "martin paul" and "dupont paul" the state
        // before it. A sequence shares on the side of its more frequent word (names said
        // first-last and last-first thus need a state per first name, not one per person).
        // Each shared state leads only where its own sequences go: the same language.
        const first = new Map<string, number>();
        const last = new Map<string, number>();
        const wordAt = (sequence: Node[], i: number): string | undefined => {
          const item = sequence[i];
          return sequence.length > 1 && item?.kind === 'word' ? item.word : undefined;
        };
        const bump = (counts: Map<string, number>, word: string | undefined): void => {
          if (word !== undefined) counts.set(word, (counts.get(word) ?? 0) + 1);
        };
        for (const sequence of node.options) {
          bump(first, wordAt(sequence, 0));
          bump(last, wordAt(sequence, sequence.length - 1));
        }
        for (const sequence of node.options) {
          const head = wordAt(sequence, 0);
          const tail = wordAt(sequence, sequence.length - 1);
          const bySuffix = tail !== undefined && (last.get(tail) ?? 0) > (head === undefined ? 1 : (first.get(head) ?? 0));
          // With a shared suffix, the last word is already there, from the state before it.
          const end = bySuffix ? sequence.length - 1 : sequence.length;
          const exit = bySuffix ? stateBefore(tail, to) : to;
          let at = from;
          for (let i = 0; i < end; i += 1) {
            const item = sequence[i];
            if (i === end - 1) {
              build(item, at, exit);
              break;
            }
            const key = item.kind === 'word' ? `${at} ${item.word}` : undefined;
            let next = key === undefined ? undefined : prefixes.get(key);
            if (next === undefined) {
              next = states++;
              if (key !== undefined) prefixes.set(key, next);
              build(item, at, next);
            }
            at = next;
          }
        }
      }
    }
  };
  /** The state before the word `last` on the way to `to`, shared by the sequences that end so. */
  const stateBefore = (last: string, to: number): number => {
    const key = `${last} ${to}`;
    let before = suffixes.get(key);
    if (before === undefined) {
      before = states++;
      suffixes.set(key, before);
      build({ kind: 'word', word: last }, before, to);
    }
    return before;
  };
  build({ kind: 'rule', name: root }, 0, 1);
  return ['FSG_BEGIN grammar', `NUM_STATES ${states}`, 'START_STATE 0', 'FINAL_STATE 1', ...lines, 'FSG_END', ''].join('\n');
}

/** Parses a rule body into alternatives of sequences. */
function parseBody(text: string, rule: string): Node {
  const tokens = text.match(/<[^>]+>|[|[\]()]|[^\s|[\]()<>]+/g) ?? [];
  let at = 0;
  const fail = (what: string): never => {
    throw new Error(`the grammar rule <${rule}> ${what}`);
  };
  const alternatives = (close: string | undefined): Node => {
    const options: Node[][] = [[]];
    for (;;) {
      const token = tokens[at];
      if (token === undefined) {
        if (close !== undefined) fail(`lacks a closing "${close}"`);
        break;
      }
      at += 1;
      if (token === close) break;
      if (token === '|') options.push([]);
      else if (token === '[') options[options.length - 1].push({ kind: 'optional', body: alternatives(']') });
      else if (token === '(') options[options.length - 1].push(alternatives(')'));
      else if (token === ']' || token === ')') fail(`has an unexpected "${token}"`);
      else if (token.startsWith('<')) options[options.length - 1].push({ kind: 'rule', name: token.slice(1, -1) });
      else options[options.length - 1].push({ kind: 'word', word: token });
    }
    if (options.some((o) => o.length === 0)) fail('has an empty alternative');
    return { kind: 'alternatives', options };
  };
  return alternatives(undefined);
}

import Fuse from 'fuse.js';
import { DirectoryEntry, normalizeText, spokenForms } from './entry';
import { phoneticKey } from './phonetic';
import { Slices } from '../util/slices';

/**
 * Ranks a store's entries against what the recognizer heard. Each hypothesis is
 * compared with every spoken form of every enabled entry: an exact form in the
 * hypothesis counts by how much of the heard name it covers; otherwise fuse.js over
 * spellings and a phonetic key give a partial score. Scores over the n-best are
 * weighted by each hypothesis's probability.
 */

const LARGE_DIRECTORY_FORMS = 2000;
const FUSE_OPTIONS = { keys: ['text'], includeScore: true, threshold: 0.45, ignoreLocation: true };

export interface Candidate {
  entry: DirectoryEntry;
  /** Probability-like score, 0 to 1. */
  score: number;
}

export interface HeardHypothesis {
  /** Normalized text, carrier words kept. */
  text: string;
  /** Probability of this hypothesis among the n-best (sums to at most 1). */
  probability: number;
}

interface Form {
  entryIndex: number;
  text: string;
  tokens: string[];
  key: string;
}

export interface MatcherOptions {
  /** Words that never name an entry on their own ("je", "voudrais", "the", "please"…). */
  carrierWords: Set<string>;
  /** Below this fuzzy score a form is not a match. */
  minFuzzyScore: number;
}

/** An entry's spoken forms, and the forms by their whole phonetic key and by each word's. */
interface Index {
  forms: Form[];
  byKey: Map<string, Form[]>;
  byWordKey: Map<string, Set<Form>>;
}

function emptyIndex(): Index {
  return { forms: [], byKey: new Map(), byWordKey: new Map() };
}

/** Adds the spoken forms of the `entryIndex`th enabled entry. */
function addEntry(index: Index, entry: DirectoryEntry, entryIndex: number): void {
  for (const spoken of spokenForms(entry)) {
    const text = normalizeText(spoken);
    const form = { entryIndex, text, tokens: text.split(' '), key: phoneticKey(text) };
    index.forms.push(form);
    const sameKey = index.byKey.get(form.key);
    if (sameKey === undefined) index.byKey.set(form.key, [form]);
    else sameKey.push(form);
    for (const word of form.key.split(' ')) {
      const set = index.byWordKey.get(word) ?? new Set<Form>();
      set.add(form);
      index.byWordKey.set(word, set);
    }
  }
}

export class DirectoryMatcher {
  private readonly forms: Form[];
  /** Forms by their whole phonetic key, and by the phonetic key of each of their words. */
  private readonly byKey: Map<string, Form[]>;
  private readonly byWordKey: Map<string, Set<Form>>;
  private readonly fuse: Fuse<Form> | undefined;
  readonly entries: DirectoryEntry[];

  /** `index`: the forms of `entries`, already made (DirectoryMatcher.create); made here otherwise. */
  constructor(
    entries: DirectoryEntry[],
    private readonly options: MatcherOptions,
    index?: Index,
  ) {
    this.entries = entries.filter((e) => e.enabled);
    if (index === undefined) {
      index = emptyIndex();
      for (const [i, entry] of this.entries.entries()) addEntry(index, entry, i);
    }
    ({ forms: this.forms, byKey: this.byKey, byWordKey: this.byWordKey } = index);
    // Over a few thousand forms, fuse.js scans too slowly for a call; large directories
    // search only the forms that share a word's phonetic key with what was heard.
    this.fuse = this.forms.length <= LARGE_DIRECTORY_FORMS ? new Fuse(this.forms, FUSE_OPTIONS) : undefined;
  }

  /**
   * The same matcher, its forms made a slice at a time: a 50,000-entry directory takes about
   * a second of normalizing and phonetic keys, which would otherwise stop the server's calls
   * (their audio, their SIP) for as long.
   */
  static async create(entries: DirectoryEntry[], options: MatcherOptions): Promise<DirectoryMatcher> {
    const enabled = entries.filter((e) => e.enabled);
    const index = emptyIndex();
    const slices = new Slices();
    for (const [i, entry] of enabled.entries()) {
      addEntry(index, entry, i);
      if (slices.due) await slices.next();
    }
    return new DirectoryMatcher(enabled, options, index);
  }

  /** Scores of entries for one heard text, best first; only entries with some match. */
  matchText(heard: string): Map<number, number> {
    const tokens = normalizeText(heard)
      .split(' ')
      .filter((t) => t !== '');
    const target = tokens.filter((t) => !this.options.carrierWords.has(t));
    const scores = new Map<number, number>();
    const put = (index: number, score: number): void => {
      if (score > (scores.get(index) ?? 0)) scores.set(index, score);
    };
    if (tokens.length === 0) return scores;
    for (const form of this.forms) {
      if (containsRun(tokens, form.tokens)) {
        const named = form.tokens.filter((t) => !this.options.carrierWords.has(t)).length || form.tokens.length;
        put(form.entryIndex, Math.min(1, named / Math.max(1, target.length)));
      }
    }
    if (scores.size > 0 || target.length === 0) return scores;
    const targetText = target.join(' ');
    const targetKey = phoneticKey(targetText);
    for (const form of this.byKey.get(targetKey) ?? []) put(form.entryIndex, 0.85);
    let fuse = this.fuse;
    if (fuse === undefined) {
      const near = new Set<Form>();
      for (const word of targetKey.split(' ')) for (const form of this.byWordKey.get(word) ?? []) near.add(form);
      if (near.size === 0) return scores;
      fuse = new Fuse([...near].slice(0, 200), FUSE_OPTIONS);
    }
    for (const hit of fuse.search(targetText, { limit: 20 })) {
      const score = (1 - (hit.score ?? 1)) * 0.8;
      if (score >= this.options.minFuzzyScore) put(hit.item.entryIndex, score);
    }
    return scores;
  }

  /** Entries ranked against the n-best: each score is the expected match over hypotheses. */
  rank(hypotheses: HeardHypothesis[]): Candidate[] {
    const totals = new Map<number, number>();
    for (const h of hypotheses) {
      for (const [index, score] of this.matchText(h.text)) {
        totals.set(index, (totals.get(index) ?? 0) + h.probability * score);
      }
    }
    return [...totals.entries()]
      .map(([index, score]) => ({ entry: this.entries[index], score: Math.min(1, score) }))
      .sort((a, b) => b.score - a.score || a.entry.id.localeCompare(b.entry.id));
  }
}

function containsRun(tokens: string[], run: string[]): boolean {
  outer: for (let i = 0; i + run.length <= tokens.length; i += 1) {
    for (let j = 0; j < run.length; j += 1) if (tokens[i + j] !== run[j]) continue outer;
    return true;
  }
  return false;
}

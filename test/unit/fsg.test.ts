import { jsgfToFsg } from '../../src/asr/fsg';
import { buildGrammar } from '../../src/asr/grammar';
import { Lexicon, WordRequest } from '../../src/asr/lexicon';
import { DirectoryEntry } from '../../src/directory/entry';

/** Every sentence a compiled FSG accepts (each transition's word, nulls followed), as strings. */
function fsgSentences(fsg: string): Set<string> {
  const lines = fsg.split('\n');
  const start = Number(/START_STATE (\d+)/.exec(fsg)![1]);
  const final = Number(/FINAL_STATE (\d+)/.exec(fsg)![1]);
  const arcs = new Map<number, { to: number; word?: string }[]>();
  for (const line of lines) {
    const m = /^TRANSITION (\d+) (\d+) 1\.0(?: (\S+))?$/.exec(line);
    if (m === null) continue;
    const list = arcs.get(Number(m[1])) ?? [];
    list.push({ to: Number(m[2]), word: m[3] });
    arcs.set(Number(m[1]), list);
  }
  const out = new Set<string>();
  const walk = (state: number, words: string[], depth: number): void => {
    if (depth > 40) throw new Error('the grammar loops');
    if (state === final) out.add(words.join(' '));
    for (const arc of arcs.get(state) ?? []) walk(arc.to, arc.word === undefined ? words : [...words, arc.word], depth + 1);
  };
  walk(start, [], 0);
  return out;
}

/** Every sentence of a JSGF grammar of words, <rules>, |, [] and (), expanded directly. */
function jsgfSentences(jsgf: string, names: (w: string) => string[] = (w) => [w]): Set<string> {
  const rules = new Map<string, string>();
  let root = '';
  for (const m of jsgf.matchAll(/(public\s+)?<([^>]+)>\s*=([^;]*);/g)) {
    rules.set(m[2], m[3]);
    if (m[1] !== undefined && root === '') root = m[2];
  }
  const expand = (text: string): string[][] => {
    const tokens = text.match(/<[^>]+>|[|[\]()]|[^\s|[\]()<>]+/g) ?? [];
    let at = 0;
    const alternatives = (close?: string): string[][] => {
      const options: string[][][] = [[[]]];
      while (at < tokens.length) {
        const t = tokens[at++];
        if (t === close) break;
        const cur = options[options.length - 1];
        const seq = (parts: string[][]): void => {
          options[options.length - 1] = cur.flatMap((a) => parts.map((b) => [...a, ...b]));
        };
        if (t === '|') options.push([[]]);
        else if (t === '[') seq([[], ...alternatives(']')]);
        else if (t === '(') seq(alternatives(')'));
        else if (t.startsWith('<')) seq(expand(rules.get(t.slice(1, -1))!));
        else seq(names(t).map((n) => [n]));
      }
      return options.flat();
    };
    return alternatives();
  };
  return new Set(expand(rules.get(root)!).map((s) => s.join(' ')));
}

/** A lexicon whose phones are the letters; two readings for words ending in "n". */
class LetterLexicon implements Lexicon {
  readonly model = 'letters';
  pronounce(words: WordRequest[]): Promise<Map<string, string[]>> {
    return Promise.resolve(new Map(words.map((w) => [w.token, w.token.endsWith('n') ? ['a', 'b'] : ['a']])));
  }
}

const person = (id: number, firstName: string, lastName: string): DirectoryEntry => ({
  id: `p${id}`,
  type: 'person',
  firstName,
  lastName,
  serviceName: '',
  department: '',
  extension: String(100 + id),
  aliases: [],
  enabled: true,
});

describe('JSGF compiled to a pocketsphinx FSG (issue 14, 3)', () => {
  it('accepts exactly the sentences of the grammar: optional parts, groups, rules, shared prefixes and suffixes', () => {
    const jsgf = [
      '#JSGF V1.0;',
      'grammar t;',
      'public <u> = [<greet>] <name> [merci];',
      '<greet> = bonjour | oui bonjour;',
      '<name> = jean martin | martin jean | jean dupont | dupont jean | paul martin | martin paul | [monsieur] <last> | la (boulangerie | poissonnerie);',
      '<last> = martin | dupont | le goff;',
    ].join('\n');
    const fsg = jsgfToFsg(jsgf);
    const sentences = fsgSentences(fsg);
    expect(sentences).toEqual(jsgfSentences(jsgf));
    expect(sentences.has('oui bonjour martin jean merci')).toBe(true);
    expect(sentences.has('paul dupont')).toBe(false);
    expect(sentences.has('monsieur le goff merci')).toBe(true);
  });

  it('gives each pronunciation of a word its own dictionary word', () => {
    const jsgf = '#JSGF V1.0;\ngrammar t;\npublic <u> = jean martin | martin jean | yann;';
    const names = (w: string): string[] => (w.endsWith('n') ? [w, `${w}__p2`] : [w]);
    const sentences = fsgSentences(jsgfToFsg(jsgf, names));
    expect(sentences).toEqual(jsgfSentences(jsgf, names));
    expect(sentences.has('jean__p2 martin')).toBe(true);
    expect(sentences.size).toBe(4 + 4 + 2);
  });

  it('keeps a store grammar of 600 people the same language with a state per first name, not per person', async () => {
    const first = ['jean', 'paul', 'anne', 'yann'];
    const entries = Array.from({ length: 600 }, (_, i) => person(i, first[i % 4], `nom${i}`));
    const grammar = await buildGrammar(entries, new LetterLexicon());
    // The names alone: with greetings, leading and trailing phrases the sentences run to billions.
    const jsgf = grammar.jsgf.replace(/public <utterance> = [^;]*;/, 'public <utterance> = <name>;');
    const names = (w: string): string[] => (w.endsWith('n') ? [w, `${w}__p2`] : [w]);
    const fsg = jsgfToFsg(jsgf, names);
    // More than 256 last names between the same two states: some go through an overflow state.
    expect(fsgSentences(fsg)).toEqual(jsgfSentences(jsgf, names));
    expect(Number(/NUM_STATES (\d+)/.exec(fsg)![1])).toBeLessThan(200);
  });

  it('refuses a grammar it cannot compile, saying why', () => {
    expect(() => jsgfToFsg('#JSGF V1.0;\ngrammar t;\n<a> = b;')).toThrow('no public rule');
    expect(() => jsgfToFsg('#JSGF V1.0;\ngrammar t;\npublic <a> = <b>;')).toThrow('does not define');
    expect(() => jsgfToFsg('#JSGF V1.0;\ngrammar t;\npublic <a> = x <a>;')).toThrow('refers to itself');
    expect(() => jsgfToFsg('#JSGF V1.0;\ngrammar t;\npublic <a> = (x | y;')).toThrow('closing ")"');
    expect(() => jsgfToFsg('#JSGF V1.0;\ngrammar t;\npublic <a> = x | | y;')).toThrow('empty alternative');
  });
});

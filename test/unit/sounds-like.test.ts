import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { entryPronunciations, withSoundsLike } from '../../src/asr/grammar';
import { Lexicon, WordRequest } from '../../src/asr/lexicon';
import { formatProblem } from '../../src/directory/problem';
import { parseDirectory } from '../../src/directory/directory-file';
import { DirectoryEntry, soundsLikeSpellings } from '../../src/directory/entry';

const fixtures = join(__dirname, '..', '..', '..', 'directory-fixtures');

/** A lexicon whose "phones" are the spelling's letters: enough to see which spelling was read. */
class SpellingLexicon implements Lexicon {
  readonly model = 'letters';
  requests: WordRequest[] = [];
  pronounce(words: WordRequest[]): Promise<Map<string, string[]>> {
    this.requests.push(...words);
    return Promise.resolve(new Map(words.map((w) => [w.token, [w.spelling.replace(/\s/g, '').split('').join(' ')]])));
  }
}

const person = (lastName: string, soundsLike?: string, firstName = 'Yann'): DirectoryEntry => ({
  id: 'x',
  type: 'person',
  firstName,
  lastName,
  serviceName: '',
  department: '',
  extension: '1',
  aliases: [],
  enabled: true,
  ...(soundsLike === undefined ? {} : { soundsLike }),
});

describe('"sounds like" spellings (issue 10, 2)', () => {
  it('reads the sounds_like column, its French header and the JSON key; entries without one have none', () => {
    const { entries, problems } = parseDirectory(readFileSync(join(fixtures, 'breton-sounds-like.csv')), 'breton-sounds-like.csv');
    expect(problems).toEqual([]);
    expect(entries.find((e) => e.id === 'b01')?.soundsLike).toBe('le gof');
    expect(entries.find((e) => e.id === 'b05')?.soundsLike).toBe('krèp ri');
    expect('soundsLike' in entries.find((e) => e.id === 'b03')!).toBe(false);
    const french = parseDirectory(Buffer.from('Nom;Prénom;Poste;Prononciation\nKerhervé;Gwenaëlle;2041;kèr èr vé\n'), 'f.csv');
    expect(french.entries[0].soundsLike).toBe('kèr èr vé');
    const json = parseDirectory(
      Buffer.from(JSON.stringify([{ id: 'a', type: 'person', lastName: 'Le Goff', extension: '1', soundsLike: 'le gof' }])),
      'd.json',
    );
    expect(json.entries[0].soundsLike).toBe('le gof');
  });

  it('lines the spelling up with the words of the name, or refuses it with a message for the admin', () => {
    expect([...soundsLikeSpellings(person('Le Goff', 'le gof'))]).toEqual([
      ['le', 'le'],
      ['goff', 'gof'],
    ]);
    expect([...soundsLikeSpellings(person('Kerhervé', 'kèr èr vé'))]).toEqual([['kerherve', 'kèr èr vé']]);
    expect([...soundsLikeSpellings(person('Le Goff', 'yan le gof'))]).toEqual([
      ['yann', 'yan'],
      ['le', 'le'],
      ['goff', 'gof'],
    ]);
    expect(() => soundsLikeSpellings(person('Le Goff', 'le gof ff gg'))).toThrow('"le gof ff gg" has 4 words where "Le Goff" has 2');
    const bad = parseDirectory(Buffer.from('id,type,last_name,extension,sounds_like\na,person,Le Goff,1,a b c d\n'), 'bad.csv');
    expect(bad.entries).toEqual([]);
    expect(bad.problems.map((p) => formatProblem('bad.csv', p))).toEqual([
      'bad.csv line 2, field sounds_like: "a b c d" has 4 words where "Le Goff" has 2: give one spelling per word of the name',
    ]);
  });

  it("puts the spelling's pronunciation first and keeps the written one after it", async () => {
    const lexicon = new SpellingLexicon();
    const written = new Map([
      ['goff', ['g o f f']],
      ['le', ['l e']],
      ['martin', ['m a r t i n']],
    ]);
    const out = await withSoundsLike(written, [person('Le Goff', 'le gauffe'), person('Martin')], lexicon);
    expect(out.get('goff')).toEqual(['g a u f f e', 'g o f f']);
    expect(out.get('le')).toEqual(['l e']);
    expect(out.get('martin')).toEqual(['m a r t i n']);
    // Spellings are read the French way; a disabled entry's spelling is not used.
    expect(lexicon.requests.every((r) => r.reading === 'fr')).toBe(true);
    const disabled = { ...person('Martin', 'martine'), enabled: false };
    expect((await withSoundsLike(written, [disabled], new SpellingLexicon())).get('martin')).toEqual(['m a r t i n']);
  });

  it('shows every word of an entry with what it will be heard as', async () => {
    const [one] = await entryPronunciations([{ ...person('Kerhervé', 'kèr èr vé', 'Gwen'), aliases: ['Madame K'] }], new SpellingLexicon());
    expect(one.words.map((w) => w.token)).toEqual(['gwen', 'kerherve', 'madame', 'k']);
    expect(one.words.find((w) => w.token === 'kerherve')?.phones[0]).toBe('k è r è r v é');
  });
});

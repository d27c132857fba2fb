import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { carrierTokens } from '../../src/asr/grammar';
import { voskGrammar, voskVocabulary } from '../../src/asr/vosk';
import { DirectoryEntry } from '../../src/directory/entry';
import { DirectoryMatcher } from '../../src/directory/matcher';

const person = (id: string, first: string, last: string, extension: string): DirectoryEntry => ({
  id,
  type: 'person',
  firstName: first,
  lastName: last,
  serviceName: '',
  department: '',
  extension,
  aliases: [],
  enabled: true,
});

describe("Vosk: names outside the model's vocabulary", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'attendant-vosk-'));
    mkdirSync(join(dir, 'graph'));
    writeFileSync(
      join(dir, 'graph', 'words.txt'),
      ['<eps> 0', '#0 1', 'hervé 2', 'prodhomme 3', 'sophie 4', 'martin 5', 'le 6', 'gall 7', '[unk] 8'].join('\n'),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("restricts the recognizer to the store's names, spelled as the model spells them, when it knows every word", () => {
    const words = voskVocabulary(dir);
    expect(voskGrammar(['herve prodhomme', 'sophie martin', 'le gall'], words)).toEqual([
      'hervé prodhomme',
      'sophie martin',
      'le gall',
      '[unk]',
    ]);
  });

  it("hears a store with a name the model does not know (Guivarc'h) by free transcription, instead of dropping the name", () => {
    expect(voskGrammar(['herve prodhomme', 'yannick guivarch'], voskVocabulary(dir))).toBeUndefined();
  });

  it("finds the name in a free transcription by spelling and sound: « yannick guy var » is Yannick Guivarc'h, « monsieur le gal » Ronan Le Gall", async () => {
    const matcher = await DirectoryMatcher.create(
      [person('a', 'Yannick', "Guivarc'h", '4101'), person('b', 'Ronan', 'Le Gall', '4102'), person('c', 'Sophie', 'Martin', '4103')],
      {
        carrierWords: carrierTokens(),
        minFuzzyScore: 0.35,
      },
    );
    expect(matcher.rank([{ text: 'je voudrais parler a yannick guy var', probability: 1 }])[0]?.entry.id).toBe('a');
    expect(matcher.rank([{ text: 'monsieur le gal', probability: 1 }])[0]?.entry.id).toBe('b');
    expect(matcher.rank([{ text: 'bonjour', probability: 1 }])).toEqual([]);
  });
});

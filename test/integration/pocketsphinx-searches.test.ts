import { createHash } from 'node:crypto';
import { PocketsphinxFactory } from '../../src/asr/pocketsphinx';
import { Grammar } from '../../src/asr/grammar';
import { readAudioFile } from '../../src/media/audio-file';
import { synthesize } from '../audio/synth';

/**
 * One pocketsphinx decoder holds every grammar as a named search over one acoustic model.
 * Grammars share its dictionary: a word two grammars pronounce differently must keep each
 * grammar's own pronunciation, and come out of the hypothesis under its own spelling.
 */
const grammar = (dict: string, phrases: string[]): Grammar => {
  const jsgf = ['#JSGF V1.0;', 'grammar answers;', `public <utterance> = ${phrases.join(' | ')};`, ''].join('\n');
  return { key: createHash('sha256').update(jsgf).update(dict).digest('hex').slice(0, 16), jsgf, dict, phrases };
};

describe('grammars as searches of one pocketsphinx decoder', () => {
  const factory = new PocketsphinxFactory();
  afterAll(() => factory.close());

  it("keeps each grammar's own pronunciation of a shared word, and its spelling in the result", async () => {
    const pcm = (await readAudioFile(await synthesize({ text: 'yes', synth: 'espeak', voice: 'en-us', condition: 'clean' }))).pcm;
    const right = factory.create(grammar('yes Y EH S\n', ['yes']));
    const wrong = factory.create(grammar('yes M AA M AA\n', ['yes'])); // "yes" pronounced "mama"
    const hear = (g: ReturnType<typeof factory.create>) => {
      const d = g.open('grammar');
      d.write(pcm);
      return d.end();
    };
    const a = hear(right);
    const b = hear(wrong);
    const again = hear(right);
    // Both come out as "yes": the second grammar's private name for the word is taken off.
    expect(a.nbest[0]?.text).toBe('yes');
    expect(b.nbest[0]?.text).toBe('yes');
    // But each was searched with its own pronunciation: "mama" fits the audio of "yes" worse.
    // (Had the second grammar been given the first one's pronunciation, the scores would be equal.)
    expect(b.fitParts?.grammar).toBeLessThan(a.fitParts?.grammar ?? -Infinity);
    expect(again).toEqual(a); // and the first grammar is untouched by the second
    right.free();
    wrong.free();
  });

  it('runs the phone-loop half of an utterance with no grammar loaded, scoring as the loaded one does', async () => {
    const pcm = (await readAudioFile(await synthesize({ text: 'yes', synth: 'espeak', voice: 'en-us', condition: 'clean' }))).pcm;
    const alone = factory.openLoop();
    alone.write(pcm);
    const loop = alone.end().fitParts?.loop;
    expect(typeof loop).toBe('number');
    const withGrammar = factory.create(grammar('yes Y EH S\n', ['yes'])).open('loop');
    withGrammar.write(pcm);
    expect(withGrammar.end().fitParts?.loop).toBe(loop);
  });

  it('refuses a bad grammar when it is loaded, and goes on serving the others', async () => {
    const good = factory.create(grammar('yes Y EH S\n', ['yes']));
    expect(() =>
      factory.create({ key: 'broken', jsgf: '#JSGF V1.0;\ngrammar a;\npublic <u> = ;\n', dict: 'yes Y EH S\n', phrases: [] }),
    ).toThrow(/grammar rule <u> has an empty alternative/);
    const pcm = (await readAudioFile(await synthesize({ text: 'yes', synth: 'espeak', voice: 'en-us', condition: 'clean' }))).pcm;
    const d = good.open();
    d.write(pcm);
    expect(d.end().nbest[0]?.text).toBe('yes');
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveEngine } from '../../src/asr/engine';
import { RecognizerPool } from '../../src/asr/pool';
import {
  agreedAnswer,
  choiceAnswers,
  CHOICE_MIN_BELIEF,
  CONFIRM_MIN_BELIEF,
  confirmAnswers,
  confirmedAnswer,
  AnswerGrammar,
} from '../../src/attendant/answers';
import { loadCmudict } from '../../src/asr/store-lexicons';
import { readDirectory } from '../../src/directory/directory-file';
import { readAudioFile } from '../../src/media/audio-file';
import { synthesize } from '../audio/synth';

const root = join(__dirname, '..', '..', '..');
const demo = readDirectory(readFileSync(join(root, 'directory-fixtures', 'demo-store.csv')), 'demo-store.csv').entries;
const paulBakery = demo.find((e) => e.id === 'p02');
const paulOptics = demo.find((e) => e.id === 'p03');

describe('answers to attendant questions, on real audio', () => {
  let pool: RecognizerPool;
  let confirm: AnswerGrammar;
  let choices: AnswerGrammar;

  beforeAll(async () => {
    if (paulBakery === undefined || paulOptics === undefined) throw new Error('the demo store lost its Paul Martins');
    pool = await RecognizerPool.create(resolveEngine('pocketsphinx', undefined, 'accurate'), 2);
    confirm = await confirmAnswers(loadCmudict());
    choices = await choiceAnswers([paulBakery, paulOptics], loadCmudict());
  });
  afterAll(() => pool.close());

  const answer = async (grammar: AnswerGrammar, text: string, voice = 'en-us') => {
    const file = await synthesize({ text, synth: 'espeak', voice, condition: 'clean' });
    const session = await pool.start(grammar.grammar);
    session.write((await readAudioFile(file)).pcm);
    const result = await session.end();
    session.close();
    return grammar.interpret(result);
  };

  it.each([
    ['yes', 'en-us', 'yes'],
    ['no', 'en-us', 'no'],
    ['oui', 'fr', 'yes'],
    ['non', 'fr', 'no'],
  ])('hears "%s" (%s voice) as %s', async (text, voice, kind) => {
    expect((await answer(confirm, text, voice)).kind).toBe(kind);
  });

  it('holds no "tout à fait" among the yes phrases (the French model heard "non merci" as it), and "non merci" as a no', () => {
    expect(confirm.grammar.phrases).toContain('non merci');
    expect(confirm.grammar.phrases).not.toContain('tout a fait');
    expect(confirm.interpret({ nbest: [{ text: 'non merci', score: 0 }], confidence: 1, audioMs: 900 })).toEqual({ kind: 'no' });
  });

  it("tells homonyms apart by department, in French or in English (the department's English name too)", async () => {
    expect(await answer(choices, 'optician')).toEqual({ kind: 'choice', index: 1 });
    expect(await answer(choices, 'boulangerie', 'fr')).toEqual({ kind: 'choice', index: 0 });
    expect(await answer(choices, 'bakery')).toEqual({ kind: 'choice', index: 0 });
    expect(await answer(choices, 'the second one')).toEqual({ kind: 'choice', index: 1 });
  });

  it('hears the name said again when two different names are offered, and "oui" as unclear rather than "non"', async () => {
    const sophie = demo.find((e) => e.id === 'p04');
    const herve = demo.find((e) => e.id === 'p01');
    if (sophie === undefined || herve === undefined) throw new Error('the demo store lost Sophie Martin or Hervé Prodhomme');
    const offer = await choiceAnswers([sophie, herve], loadCmudict());
    expect(await answer(offer, 'Hervé Prodhomme', 'fr')).toEqual({ kind: 'choice', index: 1 });
    expect(await answer(offer, 'Sophie Martin')).toEqual({ kind: 'choice', index: 0 });
    expect(await answer(offer, 'Prodhomme', 'fr')).toEqual({ kind: 'choice', index: 1 });
    expect(await answer(offer, 'oui', 'fr')).toEqual({ kind: 'unclear' });
    expect(await answer(offer, 'non', 'fr')).toEqual({ kind: 'no' });
    // Homonyms' shared name is no answer: it would pick one of them at random.
    expect(choices.grammar.phrases).not.toContain('paul martin');
  });

  it('takes nothing said, or a poor fit, as unclear rather than a guess', () => {
    expect(confirm.interpret({ nbest: [], confidence: 0, audioMs: 500 })).toEqual({ kind: 'unclear' });
    expect(confirm.interpret({ nbest: [{ text: 'yes', score: 0 }], confidence: 1, audioMs: 500, fit: -6 })).toEqual({ kind: 'unclear' });
    expect(confirm.interpret({ nbest: [{ text: 'yes', score: 0 }], confidence: 1, audioMs: 500, fit: -0.5 })).toEqual({ kind: 'yes' });
  });

  it('takes a choice heard by two models only where both heard it and fit it well', () => {
    const first = { kind: 'choice', index: 0 } as const;
    const good = CHOICE_MIN_BELIEF + 0.1;
    expect(agreedAnswer([{ answer: first, belief: 0.2 }])).toEqual(first); // one model: as it heard
    expect(
      agreedAnswer([
        { answer: first, belief: good },
        { answer: first, belief: good },
      ]),
    ).toEqual(first);
    expect(
      agreedAnswer([
        { answer: first, belief: good },
        { answer: { kind: 'choice', index: 1 }, belief: good },
      ]),
    ).toEqual({ kind: 'unclear' });
    expect(
      agreedAnswer([
        { answer: first, belief: good },
        { answer: first, belief: CHOICE_MIN_BELIEF - 0.1 },
      ]),
    ).toEqual({ kind: 'unclear' });
    expect(
      agreedAnswer([
        { answer: { kind: 'no' }, belief: 0.4 },
        { answer: { kind: 'no' }, belief: 0.4 },
      ]),
    ).toEqual({ kind: 'no' });
    expect(
      agreedAnswer([
        { answer: { kind: 'no' }, belief: good },
        { answer: first, belief: good },
      ]),
    ).toEqual({ kind: 'unclear' });
  });

  it('takes a yes to a confirmation heard by two models only where both heard it and fit it well; a no where both heard no', () => {
    const yes = { kind: 'yes' } as const;
    const no = { kind: 'no' } as const;
    const good = CONFIRM_MIN_BELIEF + 0.1;
    expect(confirmedAnswer([{ answer: yes, belief: 0.35 }])).toEqual(yes); // one model: as it heard
    expect(
      confirmedAnswer([
        { answer: yes, belief: good },
        { answer: yes, belief: good },
      ]),
    ).toEqual(yes);
    expect(
      confirmedAnswer([
        { answer: yes, belief: good },
        { answer: yes, belief: CONFIRM_MIN_BELIEF - 0.1 },
      ]),
    ).toEqual({ kind: 'unclear' });
    expect(
      confirmedAnswer([
        { answer: yes, belief: good },
        { answer: no, belief: good },
      ]),
    ).toEqual({ kind: 'unclear' });
    expect(
      confirmedAnswer([
        { answer: no, belief: 0.4 },
        { answer: no, belief: 0.4 },
      ]),
    ).toEqual(no);
  });
});

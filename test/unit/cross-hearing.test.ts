import { Grammar } from '../../src/asr/grammar';
import { Lexicon, WordRequest } from '../../src/asr/lexicon';
import { RecognitionResult, Recognizer, RecognizerSession, Speed, StartOptions } from '../../src/asr/recognizer';
import {
  CROSS_RULE,
  CROSS_RULE_COMPANION_FAST,
  crossHear,
  crossLead,
  crossRuleFor,
  hearRunnerUp,
  hearUtterance,
  RUNNER_UP_RULE,
  StoreUnderstanding,
} from '../../src/attendant/understanding';
import { DirectoryEntry } from '../../src/directory/entry';

/** A lexicon whose every word is one phone: grammars are built for real, recognition is scripted. */
const lexicon = (model: string): Lexicon => ({
  model,
  pronounce: async (words: WordRequest[]) => new Map(words.map((w) => [w.token, ['AH']])),
});

const person = (id: string, firstName: string, lastName: string, extension: string): DirectoryEntry => ({
  id,
  type: 'person',
  firstName,
  lastName,
  serviceName: '',
  department: '',
  extension,
  aliases: [],
  enabled: true,
});

const ENTRIES = [
  person('p1', 'Sophie', 'Martin', '2014'),
  person('p2', 'Élodie', 'Masson', '2070'),
  person('p3', 'Paul', 'Martin', '2012'),
  person('p4', 'Paul', 'Martin', '2013'),
  person('p5', 'Hervé', 'Prodhomme', '2001'),
];

/** A first-pass result: the text heard, its fit and the phone loop's score per frame. */
const heard = (text: string, fit: number, loop = -50): RecognitionResult => ({
  nbest: [{ text, score: 0 }],
  confidence: 1,
  audioMs: 2000,
  fit,
  fitParts: { grammar: loop + fit, loop },
  fitCalibration: { midpoint: -1.65, slope: 0.54 },
});

/**
 * A recognizer whose name-grammar searches return scripted fits: `fits[model][name]`, where
 * model is the grammar's model id and name a phrase of the grammar.
 */
function scripted(
  fits: Record<string, Record<string, number>>,
  loop = -50,
): Recognizer & { searches: { model: string; name: string; part?: string }[] } {
  const searches: { model: string; name: string; part?: string }[] = [];
  return {
    engine: 'pocketsphinx',
    searches,
    close: async () => undefined,
    start: async (grammar: Grammar, options?: StartOptions): Promise<RecognizerSession> => {
      const model = grammar.model ?? 'en-us';
      const name = Object.keys(fits[model] ?? {}).find((n) => grammar.phrases.includes(n));
      searches.push({ model, name: name ?? '?', part: options?.part });
      if (name === undefined) throw new Error(`no script for ${model} in ${grammar.phrases.join(', ')}`);
      let written = 0;
      return {
        write: (pcm) => void (written += pcm.length),
        flush: async () => undefined,
        close: () => undefined,
        end: async () => {
          expect(written).toBe(320);
          return {
            nbest: [{ text: name, score: 0 }],
            confidence: 1,
            audioMs: 20,
            fitParts: { grammar: loop + fits[model][name] },
            fitCalibration: { midpoint: -1.65, slope: 0.54 },
          };
        },
      };
    },
  };
}

describe('a second hearing where the two models heard different names', () => {
  let understanding: StoreUnderstanding;
  beforeAll(async () => {
    understanding = await StoreUnderstanding.build({ store: 'demo', version: 1, entries: ENTRIES }, lexicon('fr'), lexicon('en-us'));
  });
  const audio = [new Int16Array(160), new Int16Array(160)];
  /** The first pass of the two tests of the lead: each model heard its own name over `ms` of speech. */
  const spoken = (ms: number) => [
    { ...heard('sophie martin', -1.6), speechMs: ms },
    { ...heard('elodie masson', -0.8), speechMs: ms },
  ];

  it('searches each name again with each model, grammar alone, and confirms the name both fit best', async () => {
    const first = [heard('sophie martin', -1.6), heard('elodie masson', -0.8)];
    expect(understanding.understandAll(first).decision).not.toMatchObject({ kind: 'confirm', entry: { id: 'p1' } });
    const recognizer = scripted({
      fr: { 'sophie martin': -1.0, 'elodie masson': -2.0 },
      'en-us': { 'sophie martin': -1.3, 'elodie masson': -1.2 },
    });
    const cross = await crossHear(recognizer, understanding, first, audio);
    expect(cross?.names).toEqual(['Sophie Martin', 'Élodie Masson']);
    expect(cross?.fits.map((f) => f.map((x) => Number(x?.toFixed(2))))).toEqual([
      [-1.0, -2.0],
      [-1.3, -1.2],
    ]);
    expect(recognizer.searches).toHaveLength(4);
    expect(recognizer.searches.every((s) => s.part === 'grammar')).toBe(true);
    const u = understanding.understandAll(first, undefined, undefined, cross);
    expect(u.decision).toMatchObject({ kind: 'confirm', entry: { id: 'p1' } });
  });

  it("hears the French model's runner-up where the second hearing still asks about one name, and offers both on the keypad where it fits almost as well", async () => {
    /** The first pass, each name heard again, and the French model's runner-up (the store without Sophie Martin) at `runnerUpFit`. */
    const hearing = (runnerUpFit: number, quiet?: boolean, elodieFr = -1.9) => {
      const searches: { model: string; phrases: string[]; part?: string }[] = [];
      const recognizer: Recognizer = {
        engine: 'pocketsphinx',
        ...(quiet === undefined ? {} : { quiet }),
        close: async () => undefined,
        start: async (grammar: Grammar, options?: StartOptions): Promise<RecognizerSession> => {
          const model = grammar.model ?? 'en-us';
          searches.push({ model, phrases: grammar.phrases, part: options?.part });
          const again = options?.part === 'grammar';
          // Sophie Martin fused -1.0 + 0.5 * -1.3 = -1.65, Élodie Masson -1.9 + 0.5 * -1.2 = -2.5:
          // a lead of 0.85 a frame over 0.5 s, 0.425: asked about, neither offered with the other nor put through.
          const fits: Record<string, Record<string, number>> = {
            fr: { 'sophie martin': -1.0, 'elodie masson': elodieFr },
            'en-us': { 'sophie martin': -1.3, 'elodie masson': -1.2 },
          };
          const others = grammar.phrases.includes('herve prodhomme');
          const name = others ? 'herve prodhomme' : grammar.phrases.includes('sophie martin') ? 'sophie martin' : 'elodie masson';
          const first = model === 'fr' ? heard('sophie martin', -1.6) : heard('elodie masson', -0.8);
          return {
            write: () => undefined,
            flush: async () => undefined,
            close: () => undefined,
            end: async () =>
              again
                ? {
                    nbest: [{ text: name, score: 0 }],
                    confidence: 1,
                    audioMs: 500,
                    fitParts: { grammar: -50 + (others ? runnerUpFit : fits[model][name]) },
                    fitCalibration: { midpoint: -1.65, slope: 0.54 },
                  }
                : { ...first, speechMs: 500 },
          };
        },
      };
      return { searches, heard: hearUtterance(recognizer, understanding, (send) => send(new Int16Array(320))) };
    };
    // Hervé Prodhomme fits the French model almost as well as Sophie Martin did: (-1.6 - -1.8) * 0.5 s = 0.1.
    const close = hearing(-1.8);
    const { understood, results } = await close.heard;
    expect(understood.decision.kind).toBe('disambiguate');
    expect(understood.decision.choices.map((e) => e.id)).toEqual(['p1', 'p5']);
    expect(understood.decision.keysOnly).toBe(true);
    expect(understood.candidates.slice(0, 2).map((c) => c.entry.id)).toEqual(['p1', 'p5']);
    expect(results[0].runnerUp).toMatchObject({ text: 'herve prodhomme' });
    expect(results[0].runnerUp?.fit).toBeCloseTo(-1.8);
    // Searched by the French model alone, grammar alone, in the store without the name asked about.
    const runnerUp = close.searches.filter((x) => x.phrases.includes('herve prodhomme') && x.part === 'grammar');
    expect(runnerUp).toHaveLength(1);
    expect(runnerUp[0].model).toBe('fr');
    expect(runnerUp[0].phrases).not.toContain('sophie martin');
    // Far behind (0.4 over the speech): the question about Sophie Martin stands.
    expect((await hearing(-2.4).heard).understood.decision).toMatchObject({ kind: 'confirm', entry: { id: 'p1' } });
    // Another caller's utterance being decoded: no runner-up is searched, the question stands.
    const loaded = hearing(-1.8, false);
    expect((await loaded.heard).understood.decision).toMatchObject({ kind: 'confirm', entry: { id: 'p1' } });
    expect(loaded.searches.filter((x) => x.phrases.includes('herve prodhomme') && x.part === 'grammar')).toHaveLength(0);
    expect((await hearing(-1.8, true).heard).understood.decision.kind).toBe('disambiguate');
    // Heard again, Élodie Masson as close as Sophie Martin (fused -1.7 against -1.65): both are
    // offered, and the French model's runner-up beside its own name, third, on the keypad.
    const offered = hearing(-1.8, undefined, -1.1);
    const three = (await offered.heard).understood.decision;
    expect(three.choices.map((e) => e.id)).toEqual(['p1', 'p2', 'p5']);
    expect(three.keysOnly).toBe(true);
    const third = offered.searches.filter((x) => x.phrases.includes('herve prodhomme') && x.part === 'grammar');
    expect(third.map((x) => [x.model, x.phrases.includes('sophie martin')])).toEqual([['fr', false]]);
    // Far behind, the two models' names are offered as they were.
    expect((await hearing(-2.4, undefined, -1.1).heard).understood.decision.choices.map((e) => e.id)).toEqual(['p1', 'p2']);
  });

  it("adds the French model's runner-up to the two names offered only where it is someone else, close enough, searched without the French model's own name", () => {
    const cross = {
      names: ['Sophie Martin', 'Élodie Masson'],
      fits: [
        [-1.0, -1.1],
        [-1.3, -1.2],
      ],
      speeds: ['accurate', 'accurate'] as Speed[],
    };
    const first = (runnerUp?: RecognitionResult['runnerUp']) => [
      { ...heard('sophie martin', -1.6), speechMs: 500, ...(runnerUp === undefined ? {} : { runnerUp }) },
      { ...heard('elodie masson', -0.8), speechMs: 500 },
    ];
    const decide = (runnerUp?: RecognitionResult['runnerUp']) =>
      understanding.understandAll(first(runnerUp), undefined, undefined, cross).decision;
    expect(decide()).toMatchObject({ kind: 'disambiguate', choices: [{ id: 'p1' }, { id: 'p2' }] });
    expect(decide().keysOnly).toBeUndefined();
    const three = decide({ text: 'herve prodhomme', fit: -1.8, without: 'Sophie Martin' });
    expect(three.choices.map((e) => e.id)).toEqual(['p1', 'p2', 'p5']);
    expect(three.keysOnly).toBe(true);
    // Someone offered already, a runner-up far behind, or one searched without a name not offered: as it was.
    expect(decide({ text: 'elodie masson', fit: -1.7, without: 'Sophie Martin' }).choices).toHaveLength(2);
    expect(decide({ text: 'herve prodhomme', fit: -2.4, without: 'Sophie Martin' }).choices).toHaveLength(2);
    expect(decide({ text: 'herve prodhomme', fit: -1.8, without: 'Paul Martin' }).choices).toHaveLength(2);
    // A runner-up sharing its name with others: all of them, up to four choices.
    expect(decide({ text: 'paul martin', fit: -1.7, without: 'Sophie Martin' }).choices.map((e) => e.id)).toEqual(['p1', 'p2', 'p3', 'p4']);
  });

  it('puts the name through where it leads the other by enough over the whole speech; a short word with the same lead is asked', async () => {
    // Fused: Sophie Martin -0.5 + 0.5 * -1.3 = -1.15, Élodie Masson -2.0 + 0.5 * -1.2 = -2.6: a lead of 1.45 a frame.
    const recognizer = scripted({
      fr: { 'sophie martin': -0.5, 'elodie masson': -2.0 },
      'en-us': { 'sophie martin': -1.3, 'elodie masson': -1.2 },
    });
    const cross = await crossHear(recognizer, understanding, spoken(1200), audio);
    expect(crossLead([-1.15, -2.6], 0, spoken(1200))).toBeCloseTo(1.45 * 1.2);
    expect(understanding.understandAll(spoken(1200), undefined, undefined, cross).decision).toMatchObject({
      kind: 'transfer',
      entry: { id: 'p1' },
    });
    // 0.6 s of speech: 0.87, under the rule's lead; no measure of the speech, no transfer either.
    expect(1.45 * 0.6).toBeLessThan(CROSS_RULE.transferLead as number);
    expect(understanding.understandAll(spoken(600), undefined, undefined, cross).decision).toMatchObject({
      kind: 'confirm',
      entry: { id: 'p1' },
    });
    const unmeasured = [heard('sophie martin', -1.6), heard('elodie masson', -0.8)];
    expect(understanding.understandAll(unmeasured, undefined, undefined, cross).decision).toMatchObject({
      kind: 'confirm',
      entry: { id: 'p1' },
    });
    // The evidence rules of any transfer hold: speech the line's noise drowns is asked about.
    const unclear = spoken(1200).map((r) => ({ ...r, clearSpeech: false }));
    expect(understanding.understandAll(unclear, undefined, undefined, cross).decision).toMatchObject({
      kind: 'confirm',
      entry: { id: 'p1' },
    });
    // Where the rule has no lead (the English model fast beside the French one), always asked.
    expect(
      understanding.heardAgain(understanding.understandAll(spoken(1200)), cross!, CROSS_RULE_COMPANION_FAST, spoken(1200)).decision.kind,
    ).toBe('confirm');
  });

  it('offers both names where the second hearing barely tells them apart', async () => {
    // Fused: Sophie Martin -1.0 + 0.5 * -1.2 = -1.6, Élodie Masson -1.05 + 0.5 * -1.2 = -1.65:
    // 0.05 a frame, 0.06 over 1.2 s of speech, under the rule's offerLead.
    const recognizer = scripted({
      fr: { 'sophie martin': -1.0, 'elodie masson': -1.05 },
      'en-us': { 'sophie martin': -1.2, 'elodie masson': -1.2 },
    });
    const cross = await crossHear(recognizer, understanding, spoken(1200), audio);
    expect(0.05 * 1.2).toBeLessThan(CROSS_RULE.offerLead as number);
    const offered = understanding.understandAll(spoken(1200), undefined, undefined, cross).decision;
    expect(offered.kind).toBe('disambiguate');
    expect(offered.choices.map((e) => e.id)).toEqual(['p1', 'p2']);
    // Four times the speech: a lead of 0.24, the name is asked about alone.
    expect(understanding.understandAll(spoken(4800), undefined, undefined, cross).decision).toMatchObject({
      kind: 'confirm',
      entry: { id: 'p1' },
    });
  });

  it('decides on the French model alone where the English one heard nothing at all', () => {
    const french = heard('sophie martin', -0.4);
    const nothing: RecognitionResult = { nbest: [], confidence: 0, audioMs: 2000 };
    const alone = understanding.understand(french).decision;
    expect(alone).toMatchObject({ entry: { id: 'p1' } });
    expect(understanding.understandAll([french, nothing]).decision).toEqual(alone);
    // Counted as a model that proposed nothing, the same French hearing was held down.
    expect(understanding.understandAll([french, heard('elodie masson', -0.4)]).decision).not.toEqual(alone);
  });

  it("follows the English model where its fits outweigh the French model's", async () => {
    const first = [heard('sophie martin', -1.0), heard('elodie masson', -1.2)];
    const recognizer = scripted({
      fr: { 'sophie martin': -1.0, 'elodie masson': -1.1 },
      'en-us': { 'sophie martin': -2.5, 'elodie masson': -1.2 },
    });
    const cross = await crossHear(recognizer, understanding, first, audio);
    expect(understanding.understandAll(first, undefined, undefined, cross).decision).toMatchObject({
      kind: 'confirm',
      entry: { id: 'p2' },
    });
  });

  it('asks which one when the name both fit best is shared by two entries', async () => {
    const first = [heard('paul martin', -1.0), heard('herve prodhomme', -1.2)];
    const recognizer = scripted({
      fr: { 'paul martin': -0.9, 'herve prodhomme': -2.0 },
      'en-us': { 'paul martin': -1.1, 'herve prodhomme': -1.2 },
    });
    const cross = await crossHear(recognizer, understanding, first, audio);
    const d = understanding.understandAll(first, undefined, undefined, cross).decision;
    expect(d.kind).toBe('disambiguate');
    expect(d.choices.map((e) => e.id).sort()).toEqual(['p3', 'p4']);
  });

  it("keeps the first pass's decision when no name fits well enough", async () => {
    const first = [heard('sophie martin', -3.0), heard('elodie masson', -3.5)];
    const low = CROSS_RULE.minFit - 1;
    const recognizer = scripted({
      fr: { 'sophie martin': low / 2, 'elodie masson': low },
      'en-us': { 'sophie martin': low, 'elodie masson': low },
    });
    const cross = await crossHear(recognizer, understanding, first, audio);
    expect(understanding.understandAll(first, undefined, undefined, cross).decision.kind).toBe(
      understanding.understandAll(first).decision.kind,
    );
  });

  it('searches the one name heard with both models when the other model heard no name', async () => {
    const first = [heard('sophie martin', -0.4), heard('bonjour', -1.8)];
    expect(understanding.views(first)[1].candidates).toHaveLength(0);
    const recognizer = scripted({ fr: { 'sophie martin': -0.4 }, 'en-us': { 'sophie martin': -1.9 } });
    const cross = await crossHear(recognizer, understanding, first, audio);
    expect(cross?.names).toEqual(['Sophie Martin']);
    expect(recognizer.searches.map((s) => s.model)).toEqual(['fr', 'en-us']);
    expect(understanding.understandAll(first, undefined, undefined, cross).decision).toMatchObject({
      kind: 'confirm',
      entry: { id: 'p1' },
    });
  });

  it('hears nothing again when both models heard the same name, or a search fails', async () => {
    const agree = [heard('sophie martin', -1.0), heard('sophie martin', -1.2)];
    const recognizer = scripted({ fr: {}, 'en-us': {} });
    expect(await crossHear(recognizer, understanding, agree, audio)).toBeUndefined();
    expect(recognizer.searches).toHaveLength(0);
    const first = [heard('sophie martin', -1.0), heard('elodie masson', -1.2)];
    const failing = scripted({ fr: { 'sophie martin': -1.0 }, 'en-us': {} });
    expect(await crossHear(failing, understanding, first, audio)).toBeUndefined();
  });

  it('discards a search made at another speed than the first pass (its fit is on another scale): the other model decides alone', async () => {
    const first = [heard('sophie martin', -1.0), { ...heard('elodie masson', -1.2), fitCalibration: { midpoint: -2.29, slope: 0.61 } }];
    // With the English fits, Élodie Masson would win (-1.1 + 0.5 * -1.0 > -1.0 + 0.5 * -3.0).
    const recognizer = scripted({
      fr: { 'sophie martin': -1.0, 'elodie masson': -1.1 },
      'en-us': { 'sophie martin': -3.0, 'elodie masson': -1.0 },
    });
    const cross = await crossHear(recognizer, understanding, first, audio);
    expect(cross?.fits[1]).toEqual([undefined, undefined]);
    expect(understanding.understandAll(first, undefined, undefined, cross).decision).toMatchObject({
      kind: 'confirm',
      entry: { id: 'p1' },
    });
  });

  it('compares the names on one model alone where the other cannot search one of them (a French sentence for the English model)', () => {
    const first = [heard('sophie martin', -1.0), heard('elodie masson', -1.2)];
    // The English model has a fit for Élodie Masson only: it says nothing about either.
    const cross = {
      names: ['Sophie Martin', 'Élodie Masson'],
      fits: [
        [-0.5, -1.9],
        [undefined, -1.3],
      ],
      speeds: ['accurate', 'accurate'] as Speed[],
    };
    expect(understanding.understandAll(first, undefined, undefined, cross).decision).toMatchObject({
      kind: 'confirm',
      entry: { id: 'p1' },
    });
    // Neither model with a fit for every name: the first pass stands.
    const none = {
      ...cross,
      fits: [
        [-0.5, undefined],
        [undefined, -1.3],
      ],
    };
    expect(understanding.understandAll(first, undefined, undefined, none).decision).toEqual(understanding.understandAll(first).decision);
  });

  it("hears again with the English model's fast fits where it ran fast beside the French one, on that case's rule; not where both ran fast", async () => {
    const fast = (r: RecognitionResult): RecognitionResult => ({ ...r, speed: 'fast' });
    const accurate = (r: RecognitionResult): RecognitionResult => ({ ...r, speed: 'accurate' });
    const fits = { fr: { 'sophie martin': -1.0, 'elodie masson': -2.0 }, 'en-us': { 'sophie martin': -1.3, 'elodie masson': -1.2 } };
    const mixed = [accurate(heard('sophie martin', -1.6)), fast(heard('elodie masson', -0.8))];
    const recognizer = scripted(fits);
    const cross = await crossHear(recognizer, understanding, mixed, audio);
    expect(cross?.speeds).toEqual(['accurate', 'fast']);
    expect(crossRuleFor(cross?.speeds)).toBe(CROSS_RULE_COMPANION_FAST);
    expect(understanding.understandAll(mixed, undefined, undefined, cross).decision).toMatchObject({
      kind: 'confirm',
      entry: { id: 'p1' },
    });
    // Below that rule's least fit the first pass stands.
    const low = CROSS_RULE_COMPANION_FAST.minFit - 1;
    const weak = await crossHear(
      scripted({ fr: { 'sophie martin': low, 'elodie masson': low }, 'en-us': { 'sophie martin': low, 'elodie masson': low } }),
      understanding,
      mixed,
      audio,
    );
    expect(understanding.understandAll(mixed, undefined, undefined, weak).decision).toEqual(understanding.understandAll(mixed).decision);
    // Both fast (ATTENDANT_ASR_PROFILE=fast): no rule was chosen, nothing is searched.
    const both = scripted(fits);
    expect(
      await crossHear(both, understanding, [fast(heard('sophie martin', -1.6)), fast(heard('elodie masson', -0.8))], audio),
    ).toBeUndefined();
    expect(both.searches).toHaveLength(0);
    expect(crossRuleFor(['accurate', 'accurate'])).toBe(CROSS_RULE);
  });
});

describe('a store heard by one model: the runner-up of a name it would ask about', () => {
  let understanding: StoreUnderstanding;
  beforeAll(async () => {
    understanding = await StoreUnderstanding.build({ store: 'demo', version: 1, entries: ENTRIES }, lexicon('en-us'));
  });
  /** Sophie Martin heard over `ms` of speech, fit -1.4 (asked about, not put through), and the runner-up's fit. */
  const asked = (ms: number, runnerUp?: { text: string; fit: number }): RecognitionResult => ({
    ...heard('sophie martin', -1.4),
    speechMs: ms,
    ...(runnerUp === undefined ? {} : { runnerUp }),
  });

  it('offers both, on the keypad, where the runner-up fits the speech almost as well; asks about the one name otherwise', () => {
    expect(understanding.understand(asked(500)).decision).toMatchObject({ kind: 'confirm', entry: { id: 'p1' } });
    // 0.2 a frame over 0.5 s of speech: a lead of 0.1, under the rule's.
    expect(0.2 * 0.5).toBeLessThan(RUNNER_UP_RULE.offerLead);
    const offered = understanding.understand(asked(500, { text: 'elodie masson', fit: -1.6 })).decision;
    expect(offered.kind).toBe('disambiguate');
    expect(offered.choices.map((e) => e.id)).toEqual(['p1', 'p2']);
    // One model heard the two confused: the choice is the keypad's.
    expect(offered.keysOnly).toBe(true);
    // Both are among the candidates (what `attendant recognize` shows of an offer), in the offer's order.
    const shown = understanding.understand(asked(500, { text: 'elodie masson', fit: -1.6 })).candidates.map((c) => c.entry.id);
    expect(shown.slice(0, 2)).toEqual(['p1', 'p2']);
    // The same gap a frame over 2 s of speech (0.4): the name is asked about alone.
    expect(understanding.understand(asked(2000, { text: 'elodie masson', fit: -1.6 })).decision).toMatchObject({
      kind: 'confirm',
      entry: { id: 'p1' },
    });
    // A runner-up shared by two entries: the name asked about, then both of them.
    const namesakes = understanding.understand(asked(500, { text: 'paul martin', fit: -1.45 })).decision;
    expect(namesakes.choices.map((e) => e.id)).toEqual(['p1', 'p3', 'p4']);
    // A runner-up that is no name (carrier words only) leaves the question as it was.
    expect(understanding.understand(asked(500, { text: 'please', fit: -1.4 })).decision.kind).toBe('confirm');
    // A clear name put through is never offered with another.
    const clear = { ...heard('sophie martin', -0.2), speechMs: 900, runnerUp: { text: 'elodie masson', fit: -0.25 } };
    expect(understanding.understand(clear).decision).toMatchObject({ kind: 'transfer', entry: { id: 'p1' } });
  });

  it('searches the utterance again, grammar alone, in the store without the name it would ask about', async () => {
    const searches: { phrases: string[]; part?: string }[] = [];
    let written = 0;
    const recognizer: Recognizer = {
      engine: 'pocketsphinx',
      close: async () => undefined,
      start: async (grammar: Grammar, options?: StartOptions): Promise<RecognizerSession> => {
        searches.push({ phrases: grammar.phrases, part: options?.part });
        const again = options?.part === 'grammar';
        return {
          write: (pcm) => void (written += pcm.length),
          flush: async () => undefined,
          close: () => undefined,
          end: async () =>
            again
              ? {
                  nbest: [{ text: 'elodie masson', score: 0 }],
                  confidence: 1,
                  audioMs: 500,
                  fitParts: { grammar: -51.6 },
                  fitCalibration: { midpoint: -1.65, slope: 0.54 },
                }
              : asked(500),
        };
      },
    };
    const { understood, results } = await hearUtterance(recognizer, understanding, (send) => send(new Int16Array(320)));
    expect(searches).toHaveLength(2);
    expect(searches[0].phrases).toContain('sophie martin');
    expect(searches[1]).toMatchObject({ part: 'grammar' });
    expect(searches[1].phrases).not.toContain('sophie martin');
    expect(searches[1].phrases).toContain('elodie masson');
    expect(written).toBe(640);
    // Its fit is against the first pass's phone loop: -51.6 - -50.
    expect(results[0].runnerUp?.text).toBe('elodie masson');
    expect(results[0].runnerUp?.fit).toBeCloseTo(-1.6);
    expect(understood.decision.choices.map((e) => e.id)).toEqual(['p1', 'p2']);
    // A busy pool hears nothing again: the question stands.
    searches.length = 0;
    const busy = await hearUtterance({ ...recognizer, busy: true } as Recognizer, understanding, (send) => send(new Int16Array(320)));
    expect(searches).toHaveLength(1);
    expect(busy.understood.decision).toMatchObject({ kind: 'confirm', entry: { id: 'p1' } });
    // A search that fails leaves the first pass's question.
    const failing: Recognizer = {
      ...recognizer,
      start: async (grammar, options) => {
        if (options?.part === 'grammar') throw new Error('no worker');
        return recognizer.start(grammar, options);
      },
    };
    expect(await hearRunnerUp(failing, understanding, asked(500), ENTRIES[0], [new Int16Array(320)])).toBeUndefined();
  });
});

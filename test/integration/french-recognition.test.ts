import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveEngine } from '../../src/asr/engine';
import { Cmudict } from '../../src/asr/lexicon';
import { findModels, systemModel } from '../../src/asr/models';
import { RecognizerPool } from '../../src/asr/pool';
import { Recognizer, asQuiet } from '../../src/asr/recognizer';
import { StoreLexicons } from '../../src/asr/store-lexicons';
import { agreedAnswer, choiceAnswers, confirmAnswers, hearConfirmation } from '../../src/attendant/answers';
import { decodeAll, hearUtterance, StoreUnderstanding } from '../../src/attendant/understanding';
import { loadCmudict } from '../../src/asr/store-lexicons';
import { recognizePcm } from '../../src/attendant/understanding';
import { readDirectory } from '../../src/directory/directory-file';
import { readAudioFile } from '../../src/media/audio-file';
import { synthesize } from '../audio/synth';
import { frenchModelsDir } from './shared-models';

const root = join(__dirname, '..', '..', '..');
const fixtures = join(root, 'directory-fixtures');
const entriesOf = (file: string) => readDirectory(readFileSync(join(fixtures, file)), file).entries;
const modelsDir = frenchModelsDir('French recognition');
const maybe = modelsDir === undefined ? describe.skip : describe;

maybe('a French store heard by the French model and the US English one', () => {
  const system = systemModel();
  const models = findModels(modelsDir ?? '').models.filter((m) => m.engine === 'pocketsphinx');
  const catalog = { models: [...(system === undefined ? [] : [system]), ...models], problems: [] };
  const lexicons = new StoreLexicons(loadCmudict(), catalog);
  let pool: RecognizerPool;
  let understanding: StoreUnderstanding;

  beforeAll(async () => {
    pool = await RecognizerPool.create(resolveEngine('pocketsphinx', undefined, 'accurate', catalog.models), 2);
    understanding = await StoreUnderstanding.build(
      { store: 'demo', version: 1, entries: entriesOf('demo-store.csv') },
      ...lexicons.forLocale('fr-FR'),
    );
  });
  afterAll(() => pool.close());

  const hear = async (text: string, voice = 'fr') => {
    const audio = await readAudioFile(await synthesize({ text, synth: 'espeak', voice, condition: 'clean' }));
    return (await recognizePcm(asQuiet(pool), understanding, audio.pcm)).understanding;
  };

  it('builds one grammar per model: French first, with French phones for every word', () => {
    expect(understanding.models).toEqual([models.find((m) => m.locale === 'fr-FR')?.id, 'en-us']);
    const phones = new Set(models.find((m) => m.locale === 'fr-FR')?.phones);
    for (const line of understanding.grammars[0].dict.trim().split('\n')) {
      for (const phone of line.split(/\s+/).slice(1)) expect(phones.has(phone) ? phone : `${line}: ${phone}`).toBe(phone);
    }
  });

  it("puts a French caller saying 'Hervé Prodhomme' through to 2001, both models agreeing", async () => {
    const u = await hear('Hervé Prodhomme');
    expect(['transfer', 'confirm']).toContain(u.decision.kind);
    expect(u.decision.entry?.extension).toBe('2001');
    expect(u.models?.map((m) => m.top?.entry.id)).toEqual(['p01', 'p01']);
  });

  it("asks a French caller about 'Sophie Martin' first when the English model heard Élodie Masson: both models search each name again", async () => {
    // espeak-ng's French voice saying "Sophie Martin": the French model hears her, the US
    // English one "Élodie Masson" (docs/benchmarks.md). Without the second hearing the caller
    // was offered both names, Élodie Masson as likely as her. Heard again, the French model
    // leads for her by 0.15 per frame with its mean over the speech (cepstral-mean.ts; 0.24
    // with batch CMN), the English one for Élodie Masson by 0.18: the two together stay
    // within CROSS_RULE's offerLead, and she is offered first of the two (« Sophie Martin
    // ou Élodie Masson ? », bench:calls --voice fr) where she was asked about alone.
    const audio = await readAudioFile(await synthesize({ text: 'Sophie Martin', synth: 'espeak', voice: 'fr', condition: 'clean' }));
    const { understood, results, cross } = await hearUtterance(asQuiet(pool), understanding, (send) => send(audio.pcm));
    const tops = understanding.views(results).map((v) => v.candidates[0]?.entry.id);
    console.log(
      `"Sophie Martin" (fr): first pass ${JSON.stringify(tops)}, second hearing ${JSON.stringify(cross)}, decision ${understood.decision.kind} ${understood.decision.entry?.id ?? ''}`,
    );
    expect(cross?.names).toEqual(expect.arrayContaining(['Sophie Martin']));
    expect(cross?.fits.flat().every((f) => typeof f === 'number')).toBe(true);
    expect(['confirm', 'disambiguate']).toContain(understood.decision.kind);
    expect(understood.decision.entry?.id ?? understood.decision.choices[0]?.id).toBe('p04');
    expect(understood.candidates[0].entry.id).toBe('p04');
  });

  it('hears the answer to an offer of two names with both models, and puts through only the name both heard', async () => {
    const entries = entriesOf('demo-store.csv');
    const offer = [entries.find((e) => e.id === 'p04')!, entries.find((e) => e.id === 'p01')!]; // Sophie Martin, Hervé Prodhomme
    const grammars = await Promise.all(understanding.lexicons.map((l) => choiceAnswers(offer, l)));
    expect(grammars.map((g) => g.grammar.model ?? 'en-us')).toEqual(understanding.models);
    const answer = async (text: string) => {
      const audio = await readAudioFile(await synthesize({ text, synth: 'espeak', voice: 'fr', condition: 'clean' }));
      const results = await decodeAll(
        pool,
        grammars.map((g) => g.grammar),
        (send) => send(audio.pcm),
      );
      return agreedAnswer(grammars.map((g, i) => g.hear(results[i])));
    };
    expect(await answer('Hervé Prodhomme')).toEqual({ kind: 'choice', index: 1 });
    expect(await answer('oui')).toEqual({ kind: 'unclear' });
    expect(await answer('non')).toEqual({ kind: 'no' });
  });

  it("under load hears the caller with the store's own French model alone, at its fast speed, and still never transfers an absent name", async () => {
    const fast = await RecognizerPool.create(resolveEngine('pocketsphinx', undefined, 'fast', catalog.models), 1);
    try {
      const started: (string | undefined)[] = [];
      const busy: Recognizer = {
        engine: fast.engine,
        busy: true,
        close: async () => undefined,
        start: (g, o) => (started.push(g.model ?? 'en-us'), fast.start(g, o)),
      };
      const say = async (text: string, voice = 'fr') => {
        const audio = await readAudioFile(await synthesize({ text, synth: 'espeak', voice, condition: 'clean' }));
        const { understood, results } = await hearUtterance(busy, understanding, (send) => send(audio.pcm));
        return { understanding: understood, results };
      };
      const french = models.find((m) => m.locale === 'fr-FR')?.id;
      const heard = await say('Sophie Martin');
      expect(started).toEqual([french]);
      expect(heard.results.map((r) => r.speed)).toEqual(['fast']);
      expect(heard.understanding.models).toBeUndefined(); // one model's own decision, on its own calibration
      // The recording the US English model hears as "Élodie Masson" (above); and the English
      // voice, heard through the names' English readings.
      expect(heard.understanding.decision).toMatchObject({ kind: 'confirm', entry: { extension: '2014' } });
      expect((await say('Sophie Martin', 'en-us')).understanding.decision).toMatchObject({ entry: { extension: '2014' } });
      for (const absent of ['Bernard Lemoine', 'Gwenaëlle Kerbrat'])
        expect((await say(absent)).understanding.decision.kind).not.toBe('transfer');
    } finally {
      await fast.close();
    }
  });

  it('never transfers a name that is not in the directory', async () => {
    for (const name of ['Bernard Lemoine', 'Océane Marty']) expect((await hear(name)).decision.kind).not.toBe('transfer');
  });

  it("pronounces Breton surnames the dictionary lacks, c'h and oa included, in French phones", async () => {
    const lexicon = lexicons.forLocale('fr-FR')[0];
    const prons = await lexicon.pronounce([
      { token: 'floch', spelling: "floc'h", reading: 'both' },
      { token: 'coat', spelling: 'coatanroch', reading: 'both' },
      { token: 'kervella', spelling: 'kervella', reading: 'both' },
    ]);
    expect(prons.get('floch')).toEqual(expect.arrayContaining(['ff ll au kk']));
    expect(prons.get('coat')?.some((p) => p.startsWith('kk ww aa'))).toBe(true);
    expect(prons.get('kervella')?.[0]).toMatch(/^kk ai rr vv ai ll aa/);
  });

  it("hears a name said otherwise than it is written once the entry has a 'sounds like' spelling", async () => {
    // A Flemish surname of the Nord: written Dewaele (espeak-ng reads it the English way),
    // said "Devaèle". The caller says it as said; the store is built twice, without and with
    // the entry's sounds_like.
    const entries = entriesOf('demo-store.csv');
    const extra = {
      id: 'p99',
      type: 'person' as const,
      firstName: 'Marc',
      lastName: 'Dewaele',
      serviceName: '',
      department: 'Jardin',
      extension: '2099',
      aliases: [],
      enabled: true,
    };
    const heardBy = async (soundsLike?: string) => {
      const store = await StoreUnderstanding.build(
        { store: 'nord', version: 1, entries: [...entries, { ...extra, soundsLike }] },
        ...lexicons.forLocale('fr-FR'),
      );
      const decisions = [];
      for (const voice of ['fr', 'fr+m3', 'fr+f2']) {
        const audio = await readAudioFile(await synthesize({ text: 'Marc Devaèle', synth: 'espeak', voice, condition: 'clean' }));
        const u = (await recognizePcm(asQuiet(pool), store, audio.pcm)).understanding;
        decisions.push(u.decision.entry?.id ?? u.decision.choices.map((e) => e.id).join('|'));
      }
      return decisions;
    };
    const before = await heardBy();
    const after = await heardBy('Marc Devaèle');
    console.log(`Marc Dewaele said "Devaèle": without sounds_like ${JSON.stringify(before)}, with ${JSON.stringify(after)}`);
    // Put through, confirmed, or offered among two: the caller can reach the entry.
    const reached = (ds: string[]) => ds.filter((d) => d.split('|').includes('p99')).length;
    expect(reached(after)).toBeGreaterThan(reached(before));
    expect(reached(after)).toBeGreaterThanOrEqual(2);
  });

  it('hears an English store with the US English model alone', () => {
    expect(lexicons.forLocale('en-US').map((l) => l.model)).toEqual(['en-us']);
    expect(
      new StoreLexicons(Cmudict.loadIfPresent('/nonexistent'), { models: system === undefined ? [] : [system], problems: [] })
        .forLocale('fr-FR')
        .map((l) => l.model),
    ).toEqual(['en-us']);
  });

  it('hears "oui" and "non" to a confirmation with both models, the English one searching its yes/no grammar alone, on the French one\'s worker', async () => {
    const grammars = await Promise.all(lexicons.forLocale('fr-FR').map((l) => confirmAnswers(l)));
    // Which worker each session is opened on, through the pool's own choice.
    const starts: { part?: string; whole?: boolean; beside: boolean }[] = [];
    const watching: Recognizer = {
      engine: pool.engine,
      start: (g, o) => (starts.push({ part: o?.part, whole: o?.whole, beside: o?.beside !== undefined }), pool.start(g, o)),
      close: async () => undefined,
    };
    for (const [text, kind] of [
      ['oui', 'yes'],
      ['non', 'no'],
    ] as const) {
      const audio = await readAudioFile(await synthesize({ text, synth: 'espeak', voice: 'fr', condition: 'clean' }));
      const { answer, results } = await hearConfirmation(watching, grammars, audio.pcm);
      expect(answer.kind).toBe(kind);
      expect(results[0].fit).toBeDefined(); // the French model's fit gives the belief
      expect(results[1].fit).toBeUndefined(); // the English model: its grammar alone
      expect(grammars[1].hear(results[1]).answer.kind).toBe(kind);
    }
    expect(starts.slice(0, 2)).toEqual([
      { part: undefined, whole: true, beside: false },
      { part: 'grammar', whole: true, beside: true },
    ]);
  });
});

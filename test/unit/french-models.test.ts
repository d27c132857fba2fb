import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bretonSpellings, FrenchLexicon, ipaToFrench } from '../../src/asr/french-lexicon';
import { Cmudict } from '../../src/asr/lexicon';
import { findModels, pocketsphinxModelFor, readModel } from '../../src/asr/models';
import { areaUnderRoc, combineModels, EntryFeatures, fitWeights, ModelView, score } from '../../src/attendant/confidence';
import { DirectoryEntry } from '../../src/directory/entry';
import { offerBoth } from '../../src/attendant/understanding';

const FRENCH_PHONES = new Set(
  'aa ai an au bb ch dd ee ei eu ff gg gn ii in jj kk ll mm nn oe on oo ou pp rr ss tt un uu uy vv ww yy zz'.split(' '),
);

/** The readings a French lexicon over a dictionary of `dictText` gives `words` (a token each, spelled as it is). */
async function pronounced(dictText: string, words: [string, 'fr' | 'both'][]): Promise<Map<string, string[]>> {
  const dir = mkdtempSync(join(tmpdir(), 'attendant-frdict-'));
  try {
    const dict = join(dir, 'fr.dict');
    writeFileSync(dict, dictText);
    const lexicon = new FrenchLexicon('fr-test', Cmudict.load(dict, 'fr-test'));
    return await lexicon.pronounce(words.map(([w, reading]) => ({ token: w, spelling: w, reading })));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('espeak-ng IPA in the French model phones', () => {
  it.each([
    ['ɛʁvˈe', 'ai rr vv ei'],
    ['pʁodˈɔm', 'pp rr oo dd au mm'],
    ['kɛʁʒˈɑ̃', 'kk ai rr jj an'],
    ['lə- ɡˈɔf', 'll ee gg au ff'],
    ['bulɑ̃ʒʁˈi', 'bb ou ll an jj rr ii'],
  ])('reads %s as %s', (ipa, phones) => {
    expect(ipaToFrench(ipa).join(' ')).toBe(phones);
  });

  it("drops espeak's switches to its English voice and keeps phones of the French set", () => {
    const phones = ipaToFrench('lə- (en)flˈɒk(fr)');
    expect(phones.join(' ')).toBe('ll ee ff ll au kk');
    for (const p of ipaToFrench('(en)kˈəʊt(fr) ðə θɪŋ dʒɔɪ tʃɜːtʃ ŋ')) expect(FRENCH_PHONES.has(p)).toBe(true);
  });

  it('hears a name the way an English speaker says it too, after its French readings, and a French word only in French', async () => {
    const prons = await pronounced('martin mm aa rr tt in\nbonjour bb on jj ou rr\n', [
      ['martin', 'both'],
      ['bonjour', 'fr'],
      ['kerjean', 'both'],
    ]);
    // espeak-ng's English voice: mˈɑːɹtɪn.
    expect(prons.get('martin')).toEqual(['mm aa rr tt in', 'mm aa rr tt ii nn']);
    expect(prons.get('bonjour')).toEqual(['bb on jj ou rr']);
    const kerjean = prons.get('kerjean')!;
    expect(kerjean[0]).toBe('kk ai rr jj an');
    expect(kerjean.length).toBeGreaterThan(1);
    expect(kerjean.length).toBeLessThanOrEqual(4);
    for (const p of kerjean.flatMap((x) => x.split(' '))) expect(FRENCH_PHONES.has(p)).toBe(true);
  });

  it("spells Breton c'h and oa the way they are said", () => {
    expect(bretonSpellings("Floc'h")).toEqual(expect.arrayContaining(['flok', 'flor']));
    expect(bretonSpellings('Coat')).toContain('couat');
    expect(bretonSpellings('Martin')).toEqual([]);
  });
});

describe('models by locale', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'attendant-models-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const pocketsphinxModel = (
    dir: string,
    mdef = '0.3\n2 n_base\n0 n_tri\n  SIL - - - filler 0 0 1 2 N\n  aa - - - n/a 1 3 4 5 N\n',
  ): void => {
    mkdirSync(dir, { recursive: true });
    for (const f of ['means', 'variances', 'mixture_weights', 'transition_matrices', 'noisedict']) writeFileSync(join(dir, f), 'x');
    writeFileSync(join(dir, 'mdef'), mdef);
    writeFileSync(join(dir, 'feat.params'), '-upperf 3700\n');
  };

  it('tells a French 8 kHz model from its folder name and finds the dictionary beside it', () => {
    pocketsphinxModel(join(root, 'fr-ptm-8khz-ci'));
    writeFileSync(join(root, 'fr.dict'), 'bonjour bb on jj ou rr\n');
    const model = readModel(join(root, 'fr-ptm-8khz-ci'));
    expect(model).toMatchObject({
      id: 'fr-ptm-8khz-ci',
      engine: 'pocketsphinx',
      locale: 'fr-FR',
      sampleRate: 8000,
      source: 'layout',
      phones: ['aa'],
    });
    expect(model.dictionary).toBe(join(root, 'fr.dict'));
  });

  it('takes what a manifest says over the layout', () => {
    pocketsphinxModel(join(root, 'custom'));
    writeFileSync(join(root, 'custom', 'lex.dict'), 'a aa\n');
    writeFileSync(join(root, 'custom', 'model.json'), JSON.stringify({ locale: 'fr-FR', sampleRate: 16000 }));
    expect(readModel(join(root, 'custom'))).toMatchObject({ locale: 'fr-FR', sampleRate: 16000, source: 'manifest' });
  });

  it('reports a partial model, a bad manifest and an unknown locale, and keeps the good ones', () => {
    pocketsphinxModel(join(root, 'fr-good'));
    writeFileSync(join(root, 'fr-good', 'fr.dict'), 'a aa\n');
    pocketsphinxModel(join(root, 'fr-partial'));
    rmSync(join(root, 'fr-partial', 'means'));
    pocketsphinxModel(join(root, 'mystery'));
    mkdirSync(join(root, 'broken'));
    writeFileSync(join(root, 'broken', 'model.json'), '{');
    const { models, problems } = findModels(root);
    expect(models.map((m) => m.id)).toEqual(['fr-good']);
    expect(problems.join('\n')).toMatch(/fr-partial: a PocketSphinx model needs means/);
    expect(problems.join('\n')).toMatch(/broken: model.json is not valid JSON/);
    expect(problems.join('\n')).toMatch(/mystery: its locale cannot be told/);
  });

  it("gives a store of a locale without a model of its own Debian's US English model", () => {
    pocketsphinxModel(join(root, 'fr-x'));
    writeFileSync(join(root, 'fr-x', 'fr.dict'), 'a aa\n');
    const fr = readModel(join(root, 'fr-x'));
    const system = { ...fr, id: 'en-us', locale: 'en-US' as const, source: 'system' as const };
    const catalog = { models: [system, fr], problems: [] };
    expect(pocketsphinxModelFor(catalog, 'fr-FR')?.id).toBe('fr-x');
    expect(pocketsphinxModelFor(catalog, 'en-US')?.id).toBe('en-us');
    expect(pocketsphinxModelFor({ models: [system], problems: [] }, 'fr-FR')?.id).toBe('en-us');
  });
});

describe('one decision from two models', () => {
  const entry = (id: string): DirectoryEntry => ({
    id,
    type: 'person',
    firstName: '',
    lastName: id,
    serviceName: '',
    department: '',
    extension: id,
    aliases: [],
    enabled: true,
  });
  const view = (model: string, ...scores: [string, number][]): ModelView => ({
    model,
    transcript: '',
    result: { nbest: [], confidence: 0, audioMs: 1000 },
    candidates: scores.map(([id, s]) => ({ entry: entry(id), score: s })),
  });

  it('believes an entry both models put first more than one they dispute', () => {
    const agreed = combineModels([view('fr', ['a', 0.6]), view('en', ['a', 0.5])]);
    const disputed = combineModels([view('fr', ['a', 0.6]), view('en', ['b', 0.5])]);
    expect(agreed[0].entry.id).toBe('a');
    expect(agreed[0].score).toBeGreaterThan(disputed[0].score);
    expect(disputed.map((c) => c.entry.id).sort()).toEqual(['a', 'b']);
  });

  it('offers both entries when the models heard different ones and would otherwise ask the caller to repeat', () => {
    const views = [view('fr', ['a', 0.3]), view('en', ['b', 0.35])];
    const combined = combineModels(views);
    const reprompt = { kind: 'reprompt' as const, choices: [], confidence: 0.2, reason: 'low' };
    const offered = offerBoth(reprompt, views, combined);
    expect(offered.kind).toBe('disambiguate');
    expect(offered.choices.map((e) => e.id)).toEqual(combined.map((c) => c.entry.id));
    // Agreement, one model hearing nothing, or an answer other than "repeat" are left as they were.
    expect(offerBoth(reprompt, [view('fr', ['a', 0.3]), view('en', ['a', 0.2])], combined).kind).toBe('reprompt');
    expect(offerBoth(reprompt, [view('fr', ['a', 0.3]), view('en')], combined).kind).toBe('reprompt');
    const confirm = { kind: 'confirm' as const, entry: entry('a'), choices: [], confidence: 0.6, reason: 'likely' };
    expect(offerBoth(confirm, views, combined)).toBe(confirm);
  });

  it('offers every entry that shares a name one model heard, so that homonyms are asked apart', () => {
    const named = (id: string, lastName: string): DirectoryEntry => ({ ...entry(id), lastName });
    const fr: ModelView = {
      ...view('fr'),
      candidates: [
        { entry: named('p02', 'Martin'), score: 0.3 },
        { entry: named('p03', 'Martin'), score: 0.29 },
      ],
    };
    const en: ModelView = { ...view('en'), candidates: [{ entry: named('s06', 'SAV'), score: 0.25 }] };
    const combined = combineModels([fr, en]);
    const reprompt = { kind: 'reprompt' as const, choices: [], confidence: 0.2, reason: 'low' };
    expect(
      offerBoth(reprompt, [fr, en], combined)
        .choices.map((e) => e.id)
        .sort(),
    ).toEqual(['p02', 'p03', 's06']);
  });

  it('fits weights that rank the meant entries first, and measures them by the area under the ROC curve', () => {
    const rows: EntryFeatures[] = [];
    const labels: number[] = [];
    for (let i = 0; i < 200; i += 1) {
      const right = i % 2 === 0;
      rows.push({
        first: right ? 1 + (i % 7) / 7 : -1 + (i % 5) / 5,
        second: right ? 0.5 : -0.5,
        agree: right && i % 3 !== 0 ? 1 : 0,
        contested: right ? 0 : 1,
        margin: right ? 0.3 : -0.1,
      });
      labels.push(right ? 1 : 0);
    }
    const w = fitWeights(rows, labels);
    const scores = rows.map((r) => score(r, w));
    expect(areaUnderRoc(scores, labels)).toBeGreaterThan(0.95);
    expect(
      areaUnderRoc(
        scores.map((s) => -s),
        labels,
      ),
    ).toBeLessThan(0.05);
    expect(areaUnderRoc([0.5, 0.5], [1, 0])).toBe(0.5);
  });
});

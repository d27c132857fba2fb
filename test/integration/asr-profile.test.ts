import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PocketsphinxFactory } from '../../src/asr/pocketsphinx';
import { PocketsphinxProfile } from '../../src/asr/pocketsphinx-tuning';
import { DEFAULT_FIT_CALIBRATION } from '../../src/asr/recognizer';
import { StoreUnderstanding, fitToBelief } from '../../src/attendant/understanding';
import { loadCmudict } from '../../src/asr/store-lexicons';
import { recognizePcm } from '../../src/attendant/understanding';
import { resolveEngine } from '../../src/asr/engine';
import { RecognizerPool } from '../../src/asr/pool';
import { loadSettings, SettingsError } from '../../src/config/settings';
import { readDirectory } from '../../src/directory/directory-file';
import { readAudioFile } from '../../src/media/audio-file';
import { synthesize } from '../audio/synth';

/**
 * ATTENDANT_ASR_PROFILE: `accurate` (the default) and `fast` (narrower grammar beams, a
 * loop of context-independent phones) score on different scales, so each result says how
 * its fit reads as a belief. Both must route the same callers and reject the same absent name.
 */
const root = join(__dirname, '..', '..', '..');
const fixtures = join(root, 'directory-fixtures');
const demo = readDirectory(readFileSync(join(fixtures, 'demo-store.csv')), 'demo-store.csv').entries;

describe.each<PocketsphinxProfile>(['accurate', 'fast'])('the %s pocketsphinx profile', (profile) => {
  let factory: PocketsphinxFactory;
  let understanding: StoreUnderstanding;

  beforeAll(async () => {
    factory = new PocketsphinxFactory(undefined, profile);
    understanding = await StoreUnderstanding.build({ store: 'demo', version: 1, entries: demo }, loadCmudict());
  });
  afterAll(() => factory.close());

  const hear = async (file: string) => {
    const decoder = factory.create(understanding.grammar).open();
    decoder.write((await readAudioFile(file)).pcm);
    const result = decoder.end();
    return { result, understood: understanding.understand(result) };
  };

  it('routes Sophie Martin to 2014 and the pharmacy to 2200, with its own calibration', async () => {
    const sophie = await hear(join(fixtures, 'audio', 'sophie-martin.wav'));
    expect(sophie.understood.decision.entry?.extension).toBe('2014');
    expect(['transfer', 'confirm']).toContain(sophie.understood.decision.kind);
    expect(sophie.result.fitCalibration).toEqual(profile === 'accurate' ? DEFAULT_FIT_CALIBRATION : { midpoint: -2.29, slope: 0.61 });
    const pharmacy = await hear(join(fixtures, 'audio', 'pharmacy.wav'));
    expect(pharmacy.understood.decision.entry?.id).toBe('s01');
  });

  it('does not transfer a caller asking for someone the store does not have', async () => {
    const file = await synthesize({ text: 'Je voudrais parler à Gérard Depardieu', synth: 'espeak', voice: 'fr', condition: 'clean' });
    const { understood } = await hear(file);
    expect(understood.decision.kind).not.toBe('transfer');
  });
});

describe('fit calibration', () => {
  it('reads one fit as a different belief under each calibration', () => {
    expect(fitToBelief(-1.65)).toBeCloseTo(0.5);
    expect(fitToBelief(-2.29, { midpoint: -2.29, slope: 0.61 })).toBeCloseTo(0.5);
    expect(fitToBelief(-1.65, { midpoint: -2.29, slope: 0.61 })).toBeGreaterThan(0.7);
  });

  it('takes auto by default and refuses an unknown profile at start', () => {
    expect(loadSettings({}).asrProfile).toBe('auto');
    expect(loadSettings({ ATTENDANT_ASR_PROFILE: 'accurate' }).asrProfile).toBe('accurate');
    expect(loadSettings({ ATTENDANT_ASR_PROFILE: 'fast' }).asrProfile).toBe('fast');
    expect(() => loadSettings({ ATTENDANT_ASR_PROFILE: 'quick' })).toThrow(SettingsError);
    expect(() => loadSettings({ ATTENDANT_ASR_PROFILE: 'quick' })).toThrow(/use auto, accurate or fast/);
  });
});

describe('the auto profile', () => {
  it('decodes at either speed, each result read on its own scale', async () => {
    const factory = new PocketsphinxFactory(undefined, 'auto');
    try {
      const understanding = await StoreUnderstanding.build({ store: 'demo', version: 1, entries: demo }, loadCmudict());
      const pcm = (await readAudioFile(join(fixtures, 'audio', 'sophie-martin.wav'))).pcm;
      const grammar = factory.create(understanding.grammar);
      for (const speed of ['accurate', 'fast'] as const) {
        const decoder = grammar.open('both', speed);
        decoder.write(pcm);
        const result = decoder.end();
        expect(result.fitCalibration).toEqual(speed === 'accurate' ? DEFAULT_FIT_CALIBRATION : { midpoint: -2.29, slope: 0.61 });
        expect(understanding.understand(result).decision.entry?.extension).toBe('2014');
      }
    } finally {
      factory.close();
    }
  });

  it('decodes accurately while the workers keep up, fast for utterances that would wait', async () => {
    const pool = await RecognizerPool.create(resolveEngine('pocketsphinx', undefined, 'auto'), 2);
    try {
      const understanding = await StoreUnderstanding.build({ store: 'demo', version: 1, entries: demo }, loadCmudict());
      const pcm = (await readAudioFile(join(fixtures, 'audio', 'sophie-martin.wav'))).pcm;
      for (let i = 0; i < 3; i += 1) await recognizePcm(pool, understanding, pcm);
      expect(pool.fastUtterances).toBe(0);
      const together = await Promise.all([1, 2, 3, 4].map(() => recognizePcm(pool, understanding, pcm)));
      expect(pool.fastUtterances).toBeGreaterThan(0);
      for (const { understanding: u } of together) expect(u.decision.entry?.extension).toBe('2014');
    } finally {
      await pool.close();
    }
  });

  it("hears a quiet pool's utterance with its second grammar (another model's) at the first one's speed, and a second search at the speed asked", async () => {
    // Before: the second model's session saw the first one counted and was decoded fast, on
    // an idle pool, unlike what bench:accuracy measures.
    const pool = await RecognizerPool.create(resolveEngine('pocketsphinx', undefined, 'auto'), 2);
    try {
      const understanding = await StoreUnderstanding.build({ store: 'demo', version: 1, entries: demo }, loadCmudict());
      const pcm = (await readAudioFile(join(fixtures, 'audio', 'sophie-martin.wav'))).pcm;
      const first = await pool.start(understanding.grammar);
      const second = await pool.start(understanding.grammar, { also: true });
      for (const s of [first, second]) s.write(pcm);
      const results = await Promise.all([first.end(), second.end()]);
      expect(results.map((r) => r.speed)).toEqual(['accurate', 'accurate']);
      expect(pool.fastUtterances).toBe(0);
      const search = await pool.start(understanding.grammar, { also: true, part: 'grammar', speed: 'fast' });
      search.write(pcm);
      const alone = await search.end();
      expect(alone.speed).toBe('fast');
      expect(alone.fit).toBeUndefined(); // no phone loop: the grammar's score alone
      expect(alone.fitParts?.grammar).toBeLessThan(0);
      expect(results[0].fitParts?.loop).toBeLessThan(0);
      // An utterance that starts while another is decoded, or right after one started, has its
      // second model decoded fast: on a busy host the next ones are coming (bench:calls).
      const other = await pool.start(understanding.grammar);
      const next = await pool.start(understanding.grammar);
      const companion = await pool.start(understanding.grammar, { also: true });
      for (const s of [other, next, companion]) s.write(pcm);
      expect((await Promise.all([other.end(), next.end(), companion.end()])).map((r) => r.speed)).toEqual(['accurate', 'fast', 'fast']);
    } finally {
      await pool.close();
    }
  });
});

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveEngine } from '../../src/asr/engine';
import { RecognizerPool } from '../../src/asr/pool';
import { StoreUnderstanding } from '../../src/attendant/understanding';
import { loadCmudict } from '../../src/asr/store-lexicons';
import { recognizePcm } from '../../src/attendant/understanding';
import { run } from '../../src/cli/main';
import { readDirectory } from '../../src/directory/directory-file';
import { readAudioFile } from '../../src/media/audio-file';
import { synthesize } from '../audio/synth';

const root = join(__dirname, '..', '..', '..');
const fixtures = join(root, 'directory-fixtures');
const demo = readDirectory(readFileSync(join(fixtures, 'demo-store.csv')), 'demo-store.csv').entries;

describe('recognition with PocketSphinx on telephone audio', () => {
  let pool: RecognizerPool;
  let understanding: StoreUnderstanding;

  beforeAll(async () => {
    pool = await RecognizerPool.create(resolveEngine('pocketsphinx', undefined, 'accurate'), 2);
    understanding = await StoreUnderstanding.build({ store: 'demo', version: 1, entries: demo }, loadCmudict());
  });
  afterAll(() => pool.close());

  const hear = async (file: string) => {
    const audio = await readAudioFile(file);
    return (await recognizePcm(pool, understanding, audio.pcm)).understanding;
  };

  it("routes a caller who says 'I'd like to speak to Sophie Martin, please' to extension 2014", async () => {
    const u = await hear(join(fixtures, 'audio', 'sophie-martin.wav'));
    expect(u.transcript).toContain('sophie martin');
    expect(['transfer', 'confirm']).toContain(u.decision.kind);
    expect(u.decision.entry?.extension).toBe('2014');
  });

  it("routes a caller who says 'the pharmacy' to the Pharmacie service, 2200", async () => {
    const u = await hear(join(fixtures, 'audio', 'pharmacy.wav'));
    expect(u.decision.entry?.id).toBe('s01');
  });

  it('asks again, naming nobody, when the caller says nothing', async () => {
    const u = await hear(join(fixtures, 'audio', 'silence.wav'));
    expect(u.decision.kind).toBe('reprompt');
    expect(u.decision.entry).toBeUndefined();
  });

  it('never transfers on line noise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attendant-noise-'));
    try {
      const noise = join(dir, 'noise.wav');
      execFileSync('sox', ['-R', '-n', '-r', '8000', '-c', '1', '-e', 'u-law', noise, 'synth', '2', 'pinknoise', 'vol', '0.3']);
      const u = await hear(noise);
      expect(u.decision.kind).not.toBe('transfer');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('recognizes generated speech in another voice (flite, µ-law, 8 kHz)', async () => {
    const file = await synthesize({ text: 'the pharmacy please', synth: 'flite', voice: 'rms', condition: 'clean' });
    const u = await hear(file);
    expect(u.decision.entry?.id).toBe('s01');
  });

  it('gives the same answers to concurrent calls of one store as to calls one by one', async () => {
    const files = ['sophie-martin.wav', 'pharmacy.wav', 'silence.wav', 'sophie-martin.wav'].map((f) => join(fixtures, 'audio', f));
    const oneByOne = [];
    for (const f of files) oneByOne.push((await hear(f)).transcript);
    const together = await Promise.all(files.map(async (f) => (await hear(f)).transcript));
    expect(together).toEqual(oneByOne);
  });

  it("sends a store's grammar to each worker once, not with every utterance", async () => {
    const store = await StoreUnderstanding.build({ store: 'once', version: 1, entries: demo.slice(0, 30) }, loadCmudict());
    const audio = await readAudioFile(join(fixtures, 'audio', 'sophie-martin.wav'));
    const before = pool.grammarTextsSent;
    const first = (await recognizePcm(pool, store, audio.pcm)).understanding;
    for (let i = 0; i < 3; i += 1) expect((await recognizePcm(pool, store, audio.pcm)).understanding.transcript).toBe(first.transcript);
    // Four utterances, each split between the two workers: the text went once to each.
    expect(pool.grammarTextsSent - before).toBe(2);
  });

  // JSGF has no empty rule: a store without services (or without people) once produced
  // `<service> = ;`, which pocketsphinx rejected, so every call to such a store failed.
  it.each([
    ['only people', demo.filter((e) => e.type === 'person'), 'sophie-martin.wav', '2014'],
    ['only services', demo.filter((e) => e.type === 'service'), 'pharmacy.wav', '2200'],
  ])('recognizes in a store of %s', async (_, entries, file, extension) => {
    const own = await StoreUnderstanding.build({ store: 'own', version: 1, entries }, loadCmudict());
    const audio = await readAudioFile(join(fixtures, 'audio', file));
    const u = (await recognizePcm(pool, own, audio.pcm)).understanding;
    expect(u.decision.entry?.extension).toBe(extension);
  });
});

describe('attendant recognize', () => {
  it('prints one JSON line per file in the documented shape, and an error line for a bad file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attendant-rec-'));
    const out: string[] = [];
    try {
      const code = await run(
        ['recognize', '--store', 'demo', join(fixtures, 'audio', 'pharmacy.wav'), join(fixtures, 'demo-store.csv')],
        { out: (t) => out.push(t), err: () => undefined },
        { ATTENDANT_DATA_DIR: dir, ATTENDANT_ASR_ENGINE: 'pocketsphinx' },
      );
      expect(code).toBe(1);
      const first = JSON.parse(out[0]);
      expect(Object.keys(first)).toEqual(['file', 'transcript', 'decision', 'entry', 'confidence', 'candidates', 'ms']);
      expect(first).toMatchObject({ file: 'pharmacy.wav', entry: { id: 's01', extension: '2200' } });
      expect(JSON.parse(out[1])).toMatchObject({ file: 'demo-store.csv', error: expect.stringMatching(/not a WAV file/) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('choosing the engine', () => {
  it('explains how to get a Vosk model when vosk is asked for and none is there', () => {
    expect(() => resolveEngine('vosk', '/nonexistent/vosk-model')).toThrow(
      /no Vosk model at \/nonexistent\/vosk-model: download one \(e\.g\. vosk-model-small-fr-0\.22\)/,
    );
  });

  it('refuses a folder that is not a Vosk model', () => {
    expect(() => resolveEngine('vosk', fixtures)).toThrow(/is not a Vosk model \(expected am\/ and graph\/ folders/);
  });

  it('falls back to pocketsphinx on auto when there is no Vosk model', () => {
    expect(resolveEngine('auto', '/nonexistent/vosk-model').engine).toBe('pocketsphinx');
  });

  const model = process.env.ATTENDANT_VOSK_MODEL;
  const hasModel =
    model !== undefined &&
    (() => {
      try {
        resolveEngine('vosk', model);
        return true;
      } catch {
        return false;
      }
    })();
  if (!hasModel) {
    // No Vosk model can be downloaded on this machine; say so rather than pass silently.
    it('recognizes with a real Vosk model (not run: set ATTENDANT_VOSK_MODEL to a model folder)', () => {
      process.stderr.write('vosk model test not run: ATTENDANT_VOSK_MODEL does not point to a Vosk model\n');
      expect(hasModel).toBe(false);
    });
  } else {
    it('recognizes the pharmacy with a real Vosk model', async () => {
      const pool = await RecognizerPool.create(resolveEngine('vosk', model), 1);
      try {
        const understanding = await StoreUnderstanding.build({ store: 'demo', version: 1, entries: demo }, loadCmudict());
        const audio = await readAudioFile(join(fixtures, 'audio', 'pharmacy.wav'));
        const u = (await recognizePcm(pool, understanding, audio.pcm)).understanding;
        expect(u.decision.entry?.id).toBe('s01');
      } finally {
        await pool.close();
      }
    });
  }
});

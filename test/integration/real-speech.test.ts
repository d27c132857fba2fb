import { resolveEngine } from '../../src/asr/engine';
import { PocketsphinxFactory } from '../../src/asr/pocketsphinx';
import { findModels, systemModel } from '../../src/asr/models';
import { RecognizerPool } from '../../src/asr/pool';
import { asQuiet } from '../../src/asr/recognizer';
import { StoreLexicons } from '../../src/asr/store-lexicons';
import { StoreUnderstanding } from '../../src/attendant/understanding';
import { loadCmudict } from '../../src/asr/store-lexicons';
import { recognizePcm } from '../../src/attendant/understanding';
import { readAudioFile } from '../../src/media/audio-file';
import { cutSource, loadRealSource, realSources, Surround, telephoneClip } from '../audio/real-speech';
import { realStore, storesOf, verdictOf } from '../bench/real-speech';
import { frenchModelsDir } from './shared-models';

/**
 * Recordings of real people (the shared folder beside the project; skipped, saying why, when
 * it is absent), telephone-banded and put on a line as a PBX hands them over, heard as
 * `attendant recognize` hears a file. bench:real measures the whole sets; these hold the
 * behaviour the front end and the decision must keep.
 */

const sources = realSources('real speech');
const modelsDir = sources.length === 0 ? undefined : frenchModelsDir('real speech');
const maybe = modelsDir === undefined ? describe.skip : describe;

maybe('real callers', () => {
  const system = systemModel();
  const models = findModels(modelsDir ?? '').models.filter((m) => m.engine === 'pocketsphinx');
  const catalog = { models: [...(system === undefined ? [] : [system]), ...models], problems: [] };
  const lexicons = new StoreLexicons(loadCmudict(), catalog);
  let pool: RecognizerPool;

  beforeAll(async () => {
    pool = await RecognizerPool.create(resolveEngine('pocketsphinx', undefined, 'accurate', catalog.models), 2);
  });
  afterAll(() => pool.close());

  const hear = async (understanding: StoreUnderstanding, clip: ReturnType<typeof loadRealSource>[number], surround: Surround) => {
    const audio = await readAudioFile(await telephoneClip(clip, { surround }));
    // Heard alone, as `attendant recognize` hears a file (the tests hear several at once).
    return (await recognizePcm(asQuiet(pool), understanding, audio.pcm)).understanding.decision;
  };

  /** The French commands as services of a store, heard with the French store's models. */
  const frenchCommands = async () => {
    const clips = loadRealSource('fr-speech-to-phrase');
    const { entries, serviceOf } = realStore(clips);
    const understanding = await StoreUnderstanding.build({ store: 'real-fr', version: 1, entries }, ...lexicons.forLocale('fr-FR'));
    return { clips, serviceOf, understanding };
  };

  it('hears the same French command the same way cut tight, with digital silence, with 2 s of comfort noise, and under line noise', async () => {
    const { clips, serviceOf, understanding } = await frenchCommands();
    for (const file of ['stp_fr_002.wav', 'stp_fr_005.wav', 'stp_fr_031.wav']) {
      const clip = clips.find((c) => c.file === file)!;
      const heard = await Promise.all((['tight', 'silence', 'long', 'line'] as Surround[]).map((s) => hear(understanding, clip, s)));
      expect([file, heard.map((d) => d.entry?.id)]).toEqual([file, Array(4).fill(serviceOf.get(clip.transcript))]);
    }
  }, 240_000);

  it('hears an utterance the same whether it is the first its decoder hears or not', async () => {
    // The French model's cepstra are computed apart (cepstral-mean.ts): the front end's last
    // samples, left in it, were searched as one more frame by the next ps_end_utt, with the
    // left context of the utterance before; a decoder's first utterance scored otherwise.
    const { clips, understanding } = await frenchCommands();
    const french = catalog.models.find((m) => m.locale === 'fr-FR')!;
    const factory = new PocketsphinxFactory([french]);
    try {
      const grammar = factory.create(understanding.grammars[0]);
      const pcm = async (file: string) =>
        (
          await readAudioFile(
            await telephoneClip(
              clips.find((c) => c.file === file)!,
              { surround: 'silence' },
            ),
          )
        ).pcm;
      const [a, b] = [await pcm('stp_fr_002.wav'), await pcm('stp_fr_031.wav')];
      const heard = (audio: Int16Array) => {
        const d = grammar.open('both');
        d.write(audio);
        return d.end();
      };
      const first = heard(a);
      const other = heard(b);
      expect(other.nbest[0]?.text).not.toBe(first.nbest[0]?.text);
      expect(heard(a)).toEqual(first);
    } finally {
      factory.close();
    }
  }, 120_000);

  it('hears a short command with a stop in it, not the name with an /f/ that white noise made of it', async () => {
    // « pause » (0.5 s): over a white noise floor the French model heard "Faure" cut tight, in
    // digital silence and in comfort noise; pink noise fills the silence without sounding
    // like a fricative (noise-floor.ts).
    const { clips, serviceOf, understanding } = await frenchCommands();
    const clip = clips.find((c) => c.file === 'stp_fr_035.wav')!;
    for (const s of ['tight', 'silence', 'long'] as Surround[]) {
      // Its first guess: the one asked about, or the first of two offered (the runner-up may be "Faure").
      const d = await hear(understanding, clip, s);
      expect([s, d.entry?.id ?? d.choices[0]?.id]).toEqual([s, serviceOf.get(clip.transcript)]);
    }
  }, 240_000);

  it('hears a command the same with a DC offset on the line, and loud enough to clip', async () => {
    // With an offset of 4000 (-18 dBFS), 8 of 16 commands were heard as another (withoutDc).
    const { clips, serviceOf, understanding } = await frenchCommands();
    for (const file of ['stp_fr_005.wav', 'stp_fr_006.wav', 'stp_fr_007.wav']) {
      const clip = clips.find((c) => c.file === file)!;
      const pcm = (await readAudioFile(await telephoneClip(clip, { surround: 'silence' }))).pcm;
      const line = (f: (v: number) => number): Int16Array => Int16Array.from(pcm, (v) => Math.max(-32768, Math.min(32767, f(v))));
      const heard = await Promise.all(
        [line((v) => v), line((v) => v + 4000), line((v) => v - 4000), line((v) => v * 4)].map(
          async (p) => (await recognizePcm(asQuiet(pool), understanding, p)).understanding.decision.entry?.id,
        ),
      );
      expect([file, heard]).toEqual([file, Array(4).fill(serviceOf.get(clip.transcript))]);
    }
  }, 240_000);

  it('hears a command said quietly (peaking at -40 dBFS) or loudly (-6 dBFS) on a silent line as the one meant', async () => {
    // At -40 dBFS the loudest frames lie about -55 dBFS: under the -45 dBFS once taken for the
    // least speech, every command was heard as nothing (SPEECH_MIN_RMS).
    const { clips, serviceOf, understanding } = await frenchCommands();
    for (const file of ['stp_fr_002.wav', 'stp_fr_006.wav']) {
      const clip = clips.find((c) => c.file === file)!;
      const heard = await Promise.all(
        [-40, -6].map(async (level) => {
          const audio = await readAudioFile(await telephoneClip(clip, { surround: 'silence', level }));
          const d = (await recognizePcm(asQuiet(pool), understanding, audio.pcm)).understanding.decision;
          return d.kind === 'transfer' || d.kind === 'confirm' ? d.entry?.id : d.kind;
        }),
      );
      expect([file, heard]).toEqual([file, Array(2).fill(serviceOf.get(clip.transcript))]);
    }
  }, 240_000);

  it('puts a clearly said command straight through where the second hearing finds a clear lead, in whatever surrounds it', async () => {
    // « supprime tous les minuteurs » (1.7 s of speech): the US English model hears a name of
    // its own, the French one the command; searched again, the command leads by 1.2-1.9 a
    // frame (docs/benchmarks.md), over 1.0 once multiplied by the seconds of speech.
    const { clips, serviceOf, understanding } = await frenchCommands();
    const clip = clips.find((c) => c.file === 'stp_fr_044.wav')!;
    for (const s of ['tight', 'silence', 'line'] as Surround[]) {
      const d = await hear(understanding, clip, s);
      expect([s, d.kind, d.entry?.id]).toEqual([s, 'transfer', serviceOf.get(clip.transcript)]);
    }
  }, 240_000);

  it('puts no caller saying something outside the directory through to anyone', async () => {
    const { clips, understanding } = await frenchCommands();
    for (const clip of clips.filter((c) => c.transcript === '<OOV>')) {
      for (const s of ['tight', 'silence'] as Surround[])
        expect([clip.file, s, (await hear(understanding, clip, s)).kind]).not.toEqual([clip.file, s, 'transfer']);
    }
  }, 240_000);

  it('cuts real single words out of the French sentences where a forced alignment puts them, from every speaker', async () => {
    const french = catalog.models.find((m) => m.locale === 'fr-FR')!;
    const lexicon = lexicons.forLocale('fr-FR').find((l) => l.model === french.id)!;
    const words = await cutSource('fr-words-cut', french, lexicon);
    const speakers = new Set(words.map((w) => w.speaker));
    expect(words.length).toBeGreaterThan(80);
    expect(speakers.size).toBeGreaterThanOrEqual(10);
    const misplaced: string[] = [];
    for (const w of words) {
      const seconds = (await readAudioFile(w.path)).pcm.length / 16000;
      // A word and its two 40-ms margins, no more (a misplaced alignment gives whole phrases or slivers).
      if (seconds < 0.28 || seconds >= 1.3 || !w.file.includes(w.transcript)) misplaced.push(`${w.file} ${seconds} s`);
    }
    expect(misplaced).toEqual([]);
  }, 300_000);

  it("hears real single words of three sources, cut tight out of sentences, as the ones meant among five services and a store's people", async () => {
    // Words the French model heard as someone else when its cepstral mean took in the 600 ms
    // of quiet framed around them (cepstral-mean.ts): three speakers, three sources.
    const wanted = [
      'fleurs_fr_006-0-malgré',
      'fleurs_fr_002-16-dépassent',
      'voxforge_fr_sb_496-5-sécurité',
      'stp_fr_043-0-supprime',
      'stp_fr_046-0-éteins',
    ];
    const french = catalog.models.find((m) => m.locale === 'fr-FR')!;
    const lexicon = lexicons.forLocale('fr-FR').find((l) => l.model === french.id)!;
    const words = await cutSource('fr-words-cut', french, lexicon);
    const heard: string[] = [];
    for (const group of storesOf(words, 5)) {
      const clips = group.filter((c) => wanted.some((w) => c.file.includes(w)));
      if (clips.length === 0) continue;
      const { entries, serviceOf } = realStore(group);
      const understanding = await StoreUnderstanding.build({ store: 'real-words', version: 1, entries }, ...lexicons.forLocale('fr-FR'));
      for (const clip of clips) {
        const d = await hear(understanding, clip, 'tight');
        heard.push(
          `${clip.transcript}: ${verdictOf(
            serviceOf.get(clip.transcript),
            d.kind,
            d.entry?.id,
            d.choices.map((c) => c.id),
          )}`,
        );
      }
    }
    // « supprime » (stp_fr_043, 0.31 s of speech) lost with the line's floor gated (frameSpeech):
    // the clip's own quiet start, 20 dB under the word, is taken for the floor and silenced,
    // and the runner-up that offered it third is another name. Never put through to anyone.
    const lost = heard.filter((h) => h.startsWith('supprime:'));
    expect(lost.length === 1 && ['supprime: right', 'supprime: wrong-asked'].includes(lost[0])).toBe(true);
    expect(heard.filter((h) => !h.startsWith('supprime:')).sort()).toEqual(
      ['dépassent', 'malgré', 'sécurité', 'éteins'].sort().map((w) => `${w}: right`),
    );
  }, 300_000);

  it('puts none of 20 real English digits straight through: one short word is asked about or offered with its runner-up on the keypad, never transferred on its score', async () => {
    const clips = loadRealSource('en-fsdd');
    const { entries } = realStore(clips);
    const understanding = await StoreUnderstanding.build({ store: 'real-en', version: 1, entries }, ...lexicons.forLocale('en-US'));
    const picked = clips.filter((c) => /_(jackson|george)_0\.wav$/.test(c.file));
    expect(picked).toHaveLength(20);
    const kinds = await Promise.all(picked.map((c) => hear(understanding, c, 'silence').then((d) => d.kind)));
    expect(kinds.filter((k) => k === 'transfer')).toEqual([]);
    expect(kinds.filter((k) => k === 'confirm' || k === 'disambiguate').length).toBeGreaterThan(10);
    // One model hears an English store: its runner-up is heard for real, and offered where it fits as well.
    expect(kinds.filter((k) => k === 'disambiguate').length).toBeGreaterThan(0);
  }, 240_000);
});

import { resolveEngine } from '../../src/asr/engine';
import { buildPhraseGrammar } from '../../src/asr/grammar';
import { RecognizerPool } from '../../src/asr/pool';
import { loadCmudict } from '../../src/cli/recognize-command';
import { readAudioFile } from '../../src/media/audio-file';
import { synthesize } from '../audio/synth';

/**
 * pocketsphinx decoders live in several worker threads of one process, and sphinxbase
 * keeps process-wide state. A decoder being made on one thread while another thread
 * decodes once corrupted the heap (sphinxbase swapped and closed its shared log FILE):
 * the process aborted with "free(): invalid pointer". This makes decoders and decodes
 * side by side many times; an abort fails the suite.
 */
describe('pocketsphinx decoders in several threads of one process', () => {
  let pool: RecognizerPool;
  beforeAll(async () => {
    pool = await RecognizerPool.create(resolveEngine('pocketsphinx'), 2);
  });
  afterAll(() => pool.close());

  it('makes new decoders on one thread while the other decodes, and every decode still answers', async () => {
    const cmudict = loadCmudict();
    const pcm = (await readAudioFile(await synthesize({ text: 'yes', synth: 'espeak', voice: 'en-us', condition: 'clean' }))).pcm;
    const words = ['yes', 'no', 'maybe', 'hello', 'goodbye', 'thanks', 'please', 'sorry', 'okay', 'right', 'left', 'stop'];
    let heard = 0;
    for (let i = 0; i < 12; i += 1) {
      // Each grammar is new: opening a session on it makes a new decoder (ps_init) in a worker.
      const grammar = await buildPhraseGrammar(
        ['yes', words[i], words[(i + 5) % words.length]].map((text) => ({ text, reading: 'en' as const })),
        cmudict,
      );
      const sessions = await Promise.all([pool.start(grammar), pool.start(grammar), pool.start(grammar)]);
      for (const s of sessions) s.write(pcm);
      const results = await Promise.all(sessions.map((s) => s.end()));
      for (const s of sessions) s.close();
      heard += results.filter((r) => r.nbest[0]?.text === 'yes').length;
    }
    expect(pool.size).toBe(2);
    expect(heard).toBeGreaterThanOrEqual(30); // of 36: the decodes were real, not emptied by the stress
  }, 120_000);
});

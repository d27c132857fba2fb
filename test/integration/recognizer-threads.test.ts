import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { resolveEngine } from '../../src/asr/engine';
import { buildPhraseGrammar, Grammar } from '../../src/asr/grammar';
import { POCKETSPHINX_MODEL_DIR } from '../../src/asr/pocketsphinx-binding';
import { RecognizerPool } from '../../src/asr/pool';
import { RecognitionCancelled, RecognitionResult } from '../../src/asr/recognizer';
import { loadCmudict } from '../../src/asr/store-lexicons';
import { readAudioFile } from '../../src/media/audio-file';
import { synthesize } from '../audio/synth';

/** "yes" said by espeak-ng's en-us voice, as 16-kHz samples. */
async function yesAudio(): Promise<Int16Array> {
  return (await readAudioFile(await synthesize({ text: 'yes', synth: 'espeak', voice: 'en-us', condition: 'clean' }))).pcm;
}

/** 6 s of speech-like audio: the "yes" over and over. */
function sixSeconds(yes: Int16Array): Int16Array {
  const long = new Int16Array(yes.length * Math.ceil(96000 / yes.length));
  for (let k = 0; k < long.length; k += yes.length) long.set(yes.subarray(0, Math.min(yes.length, long.length - k)), k);
  return long;
}

/** A grammar of "yes" and "no". */
function yesNo(cmudict: ReturnType<typeof loadCmudict>): Promise<Grammar> {
  return buildPhraseGrammar(
    [
      { text: 'yes', reading: 'en' },
      { text: 'no', reading: 'en' },
    ],
    cmudict,
  );
}

/**
 * pocketsphinx decoders once lived in several worker threads of one process, where
 * sphinxbase's process-wide state corrupted the heap (a decoder being made on one thread
 * while another decoded: "free(): invalid pointer"). Workers are now processes of their
 * own; these tests keep decoders being made, grammars being loaded and utterances being
 * decoded side by side in several workers, where an abort fails the suite, and show that a
 * worker that crashes (a native fault: SIGSEGV) fails the utterances it held and nothing else.
 */
describe('pocketsphinx decoders in several workers', () => {
  let pool: RecognizerPool;
  beforeAll(async () => {
    pool = await RecognizerPool.create(resolveEngine('pocketsphinx', undefined, 'accurate'), 2);
  });
  afterAll(() => pool.close());

  it('loads new grammars on one thread while the other decodes, and every decode still answers', async () => {
    const cmudict = loadCmudict();
    const pcm = await yesAudio();
    const words = ['yes', 'no', 'maybe', 'hello', 'goodbye', 'thanks', 'please', 'sorry', 'okay', 'right', 'left', 'stop'];
    let heard = 0;
    for (let i = 0; i < 12; i += 1) {
      // Each grammar is new: opening a session on it loads a new search in a worker.
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

  it('makes and drops whole decoders (new worker pools) while another pool decodes', async () => {
    const cmudict = loadCmudict();
    const pcm = await yesAudio();
    const grammar = await yesNo(cmudict);
    let heard = 0;
    let decoding = true;
    const decodes = (async () => {
      while (decoding) {
        const s = await pool.start(grammar);
        s.write(pcm);
        if ((await s.end()).nbest[0]?.text === 'yes') heard += 1;
        s.close();
      }
    })();
    for (let i = 0; i < 8; i += 1) {
      const other = await RecognizerPool.create(resolveEngine('pocketsphinx', undefined, 'accurate'), 2); // ps_init in two more threads
      await other.close();
    }
    decoding = false;
    await decodes;
    expect(heard).toBeGreaterThan(0);
  }, 120_000);
});

/** `n` two-word phrases of dictionary words from the `from`th on: 2n new words, seconds to load at n = 30,000. */
function dictionaryGrammar(key: string, n: number, from: number): Grammar {
  const lines = readFileSync(`${POCKETSPHINX_MODEL_DIR}/cmudict-en-us.dict`, 'utf8')
    .split('\n')
    .filter((l) => /^[a-z]+ /.test(l))
    .slice(from, from + 2 * n);
  const words = lines.map((l) => l.split(' ')[0]);
  const phrases = Array.from({ length: n }, (_, i) => `${words[i]} ${words[n + i]}`);
  return { key, jsgf: `#JSGF V1.0;\ngrammar g;\npublic <u> = ${phrases.join(' | ')};\n`, dict: `${lines.join('\n')}\n`, phrases };
}

describe('grammars loaded ahead of calls (issue 14, 3)', () => {
  let pool: RecognizerPool;
  beforeAll(async () => {
    // Every grammar in the serving workers (no worker of large grammars): loaded in place.
    pool = await RecognizerPool.create(resolveEngine('pocketsphinx', undefined, 'accurate'), 2, { largeAbove: Infinity });
  });
  afterAll(() => pool.close());

  it('loads a large grammar in place worker by worker while another store is heard, and its first utterance sends no grammar', async () => {
    const cmudict = loadCmudict();
    const pcm = await yesAudio();
    const small = await yesNo(cmudict);
    await pool.prepare(small);
    const big = dictionaryGrammar('big-30000', 30_000, 0);
    const sent = pool.grammarTextsSent;
    const order: string[] = [];
    const preparing = pool.prepare(big).then(() => order.push('big loaded'));
    // Utterances of the small store while the large one loads: each goes whole to the worker
    // that is not loading, instead of waiting behind the load.
    const heard: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const session = await pool.start(small);
      session.write(pcm);
      heard.push((await session.end()).nbest[0]?.text ?? '');
      session.close();
    }
    order.push('small heard');
    await preparing;
    expect(order).toEqual(['small heard', 'big loaded']);
    expect(heard).toEqual(['yes', 'yes', 'yes']);
    expect(pool.grammarTextsSent).toBe(sent + 2); // once per worker
    const session = await pool.start(big);
    session.write(pcm);
    await session.end();
    session.close();
    expect(pool.grammarTextsSent).toBe(sent + 2);
  }, 180_000);

  it('rejects a grammar that cannot be loaded, saying why, and goes on serving', async () => {
    const cmudict = loadCmudict();
    await expect(
      pool.prepare({ key: 'broken', jsgf: '#JSGF V1.0;\ngrammar b;\npublic <u> = yes (no;\n', dict: 'yes Y EH S\nno N OW\n', phrases: [] }),
    ).rejects.toThrow(/lacks a closing "\)"/);
    const pcm = await yesAudio();
    const session = await pool.start(await yesNo(cmudict));
    session.write(pcm);
    expect((await session.end()).nbest[0]?.text).toBe('yes');
    session.close();
  }, 60_000);
});

describe('large grammars in a worker of their own, at a lower priority (issue 14, 3: one store cannot starve the others)', () => {
  let pool: RecognizerPool;
  beforeAll(async () => {
    pool = await RecognizerPool.create(resolveEngine('pocketsphinx', undefined, 'accurate'), 2);
  });
  afterAll(() => pool.close());

  it('loads a large grammar in a new lowered worker while both serving workers go on decoding, and decodes its search there', async () => {
    const cmudict = loadCmudict();
    const pcm = await yesAudio();
    const small = await yesNo(cmudict);
    await pool.prepare(small);
    const serving = pool.pids;
    expect(serving).toHaveLength(2);
    const big = dictionaryGrammar('big-aside', 30_000, 0);
    expect(pool.isLarge(big)).toBe(true);
    expect(pool.isLarge(small)).toBe(false);
    let done = false;
    const preparing = pool.prepare(big).then(() => (done = true));
    const nice = new Set<number>();
    let heard = 0;
    let utterances = 0;
    while (!done) {
      for (const pid of pool.pids.filter((p) => !serving.includes(p))) {
        try {
          nice.add(getPriority(pid));
        } catch {
          // gone between the listing and the look
        }
      }
      // Both serving workers take the small store's utterances meanwhile, split between them.
      const session = await pool.start(small);
      session.write(pcm);
      if ((await session.end()).nbest[0]?.text === 'yes') heard += 1;
      session.close();
      utterances += 1;
    }
    await preparing;
    expect(utterances).toBeGreaterThan(0);
    expect(heard).toBe(utterances);
    expect([...nice]).toEqual([getPriority() + 5]);
    // The serving workers are the same two, and never held the large grammar.
    expect(pool.pids.filter((pid) => serving.includes(pid))).toHaveLength(2);
    expect(pool.pids).toHaveLength(3);
    const large = pool.pids.find((pid) => !serving.includes(pid)) as number;
    expect(getPriority(large)).toBe(getPriority() + 5);
    expect(pool.memoryOf('big-aside')).toBeGreaterThan(1024 * 1024);
    // Its utterance is searched in the worker of large grammars (the CPU goes there).
    const cpu = (pid: number): number => {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return Number(fields[11]) + Number(fields[12]);
    };
    const before = cpu(large);
    const session = await pool.start(big);
    session.write(pcm);
    await session.end();
    session.close();
    expect(cpu(large)).toBeGreaterThan(before);
  }, 240_000);

  it('replaces the worker of large grammars for a new one, keeping the ones it held; an utterance under way finishes', async () => {
    const pcm = await yesAudio();
    const first = dictionaryGrammar('big-aside', 30_000, 0);
    const second = dictionaryGrammar('big-second', 20_000, 60_000);
    const serving = pool.pids.slice(0, 2);
    const oldLarge = pool.pids.find((pid) => !serving.includes(pid));
    const early = await pool.start(first);
    early.write(pcm);
    await pool.prepare(second);
    expect(pool.largeWorkersReplaced).toBe(1);
    await early.end();
    early.close();
    for (const until = Date.now() + 10_000; pool.pids.includes(oldLarge as number) && Date.now() < until;)
      await new Promise((r) => setTimeout(r, 50));
    expect(pool.pids).toHaveLength(3);
    expect(pool.pids).not.toContain(oldLarge);
    const sent = pool.grammarTextsSent;
    for (const grammar of [first, second]) {
      const session = await pool.start(grammar);
      session.write(pcm);
      await session.end();
      session.close();
    }
    // The new worker of large grammars held both: neither text went to it again.
    const large = pool.pids.find((pid) => !serving.includes(pid));
    expect(large).toBeDefined();
    expect(pool.memoryOf('big-aside')).toBeGreaterThan(0);
    expect(pool.memoryOf('big-second')).toBeGreaterThan(0);
    expect(pool.grammarTextsSent - sent).toBeLessThanOrEqual(2); // at most the loop halves' texts, to serving workers
    expect(pool.workerExits).toBe(0);
  }, 240_000);

  it('refuses a large grammar over the memory limit and keeps the worker it had', async () => {
    const before = pool.pids;
    await expect(pool.prepare(dictionaryGrammar('big-too-big', 20_000, 30_000), 256 * 1024)).rejects.toThrow(/ATTENDANT_STORE_MEMORY_MB/);
    for (const until = Date.now() + 10_000; pool.pids.length > 3 && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
    expect(pool.pids).toEqual(before);
    expect(pool.memoryOf('big-too-big')).toBeUndefined();
  }, 120_000);
});

describe("a store's grammar memory, measured and bounded (issue 14, isolation)", () => {
  let pool: RecognizerPool;
  beforeAll(async () => {
    pool = await RecognizerPool.create(resolveEngine('pocketsphinx', undefined, 'accurate'), 2);
  });
  afterAll(() => pool.close());

  it('reports what a grammar took, refuses one over the limit (freed, saying so), and goes on serving', async () => {
    const cmudict = loadCmudict();
    const small = await yesNo(cmudict);
    await pool.prepare(small);
    const medium = dictionaryGrammar('medium', 5_000, 40_000);
    await pool.prepare(medium);
    const took = pool.memoryOf('medium') ?? 0;
    // 10,000 new words in a worker: megabytes, not bytes, and not the worker's whole memory.
    expect(took).toBeGreaterThan(1024 * 1024);
    expect(took).toBeLessThan(500 * 1024 * 1024);
    await expect(pool.prepare(dictionaryGrammar('too-big', 5_000, 60_000), 256 * 1024)).rejects.toThrow(
      /MB in a recognition worker, more than the 0 MB a store may take \(ATTENDANT_STORE_MEMORY_MB\)/,
    );
    expect(pool.memoryOf('too-big')).toBeUndefined();
    const pcm = await yesAudio();
    const session = await pool.start(small);
    session.write(pcm);
    expect((await session.end()).nbest[0]?.text).toBe('yes');
    session.close();
  }, 180_000);
});

describe('a recognition worker that crashes (issue 13, 3)', () => {
  let pool: RecognizerPool;
  beforeAll(async () => {
    pool = await RecognizerPool.create(resolveEngine('pocketsphinx', undefined, 'accurate'), 2);
  });
  afterAll(() => pool.close());

  it('fails the utterance it held with the signal named, is replaced, and the next utterance is heard', async () => {
    const cmudict = loadCmudict();
    const pcm = await yesAudio();
    const grammar = await yesNo(cmudict);
    const before = pool.pids;
    expect(before).toHaveLength(2);
    // Stopped, the workers hold the utterance undecoded; a segmentation fault then ends them
    // as a fault in pocketsphinx or Vosk would.
    for (const pid of before) process.kill(pid, 'SIGSTOP');
    const session = await pool.start(grammar);
    session.write(pcm);
    const result = session.end();
    result.catch(() => undefined);
    for (const pid of before) {
      process.kill(pid, 'SIGSEGV');
      process.kill(pid, 'SIGCONT');
    }
    await expect(result).rejects.toThrow(/crashed \(SIGSEGV\)/);
    session.close();
    // This process is alive to see it; new workers take the dead ones' places.
    for (const until = Date.now() + 20_000; (pool.workerExits < 2 || pool.pids.length < 2) && Date.now() < until;)
      await new Promise((r) => setTimeout(r, 100));
    expect(pool.workerExits).toBe(2);
    expect(pool.pids).toHaveLength(2);
    expect(pool.pids.some((pid) => before.includes(pid))).toBe(false);
    const next = await pool.start(grammar);
    next.write(pcm);
    expect((await next.end()).nbest[0]?.text).toBe('yes');
    next.close();
  }, 60_000);
});

describe('a pool that decodes at the fast speed when its workers are busy (ATTENDANT_ASR_PROFILE=auto)', () => {
  let pool: RecognizerPool;
  beforeAll(async () => {
    pool = await RecognizerPool.create(resolveEngine('pocketsphinx', undefined, 'auto'), 2);
  });
  afterAll(() => pool.close());

  it('counts an utterance heard by two models once: the second model does not make the pool busy', async () => {
    const grammar = await yesNo(loadCmudict());
    expect(pool.busy).toBe(false);
    // A second model's session of an utterance (`also`), alone, is not an utterance waiting.
    const second = await pool.start(grammar, { also: true });
    expect(pool.busy).toBe(false);
    // The utterance itself takes both workers (grammar and phone loop side by side): the next would wait.
    const first = await pool.start(grammar);
    expect(pool.busy).toBe(true);
    first.close();
    second.close();
    expect(pool.busy).toBe(false);
  }, 60_000);

  it('decodes the shortest of the utterances waiting in a worker first: an answer is not decoded after the names that came before it', async () => {
    const one = await RecognizerPool.create(resolveEngine('pocketsphinx', undefined, 'accurate'), 1);
    try {
      const grammar = await yesNo(loadCmudict());
      const yes = await yesAudio();
      const long = sixSeconds(yes);
      const order: string[] = [];
      const decode = async (name: string, pcm: Int16Array) => {
        const s = await one.start(grammar);
        s.write(pcm);
        return { name, s };
      };
      // The first keeps the worker busy while the second (long) and third (short) wait.
      const sessions = [await decode('first', long), await decode('long', long), await decode('short', yes)];
      const ends = sessions.map(({ name, s }) => s.end().then((r) => (order.push(name), r)));
      const results = await Promise.all(ends);
      for (const { s } of sessions) s.close();
      expect(results.every((r) => r.nbest[0]?.text.includes('yes'))).toBe(true);
      expect(order.indexOf('short')).toBeLessThan(order.indexOf('long'));
    } finally {
      await one.close();
    }
  });

  it('drops a cancelled end that is still waiting (RecognitionCancelled), answers the others, and a cancel after the result changes nothing', async () => {
    const one = await RecognizerPool.create(resolveEngine('pocketsphinx', undefined, 'accurate'), 1);
    try {
      const grammar = await yesNo(loadCmudict());
      const yes = await yesAudio();
      const long = sixSeconds(yes);
      const sessions = [];
      for (const pcm of [long, long, long]) {
        const s = await one.start(grammar);
        s.write(pcm);
        sessions.push(s);
      }
      // The first is decoded while the others wait (equal lengths: oldest first); the last is given up.
      const ends = sessions.map((s) =>
        s.end().then(
          (r) => r,
          (err: Error) => err,
        ),
      );
      sessions[2].cancel?.();
      const [first, second, third] = await Promise.all(ends);
      expect(third).toBeInstanceOf(RecognitionCancelled);
      expect((first as RecognitionResult).nbest[0]?.text).toContain('yes');
      expect((second as RecognitionResult).nbest[0]?.text).toContain('yes');
      // Decoded already: cancelling now is nothing, and the worker goes on serving.
      sessions[0].cancel?.();
      for (const s of sessions) s.close();
      const next = await one.start(grammar);
      next.write(yes);
      expect((await next.end()).nbest[0]?.text).toBe('yes');
      next.close();
    } finally {
      await one.close();
    }
  });
});

describe('a pool with a worker of its own for answers (PoolOptions.answerWorker, attendant serve)', () => {
  let pool: RecognizerPool;
  beforeAll(async () => {
    pool = await RecognizerPool.create(resolveEngine('pocketsphinx', undefined, 'accurate'), 2, { answerWorker: true });
  });
  afterAll(() => pool.close());

  const waitFor = async (ok: () => boolean): Promise<void> => {
    for (const until = Date.now() + 20_000; !ok() && Date.now() < until;) await new Promise((r) => setTimeout(r, 100));
  };

  it('decodes an answer while every serving worker is held, and takes answers on the serving workers while it is started again', async () => {
    const grammar = await yesNo(loadCmudict());
    const pcm = await yesAudio();
    const hear = async (whole: boolean): Promise<string | undefined> => {
      const s = await pool.start(grammar, { whole, short: whole });
      s.write(pcm);
      try {
        return (await s.end()).nbest[0]?.text;
      } finally {
        s.close();
      }
    };
    await waitFor(() => pool.answerPid !== undefined);
    const answers = pool.answerPid!;
    const serving = pool.pids.filter((pid) => pid !== answers);
    expect(serving).toHaveLength(2);
    // The serving workers stopped (busy with names): an answer is still heard, by its own worker.
    for (const pid of serving) process.kill(pid, 'SIGSTOP');
    try {
      expect(await hear(true)).toBe('yes');
    } finally {
      for (const pid of serving) process.kill(pid, 'SIGCONT');
    }
    // Gone, it is missed and said; the serving workers hear answers until another one is ready.
    process.kill(answers, 'SIGKILL');
    await waitFor(() => pool.workerExits === 1);
    expect(pool.workerExits).toBe(1);
    expect(pool.answerPid).toBeUndefined();
    expect(await hear(true)).toBe('yes');
    await new Promise((r) => setTimeout(r, 1100));
    expect(await hear(true)).toBe('yes'); // starts the next one
    await waitFor(() => pool.answerPid !== undefined);
    expect(pool.answerPid).not.toBe(answers);
    expect(pool.pids).toContain(pool.answerPid);
  }, 60_000);

  it('starts none beside a single serving worker (one core)', async () => {
    const one = await RecognizerPool.create(resolveEngine('pocketsphinx', undefined, 'accurate'), 1, { answerWorker: true });
    try {
      const s = await one.start(await yesNo(loadCmudict()), { whole: true, short: true });
      s.write(await yesAudio());
      expect((await s.end()).nbest[0]?.text).toBe('yes');
      s.close();
      await new Promise((r) => setTimeout(r, 300));
      expect(one.answerPid).toBeUndefined();
      expect(one.pids).toHaveLength(1);
    } finally {
      await one.close();
    }
  });
});

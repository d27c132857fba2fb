import { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { companionSpeed, leastBusy, LOADING_WEIGHT, restartPause, splitsUtterance, utteranceSpeed } from '../../src/asr/scheduling';
import { RecognitionCancelled } from '../../src/asr/recognizer';
import { WorkerChannel } from '../../src/asr/worker-channel';
import type { WorkerRequest } from '../../src/asr/worker';

/** A child process as far as the channel uses it: messages both ways, an exit. */
class FakeProcess extends EventEmitter {
  connected = true;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  pid = 4242;
  sent: WorkerRequest[] = [];
  send(msg: WorkerRequest, cb: (err: Error | null) => void): boolean {
    this.sent.push(msg);
    cb(null);
    return true;
  }
  disconnect(): void {
    this.connected = false;
  }
  kill(): boolean {
    return true;
  }
  reply(msg: unknown): void {
    this.emit('message', msg);
  }
  crash(signal: NodeJS.Signals = 'SIGSEGV'): void {
    this.connected = false;
    this.signalCode = signal;
    this.emit('exit', null, signal);
  }
}

const channel = (): { p: FakeProcess; c: WorkerChannel; exits: Error[] } => {
  const p = new FakeProcess();
  const exits: Error[] = [];
  const c = new WorkerChannel(p as unknown as ChildProcess, (err) => exits.push(err));
  return { p, c, exits };
};

const result = { nbest: [{ text: 'paul martin', score: 0 }], confidence: 1, audioMs: 800 };

describe('WorkerChannel', () => {
  it('answers each request with its own reply: results, flushes and loads of one session do not mix', async () => {
    const { p, c } = channel();
    p.reply({ type: 'ready' });
    await c.ready;
    const flushed = c.flush(7);
    const ended = c.end(7);
    const load = c.load({ type: 'load', session: 8, key: 'g1', grammar: { key: 'g1' } as never });
    const loaded = load.send();
    expect(c.count()).toBe(3);
    expect(c.count('load')).toBe(1);
    expect(c.awaitsEnd(7)).toBe(true);
    p.reply({ type: 'result', session: 7, result });
    p.reply({ type: 'flushed', session: 7 });
    p.reply({ type: 'loaded', session: 8, bytes: 1234 });
    await expect(ended).resolves.toEqual(result);
    await expect(flushed).resolves.toBeUndefined();
    await expect(loaded).resolves.toBe(1234);
    expect(c.count()).toBe(0);
    expect(p.sent.map((m) => m.type)).toEqual(['flush', 'end', 'load']);
  });

  it('turns a cancelled or failed end into its error, a failed load into the reason', async () => {
    const { p, c } = channel();
    const cancelled = c.end(1);
    const failed = c.end(2);
    const load = c.load({ type: 'load', session: 3, key: 'big', grammar: { key: 'big' } as never }).send();
    p.reply({ type: 'cancelled', session: 1 });
    p.reply({ type: 'error', session: 2, message: 'decoder died' });
    p.reply({ type: 'load-failed', session: 3, message: 'over the memory limit' });
    await expect(cancelled).rejects.toBeInstanceOf(RecognitionCancelled);
    await expect(failed).rejects.toThrow('recognition failed: decoder died');
    await expect(load).rejects.toThrow('over the memory limit');
  });

  it('rejects every waiting request when the process exits, and every later one, and says so once', async () => {
    const { p, c, exits } = channel();
    const waiting = [c.end(1), c.flush(1), c.load({ type: 'load', session: 2, key: 'g', grammar: { key: 'g' } as never }).send()];
    p.crash();
    for (const w of waiting) await expect(w).rejects.toThrow('the recognition worker crashed (SIGSEGV)');
    await expect(c.end(3)).rejects.toThrow('crashed');
    await expect(c.load({ type: 'load', session: 4, key: 'g', grammar: { key: 'g' } as never }).send()).rejects.toThrow('crashed');
    expect(c.count()).toBe(0);
    p.emit('exit', 1, null);
    expect(exits).toHaveLength(1);
    await expect(c.exited).resolves.toBeUndefined();
  });

  it('fails to start with the worker’s own reason', async () => {
    const { p, c } = channel();
    p.reply({ type: 'fatal', message: 'model folder missing' });
    await expect(c.ready).rejects.toThrow('model folder missing');
  });
});

describe('scheduling', () => {
  it('decodes accurately while the workers can take the utterance at once, fast when it would wait', () => {
    expect(utteranceSpeed({ profile: 'auto', workers: 2, utterances: 1, split: true })).toBe('fast');
    expect(utteranceSpeed({ profile: 'auto', workers: 4, utterances: 1, split: true })).toBe('accurate');
    expect(utteranceSpeed({ profile: 'auto', workers: 4, utterances: 2, split: true })).toBe('fast');
    expect(utteranceSpeed({ profile: 'auto', workers: 2, utterances: 1, split: false })).toBe('accurate');
    expect(utteranceSpeed({ profile: 'accurate', workers: 1, utterances: 50, split: true })).toBe('accurate');
  });

  it("decodes a second model's session fast beside a recent start, not because of its own first model", () => {
    const quiet = { profile: 'auto' as const, workers: 2, utterances: 1, split: false };
    expect(companionSpeed({ ...quiet, sincePreviousStartMs: 5_000 })).toBe('accurate');
    expect(companionSpeed({ ...quiet, sincePreviousStartMs: 100 })).toBe('fast');
    expect(companionSpeed({ ...quiet, utterances: 3, sincePreviousStartMs: 5_000 })).toBe('fast');
  });

  it('splits a PocketSphinx utterance over two workers free of loads, a large grammar always, nothing else', () => {
    const base = { pocketsphinx: true, large: false, searchOnly: false, whole: false, workersNotLoading: 2 };
    expect(splitsUtterance(base)).toBe(true);
    expect(splitsUtterance({ ...base, workersNotLoading: 1 })).toBe(false);
    expect(splitsUtterance({ ...base, workersNotLoading: 0, large: true })).toBe(true);
    expect(splitsUtterance({ ...base, searchOnly: true })).toBe(false);
    expect(splitsUtterance({ ...base, whole: true })).toBe(false);
    expect(splitsUtterance({ ...base, pocketsphinx: false })).toBe(false);
  });

  it('gives a session to the least busy worker, a loading one counting as several sessions', () => {
    const a = { id: 'a', open: 1, loading: true };
    const b = { id: 'b', open: LOADING_WEIGHT, loading: false };
    const c = { id: 'c', open: 2, loading: false };
    expect(leastBusy([a, b, c]).id).toBe('c');
    expect(leastBusy([a, b]).id).toBe('b');
    expect(() => leastBusy([])).toThrow();
  });

  it('starts a worker that died at once, after a pause when it died starting', () => {
    expect(restartPause({ started: true, livedMs: 10, pauseMs: 1000 })).toBe(0);
    expect(restartPause({ started: false, livedMs: 10, pauseMs: 1000 })).toBe(1000);
    expect(restartPause({ started: false, livedMs: 5000, pauseMs: 1000 })).toBe(0);
  });
});

import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EngineSpec } from './engine';
import { Grammar } from './grammar';
import { DecoderPart, joinParts, RecognitionResult, Recognizer, RecognizerSession, EngineName, Speed, StartOptions } from './recognizer';
import { GRAMMAR_TEXTS, touchRecent } from './recent';
import { companionSpeed, leastBusy, restartPause, splitsUtterance, utteranceSpeed } from './scheduling';
import { WorkerChannel } from './worker-channel';

/**
 * The Recognizer every caller of recognition uses: a pool of worker processes, each
 * with its own engine. A session stays on one worker; new sessions go to the worker
 * with the fewest open sessions. Workers are processes, not threads: a native engine
 * that crashes (a broken model, a bug in pocketsphinx or Vosk) takes its worker down, not
 * the calls; the utterances it held fail (their callers go to the keypad or the operator)
 * and a new worker takes its place.
 */

/** A worker as the pool sees it: its channel, the sessions open on it, the grammar texts it holds. */
class PoolWorker {
  open = 0;
  /** The grammar texts this worker holds, as it keeps them (GRAMMAR_TEXTS, most recent last). */
  readonly grammars = new Map<string, true>();

  constructor(readonly channel: WorkerChannel) {}

  get ready(): Promise<void> {
    return this.channel.ready;
  }

  get exited(): Promise<void> {
    return this.channel.exited;
  }

  /** Set once the worker has exited: what its sessions fail with from then on. */
  get dead(): Error | undefined {
    return this.channel.dead;
  }

  /** Loading a grammar (prepare): it takes no half of an utterance meanwhile. */
  get loading(): boolean {
    return this.channel.count('load') > 0;
  }
}

/** The most grammars a worker that replaces a dead one loads before calls (a worker keeps 24 loaded). */
const MAX_RELOADED = 24;

/** How long a worker that died before it was ready waits to be started again. */
const RESTART_PAUSE_MS = 1000;

/**
 * Grammars whose text (JSGF and dictionary) is at least this long are "large" (about 2,000
 * entries): they live in a worker of their own at a lower CPU priority (see RecognizerPool).
 */
export const LARGE_GRAMMAR_CHARS = 150_000;

/**
 * The nice value of the worker of large grammars: when the serving workers want every core,
 * it gets about a quarter of one (CFS weights 335 against 1024); on an idle machine, all it needs.
 */
const LARGE_NICE = 5;

/**
 * How long a worker told to stop may take before it is killed. It is stopped by closing its
 * channel (it exits on 'disconnect': workers ignore SIGTERM, which a stop of the whole process
 * group sends them while the server drains).
 */
const STOP_GRACE_MS = 2000;

/** The longest a replaced worker is kept for the utterances it holds before it is stopped. */
const RETIRE_WAIT_MS = 60_000;

export interface PoolOptions {
  /** Grammars at least this long (characters of JSGF and dictionary) are large; Infinity: none is. */
  largeAbove?: number;
  /**
   * A worker of its own for short utterances (StartOptions.short: a caller's answer), beside
   * the serving ones (pocketsphinx with two or more): an answer then never waits for a name's
   * decode to finish, the system shares the cores at once (attendant serve).
   */
  answerWorker?: boolean;
}

export function workerScript(): string {
  const compiled = join(__dirname, 'worker.js');
  if (existsSync(compiled)) return compiled;
  throw new Error(`the recognition worker ${compiled} is missing; build the project first (npm run build)`);
}

export class RecognizerPool implements Recognizer {
  readonly engine: EngineName;
  private workers: PoolWorker[] = [];
  private nextSession = 1;
  private closed = false;
  /** Grammar texts posted to workers: once per grammar and worker, unless a worker dropped it. */
  grammarTextsSent = 0;
  /** Utterances decoded at the fast speed (all of them with ATTENDANT_ASR_PROFILE=fast, those met under load with auto). */
  fastUtterances = 0;
  /** Utterances started and not decoded yet. */
  private utterances = 0;
  /** Halves of background sessions being written (StartOptions.background), left out of the backlog. */
  private backgroundOpen = 0;
  /** When the last two utterances started (performance.now), the latest last. */
  private starts: [number, number] = [-Infinity, -Infinity];
  /** The worker each whole (unsplit) session runs on, for a session started `beside` it. */
  private readonly workerOf = new WeakMap<RecognizerSession, PoolWorker>();
  /** Grammars prepared ahead of calls, most recent last: loaded again in a worker that replaces a dead one. */
  private readonly prepared = new Map<string, { grammar: Grammar; memoryLimit?: number }>();
  /** Resident memory a grammar took in a worker when it was loaded (the most of any worker), by grammar key. */
  private readonly grammarBytes = new Map<string, number>();
  /** Workers that exited while the pool was in use (a crash: each was replaced). */
  workerExits = 0;
  /** Told when a worker exits while the pool is in use, with why. */
  onWorkerExit: ((err: Error) => void) | undefined;
  /** The worker of large grammars (their search half), at LARGE_NICE; started with the first. */
  private large: PoolWorker | undefined;
  /** Times the worker of large grammars was replaced by one fed with a new grammar. */
  largeWorkersReplaced = 0;
  /** The worker of short utterances (PoolOptions.answerWorker), started again with the next answer when it exits. */
  private answers: PoolWorker | undefined;
  private readonly answerWorkerWanted: boolean;
  /** When the worker of answers last exited: one is started again RESTART_PAUSE_MS after at the soonest. */
  private answersExitedAt = -Infinity;
  /** Workers that take no new session: being fed (the next large worker), or replaced and finishing their utterances. */
  private readonly aside = new Set<PoolWorker>();
  /** Large grammars being prepared, one at a time. */
  private largeQueue: Promise<unknown> = Promise.resolve();
  private readonly largeAbove: number;

  private constructor(
    private readonly spec: EngineSpec,
    options: PoolOptions = {},
  ) {
    this.engine = spec.engine;
    this.largeAbove = options.largeAbove ?? LARGE_GRAMMAR_CHARS;
    this.answerWorkerWanted = options.answerWorker === true && spec.engine === 'pocketsphinx';
  }

  /** Starts `size` workers and waits until each has loaded its engine. */
  static async create(spec: EngineSpec, size: number, options: PoolOptions = {}): Promise<RecognizerPool> {
    const pool = new RecognizerPool(spec, options);
    for (let i = 0; i < Math.max(1, size); i += 1) pool.spawn();
    // The worker of answers starts now and takes answers once it is ready; nothing waits for it.
    pool.answerWorker();
    try {
      await Promise.all(pool.workers.map((w) => w.ready));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * Whether an utterance starting now would wait behind others (ATTENDANT_ASR_PROFILE=auto):
   * then a store heard by two models is heard by its fallback model alone (hearUtterance).
   */
  get busy(): boolean {
    return this.spec.profile === 'auto' && this.speed(this.engine === 'pocketsphinx' && this.workers.length >= 2) === 'fast';
  }

  /** No utterance is being written or decoded (Recognizer.quiet). */
  get quiet(): boolean {
    return this.inFlight === 0;
  }

  /** The workers that take sessions: serving, and the worker of large grammars. */
  private get sessionWorkers(): PoolWorker[] {
    return [...this.workers, ...(this.large === undefined ? [] : [this.large]), ...(this.answers === undefined ? [] : [this.answers])];
  }

  /** Every worker process: those that take sessions, and those aside. */
  private get everyWorker(): PoolWorker[] {
    return [...this.sessionWorkers, ...this.aside];
  }

  /**
   * Callers' utterances being written to the workers, not ended yet (a split utterance counts
   * once per half); recordings heard for the console (StartOptions.background) are not counted:
   * a test recording being written once made every new call get 503.
   */
  get backlog(): number {
    return this.everyWorker.reduce((n, w) => n + w.open, 0) - this.backgroundOpen;
  }

  /** Utterances given to the workers and not answered yet: being written or being decoded (per half). */
  get inFlight(): number {
    return this.everyWorker.reduce((n, w) => n + w.open + w.channel.count('end'), 0);
  }

  /** Whether a grammar is large: decoded (its search half) by the worker of large grammars. */
  isLarge(grammar: Grammar): boolean {
    return this.engine === 'pocketsphinx' && grammar.jsgf.length + grammar.dict.length >= this.largeAbove;
  }

  /** A new worker, serving at once, or (`aside`) kept out of the pool until it is swapped in. */
  private spawn(aside = false): PoolWorker {
    // 'advanced': the structured clone of worker threads (typed arrays, Maps) over the IPC pipe.
    const child = fork(workerScript(), [JSON.stringify(this.spec)], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const startedAt = Date.now();
    let started = false;
    const pw: PoolWorker = new PoolWorker(new WorkerChannel(child, (err) => onExit(pw, err)));
    const onExit = (dead: PoolWorker, err: Error): void => {
      const serving = this.workers.includes(dead);
      this.workers = this.workers.filter((w) => w !== dead);
      this.aside.delete(dead);
      const large = dead === this.large;
      if (large) this.large = undefined;
      const answers = dead === this.answers;
      if (answers) {
        this.answers = undefined;
        this.answersExitedAt = Date.now();
      }
      // A worker fed aside, or replaced, is not missed: its exit says so to whoever waits on it.
      if (this.closed || (!serving && !large && !answers)) return;
      this.workerExits += 1;
      this.onWorkerExit?.(err);
      // The next utterance of a large grammar starts another worker of large grammars, which
      // loads the grammar then; the next answer, another worker of answers (meanwhile answers
      // go to the serving workers).
      if (large || answers) return;
      // Replace a worker that died while the pool is in use; one that died starting, after a
      // pause (a model that cannot load would otherwise be restarted in a tight loop).
      const pause = restartPause({ started, livedMs: Date.now() - startedAt, pauseMs: RESTART_PAUSE_MS });
      // The grammars it held that were prepared ahead of calls are loaded in its successor
      // before its first utterance, as they were in it: no caller waits for a reload.
      const held = [...dead.grammars.keys()].filter((key) => this.prepared.has(key)).slice(-MAX_RELOADED);
      const timer = setTimeout(() => {
        if (this.closed) return;
        const fresh = this.spawn();
        fresh.ready
          .then(async () => {
            for (const key of held) {
              const p = this.prepared.get(key);
              if (p !== undefined && !this.closed) await this.prepare(p.grammar, p.memoryLimit).catch(() => undefined);
            }
          })
          .catch(() => undefined);
      }, pause);
      timer.unref();
    };
    pw.ready.then(() => (started = true)).catch(() => undefined);
    if (aside) this.aside.add(pw);
    else this.workers.push(pw);
    return pw;
  }

  /** The memory a grammar took in one worker when prepared (undefined when it is held by none). */
  memoryOf(key: string): number | undefined {
    if (!this.sessionWorkers.some((w) => w.grammars.has(key))) {
      this.grammarBytes.delete(key);
      return undefined;
    }
    return this.grammarBytes.get(key);
  }

  /** The process id of the worker of answers, when it is ready (PoolOptions.answerWorker). */
  get answerPid(): number | undefined {
    return this.readyAnswers?.channel.pid;
  }

  /** The worker of answers when it is ready and alive. */
  private get readyAnswers(): PoolWorker | undefined {
    return this.answers === undefined || this.aside.has(this.answers) || this.answers.dead !== undefined ? undefined : this.answers;
  }

  /** The workers' process ids, serving or aside (benchmarks add their CPU and memory to the server's). */
  get pids(): number[] {
    return this.everyWorker.flatMap((w) => (w.channel.pid === undefined ? [] : [w.channel.pid]));
  }

  /**
   * A pocketsphinx utterance is two searches (the grammar and the phone loop): with two
   * workers or more, each goes to its own worker, so that the caller waits for one search,
   * not two in a row. Other engines decode on one worker.
   */
  async start(grammar: Grammar, options: StartOptions = {}): Promise<RecognizerSession> {
    if (this.closed) throw new Error('the recognizer pool is closed');
    // A worker loading a grammar (prepare) takes no half of an utterance: the whole of it
    // goes to a free worker instead of waiting behind the load.
    const large = this.isLarge(grammar);
    const searchOnly = options.part === 'grammar' && this.engine === 'pocketsphinx';
    // A large grammar's search always runs on the worker of large grammars (split).
    const whole = options.whole === true && !large;
    const split = splitsUtterance({
      pocketsphinx: this.engine === 'pocketsphinx',
      large,
      searchOnly,
      whole,
      workersNotLoading: this.workers.filter((w) => !w.loading).length,
    });
    const beside = options.beside === undefined ? undefined : this.workerOf.get(options.beside);
    const on = beside !== undefined && this.sessionWorkers.includes(beside) && !large ? beside : undefined;

    // A speed asked for (a second search of an utterance, whose fit is compared with the
    // first's) is taken as it is; a second model's session, see companionSpeed.
    const speed = options.speed ?? (options.also === true ? this.companionSpeed(split) : this.speed(split));
    // Utterances are counted at once, before any await, so that those starting together see
    // each other; the same utterance heard by a second model is not counted twice.
    let counted = options.also !== true;
    if (counted && speed === 'fast') this.fastUtterances += 1;
    if (counted) {
      this.utterances += 1;
      this.starts = [this.starts[1], performance.now()];
    }
    const over = (): void => {
      if (counted) {
        counted = false;
        this.utterances -= 1;
      }
    };
    try {
      // A large grammar's search runs in its own worker, on the CPU other stores leave; its phone loop, here.
      const quick = whole && options.short === true && on === undefined ? this.answerWorker() : undefined;
      const one = split
        ? undefined
        : await this.open(grammar, searchOnly ? 'grammar' : 'both', speed, [], searchOnly && large ? this.largeWorker() : (on ?? quick));
      const session = one ?? (await this.openSplit(grammar, speed, large ? this.largeWorker() : undefined));
      // A recording heard for the console: its halves being written are no caller waiting.
      let background = options.background === true ? (one === undefined ? 2 : 1) : 0;
      this.backgroundOpen += background;
      const written = (): void => {
        this.backgroundOpen -= background;
        background = 0;
      };
      const handle: RecognizerSession = {
        write: (pcm) => session.write(pcm),
        flush: () => session.flush(),
        end: async () => {
          written();
          try {
            return await session.end();
          } finally {
            over();
          }
        },
        close: () => {
          written();
          over();
          session.close();
        },
        cancel: () => session.cancel?.(),
      };
      if (one !== undefined) this.workerOf.set(handle, one.worker);
      return handle;
    } catch (err) {
      over();
      throw err;
    }
  }

  private async openSplit(grammar: Grammar, speed: Speed, searchOn?: PoolWorker): Promise<RecognizerSession> {
    const first = await this.open(grammar, 'grammar', speed, [], searchOn);
    const second = await this.open(grammar, 'loop', speed, [first.worker]);
    return {
      write(pcm: Int16Array): void {
        first.write(pcm);
        second.write(pcm);
      },
      async flush(): Promise<void> {
        await Promise.all([first.flush(), second.flush()]);
      },
      async end(): Promise<RecognitionResult> {
        const [g, l] = await Promise.all([first.end(), second.end()]);
        return joinParts(g, l);
      },
      close(): void {
        first.close();
        second.close();
      },
      cancel(): void {
        first.cancel?.();
        second.cancel?.();
      },
    };
  }

  /** The speed of an utterance starting now (scheduling.ts, utteranceSpeed). */
  private speed(split: boolean): Speed {
    return utteranceSpeed({ profile: this.spec.profile, workers: this.workers.length, utterances: this.utterances, split });
  }

  /** The speed of a second model's session of the utterance just started (scheduling.ts, companionSpeed). */
  private companionSpeed(split: boolean): Speed {
    return companionSpeed({
      profile: this.spec.profile,
      workers: this.workers.length,
      utterances: this.utterances,
      split,
      sincePreviousStartMs: performance.now() - this.starts[0],
    });
  }

  /** A session on `on`, or on the least busy serving worker (other than `avoid` when there is a choice). */
  private async open(
    grammar: Grammar,
    part: DecoderPart,
    speed: Speed,
    avoid: PoolWorker[],
    on?: PoolWorker,
  ): Promise<RecognizerSession & { worker: PoolWorker }> {
    if (this.workers.length === 0) throw new Error('no recognition worker is running (the last one exited and is being restarted)');
    const candidates = this.workers.filter((w) => !avoid.includes(w));
    // A worker loading a grammar counts as busy with a long utterance.
    const target = on ?? leastBusy(candidates.length > 0 ? candidates : this.workers);
    await target.ready;
    const id = this.nextSession;
    this.nextSession += 1;
    target.open += 1;
    const send = this.holds(target, grammar);
    target.channel.post({ type: 'start', session: id, key: grammar.key, grammar: send ? grammar : undefined, part, speed });
    let done = false;
    const finish = (): void => {
      if (!done) {
        done = true;
        target.open -= 1;
      }
    };
    return {
      worker: target,
      write(pcm: Int16Array): void {
        if (done) return;
        target.channel.post({ type: 'write', session: id, pcm: pcm.slice().buffer as ArrayBuffer });
      },
      flush(): Promise<void> {
        if (done) return Promise.resolve();
        return target.channel.flush(id);
      },
      end(): Promise<RecognitionResult> {
        if (done) return Promise.reject(new Error('the recognition session is already over'));
        finish();
        return target.channel.end(id);
      },
      close(): void {
        if (done) return;
        finish();
        target.channel.post({ type: 'close', session: id });
      },
      cancel(): void {
        if (target.channel.awaitsEnd(id)) target.channel.post({ type: 'cancel', session: id });
      },
    };
  }

  /**
   * Records that `target` is given `grammar` now, as the worker records it (the same order
   * of sessions and loads); true when the worker lacks its text, which must then be sent.
   */
  private holds(target: PoolWorker, grammar: Grammar): boolean {
    const send = !target.grammars.has(grammar.key);
    touchRecent(target.grammars, grammar.key, true, GRAMMAR_TEXTS);
    if (send) this.grammarTextsSent += 1;
    return send;
  }

  /**
   * Loads a grammar before its first utterance, so that the first call to a new directory
   * version does not wait for it. Rejects, saying why, when the grammar cannot be loaded (or
   * takes more than `memoryLimit` bytes in a worker).
   *
   * A small grammar loads in every serving worker, one at a time (milliseconds). A large one
   * (a 50,000-entry store takes seconds to load, and seconds of CPU for each utterance) goes
   * to the worker of large grammars instead: a new one is started at a lower CPU priority,
   * loads the large grammars the current one holds and then this one, and takes its place;
   * the one it replaces finishes the utterances it holds and exits. The serving workers never
   * stop for a large grammar, and its calls run on the CPU the other stores' calls leave.
   */
  async prepare(grammar: Grammar, memoryLimit?: number): Promise<void> {
    touchRecent(this.prepared, grammar.key, { grammar, memoryLimit }, GRAMMAR_TEXTS);
    if (this.isLarge(grammar)) {
      const run = this.largeQueue.then(() => this.prepareLarge(grammar, memoryLimit));
      this.largeQueue = run.catch(() => undefined);
      return run;
    }
    for (const target of [...this.workers]) {
      if (this.closed) return;
      if (target.grammars.has(grammar.key) || !this.workers.includes(target)) continue;
      await this.loadInto(target, grammar, memoryLimit);
    }
  }

  /** A worker started aside at a lower CPU priority than the server's (as far as the system allows). */
  private spawnLowered(): PoolWorker {
    const worker = this.spawn(true);
    const pid = worker.channel.pid;
    try {
      if (pid !== undefined) setPriority(pid, Math.min(19, getPriority() + LARGE_NICE));
    } catch {
      // it runs at the server's priority
    }
    return worker;
  }

  /**
   * The worker of short utterances when it is wanted and ready; started when there is none
   * (undefined until it is ready: the serving workers take answers meanwhile).
   */
  private answerWorker(): PoolWorker | undefined {
    // With one serving worker (one core), none: it would take half of that core.
    if (!this.answerWorkerWanted || this.closed || this.workers.length < 2) return undefined;
    if (this.answers === undefined) {
      if (Date.now() - this.answersExitedAt < RESTART_PAUSE_MS) return undefined;
      const worker = this.spawn(true);
      this.answers = worker;
      worker.ready.then(() => void this.aside.delete(worker)).catch(() => undefined);
      return undefined;
    }
    return this.readyAnswers;
  }

  /** The worker of large grammars, started (empty: grammars then load with their first utterance) when there is none. */
  private largeWorker(): PoolWorker {
    if (this.large === undefined || this.large.dead !== undefined) {
      const worker = this.spawnLowered();
      this.aside.delete(worker);
      this.large = worker;
    }
    return this.large;
  }

  private async prepareLarge(grammar: Grammar, memoryLimit?: number): Promise<void> {
    if (this.closed) return;
    const current = this.large?.dead === undefined ? this.large : undefined;
    if (current?.grammars.has(grammar.key)) return;
    const held =
      current === undefined
        ? []
        : [...current.grammars.keys()].filter((key) => key !== grammar.key && this.prepared.has(key)).slice(-(MAX_RELOADED - 1));
    const next = this.spawnLowered();
    try {
      await next.ready;
      for (const key of held) {
        const p = this.prepared.get(key);
        if (p !== undefined && !this.closed) await this.loadInto(next, p.grammar, p.memoryLimit).catch(() => undefined);
      }
      await this.loadInto(next, grammar, memoryLimit);
    } catch (err) {
      next.channel.kill();
      throw err;
    } finally {
      this.aside.delete(next);
    }
    if (this.closed) {
      next.channel.stop(STOP_GRACE_MS);
      return;
    }
    const previous = this.large;
    this.large = next;
    if (previous !== undefined) {
      this.largeWorkersReplaced += 1;
      if (previous.dead === undefined) this.retire(previous);
    }
  }

  /** Loads `grammar` in one worker; resolves when it is loaded, rejects (and forgets it as prepared) when it cannot be. */
  private async loadInto(target: PoolWorker, grammar: Grammar, memoryLimit?: number): Promise<void> {
    const speed: Speed = this.spec.profile === 'fast' ? 'fast' : 'accurate';
    const id = this.nextSession;
    this.nextSession += 1;
    // Counted as loading at once, before any await: an utterance starting now avoids it.
    const load = target.channel.load({ type: 'load', session: id, key: grammar.key, grammar, speed, memoryLimit });
    await target.ready;
    this.holds(target, grammar);
    const bytes = await load.send().catch((err: Error) => {
      // The worker keeps no part of a grammar it could not load (or dropped for its size).
      target.grammars.delete(grammar.key);
      this.prepared.delete(grammar.key);
      throw err;
    });
    this.grammarBytes.set(grammar.key, Math.max(bytes, this.grammarBytes.get(grammar.key) ?? 0));
  }

  /** Stops a replaced worker once the utterances it holds are answered (or after RETIRE_WAIT_MS). */
  private retire(worker: PoolWorker): void {
    this.aside.add(worker);
    const until = Date.now() + RETIRE_WAIT_MS;
    const check = (): void => {
      const idle = worker.open === 0 && worker.channel.count() === 0;
      if (worker.dead !== undefined) return;
      if (idle || this.closed || Date.now() > until) worker.channel.stop(STOP_GRACE_MS);
      else setTimeout(check, 50).unref();
    };
    check();
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = this.everyWorker;
    this.workers = [];
    this.large = undefined;
    this.answers = undefined;
    this.aside.clear();
    for (const w of workers) w.channel.stop(STOP_GRACE_MS);
    await Promise.all(workers.map((w) => w.exited));
  }
}

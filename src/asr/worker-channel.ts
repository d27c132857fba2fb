import { ChildProcess } from 'node:child_process';
import { RecognitionCancelled, RecognitionResult } from './recognizer';
import type { WorkerReply, WorkerRequest } from './worker';

/** What a request waits for: an utterance's result, a flush, a grammar's load (resolved with the memory it took). */
type Waiting =
  | { kind: 'end'; resolve: (result: RecognitionResult) => void; reject: (err: Error) => void }
  | { kind: 'flush'; resolve: () => void; reject: (err: Error) => void }
  | { kind: 'load'; key: string; resolve: (bytes: number) => void; reject: (err: Error) => void };

export type RequestKind = Waiting['kind'];

/**
 * The wire to one recognition worker process: requests out, replies in, and one map of the
 * requests waiting for a reply, every one of them rejected with the reason when the process
 * exits. Knows nothing of scheduling (RecognizerPool decides what goes where).
 */
export class WorkerChannel {
  private readonly waiting = new Map<string, Waiting>();
  private failure: Error | undefined;
  /** Set once the process has exited: what its requests fail with from then on. */
  dead: Error | undefined;
  /** Resolves when the worker's engine is loaded; rejects when it cannot start. */
  readonly ready: Promise<void>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;

  constructor(
    readonly process: ChildProcess,
    /** Told once, when the process has exited (after every waiting request was rejected). */
    onExit: (err: Error) => void,
  ) {
    let exited: () => void = () => undefined;
    this.exited = new Promise((resolve) => (exited = resolve));
    const die = (err: Error): void => {
      if (this.dead !== undefined) return;
      this.dead = err;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
      exited();
      onExit(err);
    };
    this.ready = new Promise((resolve, reject) => {
      process.on('message', (msg: WorkerReply) => {
        if (msg.type === 'ready') resolve();
        else if (msg.type === 'fatal') {
          this.failure = new Error(msg.message);
          reject(this.failure);
        } else this.reply(msg);
      });
      // 'error': the process could not be started or signalled; its 'exit' follows when it ran.
      process.on('error', (err) => {
        this.failure ??= err;
        reject(err);
        if (process.exitCode === null && process.signalCode === null && process.pid !== undefined) return;
        die(err);
      });
      process.on('exit', (code, signal) => {
        const err =
          this.failure ??
          new Error(
            signal !== null ? `the recognition worker crashed (${signal})` : `the recognition worker stopped (exit code ${String(code)})`,
          );
        reject(err);
        die(err);
      });
    });
    // A worker that fails to start is reported by whoever awaits `ready`.
    this.ready.catch(() => undefined);
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  /** Requests waiting for a reply, of one kind or all. */
  count(kind?: RequestKind): number {
    if (kind === undefined) return this.waiting.size;
    let n = 0;
    for (const w of this.waiting.values()) if (w.kind === kind) n += 1;
    return n;
  }

  /** Whether an utterance's end is waiting for its result. */
  awaitsEnd(session: number): boolean {
    return this.waiting.has(`end:${session}`);
  }

  /** Sends a message that gets no reply; to a worker that has exited, nothing. */
  post(msg: WorkerRequest): void {
    if (this.dead !== undefined || !this.process.connected) return;
    // An error here means the worker is exiting: its 'exit' fails what it held.
    this.process.send(msg, (err) => void err);
  }

  /** Asks for an utterance's result. */
  end(session: number): Promise<RecognitionResult> {
    return this.request<RecognitionResult>({ type: 'end', session }, (resolve, reject) => ({ kind: 'end', resolve, reject }));
  }

  /** Waits until the worker has decoded what it was sent of a session. */
  flush(session: number): Promise<void> {
    return this.request<void>({ type: 'flush', session }, (resolve, reject) => ({ kind: 'flush', resolve, reject }));
  }

  /**
   * Registers the load of a grammar at once (so that the worker counts as loading before any
   * await), and returns a send that posts it and resolves with the memory it took.
   */
  load(msg: Extract<WorkerRequest, { type: 'load' }>): { send: () => Promise<number> } {
    let registered: Promise<number> | undefined;
    if (this.dead === undefined) {
      registered = new Promise<number>((resolve, reject) =>
        this.waiting.set(`load:${msg.session}`, { kind: 'load', key: msg.key, resolve, reject }),
      );
      registered.catch(() => undefined);
    }
    return {
      send: () => {
        if (registered === undefined || this.dead !== undefined)
          return Promise.reject(this.dead ?? new Error('the recognition worker has exited'));
        this.post(msg);
        return registered;
      },
    };
  }

  /** Stops the worker: its channel is closed (it exits on 'disconnect'), and it is killed if it has not gone within `graceMs`. */
  stop(graceMs: number): void {
    if (this.process.connected) this.process.disconnect();
    setTimeout(() => {
      if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGKILL');
    }, graceMs).unref();
  }

  kill(): void {
    this.process.kill('SIGKILL');
  }

  private request<T>(
    msg: WorkerRequest & { session: number },
    waiting: (resolve: (v: T) => void, reject: (err: Error) => void) => Waiting,
  ): Promise<T> {
    if (this.dead !== undefined) return Promise.reject(this.dead);
    return new Promise<T>((resolve, reject) => {
      const w = waiting(resolve, reject);
      this.waiting.set(`${w.kind}:${msg.session}`, w);
      this.post(msg);
    });
  }

  private reply(msg: Exclude<WorkerReply, { type: 'ready' } | { type: 'fatal' }>): void {
    const kind: RequestKind = msg.type === 'flushed' ? 'flush' : msg.type === 'loaded' || msg.type === 'load-failed' ? 'load' : 'end';
    const key = `${kind}:${msg.session}`;
    const w = this.waiting.get(key);
    if (w === undefined) return;
    this.waiting.delete(key);
    if (w.kind === 'flush') w.resolve();
    else if (w.kind === 'load') {
      if (msg.type === 'loaded') w.resolve(msg.bytes);
      else w.reject(new Error((msg as { message: string }).message));
    } else if (msg.type === 'result') w.resolve(msg.result);
    else if (msg.type === 'cancelled') w.reject(new RecognitionCancelled());
    else w.reject(new Error(`recognition failed: ${(msg as { message: string }).message}`));
  }
}

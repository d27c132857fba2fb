import { performance } from 'node:perf_hooks';
import { createDecoderFactory, EngineSpec } from './engine';
import { Grammar } from './grammar';
import { GRAMMAR_TEXTS, touchRecent } from './recent';
import { Decoder, DecoderPart, GrammarDecoders, Speed } from './recognizer';

/**
 * A recognition worker process (forked by RecognizerPool, its engine spec as the first
 * argument): holds one decoder per grammar (most recently used kept) and decodes the
 * sessions the pool gives it, off the main event loop and outside the server's process.
 */

export type WorkerRequest =
  /** `grammar` comes with the first session of its key only (see GRAMMAR_TEXTS). */
  | { type: 'start'; session: number; key: string; grammar?: Grammar; part?: DecoderPart; speed?: Speed }
  | { type: 'write'; session: number; pcm: ArrayBuffer }
  | { type: 'end'; session: number }
  | { type: 'flush'; session: number }
  | { type: 'close'; session: number }
  /**
   * Gives up an end asked for: dropped, and answered with a 'cancelled' reply, when it is still
   * waiting; nothing when it was decoded already (its result was sent).
   */
  | { type: 'cancel'; session: number }
  /** Loads a grammar ahead of its first utterance (RecognizerPool.prepare). */
  | { type: 'load'; session: number; key: string; grammar: Grammar; speed?: Speed; memoryLimit?: number };

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'fatal'; message: string }
  | { type: 'result'; session: number; result: import('./recognizer').RecognitionResult }
  | { type: 'error'; session: number; message: string }
  | { type: 'cancelled'; session: number }
  | { type: 'flushed'; session: number }
  /** `bytes`: the worker's resident memory grown by the load (0 when the grammar was loaded already). */
  | { type: 'loaded'; session: number; bytes: number }
  | { type: 'load-failed'; session: number; message: string };

/** Samples per millisecond of the audio sessions write (16 kHz). */
const SAMPLES_PER_MS = 16;
/**
 * How many milliseconds of audio a millisecond of waiting is worth when choosing the next end
 * to decode: a 2.5-s name that has waited 400 ms goes before a 1-s answer that just came.
 */
const ENDS_AGEING = 4;

/** Grammars with a loaded decoder, most recently used kept. */
const MAX_GRAMMARS = 24;
/** Name grammars (Grammar.kind 'name') with a loaded decoder, kept apart so that they never push a store's out. */
const MAX_NAME_GRAMMARS = 96;

/** The pool's end of the IPC channel; the worker exits when the server does. */
function connect(): { post: (msg: WorkerReply, sent?: () => void) => void; on: (fn: (msg: WorkerRequest) => void) => void } {
  const send = process.send?.bind(process);
  if (send === undefined) {
    process.stderr.write('worker.js is a recognition worker: attendant starts it, it is not run by hand\n');
    process.exit(2);
  }
  // The server is gone (even killed with SIGKILL): nothing is left to decode for.
  process.on('disconnect', () => process.exit(0));
  // A stop sent to the whole process group (Ctrl-C on `npm start`, systemd's control group)
  // is the server's to handle: it drains its calls, which need this worker, then closes the
  // channel (RecognizerPool.close), and the worker exits then.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => undefined);
  return {
    post: (msg, sent) => void send(msg, undefined, undefined, () => sent?.()),
    on: (fn) => void process.on('message', fn as (msg: unknown) => void),
  };
}

function main(): void {
  const port = connect();
  let factory: ReturnType<typeof createDecoderFactory>;
  try {
    factory = createDecoderFactory(JSON.parse(process.argv[2] ?? '') as EngineSpec);
  } catch (err) {
    // Said, then gone: a worker without an engine holds no place in the pool.
    port.post({ type: 'fatal', message: (err as Error).message } satisfies WorkerReply, () => process.exit(3));
    return;
  }
  // Decoders per grammar, and grammar texts, most recently used last.
  const grammars = new Map<string, GrammarDecoders>();
  const names = new Map<string, GrammarDecoders>();
  const texts = new Map<string, Grammar>();
  // The sessions being decoded, and any failure met while writing, reported at end.
  const sessions = new Map<number, { decoder?: Decoder; failure?: string; samples: number }>();

  // An utterance is decoded whole at its end (batch CMN): ends waiting together are taken
  // shortest first, so that a caller's "oui" is not decoded after the names that came in
  // with it; a wait counts against its length (ENDS_AGEING), so that no long one starves.
  const waiting: { session: number; samples: number; since: number }[] = [];
  let draining = false;
  const finish = (id: number): void => {
    const session = sessions.get(id);
    sessions.delete(id);
    if (session === undefined) {
      port.post({ type: 'error', session: id, message: 'unknown session' } satisfies WorkerReply);
    } else if (session.failure !== undefined || session.decoder === undefined) {
      port.post({ type: 'error', session: id, message: session.failure ?? 'no decoder' } satisfies WorkerReply);
    } else {
      try {
        port.post({ type: 'result', session: id, result: session.decoder.end() } satisfies WorkerReply);
      } catch (err) {
        port.post({ type: 'error', session: id, message: (err as Error).message } satisfies WorkerReply);
      }
    }
  };
  const drain = (): void => {
    draining = false;
    if (waiting.length === 0) return;
    const now = performance.now();
    const cost = (w: (typeof waiting)[number]): number => w.samples / SAMPLES_PER_MS - ENDS_AGEING * (now - w.since);
    let next = 0;
    for (let i = 1; i < waiting.length; i += 1) if (cost(waiting[i]) < cost(waiting[next])) next = i;
    finish(waiting.splice(next, 1)[0].session);
    // The messages that came in meanwhile are read before the next end is chosen.
    if (waiting.length > 0) schedule();
  };
  const schedule = (): void => {
    if (draining) return;
    draining = true;
    setImmediate(drain);
  };

  const decodersFor = (grammar: Grammar, speed: Speed | undefined): GrammarDecoders => {
    const [held, limit] = grammar.kind === 'name' ? [names, MAX_NAME_GRAMMARS] : [grammars, MAX_GRAMMARS];
    const known = held.get(grammar.key);
    if (known !== undefined) {
      touchRecent(held, grammar.key, known, limit);
      return known;
    }
    const loaded = factory.create(grammar, speed);
    // Sessions already open keep the decoder they hold; only idle ones are freed.
    for (const oldest of touchRecent(held, grammar.key, loaded, limit)) oldest.free();
    return loaded;
  };

  port.on((msg: WorkerRequest) => {
    switch (msg.type) {
      case 'start': {
        const grammar = msg.grammar ?? texts.get(msg.key);
        if (grammar !== undefined) touchRecent(texts, msg.key, grammar, GRAMMAR_TEXTS);
        try {
          if (grammar === undefined) throw new Error('the grammar was never sent to this worker');
          // The phone-loop half of an utterance needs no grammar loaded.
          const decoder =
            msg.part === 'loop' && factory.openLoop !== undefined
              ? factory.openLoop(msg.speed, grammar.model)
              : decodersFor(grammar, msg.speed).open(msg.part, msg.speed);
          sessions.set(msg.session, { decoder, samples: 0 });
        } catch (err) {
          sessions.set(msg.session, { failure: (err as Error).message, samples: 0 });
        }
        break;
      }
      case 'write': {
        const session = sessions.get(msg.session);
        if (session?.decoder === undefined || session.failure !== undefined) break;
        try {
          const pcm = new Int16Array(msg.pcm);
          session.samples += pcm.length;
          session.decoder.write(pcm);
        } catch (err) {
          session.failure = (err as Error).message;
        }
        break;
      }
      case 'end': {
        const session = sessions.get(msg.session);
        if (session === undefined) {
          finish(msg.session);
          break;
        }
        waiting.push({ session: msg.session, samples: session.samples, since: performance.now() });
        schedule();
        break;
      }
      case 'load': {
        // A load (seconds for a large store) comes after the ends already asked for.
        while (waiting.length > 0) drain();
        touchRecent(texts, msg.key, msg.grammar, GRAMMAR_TEXTS);
        const before = process.memoryUsage.rss();
        const had = grammars.has(msg.key);
        try {
          const loaded = decodersFor(msg.grammar, msg.speed);
          const bytes = had ? 0 : Math.max(0, process.memoryUsage.rss() - before);
          if (msg.memoryLimit !== undefined && bytes > msg.memoryLimit) {
            // Over the store's budget: freed at once, and the store's version is refused.
            grammars.delete(msg.key);
            texts.delete(msg.key);
            loaded.free();
            throw new Error(
              `the grammar takes ${Math.round(bytes / 1048576)} MB in a recognition worker, more than the ${Math.round(msg.memoryLimit / 1048576)} MB a store may take (ATTENDANT_STORE_MEMORY_MB); split the directory or raise the limit`,
            );
          }
          port.post({ type: 'loaded', session: msg.session, bytes } satisfies WorkerReply);
        } catch (err) {
          port.post({ type: 'load-failed', session: msg.session, message: (err as Error).message } satisfies WorkerReply);
        }
        break;
      }
      case 'cancel': {
        const at = waiting.findIndex((w) => w.session === msg.session);
        if (at < 0) break;
        waiting.splice(at, 1);
        sessions.delete(msg.session);
        port.post({ type: 'cancelled', session: msg.session } satisfies WorkerReply);
        break;
      }
      case 'flush':
        port.post({ type: 'flushed', session: msg.session } satisfies WorkerReply);
        break;
      case 'close': {
        // An end already asked for is answered (its caller waits for it); the decoder goes then.
        if (waiting.some((w) => w.session === msg.session)) break;
        const session = sessions.get(msg.session);
        sessions.delete(msg.session);
        if (session?.decoder !== undefined && session.failure === undefined) {
          try {
            session.decoder.end();
          } catch {
            // the utterance is dropped either way
          }
        }
        break;
      }
    }
  });
  port.post({ type: 'ready' } satisfies WorkerReply);
}

main();

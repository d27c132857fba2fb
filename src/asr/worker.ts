import { parentPort, workerData } from 'node:worker_threads';
import { createDecoderFactory, EngineSpec } from './engine';
import { Grammar } from './grammar';
import { Decoder } from './recognizer';

/**
 * A recognition worker thread: holds one decoder per grammar (most recently used kept)
 * and decodes the sessions the pool gives it, off the main event loop.
 */

export type WorkerRequest =
  | { type: 'start'; session: number; grammar: Grammar }
  | { type: 'write'; session: number; pcm: ArrayBuffer }
  | { type: 'end'; session: number }
  | { type: 'close'; session: number };

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'fatal'; message: string }
  | { type: 'result'; session: number; result: import('./recognizer').RecognitionResult }
  | { type: 'error'; session: number; message: string };

const MAX_DECODERS = 24;

function main(): void {
  const port = parentPort;
  if (port === null) throw new Error('worker.ts runs as a worker thread');
  let factory: ReturnType<typeof createDecoderFactory>;
  try {
    factory = createDecoderFactory(workerData as EngineSpec);
  } catch (err) {
    port.postMessage({ type: 'fatal', message: (err as Error).message } satisfies WorkerReply);
    return;
  }
  const decoders = new Map<string, Decoder>();
  // The session being decoded, and any failure met while writing, reported at end.
  const sessions = new Map<number, { decoder: Decoder; failure?: string }>();

  const decoderFor = (grammar: Grammar): Decoder => {
    const known = decoders.get(grammar.key);
    if (known !== undefined) {
      decoders.delete(grammar.key);
      decoders.set(grammar.key, known);
      return known;
    }
    const decoder = factory.create(grammar);
    decoders.set(grammar.key, decoder);
    if (decoders.size > MAX_DECODERS) {
      const [oldestKey, oldest] = decoders.entries().next().value as [string, Decoder];
      if (![...sessions.values()].some((s) => s.decoder === oldest)) {
        oldest.free();
        decoders.delete(oldestKey);
      }
    }
    return decoder;
  };

  port.on('message', (msg: WorkerRequest) => {
    switch (msg.type) {
      case 'start': {
        try {
          const decoder = decoderFor(msg.grammar);
          decoder.start();
          sessions.set(msg.session, { decoder });
        } catch (err) {
          sessions.set(msg.session, { decoder: undefined as unknown as Decoder, failure: (err as Error).message });
        }
        break;
      }
      case 'write': {
        const session = sessions.get(msg.session);
        if (session === undefined || session.failure !== undefined) break;
        try {
          session.decoder.write(new Int16Array(msg.pcm));
        } catch (err) {
          session.failure = (err as Error).message;
        }
        break;
      }
      case 'end': {
        const session = sessions.get(msg.session);
        sessions.delete(msg.session);
        if (session === undefined) {
          port.postMessage({ type: 'error', session: msg.session, message: 'unknown session' } satisfies WorkerReply);
        } else if (session.failure !== undefined) {
          port.postMessage({ type: 'error', session: msg.session, message: session.failure } satisfies WorkerReply);
        } else {
          try {
            port.postMessage({ type: 'result', session: msg.session, result: session.decoder.end() } satisfies WorkerReply);
          } catch (err) {
            port.postMessage({ type: 'error', session: msg.session, message: (err as Error).message } satisfies WorkerReply);
          }
        }
        break;
      }
      case 'close': {
        const session = sessions.get(msg.session);
        sessions.delete(msg.session);
        if (session !== undefined && session.failure === undefined) {
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
  port.postMessage({ type: 'ready' } satisfies WorkerReply);
}

main();

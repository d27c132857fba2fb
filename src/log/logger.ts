import pino, { Logger } from 'pino';

/**
 * The root pino logger (JSON on stderr, so that commands keep stdout for their output);
 * a child per call carries call_id and store on every line.
 */
export function createLogger(level = process.env.ATTENDANT_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { service: 'attendant' } }, pino.destination(2));
}

export function callLogger(root: Logger, callId: string, store: string): Logger {
  return root.child({ call_id: callId, store });
}

export type { Logger };

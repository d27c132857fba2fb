import pino, { Logger } from 'pino';

/**
 * The root pino logger (JSON on stderr, so that commands keep stdout for their output).
 */
export function createLogger(level = process.env.ATTENDANT_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { service: 'attendant' } }, pino.destination(2));
}

export type { Logger };

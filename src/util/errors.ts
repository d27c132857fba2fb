/**
 * What kind of failure an error is, whatever its words: each adapter maps the kind once, by
 * table, to what its client understands (an exit status, a gRPC status, an HTTP status).
 * A message can be reworded without changing any of them.
 */
export type ErrorKind =
  /** The request or the file is wrong: fixing it is the caller's business. */
  | 'invalid'
  | 'not-found'
  /** The state changed or is not what the request assumed (a version, a store that exists). */
  | 'conflict'
  /** Something attendant depends on (the database, a peer) cannot be reached: try again later. */
  | 'unavailable'
  | 'unauthorized'
  | 'forbidden'
  /** Too much at once: try again later, or with less. */
  | 'busy';

export const ERROR_KINDS: ErrorKind[] = ['invalid', 'not-found', 'conflict', 'unavailable', 'unauthorized', 'forbidden', 'busy'];

export class AttendantError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The kind of any error; 'internal' for one that is not attendant's own (a defect, or a library's). */
export function kindOf(err: unknown): ErrorKind | 'internal' {
  return err instanceof AttendantError ? err.kind : 'internal';
}

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

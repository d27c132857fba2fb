import { IncomingMessage } from 'node:http';
import { StoreNotFoundError, VersionConflictError, VersionNotFoundError } from '../directory/directory-store';
import { AttendantError, ErrorKind } from '../util/errors';
import { ConsoleLang } from './sessions';
import { say, TextKey } from './messages';

/**
 * The console's HTTP plumbing: headers, errors and how the domain's errors become statuses
 * and words, bodies read within limits, rates per minute. The routes are console-server.ts.
 */

export type Json = Record<string, unknown>;

/** Counts events per key in one-minute windows. */
export class PerMinute {
  private readonly counts = new Map<string, { start: number; n: number }>();
  constructor(private readonly limit: number) {}
  /** Counts one more for `key`; false once the key is over its limit this minute. */
  take(key: string, now = Date.now()): boolean {
    if (this.counts.size > 100_000) this.counts.clear();
    const c = this.counts.get(key);
    if (c === undefined || now - c.start > 60_000) {
      this.counts.set(key, { start: now, n: 1 });
      return true;
    }
    c.n += 1;
    return c.n <= this.limit;
  }
}
/** Nothing from elsewhere: every asset is served here (the stores' networks have no internet). */
export const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** The HTTP status of each kind of error (util/errors.ts). */
export const HTTP_STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  'not-found': 404,
  conflict: 409,
  unavailable: 503,
  unauthorized: 401,
  forbidden: 403,
  busy: 429,
};

/** The console's own words for the domain's errors, by error class; any other says its message. */
export const CONSOLE_TEXT: Record<string, (err: AttendantError) => [TextKey, Record<string, string | number>?]> = {
  StoreNotFoundError: (err) => ['noStore', { store: (err as StoreNotFoundError).store }],
  VersionNotFoundError: (err) => ['noVersion', { version: (err as VersionNotFoundError).version }],
  VersionConflictError: (err) => [
    'conflict',
    { actual: (err as VersionConflictError).actual, expected: (err as VersionConflictError).expected },
  ],
  DatabaseUnavailableError: () => ['database'],
  EmptyDirectoryError: () => ['empty'],
};

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** A file sent for download. */
export class Download {
  constructor(
    readonly name: string,
    readonly type: string,
    readonly bytes: Buffer,
  ) {}
}

/** Whether the request came over HTTPS (here, or to a proxy in front). */
export const secure = (req: IncomingMessage): boolean =>
  (req.socket as { encrypted?: boolean }).encrypted === true || String(req.headers['x-forwarded-proto'] ?? '').toLowerCase() === 'https';

/** A request's body, refused (413) from its Content-Length or as soon as it passes `limit`. */
export function readBody(req: IncomingMessage, limit: number, lang: ConsoleLang): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(new HttpError(413, say('tooLarge', lang, { size: declared, limit })));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.pause();
        reject(new HttpError(413, say('tooLarge', lang, { size: `> ${limit}`, limit })));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** A JSON object body (415 without its Content-Type, 400 when it is not one). */
export async function readJson(req: IncomingMessage, lang: ConsoleLang): Promise<Json> {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? ''))
    throw new HttpError(415, say('badRequest', lang, { why: 'Content-Type: application/json' }));
  const body = await readBody(req, 1024 * 1024, lang);
  try {
    const doc = JSON.parse(body.toString('utf8') || '{}') as unknown;
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('an object is expected');
    return doc as Json;
  } catch (err) {
    throw new HttpError(400, say('badRequest', lang, { why: (err as Error).message }));
  }
}

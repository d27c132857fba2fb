import { randomBytes, timingSafeEqual } from 'node:crypto';
import { AttendantError } from '../util/errors';

/**
 * Console sessions, held in the memory of the node that signed the admin in (the console is
 * reached on one node's HTTP port; a restart signs everybody out). The token itself is kept
 * here, never sent back: each request checks it again, so a revocation holds at once.
 */

export type ConsoleLang = 'fr' | 'en';

export interface Session {
  id: string;
  /** The token the admin signed in with. */
  secret: string;
  tokenId: string;
  /** The store this session may see; null: every store (an admin token). */
  store: string | null;
  /** Sent back in X-CSRF-Token with every change. */
  csrf: string;
  lang: ConsoleLang;
  createdAt: number;
  seenAt: number;
}

export const SESSION_COOKIE = 'attendant_session';
/** A session unused this long is closed. */
export const IDLE_MS = 8 * 3600_000;
/** And none lasts longer than this. */
export const MAX_AGE_MS = 24 * 3600_000;
export const MAX_SESSIONS = 10_000;
/** Sessions one token may hold; its oldest goes when it opens one more. */
export const MAX_SESSIONS_PER_TOKEN = 20;

/** The table is full of other tokens' sessions: a sign-in never signs anyone else out. */
export class SessionsFullError extends AttendantError {
  constructor(message = 'too many console sessions') {
    super('busy', message);
  }
}

export class Sessions {
  private readonly sessions = new Map<string, Session>();
  /** Called with the id of every session that ends (signed out, expired, revoked, replaced). */
  onClose: (id: string) => void = () => undefined;

  constructor(
    private readonly max = MAX_SESSIONS,
    private readonly perToken = MAX_SESSIONS_PER_TOKEN,
  ) {}

  /**
   * A new session. A token holding `perToken` sessions loses its oldest; a full table loses
   * the oldest session of the same token, never another token's (an admin's, another
   * store's): with none to give, SessionsFullError.
   */
  open(fields: Pick<Session, 'secret' | 'tokenId' | 'store' | 'lang'>, now = Date.now()): Session {
    this.expire(now);
    const own = [...this.sessions.values()].filter((s) => s.tokenId === fields.tokenId);
    if (own.length >= this.perToken || (this.sessions.size >= this.max && own.length > 0)) this.close(own[0].id);
    else if (this.sessions.size >= this.max) throw new SessionsFullError('the session table is full');
    const session: Session = {
      ...fields,
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(24).toString('base64url'),
      createdAt: now,
      seenAt: now,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Closes the sessions past their idle time or age. */
  expire(now = Date.now()): void {
    for (const [id, s] of this.sessions) if (now - s.seenAt > IDLE_MS || now - s.createdAt > MAX_AGE_MS) this.close(id);
  }

  /** The live session named by a Cookie header, or undefined. */
  find(cookieHeader: string | undefined, now = Date.now()): Session | undefined {
    const id = cookieValue(cookieHeader, SESSION_COOKIE);
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (session === undefined) return undefined;
    if (now - session.seenAt > IDLE_MS || now - session.createdAt > MAX_AGE_MS) {
      this.close(id);
      return undefined;
    }
    session.seenAt = now;
    return session;
  }

  close(id: string): void {
    if (this.sessions.delete(id)) this.onClose(id);
  }

  /** Closes every session opened with a token (it was revoked). */
  closeToken(tokenId: string): void {
    for (const [id, s] of this.sessions) if (s.tokenId === tokenId) this.close(id);
  }
}

/** True when the request's CSRF header is the session's. */
export function csrfMatches(session: Session, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string') return false;
  const a = Buffer.from(header);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie header of a session; `secure` behind TLS. An empty id clears the cookie. */
export function sessionCookie(id: string, secure: boolean): string {
  const attrs = [
    `${SESSION_COOKIE}=${id}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    id === '' ? 'Max-Age=0' : `Max-Age=${MAX_AGE_MS / 1000}`,
  ];
  if (secure) attrs.push('Secure');
  return attrs.join('; ');
}

import { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Logger } from 'pino';
import { DirectoryStore, entryChanges } from '../directory/directory-store';
import { DirectoryProblem } from '../directory/problem';
import { CSV_COLUMNS, MAX_DIRECTORY_BYTES, validateEntry } from '../directory/directory-file';
import { parseDirectoryIsolated } from '../directory/isolated-parse';
import { describeReimport, reimportOver } from '../directory/reimport';
import { DirectoryEntry, displayName, normalizeText, spokenForms, spokenWords } from '../directory/entry';
import { writeXlsx } from '../directory/xlsx';
import { entriesToCsv, entryCells } from '../directory/export';
import { TokenStore } from '../api/tokens';
import { toWire } from '../api/directory-service';
import { FailureLimiter } from '../api/failure-limiter';
import { AttendantError, messageOf } from '../util/errors';
import { CallRecord, CallRecords } from '../attendant/call-records';
import { StoreUnderstanding, Understanding } from '../attendant/understanding';
import { inBackground, Recognizer, RecognitionResult } from '../asr/recognizer';
import { recognizePcm } from '../attendant/understanding';
import { decodeWav } from '../media/audio-file';
import { PromptLibrary } from '../media/prompts';
import { PromptRecordings } from '../media/prompt-recordings';
import { ConsoleLang, csrfMatches, Session, sessionCookie, Sessions, SessionsFullError } from './sessions';
import { say, showProblem, showReason } from './messages';
import { CONSOLE_TEXT, Download, HTTP_STATUS, HttpError, Json, PerMinute, readBody, readJson, secure, SECURITY_HEADERS } from './http';
import { MAX_AUDIO_BYTES, PromptRoutes } from './prompt-routes';

/**
 * The store console: a page in French (or English) on the HTTP port, for a store's admin
 * signed in with a store or admin token. Its JSON API under /api/ goes through the same
 * directory store, validation and version history as the CLI and gRPC (changes are recorded
 * with via "console"). A store's session is refused every other store, whatever the URL.
 */

/** An upload larger than this is refused from its Content-Length, before it is read. */
export const MAX_UPLOAD_BYTES = MAX_DIRECTORY_BYTES;
/** A recording sent to "Tester un enregistrement" is heard only up to this long: a name is said in a few seconds. */
export const MAX_TEST_AUDIO_SECONDS = 30;
/** Previews kept at once, counted in entries (a 50,000-entry preview holds about 40 MB): the oldest goes first. */
export const MAX_PREVIEW_ENTRIES = 200_000;
/** Sign-ins a minute from one address, and with one token. */
export const MAX_SIGN_INS_PER_MINUTE = 30;

const PREVIEW_MS = 15 * 60_000;
const STATIC_DIR = join(__dirname, '..', '..', '..', 'src', 'console', 'static');
const ASSETS: Record<string, [string, string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/console/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/console/app.css': ['app.css', 'text/css; charset=utf-8'],
};
export interface ConsoleDeps {
  directory: DirectoryStore;
  tokens: TokenStore;
  records: CallRecords;
  /** Shared with the gRPC services: failed sign-ins count with failed API calls. */
  limiter: FailureLimiter;
  log: Logger;
  /** The understanding calls of a store use now; undefined while it is loading. */
  understandingOf: (store: string) => StoreUnderstanding | undefined;
  recognizer: Recognizer;
  /** Calls this node is answering now: a test recording waits for none (callers come first). */
  callsInProgress?: () => number;
  prompts: PromptLibrary;
  /** Where a store's own recordings are kept for every node. */
  recordings: PromptRecordings;
  dataDir: string;
  /** Makes a change live (the same as after a gRPC or drop-folder change). */
  onChange: (store: string) => void;
  /** Entries all previews may hold together (MAX_PREVIEW_ENTRIES). */
  maxPreviewEntries?: number;
}

interface Preview {
  id: string;
  session: string;
  store: string;
  baseVersion: number;
  entries: DirectoryEntry[];
  expires: number;
}

export class ConsoleServer {
  readonly sessions = new Sessions();
  private readonly previews = new Map<string, Preview>();
  private readonly signIns = new PerMinute(MAX_SIGN_INS_PER_MINUTE);
  /** Stores whose test recording is being heard: one at a time each. */
  private readonly testing = new Set<string>();

  /** The import previews held in memory (each a parsed directory waiting for Appliquer). */
  get heldPreviews(): { count: number; entries: number } {
    return { count: this.previews.size, entries: [...this.previews.values()].reduce((n, p) => n + p.entries.length, 0) };
  }

  private readonly prompts: PromptRoutes;

  constructor(private readonly deps: ConsoleDeps) {
    this.prompts = new PromptRoutes(deps);
    // A session's previews go with it.
    this.sessions.onClose = (id) => {
      for (const [pid, p] of this.previews) if (p.session === id) this.previews.delete(pid);
    };
  }

  /** Answers the request when it is the console's (true), else leaves it (false). */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://console');
    const asset = ASSETS[url.pathname];
    if (asset !== undefined && req.method === 'GET') {
      void this.asset(res, asset);
      return true;
    }
    if (!url.pathname.startsWith('/api/')) return false;
    const session = this.sessions.find(req.headers.cookie);
    const lang: ConsoleLang = session?.lang ?? (/^en/i.test(req.headers['accept-language'] ?? '') ? 'en' : 'fr');
    this.api(req, res, url, session, lang)
      .then((body) => this.send(res, 200, body))
      .catch((err: unknown) => this.fail(res, err, lang));
    return true;
  }

  private async asset(res: ServerResponse, [file, type]: [string, string]): Promise<void> {
    try {
      const body = await readFile(join(STATIC_DIR, file));
      res.writeHead(200, { 'content-type': type, ...SECURITY_HEADERS }).end(body);
    } catch {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('console files missing\n');
    }
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    if (res.headersSent) return;
    if (body instanceof Download) {
      res
        .writeHead(status, { 'content-type': body.type, 'content-disposition': `attachment; filename="${body.name}"`, ...SECURITY_HEADERS })
        .end(body.bytes);
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS }).end(JSON.stringify(body ?? {}));
  }

  private fail(res: ServerResponse, err: unknown, lang: ConsoleLang): void {
    let e: HttpError;
    if (err instanceof HttpError) e = err;
    else if (err instanceof URIError) e = new HttpError(400, say('badRequest', lang, { why: err.message }));
    else if (err instanceof AttendantError) {
      const [key, values] = CONSOLE_TEXT[err.name]?.(err) ?? ['refused', { why: err.message }];
      e = new HttpError(HTTP_STATUS[err.kind], say(key, lang, values));
    } else {
      this.deps.log.error({ err }, 'console request failed');
      e = new HttpError(500, say('internal', lang, { why: messageOf(err) }));
    }
    // A body refused unread (too large, or a test recording while callers come first) is not read: the connection closes.
    if (e.status === 413 || (e.status === 429 && !res.req.complete)) res.setHeader('connection', 'close');
    this.send(res, e.status, { error: e.message, ...e.extra });
  }

  private async api(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    session: Session | undefined,
    lang: ConsoleLang,
  ): Promise<unknown> {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const peer = FailureLimiter.addressOf(req.socket.remoteAddress ?? '');
    if (!['GET', 'POST', 'PUT', 'DELETE'].includes(method) || (path === '/api/session' && method === 'PUT')) {
      res.setHeader('allow', path === '/api/session' ? 'GET, POST, DELETE' : 'GET, POST, PUT, DELETE');
      throw new HttpError(405, say('method', lang));
    }
    if (path === '/api/session') {
      if (method === 'POST') return this.signIn(req, res, peer, lang);
      if (session === undefined) throw new HttpError(401, say('signInFirst', lang));
      // A revoked token's sessions end at once, on this route as on every other.
      if ((await this.deps.tokens.verify(session.secret)) === undefined) {
        this.sessions.closeToken(session.tokenId);
        throw new HttpError(401, say('badToken', lang));
      }
      if (method === 'DELETE') {
        this.checkCsrf(req, session, lang);
        this.sessions.close(session.id);
        res.setHeader('set-cookie', sessionCookie('', secure(req)));
        return { signed_out: true };
      }
      return this.describe(session);
    }
    if (session === undefined) throw new HttpError(401, say('signInFirst', lang));
    if ((await this.deps.tokens.verify(session.secret)) === undefined) {
      this.sessions.closeToken(session.tokenId);
      throw new HttpError(401, say('badToken', lang));
    }
    if (method !== 'GET') this.checkCsrf(req, session, lang);
    if (path === '/api/stores' && method === 'GET') return { stores: await this.storesOf(session) };
    const m = /^\/api\/stores\/([^/]+)(\/.*)?$/.exec(path);
    if (m === null) throw new HttpError(404, say('notFound', lang));
    const store = decodeURIComponent(m[1]);
    // The store in the URL is checked against the session before anything is read.
    if (session.store !== null && session.store !== store) {
      this.deps.log.warn(
        { token: session.tokenId, store: session.store, asked: store },
        'console: a store session asked for another store',
      );
      throw new HttpError(403, say('otherStore', lang, { store: session.store }));
    }
    const origin = { via: 'console', actor: `token ${session.tokenId}` };
    const rest = m[2] ?? '';
    const { directory } = this.deps;
    const route = `${method} ${rest.replace(/^\/(entries|prompts|import)\/[^/]+/, '/$1/:id')}`;
    /** The entry id, prompt key or preview id after the collection in the path. */
    const param = (): string => decodeURIComponent(rest.split('/')[2]);
    switch (route) {
      case 'GET ': {
        const st = await directory.getStore(store);
        return {
          store: {
            id: st.id,
            name: st.name,
            version: st.version,
            locale: st.locale,
            transcripts: st.transcripts,
            numbers: st.numbers,
            operator: st.operator,
          },
        };
      }
      case 'GET /entries': {
        const snap = await directory.snapshot(store);
        return { version: snap.version, entries: snap.entries.map(toRow) };
      }
      case 'PUT /entries/:id': {
        const body = await readJson(req, lang);
        const id = param();
        const problems: DirectoryProblem[] = [];
        const entry = validateEntry({ ...(body.entry as Json), id }, 'entry', problems);
        if (entry === undefined)
          throw new HttpError(400, say('problems', lang, { n: problems.length }), { problems: problems.map((p) => showProblem(p, lang)) });
        const info = await directory.updateDirectory(
          store,
          (entries) => {
            const at = entries.findIndex((e) => e.id === id);
            return at === -1 ? [...entries, entry] : entries.map((e, i) => (i === at ? entry : e));
          },
          origin,
          expectedOf(body),
        );
        this.changed(store, origin.actor, 'entry saved');
        return { version: info.version };
      }
      case 'DELETE /entries/:id': {
        const id = param();
        const info = await directory.updateDirectory(
          store,
          (entries) => {
            if (!entries.some((e) => e.id === id)) throw new HttpError(404, say('noEntry', lang, { id }));
            return entries.filter((e) => e.id !== id);
          },
          origin,
        );
        this.changed(store, origin.actor, 'entry deleted');
        return { version: info.version };
      }
      case 'POST /import':
        return this.preview(req, session, store, lang);
      case 'POST /import/:id':
        return this.apply(param(), session, store, origin, lang);
      case 'GET /export.csv': {
        const snap = await directory.snapshot(store);
        return new Download(`${store}-v${snap.version}.csv`, 'text/csv; charset=utf-8', Buffer.from(entriesToCsv(snap.entries, true)));
      }
      case 'GET /export.xlsx': {
        const snap = await directory.snapshot(store);
        const bytes = await writeXlsx(CSV_COLUMNS, snap.entries.map(entryCells));
        return new Download(`${store}-v${snap.version}.xlsx`, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', bytes);
      }
      case 'GET /versions':
        return { versions: await directory.listVersions(store) };
      case 'GET /diff': {
        const from = Number(url.searchParams.get('from'));
        const to = Number(url.searchParams.get('to'));
        const [a, b] = await Promise.all([this.versionOf(store, from, lang), this.versionOf(store, to, lang)]);
        return { from, to, ...changesShown(a, b) };
      }
      case 'POST /rollback': {
        const body = await readJson(req, lang);
        const version = Number(body.version);
        if (!Number.isInteger(version)) throw new HttpError(400, say('badRequest', lang, { why: 'version' }));
        await this.versionOf(store, version, lang);
        const info = await directory.rollback(store, version, origin);
        this.changed(store, origin.actor, `rolled back to version ${version}`);
        return { version: info.version };
      }
      case 'GET /history':
        return { history: await directory.history(store) };
      case 'POST /test':
        return this.testText(store, String((await readJson(req, lang)).text ?? ''), lang);
      case 'POST /test-audio':
        return this.testAudio(req, store, lang);
      case 'GET /calls':
        return this.calls(store);
      case 'GET /prompts':
        return this.prompts.list(store);
      case 'GET /prompts/:id':
        return this.prompts.play(store, param(), lang);
      case 'PUT /prompts/:id':
        return this.prompts.record(req, store, param(), origin.actor, lang);
      case 'DELETE /prompts/:id':
        return this.prompts.reset(store, param(), origin.actor, lang);
      default:
        throw new HttpError(404, say('notFound', lang));
    }
  }

  private async signIn(req: IncomingMessage, res: ServerResponse, peer: string, lang: ConsoleLang): Promise<Json> {
    const body = await readJson(req, lang);
    const wanted: ConsoleLang = body.lang === 'en' ? 'en' : body.lang === 'fr' ? 'fr' : lang;
    const token = typeof body.token === 'string' ? body.token.trim() : '';
    if (!this.signIns.take(`address ${peer}`)) throw new HttpError(429, say('tooManySignIns', wanted));
    const info = token === '' ? undefined : await this.deps.tokens.verify(token);
    if (info === undefined) {
      if (this.deps.limiter.locked(peer)) throw new HttpError(429, say('locked', wanted));
      this.deps.limiter.fail(peer);
      this.deps.log.warn({ peer }, 'console sign-in failed');
      throw new HttpError(401, say('badToken', wanted));
    }
    if (!this.signIns.take(`token ${info.id}`)) throw new HttpError(429, say('tooManySignIns', wanted));
    let session: Session;
    try {
      session = this.sessions.open({ secret: token, tokenId: info.id, store: info.store, lang: wanted });
    } catch (err) {
      if (err instanceof SessionsFullError) throw new HttpError(429, say('tooManySessions', wanted));
      throw err;
    }
    res.setHeader('set-cookie', sessionCookie(session.id, secure(req)));
    this.deps.log.info({ token: info.id, store: info.store ?? 'every store' }, 'console: signed in');
    return this.describe(session);
  }

  private async describe(session: Session): Promise<Json> {
    return { store: session.store, csrf: session.csrf, lang: session.lang, stores: await this.storesOf(session) };
  }

  private async storesOf(session: Session): Promise<{ id: string; name: string; version: number }[]> {
    const all = await this.deps.directory.listStores();
    return all.filter((s) => session.store === null || s.id === session.store).map((s) => ({ id: s.id, name: s.name, version: s.version }));
  }

  private checkCsrf(req: IncomingMessage, session: Session, lang: ConsoleLang): void {
    if (!csrfMatches(session, req.headers['x-csrf-token'])) throw new HttpError(403, say('csrf', lang));
  }

  private changed(store: string, actor: string, what: string): void {
    this.deps.log.info({ store, actor }, `console: ${what}`);
    this.deps.onChange(store);
  }

  private async versionOf(store: string, version: number, lang: ConsoleLang): Promise<DirectoryEntry[]> {
    try {
      return (await this.deps.directory.snapshot(store, version)).entries;
    } catch (err) {
      if (!Number.isInteger(version)) throw new HttpError(404, say('noVersion', lang, { version }));
      throw err;
    }
  }

  /** Reads and checks a file, and says what applying it would change; nothing is changed. */
  private async preview(req: IncomingMessage, session: Session, store: string, lang: ConsoleLang): Promise<Json> {
    const name = decodeURIComponent(String(req.headers['x-file-name'] ?? 'annuaire.csv')).slice(0, 200);
    const bytes = await readBody(req, MAX_UPLOAD_BYTES, lang);
    const current = await this.deps.directory.snapshot(store);
    const parsed = await parseDirectoryIsolated(bytes, name);
    // The store's own fixes survive a file that does not carry them: the preview shows the entries as they will be stored.
    const merged = reimportOver(current.entries, parsed);
    parsed.entries = merged.entries;
    const result: Json = {
      file: name,
      format: parsed.format,
      encoding: parsed.encoding,
      ignored: parsed.ignored,
      base_version: current.version,
      entries: parsed.entries.length,
      ...changesShown(current.entries, parsed.entries),
      store_fixes: { kept: merged.kept, replaced: merged.replaced, text: describeReimport(merged) },
      problems: parsed.problems.map((p) => showProblem(p, lang)),
    };
    if (parsed.problems.length > 0) return result;
    const now = Date.now();
    for (const [id, p] of this.previews) if (p.expires < now || p.session === session.id) this.previews.delete(id);
    const preview: Preview = {
      id: randomBytes(12).toString('base64url'),
      session: session.id,
      store,
      baseVersion: current.version,
      entries: parsed.entries,
      expires: now + PREVIEW_MS,
    };
    this.previews.set(preview.id, preview);
    // Bounded in memory: the oldest previews go first.
    let held = [...this.previews.values()].reduce((n, p) => n + p.entries.length, 0);
    for (const [id, p] of this.previews) {
      if (held <= (this.deps.maxPreviewEntries ?? MAX_PREVIEW_ENTRIES) || id === preview.id) break;
      this.previews.delete(id);
      held -= p.entries.length;
    }
    return { ...result, preview: preview.id };
  }

  /** Applies a preview as a new version, if nothing changed the directory since. */
  private async apply(
    id: string,
    session: Session,
    store: string,
    origin: { via: string; actor: string },
    lang: ConsoleLang,
  ): Promise<Json> {
    const preview = this.previews.get(id);
    if (preview === undefined || preview.session !== session.id || preview.store !== store || preview.expires < Date.now()) {
      throw new HttpError(404, say('noPreview', lang));
    }
    this.previews.delete(id);
    const info = await this.deps.directory.replaceDirectory(store, preview.entries, origin, preview.baseVersion);
    this.changed(store, origin.actor, `directory imported: version ${info.version}`);
    return { version: info.version, added: info.added, changed: info.changed, removed: info.removed };
  }

  private ready(store: string, lang: ConsoleLang): StoreUnderstanding {
    const u = this.deps.understandingOf(store);
    if (u === undefined || u.grammars.length === 0) throw new HttpError(409, say('notReady', lang));
    return u;
  }

  /** What the attendant would decide had the recognizer heard exactly this. */
  private testText(store: string, text: string, lang: ConsoleLang): Json {
    const u = this.ready(store, lang);
    if (normalizeText(text) === '') throw new HttpError(400, say('badRequest', lang, { why: 'text' }));
    const heard: RecognitionResult = { nbest: [{ text: normalizeText(text), score: 0 }], confidence: 1, audioMs: 0 };
    return this.shown(u, u.understandAll(u.grammars.map(() => heard)), u.snapshot.version, lang);
  }

  /**
   * "Tester un enregistrement": a recording heard as a call would hear it. Callers come
   * first: at most MAX_TEST_AUDIO_SECONDS, one at a time per store, and refused while calls
   * keep the recognizer busy (a 284-s recording once held a worker for 25 s, and a caller
   * of another store waited 15 s).
   */
  private async testAudio(req: IncomingMessage, store: string, lang: ConsoleLang): Promise<Json> {
    const u = this.ready(store, lang);
    // Refused before its body is read and again before it is decoded: a flood of recordings
    // costs the event loop neither the reading nor the resampling.
    if (this.testWaits(store)) throw new HttpError(429, say('testBusy', lang));
    const bytes = await readBody(req, MAX_AUDIO_BYTES, lang);
    if (this.testWaits(store)) throw new HttpError(429, say('testBusy', lang));
    let pcm: Int16Array;
    try {
      pcm = (await decodeWav(bytes, 'upload', 16000)).pcm;
    } catch (err) {
      throw new HttpError(400, say('badWav', lang, { why: (err as Error).message }));
    }
    const seconds = pcm.length / 16000;
    if (seconds > MAX_TEST_AUDIO_SECONDS)
      throw new HttpError(400, say('audioTooLong', lang, { seconds: Math.round(seconds), limit: MAX_TEST_AUDIO_SECONDS }));
    if (this.testWaits(store)) throw new HttpError(429, say('testBusy', lang));
    this.testing.add(store);
    try {
      // In the background: a test recording being heard is no caller waiting, and makes no call get 503.
      const { understanding, ms } = await recognizePcm(inBackground(this.deps.recognizer), u, pcm);
      return {
        ...this.shown(u, understanding, u.snapshot.version, lang),
        audio_ms: Math.round(seconds * 1000),
        decision_ms: Math.round(ms),
      };
    } finally {
      this.testing.delete(store);
    }
  }

  /**
   * A test recording waits while the store's last one is heard, while calls keep the
   * recognizer busy, and while any call is in progress: a recording heard between a caller's
   * utterances held each of them behind it (a flood of 29-s recordings: a caller of another
   * store waited 28 s after speaking).
   */
  private testWaits(store: string): boolean {
    return this.testing.has(store) || this.deps.recognizer.busy === true || (this.deps.callsInProgress?.() ?? 0) > 0;
  }

  private shown(u: StoreUnderstanding, understood: Understanding, version: number, lang: ConsoleLang): Json {
    const d = understood.decision;
    const top = d.entry ?? understood.candidates[0]?.entry;
    return {
      version,
      heard: understood.transcript,
      decision: d.kind,
      confidence: round(d.confidence),
      reason: showReason(d.reason, lang),
      entry: d.entry === undefined ? null : toRow(d.entry),
      choices: d.choices.map(toRow),
      candidates: understood.candidates.slice(0, 5).map((c) => ({ ...toRow(c.entry), score: round(c.score) })),
      models: understood.models?.map((m) => ({
        model: m.model,
        heard: m.transcript,
        fit: m.fit === undefined ? null : round(m.fit),
        top: m.top === undefined ? null : displayName(m.top.entry),
      })),
      pronunciations: top === undefined ? [] : pronunciations(u, top),
    };
  }

  private async calls(store: string): Promise<Json> {
    const st = await this.deps.directory.getStore(store);
    const since = new Date(Date.now() - 30 * 86_400_000).toISOString();
    const list = await this.deps.records.list(store, 5000, { since });
    const entries = new Map((await this.deps.directory.snapshot(store)).entries.map((e) => [e.id, e]));
    const nameOf = (id: string): string => (entries.get(id) === undefined ? id : displayName(entries.get(id) as DirectoryEntry));
    const count = (pick: (c: CallRecord) => boolean): { name: string; calls: number }[] => {
      const n = new Map<string, number>();
      for (const c of list) if (c.entryId !== '' && pick(c)) n.set(c.entryId, (n.get(c.entryId) ?? 0) + 1);
      return [...n]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 10)
        .map(([id, calls]) => ({ name: nameOf(id), calls }));
    };
    const days = new Map<string, Record<string, number>>();
    for (const c of list) {
      const day = c.startedAt.slice(0, 10);
      const row = days.get(day) ?? {};
      row[c.outcome] = (row[c.outcome] ?? 0) + 1;
      days.set(day, row);
    }
    return {
      transcripts: st.transcripts,
      calls: list.slice(0, 200).map((c) => ({
        at: c.startedAt,
        outcome: c.outcome,
        extension: c.extension,
        name: c.entryId === '' ? '' : nameOf(c.entryId),
        how: howReached(c),
        seconds: Math.round(c.durationMs / 100) / 10,
        ...(st.transcripts ? { heard: c.transcripts } : {}),
      })),
      confirmed: count((c) => c.path.includes('heard:confirm')),
      retried: count((c) => c.path.includes('heard:reprompt')),
      operator: list.filter((c) => c.outcome === 'operator').length,
      per_day: [...days].sort((a, b) => a[0].localeCompare(b[0])).map(([day, outcomes]) => ({ day, ...outcomes })),
    };
  }
}

const round = (x: number): number => Math.round(x * 100) / 100;

const expectedOf = (body: Json): number | undefined => (typeof body.expected_version === 'number' ? body.expected_version : undefined);

/** An entry as the console shows and edits it: the gRPC wire form (the CSV's column names) and its display name. */
const toRow = (e: DirectoryEntry): Json => ({ ...toWire(e), name: displayName(e) });

/** What changed between two lists of entries, as rows. */
function changesShown(before: DirectoryEntry[], after: DirectoryEntry[]): Json {
  const d = entryChanges(before, after);
  return {
    added: d.added.map(toRow),
    changed: d.changed.map((c) => ({ before: toRow(c.before), after: toRow(c.after) })),
    removed: d.removed.map(toRow),
  };
}

/** How a call reached where it went: by voice, on the keypad, or through the operator. */
function howReached(c: CallRecord): 'voice' | 'keypad' | 'operator' | 'none' {
  if (c.outcome === 'operator') return 'operator';
  const transfer = [...c.path].reverse().find((p) => p.startsWith('transfer:'));
  if (transfer === undefined) return 'none';
  if (transfer.includes(':operator:')) return 'operator';
  return /:(keypad|spell)/.test(transfer) || c.path.some((p) => p.startsWith('keypad:')) ? 'keypad' : 'voice';
}

/** The pronunciation each of a store's models has for an entry's words, as its dictionary holds them. */
function pronunciations(u: StoreUnderstanding, entry: DirectoryEntry): { model: string; words: { word: string; phones: string[] }[] }[] {
  const tokens = [...new Set(spokenForms(entry).flatMap((f) => spokenWords(f).map((w) => w.token)))];
  return u.grammars.map((g, i) => {
    const lines = g.dict.split('\n');
    return {
      model: u.models[i],
      words: tokens.map((word) => ({
        word,
        phones: lines.filter((l) => l.startsWith(`${word} `) || l.startsWith(`${word}(`)).map((l) => l.slice(l.indexOf(' ') + 1).trim()),
      })),
    };
  });
}

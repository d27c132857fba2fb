import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { FailureLimiter } from '../../src/api/failure-limiter';
import { Recognizer } from '../../src/asr/recognizer';
import { StoreUnderstanding } from '../../src/attendant/understanding';
import { ConsoleServer, MAX_PREVIEW_ENTRIES, MAX_SIGN_INS_PER_MINUTE, MAX_TEST_AUDIO_SECONDS } from '../../src/console/console-server';
import { MAX_SESSIONS_PER_TOKEN, Sessions, SessionsFullError } from '../../src/console/sessions';
import { readDirectory } from '../../src/directory/directory-file';
import { encodeWav, PromptLibrary } from '../../src/media/prompts';
import { Storage } from '../../src/cli/storage';
import { storeLexicons } from '../../src/asr/store-lexicons';

const fixtures = join(__dirname, '..', '..', '..', 'directory-fixtures');

/** A WAV of `seconds` of 8 kHz 16-bit audio: a tone, or silence (the project's own writer). */
const wav = (seconds: number, tone = true): Promise<Buffer> =>
  encodeWav(
    Int16Array.from({ length: Math.round(seconds * 8000) }, (_, i) =>
      tone ? Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)) : 0,
    ),
    8000,
  );

describe('console sessions, one token at a time', () => {
  const fields = (tokenId: string) => ({ secret: 's', tokenId, store: null, lang: 'fr' as const });

  it("makes a flood of sign-ins with one token sign out that token's oldest sessions, never another's", () => {
    const sessions = new Sessions(50, MAX_SESSIONS_PER_TOKEN);
    const closed: string[] = [];
    sessions.onClose = (id) => closed.push(id);
    const admin = sessions.open(fields('admin'));
    for (let i = 0; i < 200; i += 1) sessions.open(fields('attacker'));
    expect(sessions.size).toBe(1 + MAX_SESSIONS_PER_TOKEN);
    expect(sessions.find(`attendant_session=${admin.id}`)).toBeDefined();
    expect(closed).toHaveLength(200 - MAX_SESSIONS_PER_TOKEN);
  });

  it('refuses a new token a session when the table is full of others, instead of signing someone out', () => {
    const sessions = new Sessions(3, 2);
    const a = [sessions.open(fields('a')), sessions.open(fields('a'))];
    sessions.open(fields('b'));
    expect(() => sessions.open(fields('c'))).toThrow(SessionsFullError);
    sessions.open(fields('b'));
    expect(a.every((s) => sessions.find(`attendant_session=${s.id}`) !== undefined)).toBe(true);
  });
});

describe('console under a hostile admin (real storage, real HTTP)', () => {
  let dir: string;
  let storage: Storage;
  let http: Server;
  let base: string;
  let storeToken: string;
  let busy = false;
  let heard = 0;
  let consoleServer: ConsoleServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'attendant-console-limits-'));
    storage = await Storage.open({ dataDir: dir });
    await storage.directory.createStore('alpha', { locale: 'en-US' });
    const entries = readDirectory(readFileSync(join(fixtures, 'demo-store.csv')), 'demo-store.csv').entries;
    await storage.directory.replaceDirectory('alpha', entries, { via: 'test', actor: 'test' });
    const created = await storage.tokens.create('alpha');
    storeToken = created.token;
    const understanding = await StoreUnderstanding.build({ store: 'alpha', version: 1, entries }, ...storeLexicons('en-US'));
    // A recognizer that answers nothing: the limits are checked before any recognition.
    const recognizer: Recognizer = {
      engine: 'pocketsphinx',
      get busy() {
        return busy;
      },
      start: async () => {
        heard += 1;
        return {
          write: () => undefined,
          flush: async () => undefined,
          end: async () => ({ nbest: [], confidence: 0, audioMs: 0 }),
          close: () => undefined,
        };
      },
      close: async () => undefined,
    };
    consoleServer = new ConsoleServer({
      directory: storage.directory,
      tokens: storage.tokens,
      records: storage.records,
      limiter: new FailureLimiter(1000, 60_000),
      log: pino({ level: 'silent' }),
      understandingOf: () => understanding,
      recognizer,
      prompts: new PromptLibrary(dir),
      recordings: storage.recordings,
      dataDir: dir,
      onChange: () => undefined,
      maxPreviewEntries: 10_000,
    });
    http = createServer((req, res) => {
      if (!consoleServer.handle(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => http.close(r));
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const signIn = async (token = storeToken): Promise<{ status: number; cookie: string; csrf: string }> => {
    const r = await fetch(`${base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    const body = (await r.json()) as { csrf?: string };
    return { status: r.status, cookie: (r.headers.get('set-cookie') ?? '').split(';')[0], csrf: body.csrf ?? '' };
  };
  const post = (path: string, s: { cookie: string; csrf: string }, body: Buffer, method = 'POST') =>
    fetch(`${base}/api/stores/alpha${path}`, {
      method,
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/octet-stream', 'x-file-name': 'a.csv' },
      body: new Uint8Array(body),
    });

  it(`refuses a test recording over ${MAX_TEST_AUDIO_SECONDS} s before hearing it, and any while calls keep the recognizer busy`, async () => {
    const s = await signIn();
    const long = await post('/test-audio', s, await wav(MAX_TEST_AUDIO_SECONDS + 5));
    expect(long.status).toBe(400);
    expect(((await long.json()) as { error: string }).error).toMatch(/trop long \(35 s\)/);
    busy = true;
    expect((await post('/test-audio', s, await wav(2))).status).toBe(429);
    busy = false;
    expect(heard).toBe(0);
    expect((await post('/test-audio', s, await wav(2))).status).toBe(200);
    expect(heard).toBeGreaterThan(0);
  });

  it('refuses a greeting recording that is a WAV header with no sound', async () => {
    const s = await signIn();
    const r = await post('/prompts/greeting', s, await wav(0), 'PUT');
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/ne contient pas de son/);
    expect((await post('/prompts/greeting', s, await wav(1, false), 'PUT')).status).toBe(400);
  });

  it('answers 405 to methods the console does not take, /api/session included', async () => {
    const s = await signIn();
    for (const method of ['OPTIONS', 'PATCH', 'PROPFIND', 'PUT']) {
      const r = await fetch(`${base}/api/session`, { method, headers: { cookie: s.cookie } });
      expect([method, r.status]).toEqual([method, 405]);
    }
  });

  it("ends a revoked token's session on /api/session too: no store list, no CSRF token", async () => {
    const extra = await storage.tokens.create('alpha');
    const s = await signIn(extra.token);
    expect((await fetch(`${base}/api/session`, { headers: { cookie: s.cookie } })).status).toBe(200);
    await storage.tokens.revoke(extra.id);
    const r = await fetch(`${base}/api/session`, { headers: { cookie: s.cookie } });
    expect(r.status).toBe(401);
    expect(await r.text()).not.toMatch(/csrf|alpha/);
  });

  it('frees previews with their session and keeps them bounded in entries', async () => {
    const rows = ['id,type,last_name,extension', ...Array.from({ length: 2_000 }, (_, i) => `p${i},person,Le Bihan,${1000 + i}`)].join(
      '\n',
    );
    const sessions: { cookie: string; csrf: string }[] = [];
    for (let i = 0; i < 8; i += 1) {
      const s = await signIn();
      const r = await post('/import', s, Buffer.from(rows));
      const body = (await r.json()) as { preview?: string; problems?: unknown[] };
      expect(body.problems).toEqual([]);
      sessions.push(s);
    }
    // 8 previews of 2,000 entries: only the newest 5 fit in the 10,000 entries allowed (MAX_PREVIEW_ENTRIES in production).
    expect(consoleServer.heldPreviews).toEqual({ count: 5, entries: 10_000 });
    const last = sessions[sessions.length - 1];
    expect(
      (await fetch(`${base}/api/session`, { method: 'DELETE', headers: { cookie: last.cookie, 'x-csrf-token': last.csrf } })).status,
    ).toBe(200);
    expect(consoleServer.heldPreviews.count).toBe(4);
    expect(MAX_PREVIEW_ENTRIES).toBe(200_000);
  });

  it(`throttles sign-ins to ${MAX_SIGN_INS_PER_MINUTE} a minute per token`, async () => {
    const statuses: number[] = [];
    for (let i = 0; i < MAX_SIGN_INS_PER_MINUTE + 5; i += 1) statuses.push((await signIn()).status);
    expect(statuses).toContain(429);
  });
});

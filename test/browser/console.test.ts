/// <reference lib="dom" />
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ExcelJS from 'exceljs';
import puppeteer, { Browser, ElementHandle, Page } from 'puppeteer-core';
import { freePort } from '../integration/free-port';
import { run } from '../../src/cli/main';

/**
 * The store console driven in Debian's Chromium (headless, through puppeteer-core; nothing
 * downloaded) against a real `attendant serve`: sign in, an Excel file with two bad rows,
 * fixed and applied, a rollback, a typed name and a recorded one (Chromium's fake
 * microphone playing a WAV), a call appearing after `attendant call`, prompts, and another
 * store refused. A screenshot of each page goes to test-output/console/.
 */

const root = join(__dirname, '..', '..', '..');
const shots = join(root, 'test-output', 'console');
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const exec = promisify(execFile);

const HEADER = ['id', 'type', 'first_name', 'last_name', 'service_name', 'department', 'extension', 'aliases', 'enabled', 'sounds_like'];
const ROWS = [
  ['p1', 'person', 'Gwenaëlle', 'Kerhervé', '', 'Caisse', '2101', '', 'true', 'kèr èr vé'],
  ['p2', 'person', 'Yann', 'Le Goff', '', 'Boucherie', '12ab', '', 'true', ''],
  ['p3', 'person', 'Sophie', 'Martin', '', 'Accueil', '2103', '', 'true', ''],
  ['p4', 'person', 'Loïc', '', '', 'Drive', '2104', '', 'true', ''],
  ['s1', 'service', '', '', 'Boulangerie', '', '2200', 'le pain', 'true', ''],
];

async function workbook(rows: string[][]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const sheet = wb.addWorksheet('Annuaire');
  sheet.addRow(HEADER);
  for (const r of rows) sheet.addRow(r);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

async function waitFor(url: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${url} not ready within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('store console in Chromium', () => {
  let dir: string;
  let serve: ChildProcess;
  let browser: Browser;
  let page: Page;
  let base: string;
  let sipPort: number;
  let grpcPort: number;
  let data: string;
  let storeToken: string;
  let stderr = '';

  const text = (selector: string): Promise<string> => page.$eval(selector, (el) => (el as HTMLElement).innerText);
  const shot = (name: string): Promise<unknown> => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  /** The demo store's own recordings of a prompt (greeting.fr-FR.wav, …). */
  const recorded = (key: string): string[] => {
    const folder = join(dir, 'data', 'stores', 'demo', 'prompts');
    return existsSync(folder) ? readdirSync(folder).filter((f) => f.startsWith(`${key}.`)) : [];
  };
  const fileInput = async (selector: string): Promise<ElementHandle<HTMLInputElement>> => {
    const el = await page.$(selector);
    if (el === null) throw new Error(`no ${selector} on the page`);
    return el as ElementHandle<HTMLInputElement>;
  };
  const go = async (hash: string, ready: string): Promise<void> => {
    await page.goto(`${base}/${hash}`);
    await page.waitForSelector(ready, { timeout: 20_000 });
  };

  beforeAll(async () => {
    if (CHROMIUM === undefined) throw new Error('Chromium is not installed (apt-get install chromium; npm test installs it)');
    mkdirSync(shots, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'attendant-console-'));
    data = join(dir, 'data');
    const io = { out: () => undefined, err: () => undefined };
    const out: string[] = [];
    const httpPort = await freePort();
    grpcPort = await freePort();
    sipPort = await freePort();
    serve = spawn(process.execPath, [join(root, 'bin', 'attendant.js'), 'serve'], {
      env: {
        ...process.env,
        ATTENDANT_DATA_DIR: data,
        ATTENDANT_HTTP_PORT: String(httpPort),
        ATTENDANT_GRPC_PORT: String(grpcPort),
        ATTENDANT_SIP_PORT: String(sipPort),
        ATTENDANT_HTTP_HOST: '127.0.0.1',
        ATTENDANT_SIP_HOST: '127.0.0.1',
        ATTENDANT_ASR_WORKERS: '1',
        ATTENDANT_RTP_PORTS: '24000-24099',
      },
    });
    serve.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    base = `http://127.0.0.1:${httpPort}`;
    await waitFor(`${base}/readyz`, 60_000);
    // The demo store, loaded by serve at its first start, and a second store with its own directory.
    expect(await run(['store', 'create', 'autre', '--locale', 'en-US'], io, { ATTENDANT_DATA_DIR: data })).toBe(0);
    writeFileSync(join(dir, 'autre.csv'), 'id,type,first_name,last_name,extension\nz1,person,Secret,Person,4000\n');
    expect(await run(['directory', 'import', 'autre', join(dir, 'autre.csv')], io, { ATTENDANT_DATA_DIR: data })).toBe(0);
    expect(await run(['token', 'create', 'demo'], { out: (t) => out.push(t), err: () => undefined }, { ATTENDANT_DATA_DIR: data })).toBe(0);
    storeToken = out[0];

    // What the fake microphone plays: "Sophie Martin", then silence, longer than the 4-s recording.
    const voice = join(dir, 'voice.wav');
    await exec('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', join(dir, 'raw.wav'), 'Sophie Martin']);
    await exec('sox', [join(dir, 'raw.wav'), '-r', '48000', '-c', '1', '-b', '16', voice, 'pad', '0.4', '4']);
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-audio-capture=${voice}`,
        '--autoplay-policy=no-user-gesture-required',
      ],
    });
    page = await browser.newPage();
    page.on('dialog', (d) => void d.accept());
    await page.setViewport({ width: 1280, height: 900 });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    serve?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a wrong token, then signs in with the store token, in French, with a strict HttpOnly session cookie', async () => {
    await go('', '#sign-in');
    expect(await page.$eval('html', (el) => el.lang)).toBe('fr');
    // Nobody signed in: no menu and no « Se déconnecter » on the page (issue 35, 9).
    const shown = (sel: string): Promise<boolean> => page.$eval(sel, (el) => getComputedStyle(el).display !== 'none');
    expect([await shown('#nav'), await shown('#sign-out')]).toEqual([false, false]);
    await page.type('#token', 'att_not-a-token');
    await page.click('#sign-in-button');
    await page.waitForSelector('#notice.error:not([hidden])');
    expect(await text('#notice')).toMatch(/Jeton inconnu ou révoqué/);
    await shot('01-sign-in-refused');
    await page.$eval('#token', (el) => ((el as HTMLInputElement).value = ''));
    await page.type('#token', storeToken);
    await page.click('#sign-in-button');
    await page.waitForSelector('#entries tr');
    const cookie = (await browser.cookies()).find((c) => c.name === 'attendant_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(await text('#count')).toMatch(/entrée\(s\), version 1/);
    await page.type('#search', 'prodhomme');
    expect(await page.$$eval('#entries tr', (rows) => rows.length)).toBe(1);
    await shot('02-directory');
  });

  it('previews an Excel file with two bad rows naming both, changes nothing, then applies the fixed file and rolls back', async () => {
    const bad = join(dir, 'annuaire.xlsx');
    writeFileSync(bad, await workbook(ROWS));
    await go('#/annuaire', '#import-file');
    await fileInput('#import-file').then((i) => i.uploadFile(bad));
    await page.click('#preview-button');
    await page.waitForSelector('#problems li');
    const problems = await page.$$eval('#problems li', (li) => li.map((l) => (l as HTMLElement).innerText));
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^ligne 3, poste : « 12ab » n’est pas un numéro de poste/);
    expect(problems[1]).toMatch(/^ligne 5, nom : est vide ; une personne a besoin d’un nom/);
    expect(await page.$('#apply')).toBeNull();
    await shot('03-import-problems');

    const fixed = ROWS.map((r) =>
      r[0] === 'p2' ? [...r.slice(0, 6), '2102', ...r.slice(7)] : r[0] === 'p4' ? [...r.slice(0, 3), 'Le Bihan', ...r.slice(4)] : r,
    );
    writeFileSync(bad, await workbook(fixed));
    await fileInput('#import-file').then((i) => i.uploadFile(bad));
    await page.click('#preview-button');
    await page.waitForSelector('#apply');
    expect(await text('#added')).toMatch(/\(5\)/);
    expect(await text('#removed')).toMatch(/Hervé Prodhomme/);
    await shot('04-import-preview');
    await page.click('#apply');
    await page.waitForFunction(() => /version 2/.test(document.querySelector('#count')?.textContent ?? ''));
    expect(await text('#notice')).toMatch(/Version 2 appliquée : 5 ajoutée\(s\)/);
    expect(await page.$$eval('#entries tr', (rows) => rows.length)).toBe(5);

    // Back to version 1 from the versions table: a new version 3 equal to 1.
    await page.click('#versions tr[data-version="1"] button.rollback');
    await page.waitForFunction(() => /version 3/.test(document.querySelector('#count')?.textContent ?? ''));
    expect(await text('#notice')).toMatch(/Retour à la version 1 : c’est maintenant la version 3/);
    expect(await text('#history')).toMatch(/console/);
    // In French: the rollback and the import named as a store manager reads them, not "rollback to 1" or "replace".
    expect(await text('#history')).toMatch(/retour à la version 1/);
    expect(await text('#history')).not.toMatch(/rollback to|replace\b/);
    await shot('05-rolled-back');
  });

  it('exports the directory as an Excel workbook that reads back the same', async () => {
    const res = await page.evaluate(async () => {
      const r = await fetch(document.querySelector<HTMLAnchorElement>('#export-xlsx')?.href ?? '');
      return { status: r.status, type: r.headers.get('content-type'), bytes: Array.from(new Uint8Array(await r.arrayBuffer())) };
    });
    expect(res.status).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(res.bytes) as unknown as ExcelJS.Buffer);
    const sheet = wb.worksheets[0];
    expect(sheet.getRow(1).values).toEqual([undefined, ...HEADER]);
    const ids: string[] = [];
    sheet.eachRow((row, n) => n > 1 && ids.push(String(row.getCell(1).value)));
    expect(ids).toContain('p01');
  });

  it('tests a typed name and a name said into the microphone, and shows the pronunciation used', async () => {
    await go('#/tester', '#test-form');
    await page.type('#test-text', 'Sophie Martin');
    await page.click('#test-form button');
    await page.waitForSelector('#decision-kind');
    expect(await page.$eval('#decision-kind', (el) => (el as HTMLElement).dataset.kind)).toBe('transfer');
    expect(await text('#decision')).toMatch(/Sophie Martin \(2014\)/);
    expect(await text('#decision')).toMatch(/correspondance nette/);
    expect(await text('#pronunciations')).toMatch(/sophie/);
    await shot('06-test-typed');

    await page.click('#record');
    await page.waitForFunction(
      () =>
        document.querySelector('#record-status')?.textContent === '' &&
        document.querySelector('#heard') !== null &&
        document.querySelector('#decision')?.textContent?.includes('ms'),
      { timeout: 30_000 },
    );
    const heard = await text('#heard');
    const top = await page.$eval('#candidates tbody tr td', (td) => (td as HTMLElement).innerText);
    expect(top).toBe('Sophie Martin');
    expect(heard.toLowerCase()).toMatch(/sophie|martin/);
    await shot('07-test-microphone');
  });

  it('shows a call made with `attendant call` (on the keypad: recognition is tested above) in the calls page, with a chart', async () => {
    const call = await exec(
      process.execPath,
      [join(root, 'bin', 'attendant.js'), 'call', 'demo', '--dtmf', '2014#', '--server', `127.0.0.1:${sipPort}`],
      { timeout: 60_000 },
    ).catch((e: { stdout: string; stderr: string }) => e);
    expect(call.stdout + call.stderr).toMatch(/transferred to 2014/);
    await go('#/appels', 'section');
    await page.waitForSelector('#calls tbody tr', { timeout: 15_000 });
    const row = await text('#calls tbody tr');
    expect(row).toMatch(/transféré/);
    expect(row).toMatch(/Sophie Martin/);
    expect(row).toMatch(/clavier/);
    expect(await page.$$eval('#chart rect[data-outcome="transferred"]', (r) => r.length)).toBe(1);
    // Days as a French reader writes them (05/12, not 12-05), and one call is "1 appel".
    expect(await page.$$eval('#chart text', (t) => t.map((x) => x.textContent ?? ''))).toContainEqual(
      expect.stringMatching(/^\d\d\/\d\d$/),
    );
    expect(await page.$eval('#app', (el) => (el as HTMLElement).innerText)).not.toMatch(/\b1 appels\b/);
    await shot('08-calls');
  });

  it('plays the prompts and replaces the greeting with a recording, then goes back to the synthesised voice', async () => {
    await go('#/messages', '#prompts tr[data-key="greeting"]');
    const status = await page.evaluate(
      async () => (await fetch(document.querySelector<HTMLAudioElement>('tr[data-key="greeting"] audio')?.src ?? '')).status,
    );
    expect(status).toBe(200);
    const wav = join(dir, 'greeting.wav');
    await exec('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', wav, 'synth', '1', 'sine', '440']);
    await fileInput('input[data-key="greeting"]').then((i) => i.uploadFile(wav));
    await page.click('tr[data-key="greeting"] button.upload');
    await page.waitForSelector('tr[data-key="greeting"] button.reset');
    expect(recorded('greeting')).toHaveLength(1);
    // Prompts named in French, not by their keys.
    expect(await text('tr[data-key="greeting"] td')).toBe('Accueil');
    await shot('09-prompts');
    // A file that is not a WAV is refused with a clear message, and the recording kept.
    const flac = join(dir, 'not-a-wav.wav');
    writeFileSync(flac, Buffer.from('fLaC\0\0\0\x22 this is no wave'));
    await fileInput('input[data-key="retry"]').then((i) => i.uploadFile(flac));
    await page.click('tr[data-key="retry"] button.upload');
    await page.waitForSelector('#notice.error:not([hidden])');
    expect(await text('#notice')).toMatch(/n’est pas un enregistrement WAV lisible/);
    await page.click('tr[data-key="greeting"] button.reset');
    await page.waitForFunction(() => document.querySelector('tr[data-key="greeting"] button.reset') === null);
    expect(recorded('greeting')).toHaveLength(0);
    expect(recorded('retry')).toHaveLength(0);
  });

  it("refuses another store's URL to a store session, and every change without the session's CSRF token", async () => {
    const other: { status: number; body: { error: string } } = await page.evaluate(async () => {
      const r = await fetch('/api/stores/autre/entries');
      return { status: r.status, body: await r.json() };
    });
    expect(other.status).toBe(403);
    expect(other.body.error).toMatch(/magasin « demo »/);
    expect(JSON.stringify(other.body)).not.toMatch(/Secret/);
    const forged = await page.evaluate(async () => (await fetch('/api/stores/demo/entries/p01', { method: 'DELETE' })).status);
    expect(forged).toBe(403);
    await page.goto(`${base}/#/annuaire`);
    await page.waitForSelector('#sign-out:not([hidden])');
    await page.click('#sign-out');
    await page.waitForSelector('#sign-in');
    const after = await page.evaluate(async () => (await fetch('/api/stores/demo/entries')).status);
    expect(after).toBe(401);
    expect(stderr).not.toMatch(/"level":50/);
  });

  /** Signs in from Node (no browser): the session cookie and CSRF token. */
  const signIn = async (
    token: string,
  ): Promise<{ status: number; cookie: string; body: { csrf?: string; stores?: { id: string }[]; error?: string } }> => {
    const r = await fetch(`${base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    return { status: r.status, cookie: (r.headers.get('set-cookie') ?? '').split(';')[0], body: (await r.json()) as { csrf?: string } };
  };

  it('gives an admin token every store, exports cells a spreadsheet would run escaped, and refuses a 20 MB upload from its length', async () => {
    const out: string[] = [];
    expect(await run(['token', 'create', '--admin'], { out: (t) => out.push(t), err: () => undefined }, { ATTENDANT_DATA_DIR: data })).toBe(
      0,
    );
    const admin = await signIn(out[0]);
    expect(admin.status).toBe(200);
    expect(admin.body.stores?.map((st) => st.id).sort()).toEqual(['autre', 'demo']);
    const headers = { cookie: admin.cookie, 'x-csrf-token': admin.body.csrf ?? '', 'content-type': 'application/json' };
    const saved = await fetch(`${base}/api/stores/autre/entries/z2`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ entry: { type: 'person', last_name: "=cmd|' /C calc'!A0", extension: '4001' } }),
    });
    expect(saved.status).toBe(200);
    const csv = await (await fetch(`${base}/api/stores/autre/export.csv`, { headers })).text();
    expect(csv).toMatch(/;'=cmd\|' \/C calc'!A0;/);
    // 20 MB announced and not one byte of it sent: the answer must come from the length alone.
    const t0 = Date.now();
    const refused = await announceUpload(
      `${base}/api/stores/autre/import`,
      { ...headers, 'content-type': 'application/octet-stream', 'x-file-name': 'big.csv' },
      20 * 1024 * 1024,
    );
    expect(refused.status).toBe(413);
    expect((JSON.parse(refused.body) as { error: string }).error).toMatch(/Fichier trop gros \(20971520 octets\)/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const versions = (await (await fetch(`${base}/api/stores/autre/versions`, { headers })).json()) as { versions: unknown[] };
    expect(versions.versions).toHaveLength(2);
  });

  it('locks an address out after 10 failed sign-ins a minute, counted with the gRPC API, and still lets a valid token in', async () => {
    const statuses: number[] = [];
    // The first test's wrong token was the first failure of this minute: nine more are answered 401, then 429.
    for (let i = 0; i < 10; i += 1) statuses.push((await signIn(`att_wrong-${i}`)).status);
    expect(statuses).toEqual([...Array(9).fill(401), 429]);
    // The same count holds for the gRPC API from this address.
    const err: string[] = [];
    writeFileSync(join(dir, 'one.csv'), 'id,type,last_name,extension\na,person,X,1\n');
    await run(
      ['directory', 'push', 'demo', join(dir, 'one.csv'), '--server', `127.0.0.1:${grpcPort}`, '--token', 'att_wrong'],
      { out: () => undefined, err: (t) => err.push(t) },
      { ATTENDANT_DATA_DIR: data },
    );
    expect(err.join('\n')).toMatch(/too many failed authentications/);
    expect((await signIn(storeToken)).status).toBe(200);
  });
});

/** Sends a request's headers announcing `length` bytes and none of the body; resolves with the answer. */
function announceUpload(url: string, headers: Record<string, string>, length: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': String(length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        req.destroy();
      });
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

import { execFileSync } from 'node:child_process';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installModel, listModels } from '../../src/cli/models-command';
import { CliError } from '../../src/cli/exit-codes';

/** `attendant models install` from a folder, archives and a URL (a local HTTP server), and what it refuses. */
describe('attendant models install', () => {
  let work: string;
  let root: string;
  let source: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'attendant-install-'));
    root = join(work, 'models');
    source = join(work, 'src', 'fr-test-8khz');
    mkdirSync(source, { recursive: true });
    for (const f of ['means', 'variances', 'mixture_weights', 'transition_matrices', 'noisedict']) writeFileSync(join(source, f), 'x');
    writeFileSync(join(source, 'mdef'), '0.3\n2 n_base\n0 n_tri\n  SIL - - - filler 0 0 1 2 N\n  aa - - - n/a 1 3 4 5 N\n');
    writeFileSync(join(source, 'fr.dict'), 'a aa\n');
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  const leftovers = (): string[] => (existsSync(root) ? readdirSync(root).filter((n) => n.startsWith('.')) : []);
  const failure = async (p: Promise<unknown>): Promise<CliError> => {
    try {
      await p;
    } catch (err) {
      return err as CliError;
    }
    throw new Error('expected a failure');
  };

  it('installs a folder, tells its locale and rate, and lists it with the stores that use it', async () => {
    const model = await installModel(root, source);
    expect(model).toMatchObject({ id: 'fr-test-8khz', locale: 'fr-FR', sampleRate: 8000 });
    const lines = listModels(root, [
      { store: 'brest', locale: 'fr-FR' },
      { store: 'york', locale: 'en-US' },
    ]);
    expect(lines.find((l) => l.startsWith('fr-test-8khz'))).toMatch(/fr-FR\t8 kHz\t.*stores: brest$/);
    expect(await failure(installModel(root, source))).toMatchObject({ exitCode: 1, message: expect.stringMatching(/installed already/) });
  });

  it('installs a .tar.gz and a .zip, checking the SHA-256 when given', async () => {
    const tgz = join(work, 'm.tar.gz');
    execFileSync('tar', ['-czf', tgz, '-C', join(work, 'src'), 'fr-test-8khz']);
    const sum = execFileSync('sha256sum', [tgz]).toString().split(' ')[0];
    expect(await failure(installModel(root, tgz, { sha256: '0'.repeat(64) }))).toMatchObject({
      exitCode: 1,
      message: expect.stringMatching(/SHA-256 is [0-9a-f]{64}, not 0+; nothing was installed/),
    });
    expect((await installModel(root, tgz, { sha256: sum })).id).toBe('fr-test-8khz');
    const zip = join(work, 'm.zip');
    execFileSync('zip', ['-qr', zip, 'fr-test-8khz'], { cwd: join(work, 'src') });
    expect((await installModel(root, zip, { name: 'fr-zipped' })).locale).toBe('fr-FR');
    expect(leftovers()).toEqual([]);
  });

  it('refuses a truncated archive and a folder that is no model, leaving nothing behind', async () => {
    const tgz = join(work, 'm.tar.gz');
    execFileSync('tar', ['-czf', tgz, '-C', join(work, 'src'), 'fr-test-8khz']);
    const truncated = join(work, 'cut.tar.gz');
    writeFileSync(truncated, readFileSync(tgz).subarray(0, 60));
    expect(await failure(installModel(root, truncated))).toMatchObject({
      exitCode: 1,
      message: expect.stringMatching(/could not be unpacked .* nothing was installed/),
    });
    rmSync(join(source, 'means'));
    expect(await failure(installModel(root, source))).toMatchObject({
      exitCode: 1,
      message: expect.stringMatching(/not a usable model: a PocketSphinx model needs means; nothing was installed/),
    });
    expect(readdirSync(root)).toEqual([]);
  });

  it("takes the dictionary CMU Sphinx ships beside the model's folder (fr.dict), from a folder or an archive, and asks for one when none is found", async () => {
    rmSync(join(source, 'fr.dict'));
    writeFileSync(join(work, 'src', 'fr.dict'), 'b bb\n');
    expect((await installModel(root, source)).dictionary).toBe(join(root, 'fr-test-8khz', 'fr.dict'));
    expect(readFileSync(join(root, 'fr-test-8khz', 'fr.dict'), 'utf8')).toBe('b bb\n');
    // The folder holding both, and an archive of it.
    expect((await installModel(root, join(work, 'src'), { name: 'fr-parent' })).dictionary).toBe(join(root, 'fr-parent', 'fr.dict'));
    const tgz = join(work, 'both.tar.gz');
    execFileSync('tar', ['-czf', tgz, '-C', join(work, 'src'), 'fr-test-8khz', 'fr.dict']);
    expect((await installModel(root, tgz, { name: 'fr-archived' })).dictionary).toBe(join(root, 'fr-archived', 'fr.dict'));
    rmSync(join(work, 'src', 'fr.dict'));
    expect(await failure(installModel(root, source, { name: 'fr-alone' }))).toMatchObject({
      exitCode: 1,
      message: expect.stringMatching(/no pronunciation dictionary.*--dictionary <file\.dict>.*nothing was installed/),
    });
    expect(leftovers()).toEqual([]);
  });

  describe('from a URL', () => {
    let server: Server;
    let base: string;
    beforeEach(async () => {
      const tgz = join(work, 'm.tar.gz');
      execFileSync('tar', ['-czf', tgz, '-C', join(work, 'src'), 'fr-test-8khz']);
      server = createServer((req, res) => {
        if (req.url === '/fr-test-8khz.tar.gz') res.writeHead(200).end(readFileSync(tgz));
        else res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('downloads, unpacks and installs', async () => {
      expect((await installModel(root, `${base}/fr-test-8khz.tar.gz`)).id).toBe('fr-test-8khz');
    });

    it('says so at once when the file is missing or the network is unreachable', async () => {
      expect(await failure(installModel(root, `${base}/missing.tar.gz`))).toMatchObject({
        exitCode: 3,
        message: expect.stringMatching(/HTTP 404/),
      });
      const closed = await new Promise<number>((resolve) => {
        const s = createServer().listen(0, '127.0.0.1', () => {
          const port = (s.address() as AddressInfo).port;
          s.close(() => resolve(port));
        });
      });
      const t0 = Date.now();
      expect(await failure(installModel(root, `http://127.0.0.1:${closed}/m.tar.gz`))).toMatchObject({
        exitCode: 3,
        message: expect.stringMatching(/could not be downloaded \(ECONNREFUSED\)/),
      });
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(leftovers()).toEqual([]);
    });
  });
});

import { ChildProcess, execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../integration/free-port';
import { run } from '../../src/cli/main';
import { Storage } from '../../src/cli/storage';
import { synthesize } from '../audio/synth';
import { spawnServe, untilReady } from '../integration/serve-process';

/**
 * Interop with a real softphone (issue 13): Debian's baresip calls attendant, says a name
 * from a WAV file, and follows attendant's REFER to the extension, where sipp answers as the
 * PBX's phone. baresip offers its own SDP, sends its own RTP and handles the REFER, its
 * NOTIFYs and the second INVITE by itself: nothing of it is scripted here.
 */

const root = join(__dirname, '..', '..', '..');
const BARESIP = spawnSync('baresip', ['-h']).error === undefined;
if (!BARESIP) console.log('baresip interop test not run: baresip is not installed (apt-get install baresip-core; npm test installs it)');
const maybe = BARESIP ? describe : describe.skip;

/** Runs a command to its end, with its output. */
function exec(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

maybe('a real softphone (baresip) calling attendant', () => {
  let dir: string;
  let serve: ChildProcess;
  let log = '';
  let sipPort: number;
  let phonePort: number;
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, ATTENDANT_DATA_DIR: join(dir, 'data') });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'attendant-baresip-'));
    sipPort = await freePort();
    phonePort = await freePort();
    const quiet = { out: () => undefined, err: () => undefined };
    // The store's PBX is where the transferred call goes: sipp, answering as extension 2014's phone.
    expect(await run(['store', 'create', 'demo', '--pbx', `127.0.0.1:${phonePort}`], quiet, env())).toBe(0);
    expect(await run(['directory', 'import', 'demo', join(root, 'directory-fixtures', 'demo-store.csv')], quiet, env())).toBe(0);
    const httpPort = await freePort();
    serve = spawnServe({
      ...env(),
      ATTENDANT_SIP_HOST: '127.0.0.1',
      ATTENDANT_SIP_PORT: String(sipPort),
      ATTENDANT_HTTP_HOST: '127.0.0.1',
      ATTENDANT_HTTP_PORT: String(httpPort),
      ATTENDANT_GRPC_HOST: '127.0.0.1',
      ATTENDANT_GRPC_PORT: String(await freePort()),
      ATTENDANT_RTP_PORTS: '24000-24999',
      ATTENDANT_ASR_WORKERS: '2',
    });
    serve.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    serve.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    await untilReady(httpPort, () => log, 60_000);
  }, 90_000);

  afterAll(() => {
    serve?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  /** baresip's configuration folder: one account, G.711, a WAV file as microphone. */
  function phone(name: string, microphone: string, sipListen: number): string {
    const conf = join(dir, name);
    mkdirSync(conf, { recursive: true });
    const rtp = 30000 + Math.floor(Math.random() * 300) * 10;
    writeFileSync(
      join(conf, 'config'),
      [
        'poll_method epoll',
        `sip_listen 127.0.0.1:${sipListen}`,
        'net_interface 127.0.0.1',
        `audio_source aufile,${microphone}`,
        'ausrc_srate 8000',
        'ausrc_channels 1',
        `rtp_ports ${rtp}-${rtp + 9}`,
        'module_path /usr/lib/baresip/modules',
        'module account.so',
        'module g711.so',
        'module aufile.so',
        'module_app menu.so',
        '',
      ].join('\n'),
    );
    writeFileSync(join(conf, 'accounts'), '<sip:caller@127.0.0.1>;regint=0\n');
    writeFileSync(join(conf, 'contacts'), '');
    return conf;
  }

  /** The caller's microphone: a second of quiet, the name, then quiet while the transfer happens. */
  async function microphone(text: string): Promise<string> {
    const said = await synthesize({ text, synth: 'espeak', voice: 'en-us', condition: 'clean' });
    const file = join(dir, `${text.replace(/\W+/g, '-')}.wav`);
    const r = spawnSync('sox', [said, '-r', '8000', '-c', '1', '-b', '16', file, 'pad', '1', '12']);
    if (r.status !== 0) throw new Error(`sox failed: ${r.stderr.toString()}`);
    return file;
  }

  it('says "Sophie Martin", is sent a REFER and calls extension 2014 itself', async () => {
    const conf = phone('phone', await microphone('Sophie Martin'), await freePort());
    const trace = join(dir, 'extension-2014.log');
    // Extension 2014's phone: sipp answers one call and records the messages it got.
    const answering = exec(
      'sipp',
      [
        '-sn',
        'uas',
        '-i',
        '127.0.0.1',
        '-p',
        String(phonePort),
        '-m',
        '1',
        '-timeout',
        '40s',
        '-trace_msg',
        '-message_file',
        trace,
        '-nostdin',
      ],
      45_000,
    );
    await new Promise((r) => setTimeout(r, 300));
    const caller = await exec('baresip', ['-f', conf, '-e', `/dial sip:demo@127.0.0.1:${sipPort}`, '-t', '15'], 40_000);
    const phoneSide = await answering;
    // baresip followed the REFER: a new call of its own, to the extension, through the PBX.
    expect(caller.out).toMatch(new RegExp(`Call established: sip:demo@127\\.0\\.0\\.1:${sipPort}`));
    expect(caller.out).toMatch(new RegExp(`Call with sip:2014@127\\.0\\.0\\.1:${phonePort} terminated`));
    expect(phoneSide.code).toBe(0);
    const received = readFileSync(trace, 'utf8');
    expect(received).toMatch(new RegExp(`INVITE sip:2014@127\\.0\\.0\\.1:${phonePort} SIP/2\\.0`));
    expect(received).toMatch(/User-Agent: baresip/i);
    expect(received).toMatch(/m=audio \d+ RTP\/AVP [\d ]+/);
    expect(log).toMatch(/"codec":"PCMU","msg":"call answered"/);
    // attendant's RTP (the greeting) reached the softphone.
    expect(caller.out).toMatch(/incoming rtp for 'audio' established/);
    // attendant's side: heard by voice, transferred to 2014, the REFER's outcome taken from baresip's NOTIFY.
    const storage = await Storage.open({ dataDir: join(dir, 'data') });
    try {
      const records = await storage.records.list('demo');
      const last = records[0];
      expect(last).toMatchObject({ outcome: 'transferred', extension: '2014' });
      expect(last.path).toEqual(['heard:transfer', 'transfer:2014:speech']);
    } finally {
      await storage.close();
    }
    expect(log).toMatch(/"extension":"2014","reason":"the PBX reports 200","msg":"transferred"/);
  }, 60_000);
});

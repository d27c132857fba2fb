import { ChildProcess, execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { freePort } from '../integration/free-port';
import { scrapeMetric } from '../integration/scrape';
import { run } from '../../src/cli/main';
import { synthesize } from '../audio/synth';
import { pbxHooksService, TransferCallRequest } from '../../src/pbx/hooks';
import { spawnServe, untilReady } from '../integration/serve-process';
import {
  ACK_2XX,
  ACK_FAILURE,
  ANSWERED,
  callerTurns,
  expectReferTo,
  G711_OFFER,
  G729_OFFER,
  inDialogRequest,
  infoKeys,
  invite,
  playAudio,
  runSipp,
  scenario,
} from './sipp';

/**
 * attendant serve driven by sipp as the PBX: real SIP over UDP and TCP, real RTP audio
 * (sipp's rtp_stream plays generated speech), real recognition, REFER checked by sipp.
 */

const root = join(__dirname, '..', '..', '..');

/** The recognition worker processes of the server `pid` (its children running worker.js). */
function workerPids(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === pid && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('worker.js') ? [Number(d)] : [];
      } catch {
        return [];
      }
    });
}

/** sipp ran every call to its end, with nothing unexpected: else its own words are the failure. */
function expectSuccess(r: { code: number; errors: string; stdout: string }): void {
  if (r.code !== 0 || r.errors !== '') throw new Error(`sipp exit ${r.code}\n${r.errors}\n${r.stdout.slice(-1500)}`);
}

describe('attendant serve as a PBX sees it (sipp)', () => {
  let dir: string;
  let child: ChildProcess;
  let log = '';
  let sipPort: number;
  let httpPort: number;
  let hooks: grpc.Server;
  const hookCalls: TransferCallRequest[] = [];
  let hookAccepts = true;
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, ATTENDANT_DATA_DIR: dir });
  const cli = async (args: string[]): Promise<{ code: number; out: string[] }> => {
    const out: string[] = [];
    const code = await run(
      args,
      { out: (t) => out.push(t), err: (t) => out.push(t) },
      { ...env(), ATTENDANT_SIP_PORT: String(sipPort), ATTENDANT_LOG_LEVEL: 'silent' },
    );
    return { code, out };
  };
  const sipp = async (xml: string, opts: { service?: string; transport?: 'u1' | 't1' } = {}) =>
    runSipp(xml, {
      target: `127.0.0.1:${sipPort}`,
      service: opts.service ?? 'demo',
      transport: opts.transport,
      localPort: await freePort(),
      mediaPort: 30000 + Math.floor(Math.random() * 5000) * 2,
      timeoutS: 45,
    });
  const metric = (name: string): Promise<number> => scrapeMetric(httpPort, name);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'attendant-e2e-'));
    // A PBX's gRPC hooks, for the store that transfers by gRPC.
    hooks = new grpc.Server();
    hooks.addService(pbxHooksService(), {
      TransferCall: (call: grpc.ServerUnaryCall<TransferCallRequest, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        hookCalls.push(call.request);
        cb(null, hookAccepts ? { accepted: true, reason: '' } : { accepted: false, reason: 'extension busy' });
      },
    });
    const hooksPort = await new Promise<number>((resolve, reject) =>
      hooks.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    sipPort = await freePort();
    httpPort = await freePort();
    const quiet = { out: () => undefined, err: () => undefined };
    expect(await run(['directory', 'import', 'demo', join(root, 'directory-fixtures', 'demo-store.csv'), '--create'], quiet, env())).toBe(
      0,
    );
    expect(await run(['directory', 'import', 'hooked', join(root, 'directory-fixtures', 'demo-store.csv'), '--create'], quiet, env())).toBe(
      0,
    );
    // A store whose PBX hooks are down (nothing listens there): transfers go by REFER instead.
    expect(
      await run(['directory', 'import', 'hooks-down', join(root, 'directory-fixtures', 'demo-store.csv'), '--create'], quiet, env()),
    ).toBe(0);
    expect(
      await run(['store', 'update', 'hooks-down', '--transfer', 'grpc', '--hooks', `127.0.0.1:${await freePort()}`], quiet, env()),
    ).toBe(0);
    expect(
      await run(
        ['store', 'update', 'hooked', '--transfer', 'grpc', '--hooks', `127.0.0.1:${hooksPort}`, '--operator', '9', '--transcripts', 'on'],
        quiet,
        env(),
      ),
    ).toBe(0);
    child = spawnServe({
      ...env(),
      ATTENDANT_SIP_PORT: String(sipPort),
      ATTENDANT_HTTP_PORT: String(httpPort),
      ATTENDANT_GRPC_PORT: String(await freePort()),
      ATTENDANT_RTP_PORTS: '21000-21999',
      ATTENDANT_ASR_WORKERS: '2',
    });
    child.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
    });
    await untilReady(httpPort, () => log, 60_000);
  }, 90_000);

  afterAll(async () => {
    child?.kill('SIGKILL');
    hooks?.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  const speech = (text: string): Promise<string> => synthesize({ text, synth: 'espeak', voice: 'en-us', condition: 'clean' });

  it('routes a caller who says "Sophie Martin" to extension 2014 with a REFER (UDP), barging in on the greeting', async () => {
    const audio = await speech('Sophie Martin');
    const taken = await metric('attendant_early_hearings_total{outcome="taken"}');
    const r = await sipp(scenario('speech', [invite(G711_OFFER), ...ANSWERED, ...playAudio(audio, 1000), ...expectReferTo('2014')]));
    expectSuccess(r);
    // The name was heard as soon as 350 ms of quiet had passed, and that hearing was taken at its end.
    expect(await metric('attendant_early_hearings_total{outcome="taken"}')).toBe(taken + 1);
  });

  it('hears the whole name of a caller who pauses 420 ms between first and last name: the early hearing of "Sophie" is given up', async () => {
    // "Sophie", 420 ms of silence, "Martin": the endpointer settles in the pause (350 ms of
    // quiet), the caller goes on before its end (500 ms).
    const [first, last] = await Promise.all([speech('Sophie'), speech('Martin')]);
    const sox = (...args: string[]): void => void execFileSync('sox', args);
    const at = (name: string): string => join(dir, name);
    sox(first, at('sophie.wav'), 'silence', '1', '0.01', '1%', 'reverse', 'silence', '1', '0.01', '1%', 'reverse', 'pad', '0', '0.42');
    sox(last, at('martin.wav'), 'silence', '1', '0.01', '1%', 'reverse', 'silence', '1', '0.01', '1%', 'reverse');
    const paused = at('sophie-pause-martin.wav');
    sox(at('sophie.wav'), at('martin.wav'), paused, 'pad', '0.25', '0.35');
    const givenUp = await metric('attendant_early_hearings_total{outcome="given_up"}');
    // Heard whole, put through; or, where the two models part (a busy host heard it otherwise
    // once), asked to confirm Sophie Martin: the caller says yes.
    const yes = await speech('yes');
    const r = await sipp(
      scenario('paused', [
        invite(G711_OFFER),
        ...ANSWERED,
        ...callerTurns({ speech: paused, yes, extension: '2014', referWithinMs: 4000 }),
      ]),
    );
    // The caller's turn to confirm is sipp's timeout on the first REFER, which it logs.
    expect(r.code).toBe(0);
    expect(
      r.errors.split('\n').filter((l) => l.trim() !== '' && !/receive timeout on message paused:\d+, jumping to label/.test(l)),
    ).toEqual([]);
    expect(await metric('attendant_early_hearings_total{outcome="given_up"}')).toBeGreaterThan(givenUp);
  });

  it('does the same over TCP', async () => {
    const audio = await speech('Sophie Martin');
    const r = await sipp(scenario('speech-tcp', [invite(G711_OFFER), ...ANSWERED, ...playAudio(audio, 1000), ...expectReferTo('2014')]), {
      transport: 't1',
    });
    expectSuccess(r);
  });

  it('transfers to an extension dialled with SIP INFO keypad presses', async () => {
    const keys = infoKeys('2012#');
    const r = await sipp(
      scenario('info-dtmf', [invite(G711_OFFER), ...ANSWERED, '<pause milliseconds="500"/>', ...keys, ...expectReferTo('2012', 10)]),
    );
    expectSuccess(r);
  });

  it('transfers to an extension dialled with RFC 4733 telephone-events (attendant call --dtmf)', async () => {
    const { code, out } = await cli(['call', 'demo', '--server', `127.0.0.1:${sipPort}`, '--dtmf', '2013#', '--timeout', '30']);
    expect(out.join('\n')).toMatch(/^ {2}typed 2013\n {2}put through to 2013 \(Paul Martin\)\ntransferred to 2013 \(Paul Martin\) in /);
    expect(code).toBe(0);
  });

  it('tells a test caller who asked for the operator that the call went to the operator, never "transferred" (attendant call --dtmf 0)', async () => {
    const { code, out } = await cli(['call', 'demo', '--server', `127.0.0.1:${sipPort}`, '--dtmf', '0', '--timeout', '30']);
    const text = out.join('\n');
    expect(text).toMatch(/^ {2}typed 0\n {2}put through to the operator \(9\)\nwent to the operator \(9\) in /);
    expect(text).not.toMatch(/transferred/);
    expect(code).toBe(0);
  });

  it('puts a caller who spells G-O-F-F on the keypad (*4633#, then 1) through to Yann Le Goff', async () => {
    const { code, out } = await cli([
      'call',
      'demo',
      '--server',
      `127.0.0.1:${sipPort}`,
      '--dtmf',
      '*4633#',
      '--dtmf',
      '1',
      '--timeout',
      '40',
    ]);
    expect(out.join('\n')).toMatch(/^transferred to 2040 \(Yann Le Goff\) in /m);
    expect(code).toBe(0);
  });

  it('keeps going when the caller hangs up mid-prompt, and records the call as abandoned', async () => {
    const before = await metric('attendant_calls_total{outcome="abandoned"}');
    const r = await sipp(
      scenario('hangup', [
        invite(G711_OFFER),
        ...ANSWERED,
        '<pause milliseconds="800"/>',
        inDialogRequest('BYE', 2),
        '<recv response="200"/>',
      ]),
    );
    expectSuccess(r);
    for (let i = 0; i < 20 && (await metric('attendant_calls_total{outcome="abandoned"}')) === before; i += 1)
      await new Promise((res) => setTimeout(res, 100));
    expect(await metric('attendant_calls_total{outcome="abandoned"}')).toBe(before + 1);
    expect(await metric('attendant_active_calls')).toBe(0);
  });

  it('answers a store created while it runs at once: empty, to its operator; then, imported, by name (issue 13, 14)', async () => {
    const quiet = { out: () => undefined, err: () => undefined };
    expect(await run(['store', 'create', 'new-store', '--operator', '7'], quiet, env())).toBe(0);
    // No directory yet: answered and sent to the operator, not 503 until someone imports one.
    expectSuccess(await sipp(scenario('empty-store', [invite(G711_OFFER), ...ANSWERED, ...expectReferTo('7')]), { service: 'new-store' }));
    expect(await run(['directory', 'import', 'new-store', join(root, 'directory-fixtures', 'demo-store.csv')], quiet, env())).toBe(0);
    // The grammar is built in the background within seconds of the import, before the first call.
    const until = Date.now() + 30_000;
    while (!/"store":"new-store","version":1,[^\n]*store grammar ready/.test(log) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 200));
    const keys = infoKeys('2012#');
    expectSuccess(
      await sipp(
        scenario('imported-store', [invite(G711_OFFER), ...ANSWERED, '<pause milliseconds="500"/>', ...keys, ...expectReferTo('2012', 10)]),
        { service: 'new-store' },
      ),
    );
  });

  it('answers 404 for a store that does not exist', async () => {
    const r = await sipp(
      scenario('unknown', [invite(G711_OFFER), '<recv response="100" optional="true"/>', '<recv response="404"/>', ACK_FAILURE]),
      { service: 'no-such-store' },
    );
    expectSuccess(r);
  });

  it('answers an INVITE without SDP with the same 488 whether the store exists or not (no store enumeration)', async () => {
    const noSdp = (name: string) =>
      scenario(name, [invite(''), '<recv response="100" optional="true"/>', '<recv response="488"/>', ACK_FAILURE]);
    expectSuccess(await sipp(noSdp('nosdp-known'), { service: 'demo' }));
    expectSuccess(await sipp(noSdp('nosdp-unknown'), { service: 'no-such-store' }));
  });

  it('answers 488 when no codec fits (G.729 only)', async () => {
    const r = await sipp(
      scenario('g729', [invite(G729_OFFER), '<recv response="100" optional="true"/>', '<recv response="488"/>', ACK_FAILURE]),
    );
    expectSuccess(r);
  });

  it('answers OPTIONS with 200 and what it allows', async () => {
    const options = `<send retrans="500"><![CDATA[
OPTIONS sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:pbx@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0

]]></send>`;
    const r = await sipp(
      scenario('options', [
        options,
        '<recv response="200"><action><ereg regexp="Allow: .*REFER" search_in="msg" check_it="true" assign_to="a"/></action></recv>',
      ]),
    );
    expectSuccess(r);
  });

  it('puts the call on hold and back with re-INVITEs, then hangs up cleanly', async () => {
    const hold = G711_OFFER.replace('a=sendrecv', 'a=sendonly');
    const r = await sipp(
      scenario('hold', [
        invite(G711_OFFER),
        ...ANSWERED,
        '<pause milliseconds="500"/>',
        invite(hold, 2, true),
        '<recv response="100" optional="true"/>',
        '<recv response="200"><action><ereg regexp="a=recvonly" search_in="body" check_it="true" assign_to="h"/></action></recv>',
        ACK_2XX(2),
        '<pause milliseconds="500"/>',
        invite(G711_OFFER, 3, true),
        '<recv response="100" optional="true"/>',
        '<recv response="200"><action><ereg regexp="a=sendrecv" search_in="body" check_it="true" assign_to="u"/></action></recv>',
        ACK_2XX(3),
        inDialogRequest('BYE', 4),
        '<recv response="200"/>',
      ]),
    );
    expectSuccess(r);
  });

  it('answers a malformed request with 400, drops garbage, and keeps serving', async () => {
    const socket = createSocket('udp4');
    const replies: string[] = [];
    socket.on('message', (m) => replies.push(m.toString()));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const send = (text: string | Buffer): Promise<void> =>
      new Promise((resolve) => socket.send(text, sipPort, '127.0.0.1', () => resolve()));
    await send(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 1, 2]));
    await send('INVITE sip:demo@127.0.0.1 SIP/2.0\r\n\r\n');
    const port = (socket.address() as { port: number }).port;
    await send(
      `INVITE sip:demo@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKbad1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:demo@127.0.0.1>\r\nCall-ID: bad-1\r\nCSeq: one INVITE\r\nContent-Length: 0\r\n\r\n`,
    );
    await send(
      `OPTIONS sip:demo@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKok1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:demo@127.0.0.1>\r\nCall-ID: ok-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
    );
    for (let i = 0; i < 30 && replies.length < 2; i += 1) await new Promise((r) => setTimeout(r, 100));
    socket.close();
    expect(replies.find((m) => m.includes('bad-1'))).toMatch(/^SIP\/2\.0 400 Bad Request \(CSeq "one INVITE"/);
    expect(replies.find((m) => m.includes('ok-1'))).toMatch(/^SIP\/2\.0 200 OK/);
    expect(replies).toHaveLength(2);
  });

  it('takes no keypad events from an intruder spraying RTP at every media port; the caller keeps their own (issue 14, 1)', async () => {
    const intruder = createSocket('udp4');
    await new Promise<void>((resolve) => intruder.bind(0, '127.0.0.1', () => resolve()));
    let heard = 0;
    intruder.on('message', () => (heard += 1));
    // RFC 4733 events "2 0 0 1 #", one new event (timestamp) per round, to every port of the range.
    const digits = [2, 0, 0, 1, 11];
    let round = 0;
    const spray = setInterval(() => {
      const pkt = Buffer.alloc(16);
      pkt[0] = 0x80;
      pkt[1] = 101;
      pkt.writeUInt16BE(round & 0xffff, 2);
      pkt.writeUInt32BE(round * 800, 4);
      pkt.writeUInt32BE(0x1badcafe, 8);
      pkt[12] = digits[round % digits.length];
      pkt[13] = 0x8a; // end of event
      pkt.writeUInt16BE(800, 14);
      round += 1;
      for (let port = 21000; port <= 21999; port += 2) intruder.send(pkt, port, '127.0.0.1');
    }, 100);
    try {
      const before = await metric('attendant_rtp_dropped_total');
      const { code, out } = await cli(['call', 'demo', '--server', `127.0.0.1:${sipPort}`, '--dtmf', '2014#', '--timeout', '40']);
      expect(out.join('\n')).toMatch(/^transferred to 2014 \(Sophie Martin\) in /m);
      expect(code).toBe(0);
      // A caller whose RTP is late (a PBX that sends none until it has some, keys by SIP
      // INFO): for 1.5 s the intruder's packets are the only ones to reach the call's port,
      // and must not be taken for the caller's.
      expectSuccess(
        await sipp(
          scenario('late-rtp', [
            invite(G711_OFFER),
            ...ANSWERED,
            '<pause milliseconds="1500"/>',
            ...infoKeys('2014#'),
            ...expectReferTo('2014', 10),
          ]),
        ),
      );
      expect(await metric('attendant_rtp_dropped_total')).toBeGreaterThan(before);
    } finally {
      clearInterval(spray);
      intruder.close();
    }
    expect(heard).toBe(0);
  });

  it('sends no RTP to the address of an INVITE that is never ACKed (issue 14, 2: no reflection)', async () => {
    const victim = createSocket('udp4');
    const sender = createSocket('udp4');
    await new Promise<void>((resolve) => victim.bind(0, '127.0.0.1', () => resolve()));
    await new Promise<void>((resolve) => sender.bind(0, '127.0.0.1', () => resolve()));
    let reflected = 0;
    victim.on('message', () => (reflected += 1));
    const answers: string[] = [];
    sender.on('message', (m) => answers.push(m.toString()));
    const victimPort = victim.address().port;
    const senderPort = sender.address().port;
    const body = [
      'v=0',
      'o=- 1 1 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=audio ${victimPort} RTP/AVP 0`,
      'a=rtpmap:0 PCMU/8000',
      '',
    ].join('\r\n');
    const text =
      `INVITE sip:demo@127.0.0.1:${sipPort} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${senderPort};branch=z9hG4bKrefl1\r\nFrom: <sip:x@127.0.0.1>;tag=r1\r\n` +
      `To: <sip:demo@127.0.0.1>\r\nCall-ID: reflect-1\r\nCSeq: 1 INVITE\r\nContact: <sip:x@127.0.0.1:${senderPort}>\r\nMax-Forwards: 70\r\n` +
      `Content-Type: application/sdp\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    sender.send(text, sipPort, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 3000));
    victim.close();
    sender.close();
    expect(answers.some((a) => /^SIP\/2\.0 200 OK/.test(a))).toBe(true);
    expect(reflected).toBe(0);
  });

  it('transfers through the PBX gRPC hooks when the store is set to, and to the operator when the hook refuses', async () => {
    hookAccepts = true;
    await cli(['call', 'hooked', '--server', `127.0.0.1:${sipPort}`, '--dtmf', '2014#', '--timeout', '20']);
    expect(hookCalls).toHaveLength(1);
    expect(hookCalls[0]).toMatchObject({ store: 'hooked', extension: '2014', caller: 'caller' });
    expect(hookCalls[0].sip_call_id).toMatch(/@attendant$/);

    hookAccepts = false;
    await cli(['call', 'hooked', '--server', `127.0.0.1:${sipPort}`, '--dtmf', '2014#', '--timeout', '20']);
    expect(hookCalls.slice(1).map((c) => c.extension)).toEqual(['2014', '9']);

    const { out } = await cli(['calls', 'hooked', '--json']);
    const records = out.map((l) => JSON.parse(l) as { outcome: string; extension: string; path: string[]; transfer: string });
    expect(records[0]).toMatchObject({ outcome: 'failed', transfer: 'grpc' });
    expect(records[0].path).toEqual([
      'keypad:2014',
      'transfer:2014:keypad',
      'transfer-failed',
      'transfer:operator:failure',
      'transfer-failed',
    ]);
    expect(records[1]).toMatchObject({ outcome: 'transferred', extension: '2014', transfer: 'grpc' });
  });

  it("transfers by REFER when the store's PBX hooks cannot be reached, instead of hanging up", async () => {
    const keys = infoKeys('2014#');
    const r = await sipp(
      scenario('hooks-down', [invite(G711_OFFER), ...ANSWERED, '<pause milliseconds="500"/>', ...keys, ...expectReferTo('2014', 10)]),
      { service: 'hooks-down' },
    );
    expectSuccess(r);
  });

  it('sends the caller to the operator when a recognition worker crashes on their utterance, and stays up for the next caller (issue 13, 3)', async () => {
    // Two serving workers and the worker of answers.
    const workers = workerPids(child.pid ?? 0);
    expect(workers).toHaveLength(3);
    // Stopped, the workers hold the caller's utterance; a segmentation fault then ends them as a
    // native fault in pocketsphinx or Vosk would.
    for (const pid of workers) process.kill(pid, 'SIGSTOP');
    const exitsBefore = await metric('attendant_asr_worker_exits_total');
    const audio = await speech('Sophie Martin');
    const call = sipp(scenario('worker-crash', [invite(G711_OFFER), ...ANSWERED, ...playAudio(audio, 1000), ...expectReferTo('9')]));
    try {
      for (const until = Date.now() + 30_000; (await metric('attendant_asr_backlog')) === 0;) {
        if (Date.now() > until) throw new Error(`the utterance never reached the recognition workers:\n${log.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      for (const pid of workers) {
        process.kill(pid, 'SIGSEGV');
        process.kill(pid, 'SIGCONT');
      }
    }
    expectSuccess(await call);
    expect(await metric('attendant_asr_worker_exits_total')).toBe(exitsBefore + 3);
    expect(log).toMatch(/"msg":"recognition failed; sending the caller to the operator"/);
    expect(log).toMatch(/crashed \(SIGSEGV\)/);
    // New workers: the next caller is heard and put through.
    for (const until = Date.now() + 20_000; (await metric('attendant_asr_workers')) < 2 && Date.now() < until;)
      await new Promise((r) => setTimeout(r, 100));
    expect(workerPids(child.pid ?? 0).some((pid) => workers.includes(pid))).toBe(false);
    // The stores' grammars are loaded in the new workers before the next call, as at start.
    for (const until = Date.now() + 20_000; (await metric('attendant_grammars_memory_bytes')) === 0 && Date.now() < until;)
      await new Promise((r) => setTimeout(r, 100));
    expect(await metric('attendant_grammars_memory_bytes')).toBeGreaterThan(0);
    expectSuccess(
      await sipp(scenario('after-crash', [invite(G711_OFFER), ...ANSWERED, ...playAudio(audio, 1000), ...expectReferTo('2014')])),
    );
  }, 120_000);

  it('serves Prometheus metrics through prom-client: process metrics, seconds histograms, _total counters, no store ids by default', async () => {
    const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(text).toMatch(/^# TYPE attendant_decision_latency_seconds histogram$/m);
    // Calls above were transferred after speech: the histogram has observations, in seconds.
    expect(await metric('attendant_decision_latency_seconds_count')).toBeGreaterThan(0);
    expect(
      (await metric('attendant_decision_latency_seconds_sum')) / (await metric('attendant_decision_latency_seconds_count')),
    ).toBeLessThan(30);
    expect(await metric('attendant_calls_total{outcome="transferred"}')).toBeGreaterThan(0);
    expect(text).toMatch(/^# TYPE attendant_media_late_ticks_total counter$/m);
    // The stores' grammars, measured when loaded in a worker: megabytes for three 72-entry stores at most.
    expect(await metric('attendant_grammars_memory_bytes')).toBeGreaterThan(0);
    expect(await metric('attendant_grammars_memory_bytes')).toBeLessThan(200 * 1024 * 1024);
    expect(await metric('attendant_asr_workers_resident_memory_bytes')).toBeGreaterThan(await metric('attendant_grammars_memory_bytes'));
    // Without ATTENDANT_METRICS_STORES=on, an unauthenticated scrape lists no store.
    expect(text).not.toMatch(/store="/);
    expect(text).not.toMatch(/demo|hooked/);
  });

  it('puts a call id on every log line of a call', () => {
    const lines = log
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const callLines = lines.filter((l) => typeof l.msg === 'string' && /^(call |heard|transferr|call flow|dialog ended)/.test(l.msg));
    expect(callLines.length).toBeGreaterThan(10);
    for (const line of callLines) expect(line.call_id).toMatch(/^[0-9a-f]{16}$/);
  });
});

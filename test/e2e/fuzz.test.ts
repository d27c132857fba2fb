import { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../integration/free-port';
import { run } from '../../src/cli/main';
import { ANSWERED, expectReferTo, G711_OFFER, infoKeys, invite, runSipp, scenario } from './sipp';
import { spawnServe, untilReady } from '../integration/serve-process';

/**
 * Hostile SIP (issue 14): 20,000 mutated messages over UDP and 2,000 over TCP, from a seeded
 * generator (ATTENDANT_FUZZ_SEED to replay a run), in batches; after each batch a real call
 * (sipp, keypad by SIP INFO) must still go through to its extension, and the process must be up.
 */

const SEED = Number(process.env.ATTENDANT_FUZZ_SEED ?? 4475);
const UDP_MESSAGES = 20_000;
const TCP_MESSAGES = 2_000;
const BATCHES = 10;

/** mulberry32: a small seeded generator, the same sequence for the same seed. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SDP = G711_OFFER.replace(/\[(media|local)_ip\]/g, '127.0.0.1')
  .replace(/\[local_ip_type\]/g, '4')
  .replace(/\[media_ip_type\]/g, '4')
  .replace(/\[media_port\]/g, '40000');

/** Well-formed requests to mutate; INVITEs go to a store that does not exist, so none sets up a call. */
function bases(port: number, i: number): string[] {
  const head = (method: string, uri: string, cseq = 1) => [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-fuzz-${i}`,
    `From: "Fuzz" <sip:fuzz@127.0.0.1>;tag=f${i}`,
    `To: <${uri}>`,
    `Call-ID: fuzz-${i}@127.0.0.1`,
    `CSeq: ${cseq} ${method}`,
    'Max-Forwards: 70',
    `Contact: <sip:fuzz@127.0.0.1:${port}>`,
  ];
  const withBody = (lines: string[], type: string, body: string) =>
    [...lines, `Content-Type: ${type}`, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
  const bare = (lines: string[]) => [...lines, 'Content-Length: 0', '', ''].join('\r\n');
  return [
    withBody(head('INVITE', 'sip:nobody-fuzz@127.0.0.1'), 'application/sdp', SDP),
    bare(head('OPTIONS', 'sip:demo@127.0.0.1')),
    bare(head('BYE', 'sip:demo@127.0.0.1', 2)),
    bare(head('ACK', 'sip:demo@127.0.0.1')),
    bare(head('CANCEL', 'sip:nobody-fuzz@127.0.0.1')),
    withBody(head('INFO', 'sip:demo@127.0.0.1', 3), 'application/dtmf-relay', 'Signal=5\r\nDuration=160'),
    bare(head('REGISTER', 'sip:127.0.0.1')),
    withBody(head('NOTIFY', 'sip:demo@127.0.0.1', 4), 'message/sipfrag;version=2.0', 'SIP/2.0 200 OK'),
    `SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-x${i}\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: r${i}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`,
  ];
}

const NASTY = [
  '\0',
  '\r',
  '\n',
  '\r\n\r\n',
  ':',
  ';',
  '<',
  '>',
  '"',
  '%',
  '%00',
  ' ',
  '\t',
  '\u00ff',
  '\u202e',
  'é',
  '=',
  ',',
  '@',
  '[',
  ']',
  '-1',
  '4294967296',
  '99999999999999999999',
  'SIP/3.0',
  'z9hG4bK',
];

/** One message mutated a few ways: bytes flipped, lines dropped or doubled, values replaced, cut short, stretched. */
function mutate(text: string, rnd: () => number): Buffer {
  let s = text;
  const pick = <T>(list: T[]): T => list[Math.floor(rnd() * list.length)];
  const n = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < n; k += 1) {
    const at = Math.floor(rnd() * s.length);
    switch (Math.floor(rnd() * 10)) {
      case 0:
        s = s.slice(0, at) + String.fromCharCode(Math.floor(rnd() * 256)) + s.slice(at + 1);
        break;
      case 1:
        s = s.slice(0, at);
        break;
      case 2:
        s = s.slice(0, at) + pick(NASTY) + s.slice(at);
        break;
      case 3: {
        const lines = s.split('\r\n');
        lines.splice(Math.floor(rnd() * lines.length), 1);
        s = lines.join('\r\n');
        break;
      }
      case 4: {
        const lines = s.split('\r\n');
        const i = Math.floor(rnd() * lines.length);
        lines.splice(i, 0, ...Array(1 + Math.floor(rnd() * 20)).fill(lines[i]));
        s = lines.join('\r\n');
        break;
      }
      case 5:
        s = s.replace(/\d+/, () => pick(['0', '-1', '2147483648', '4294967296', '1e9', '0x10', '99999999999999999999']));
        break;
      case 6:
        s = s.slice(0, at) + 'A'.repeat(Math.floor(rnd() * 70_000)) + s.slice(at);
        break;
      case 7:
        s = s.replace(/Content-Length: \d+/, `Content-Length: ${pick(['0', '5', '100000', '-3', 'x'])}`);
        break;
      case 8:
        s = s.replace(/^\S+/, pick(['INVITE', 'invite', 'FOO', 'INV;ITE', '', 'SIP/2.0', 'ÉTÉ', 'A'.repeat(300)]));
        break;
      default:
        s = s.replace(/SIP\/2\.0/, pick(['SIP/2.1', 'SIP/1.0', 'sip/2.0', 'SIP/2.0 ', 'HTTP/1.1']));
        break;
    }
  }
  return Buffer.from(s, 'latin1').subarray(0, 65_000);
}

describe('fuzzing the SIP edge (issue 14)', () => {
  let dir: string;
  let child: ChildProcess;
  let sipPort = 0;
  let httpPort = 0;
  let log = '';
  let exited: number | null | undefined;
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, ATTENDANT_DATA_DIR: dir });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'attendant-fuzz-'));
    const quiet = { out: () => undefined, err: () => undefined };
    expect(
      await run(
        ['directory', 'import', 'demo', join(__dirname, '..', '..', '..', 'directory-fixtures', 'demo-store.csv'), '--create'],
        quiet,
        env(),
      ),
    ).toBe(0);
    sipPort = await freePort();
    httpPort = await freePort();
    child = spawnServe({
      ...env(),
      ATTENDANT_SIP_PORT: String(sipPort),
      ATTENDANT_HTTP_PORT: String(httpPort),
      ATTENDANT_GRPC_PORT: String(await freePort()),
      ATTENDANT_RTP_PORTS: '24000-24999',
      ATTENDANT_ASR_WORKERS: '1',
    });
    child.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.length > 4_000_000) log = log.slice(-1_000_000);
    });
    child.on('exit', (code) => (exited = code));
    await untilReady(httpPort, () => log, 60_000);
  }, 90_000);

  afterAll(() => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  /** A real call: sipp dials 2012 by SIP INFO and must be transferred there. */
  const callGoesThrough = async (): Promise<void> => {
    const keys = infoKeys('2012#');
    const r = await runSipp(
      scenario('after-fuzz', [invite(G711_OFFER), ...ANSWERED, '<pause milliseconds="300"/>', ...keys, ...expectReferTo('2012', 10)]),
      {
        target: `127.0.0.1:${sipPort}`,
        service: 'demo',
        localPort: await freePort(),
        mediaPort: 30000 + Math.floor(Math.random() * 5000) * 2,
        timeoutS: 30,
      },
    );
    if (r.code !== 0 || r.errors !== '')
      throw new Error(`a call failed after fuzzing (seed ${SEED}): sipp exit ${r.code}\n${r.errors}\n${log.slice(-2000)}`);
    expect(exited).toBeUndefined();
  };

  it(`takes ${UDP_MESSAGES} mutated UDP messages (seed ${SEED}) and still puts calls through after each batch`, async () => {
    const rnd = generator(SEED);
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const port = socket.address().port;
    let replies = 0;
    socket.on('message', () => (replies += 1));
    for (let batch = 0; batch < BATCHES; batch += 1) {
      for (let i = 0; i < UDP_MESSAGES / BATCHES; i += 1) {
        const n = batch * 100_000 + i;
        const list = bases(port, n);
        const message = mutate(list[Math.floor(rnd() * list.length)], rnd);
        await new Promise<void>((resolve) => socket.send(message, sipPort, '127.0.0.1', () => resolve()));
        if (i % 100 === 99) await new Promise((r) => setTimeout(r, 10));
      }
      await callGoesThrough();
    }
    socket.close();
    console.log(
      `fuzz UDP: ${UDP_MESSAGES} messages (seed ${SEED}), ${replies} answers, ${log.split('\n').length} log lines, ${BATCHES} calls through`,
    );
    // Answerable messages were answered (400 with a reason, 404, 405, 481, 505...), not all dropped.
    expect(replies).toBeGreaterThan(UDP_MESSAGES / 10);
    // A flood of garbage does not write a line per datagram.
    expect(log.split('\n').length).toBeLessThan(UDP_MESSAGES / 2);
  }, 300_000);

  it(`takes ${TCP_MESSAGES} mutated messages over TCP connections and still puts calls through`, async () => {
    const rnd = generator(SEED + 1);
    const per = TCP_MESSAGES / 2;
    for (let batch = 0; batch < 2; batch += 1) {
      let sent = 0;
      while (sent < per) {
        // One connection takes messages until the service closes it (garbage may end the stream).
        await new Promise<void>((resolve) => {
          const conn = connect(sipPort, '127.0.0.1');
          conn.on('error', () => undefined);
          conn.on('close', () => resolve());
          conn.on('connect', async () => {
            const { localPort } = conn;
            for (let k = 0; k < 50 && sent < per && !conn.destroyed; k += 1, sent += 1) {
              const list = bases(localPort ?? 0, 500_000 + batch * 10_000 + sent).map((m) => m.replace(/SIP\/2\.0\/UDP/g, 'SIP/2.0/TCP'));
              conn.write(mutate(list[Math.floor(rnd() * list.length)], rnd));
              if (k % 10 === 9) await new Promise((r) => setTimeout(r, 5));
            }
            conn.end();
            setTimeout(() => conn.destroy(), 500);
          });
        });
      }
      await callGoesThrough();
    }
  }, 300_000);
});

import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Runs sipp (Debian package sip-tester) as the PBX/caller against attendant: one scenario,
 * written to a temporary file, `calls` calls, at most `limit` at once. Resolves with sipp's
 * exit code (0: every call succeeded) and its error log.
 */

export interface SippRun {
  code: number;
  stdout: string;
  errors: string;
  /** sipp's statistics CSV (last line), when `stats` was asked. */
  stats?: Record<string, string>;
  ms: number;
}

export interface SippOptions {
  target: string;
  service: string;
  transport?: 'u1' | 'un' | 't1';
  calls?: number;
  limit?: number;
  rate?: number;
  localPort: number;
  mediaPort: number;
  timeoutS?: number;
  stats?: boolean;
  /** sipp injection file text (`-inf`): fields the scenario reads as [field0]... */
  injection?: string;
}

/**
 * Runs sipp; when the SIP or media port it was given was taken between choosing it and sipp
 * binding it (another test, or attendant's own random media ports), runs again on other ports.
 */
export async function runSipp(scenario: string, o: SippOptions): Promise<SippRun> {
  let opts = o;
  for (let attempt = 1; ; attempt++) {
    const r = await runSippOnce(scenario, opts);
    if (attempt >= 5 || !/Unable to bind|Address already in use/.test(r.stdout)) return r;
    opts = { ...opts, localPort: 40000 + Math.floor(Math.random() * 10000), mediaPort: 30000 + Math.floor(Math.random() * 5000) * 2 };
  }
}

function runSippOnce(scenario: string, o: SippOptions): Promise<SippRun> {
  const dir = mkdtempSync(join(tmpdir(), 'attendant-sipp-'));
  const file = join(dir, 'scenario.xml');
  writeFileSync(file, scenario);
  const injection = join(dir, 'injection.csv');
  if (o.injection !== undefined) writeFileSync(injection, o.injection);
  const args = [
    '-sf',
    file,
    '-s',
    o.service,
    o.target,
    '-i',
    '127.0.0.1',
    '-mi',
    '127.0.0.1',
    '-p',
    String(o.localPort),
    '-mp',
    String(o.mediaPort),
    '-t',
    o.transport ?? 'u1',
    '-m',
    String(o.calls ?? 1),
    '-l',
    String(o.limit ?? o.calls ?? 1),
    '-r',
    String(o.rate ?? 10),
    '-timeout',
    `${o.timeoutS ?? 60}s`,
    '-timeout_error',
    '-nostdin',
    '-trace_err',
    '-error_file',
    join(dir, 'errors.log'),
    ...(o.stats === true ? ['-trace_stat', '-stf', join(dir, 'stats.csv'), '-fd', '1'] : []),
    ...(o.injection !== undefined ? ['-inf', injection] : []),
  ];
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    execFile('sipp', args, { cwd: dir, timeout: ((o.timeoutS ?? 60) + 30) * 1000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code !== 'number') {
        reject(new Error(`sipp could not run (${err.message}); install it with: apt-get install sip-tester`));
        return;
      }
      let errors = '';
      try {
        // Regexp checks assign to variables that are never read again: sipp notes that, it is not an error.
        errors = readFileSync(join(dir, 'errors.log'), 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '' && !/Variable \$\w+ is referenced \d+ times|^The following events occurred:/.test(l))
          .join('\n');
      } catch {
        // no errors file: no errors
      }
      let stats: Record<string, string> | undefined;
      const csv = readdirSync(dir).find((f) => f === 'stats.csv');
      if (csv !== undefined) {
        const lines = readFileSync(join(dir, csv), 'utf8').trim().split('\n');
        const head = lines[0].split(';');
        const last = lines[lines.length - 1].split(';');
        stats = Object.fromEntries(head.map((h, i) => [h, last[i]]));
      }
      resolve({ code: err === null ? 0 : Number(err.code), stdout: `${stdout}\n${stderr}`, errors, stats, ms: Date.now() - t0 });
    });
  });
}

const sdp = (payloads: string, attributes: string[], direction = 'sendrecv'): string =>
  [
    'v=0',
    'o=pbx 53655765 2353687637 IN IP[local_ip_type] [local_ip]',
    's=-',
    'c=IN IP[media_ip_type] [media_ip]',
    't=0 0',
    `m=audio [media_port] RTP/AVP ${payloads}`,
    ...attributes,
    `a=${direction}`,
  ].join('\n');

export const G711_OFFER = sdp('0 8 101', [
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
]);
export const G729_OFFER = sdp('18', ['a=rtpmap:18 G729/8000']);

export function invite(body: string, cseq = 1, inDialog = false): string {
  const lines = [
    `INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0`,
    'Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]',
    'From: "PBX" <sip:0600000000@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]',
    `To: <sip:[service]@[remote_ip]:[remote_port]>${inDialog ? '[peer_tag_param]' : ''}`,
    'Call-ID: [call_id]',
    `CSeq: ${cseq} INVITE`,
    'Contact: <sip:pbx@[local_ip]:[local_port];transport=[transport]>',
    'Max-Forwards: 70',
    'Content-Type: application/sdp',
    'Content-Length: [len]',
    '',
    body,
  ];
  return `<send retrans="500"><![CDATA[\n${lines.join('\n')}\n]]></send>`;
}

export function inDialogRequest(method: string, cseq: number, extra: string[] = [], body = ''): string {
  const lines = [
    `${method} [next_url] SIP/2.0`,
    'Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]',
    'From: "PBX" <sip:0600000000@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]',
    'To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]',
    'Call-ID: [call_id]',
    `CSeq: ${cseq} ${method}`,
    'Contact: <sip:pbx@[local_ip]:[local_port];transport=[transport]>',
    'Max-Forwards: 70',
    ...extra,
    'Content-Length: [len]',
    '',
    body,
  ];
  return `<send retrans="500"><![CDATA[\n${lines.join('\n')}\n]]></send>`;
}

export const ACK_2XX = (cseq = 1): string => inDialogRequest('ACK', cseq).replace(' retrans="500"', '');

/** The ACK for a non-2xx final response: same branch as the INVITE (RFC 3261 §17.1.1.3). */
export const ACK_FAILURE = `<send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: "PBX" <sip:0600000000@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>`;

export const ANSWER_REQUEST = (status = '200 OK', extra: string[] = []): string => `<send><![CDATA[
SIP/2.0 ${status}
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:pbx@[local_ip]:[local_port];transport=[transport]>
${extra.join('\n')}${extra.length > 0 ? '\n' : ''}Content-Length: 0

]]></send>`;

export function scenario(name: string, steps: string[]): string {
  // Variables set by regexp checks are never read again; <Reference> tells sipp that is meant.
  const variables = [...new Set([...steps.join('\n').matchAll(/assign_to="(\w+)"/g)].map((m) => m[1]))];
  const reference = variables.length === 0 ? '' : `<Reference variables="${variables.join(',')}"/>\n`;
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">\n<scenario name="${name}">\n${steps.join('\n')}\n${reference}</scenario>\n`;
}

export const ANSWERED = [
  '<recv response="100" optional="true"/>',
  '<recv response="180" optional="true"/>',
  '<recv response="200" rrs="true"><action><ereg regexp="m=audio [0-9]+ RTP/AVP 0 101" search_in="body" check_it="true" assign_to="dummy"/></action></recv>',
  ACK_2XX(),
];

/** Waits for attendant's REFER, checks its Refer-To extension, and plays the PBX: 202, NOTIFY 200, then BYE. */
export function expectReferTo(extension: string, notifyCseq = 2): string[] {
  return [
    `<recv request="REFER" timeout="40000"><action><ereg regexp="Refer-To: .*&lt;sip:${extension}@" search_in="msg" check_it="true" assign_to="dummy2"/></action></recv>`,
    ANSWER_REQUEST('202 Accepted'),
    inDialogRequest(
      'NOTIFY',
      notifyCseq,
      ['Event: refer', 'Subscription-State: terminated;reason=noresource', 'Content-Type: message/sipfrag;version=2.0'],
      'SIP/2.0 200 OK',
    ),
    '<recv response="200"/>',
    '<recv request="BYE" timeout="10000"/>',
    ANSWER_REQUEST(),
  ];
}

/** Keypad presses as SIP INFO (application/dtmf-relay), each answered 200; CSeq from `firstCseq`. */
export function infoKeys(digits: string, firstCseq = 2): string[] {
  return [...digits].flatMap((digit, i) => [
    inDialogRequest('INFO', firstCseq + i, ['Content-Type: application/dtmf-relay'], `Signal=${digit}\nDuration=160`),
    '<recv response="200"/>',
  ]);
}

export function playAudio(file: string, afterMs = 1000): string[] {
  return [`<pause milliseconds="${afterMs}"/>`, `<nop><action><exec rtp_stream="${file},1,0"/></action></nop>`];
}

/**
 * A caller as the benchmarks play one, after the INVITE and ACK: says a name (`speech`, its
 * greeting's silence first), and expects a REFER to `extension` (a regular expression) within
 * `referWithinMs`; asked to confirm instead, says yes (`yes`); offered a choice, whose "oui"
 * has the choices read again, says the name again (`again`, when given) 3 s after the yes.
 */
export function callerTurns(o: { speech: string; yes: string; again?: string; extension: string; referWithinMs: number }): string[] {
  const [refer, ...afterRefer] = expectReferTo(o.extension);
  const orElse = (timeoutMs: number, label: string): string =>
    refer.replace('timeout="40000"', `timeout="${timeoutMs}" ontimeout="${label}" next="referred"`);
  return [
    ...playAudio(o.speech, 100),
    orElse(o.referWithinMs, 'confirm'),
    '<label id="confirm"/>',
    ...playAudio(o.yes, 0),
    ...(o.again === undefined ? [] : [orElse(3000, 'again'), '<label id="again"/>', ...playAudio(o.again, 0)]),
    refer,
    '<label id="referred"/>',
    ...afterRefer,
  ];
}

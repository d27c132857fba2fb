import { performance } from 'node:perf_hooks';
import { readAudioFile } from '../media/audio-file';
import { Endpointer } from '../media/endpointer';
import { MediaClock } from '../media/media-clock';
import { PromptLibrary } from '../media/prompts';
import { PortRange, RtpSession } from '../media/rtp';
import { formatSdp, negotiate, parseAudioOffer, rtpRemote } from '../sip/sdp';
import { parseNameAddr, parseUri } from '../sip/address';
import { header } from '../sip/message';
import { Peer, SipTransport } from '../sip/transport';
import { SipUserAgent } from '../sip/user-agent';
import { Dialog } from '../sip/dialog';

/**
 * `attendant call <store>`: a test caller over real SIP and RTP. It calls the running
 * service, waits for each prompt to finish, says its lines (espeak-ng, or a WAV file) or
 * presses keys, and plays the PBX's part when attendant transfers: it accepts the REFER,
 * reports the transfer as done (NOTIFY sipfrag 200) and prints where the call went.
 */

export type Turn = { say: string } | { wav: string } | { dtmf: string };

export interface CallOptions {
  store: string;
  server: { host: string; port: number; transport: 'UDP' | 'TCP' };
  turns: Turn[];
  locale: 'fr-FR' | 'en-US';
  dataDir: string;
  timeoutMs: number;
}

export interface CallResult {
  outcome: 'transferred' | 'refused' | 'ended' | 'timeout';
  extension?: string;
  name?: string;
  status?: number;
  reason?: string;
  /** From the INVITE to the REFER. */
  callMs: number;
  /** From the end of our last line to the REFER. */
  afterSpeechMs?: number;
  promptsHeard: number;
  /** The call's SIP Call-ID, by which attendant's call record is found. */
  sipCallId?: string;
  /**
   * The call as attendant recorded it, when the server shares this command's database: what
   * it asked and heard, and where the call really went (the REFER alone does not say that
   * extension 9 is the operator, nor that the caller was asked to confirm first).
   */
  record?: { outcome: string; extension: string; name?: string; steps: string[]; operator: boolean };
}

/** One step of a call record's path, as the caller lived it. */
export function describeStep(step: string, operator: string, nameOf: (extension: string) => string | undefined): string {
  const [kind, a, b] = step.split(':');
  switch (kind) {
    case 'heard':
      return (
        (
          {
            transfer: 'a name was heard',
            confirm: 'asked « Vous avez dit … ? » (to confirm a name)',
            disambiguate: 'asked which one (two or more names)',
            reprompt: 'asked to say the name again',
            operator: 'the operator was asked for',
          } as Record<string, string>
        )[a] ?? `heard: ${a}`
      );
    case 'answer':
      return `answered ${a.replace('choice-', 'choice ')}${b === 'keypad' ? ' on the keypad' : ''}`;
    case 'no-input':
      return 'said nothing; asked again';
    case 'retries-exhausted':
      return 'not understood after the retries';
    case 'keypad':
      return `typed ${a}`;
    case 'spell':
      return a === 'offered'
        ? 'offered to spell the name on the keypad'
        : a === 'asked'
          ? 'asked to spell'
          : `spelled ${a}: ${b} match(es)`;
    case 'transfer': {
      if (a === 'operator' || a === operator) return `put through to the operator (${operator})`;
      const name = nameOf(a);
      return `put through to ${a}${name === undefined ? '' : ` (${name})`}`;
    }
    case 'transfer-failed':
      return 'the transfer failed';
    case 'failed':
      return `${a} failed: to the operator`;
    case 'shutdown':
      return a === 'bye' ? 'the service stopped: hung up' : `the service stopped: put through to the operator (${a})`;
    default:
      return step;
  }
}

export async function placeCall(o: CallOptions): Promise<CallResult> {
  const prompts = new PromptLibrary(o.dataDir);
  const lines: (Int16Array | string)[] = [];
  for (const turn of o.turns) {
    if ('say' in turn) lines.push(await prompts.synthesize(turn.say, o.locale));
    else if ('wav' in turn) lines.push((await readAudioFile(turn.wav, 8000)).pcm);
    else lines.push(turn.dtmf);
  }
  const host = await SipTransport.resolve(o.server.host);
  const peer: Peer = { transport: o.server.transport, host, port: o.server.port };
  const transport = await SipTransport.listen(host.startsWith('127.') ? '127.0.0.1' : '0.0.0.0', 0);
  // A send that fails shows up as no answer, which the call's own timeout reports.
  transport.on('error', () => undefined);
  const ua = new SipUserAgent(transport);
  const clock = new MediaClock();
  const rtp = await RtpSession.open(new PortRange(40000, 49999), host.startsWith('127.') ? '127.0.0.1' : '0.0.0.0', clock, {
    noRtpTimeoutMs: 60_000,
    source: 'latch',
  });
  const local = transport.advertisedHost(peer);
  const sdp = formatSdp(
    { address: local, port: rtp.port, sessionId: Date.now(), sessionVersion: 1 },
    [
      { codec: 'PCMU', payloadType: 0 },
      { codec: 'PCMA', payloadType: 8 },
    ],
    101,
    'sendrecv',
  );
  const t0 = performance.now();
  try {
    let dialog: Dialog;
    let answerSdp: string;
    try {
      const answered = await ua.invite(`sip:${o.store}@${o.server.host}:${o.server.port}`, peer, {
        from: `"attendant call" <sip:caller@${local}>`,
        sdp,
      });
      dialog = answered.dialog;
      answerSdp = answered.response.body.toString('utf8');
    } catch (err) {
      const status = (err as { status?: number }).status;
      return { outcome: 'refused', status, reason: (err as Error).message, callMs: performance.now() - t0, promptsHeard: 0 };
    }
    const media = negotiate(parseAudioOffer(answerSdp));
    if (media === undefined) {
      await dialog.bye('no codec');
      return { outcome: 'refused', reason: 'the answer has no G.711 codec', callMs: performance.now() - t0, promptsHeard: 0 };
    }
    rtp.configure(rtpRemote(media), media.direction);
    rtp.open(); // our ACK went with the answer
    return await converse(dialog, rtp, lines, t0, o.timeoutMs);
  } finally {
    rtp.close();
    ua.close();
    await transport.close();
  }
}

function converse(dialog: Dialog, rtp: RtpSession, lines: (Int16Array | string)[], t0: number, timeoutMs: number): Promise<CallResult> {
  return new Promise((resolve) => {
    let promptsHeard = 0;
    let next = 0;
    let lastLineEndedAt: number | undefined;
    let done = false;
    const finish = (result: Omit<CallResult, 'callMs' | 'promptsHeard'>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...result, callMs: performance.now() - t0, promptsHeard });
    };
    const timer = setTimeout(() => {
      finish({ outcome: 'timeout', reason: `no transfer within ${timeoutMs / 1000} s` });
      void dialog.bye('timeout');
    }, timeoutMs);
    // attendant's prompts, as heard: each one's end is our turn to speak.
    const ear = new Endpointer({ endSilenceMs: 700, minLevel: 200, quietMinLevel: 200 });
    rtp.on('frame', (frame) => ear.write(frame));
    ear.on('utterance', () => {
      promptsHeard += 1;
      const line = lines[next];
      if (line === undefined) return;
      next += 1;
      if (typeof line === 'string') {
        for (const digit of line) rtp.sendDtmf(digit);
        lastLineEndedAt = performance.now();
      } else {
        void rtp.play(line).then(() => {
          lastLineEndedAt = performance.now();
        });
      }
    });
    dialog.on('refer', (request, respond) => {
      respond(202);
      const target = parseNameAddr(header(request, 'refer-to') ?? '');
      const uri = target === undefined ? undefined : parseUri(target.uri);
      // As the PBX would once the new call is answered (RFC 3515 §2.4.5).
      void dialog
        .request(
          'NOTIFY',
          [
            ['Event', 'refer'],
            ['Subscription-State', 'terminated;reason=noresource'],
            ['Content-Type', 'message/sipfrag;version=2.0'],
          ],
          Buffer.from('SIP/2.0 200 OK\r\n'),
        )
        .catch(() => undefined);
      finish({
        sipCallId: dialog.callId,
        outcome: 'transferred',
        extension: uri?.user ?? target?.uri,
        name: target?.display === '' ? undefined : target?.display,
        afterSpeechMs: lastLineEndedAt === undefined ? undefined : performance.now() - lastLineEndedAt,
      });
      setTimeout(() => void dialog.bye('transferred'), 2000).unref();
    });
    dialog.on('terminated', (reason) => finish({ outcome: 'ended', reason, sipCallId: dialog.callId }));
  });
}

export function describeCall(result: CallResult): string {
  const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  const r = result.record;
  if (r !== undefined) {
    // As recorded by attendant: every step, and the true outcome.
    const lived = r.steps.map((step) => `  ${step}`).join('\n');
    const after = result.afterSpeechMs === undefined ? '' : `, ${s(result.afterSpeechMs)} after the end of speech`;
    const end =
      r.outcome === 'transferred'
        ? `transferred to ${r.extension}${r.name === undefined ? '' : ` (${r.name})`} in ${s(result.callMs)}${after}`
        : r.outcome === 'operator'
          ? `went to the operator (${r.extension}) in ${s(result.callMs)}`
          : `${r.outcome} after ${s(result.callMs)}`;
    return `${lived === '' ? '' : `${lived}\n`}${end}`;
  }
  switch (result.outcome) {
    case 'transferred': {
      const who = result.name === undefined ? '' : ` (${result.name})`;
      const after = result.afterSpeechMs === undefined ? '' : `, ${s(result.afterSpeechMs)} after the end of speech`;
      return `transferred to ${result.extension}${who} in ${s(result.callMs)}${after}`;
    }
    case 'refused':
      return `the call was refused: ${result.reason}`;
    case 'ended':
      return `the call ended without a transfer after ${s(result.callMs)} (${result.reason}; ${result.promptsHeard} prompt(s) heard)`;
    case 'timeout':
      return `${result.reason}; ${result.promptsHeard} prompt(s) heard`;
  }
}

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Logger } from 'pino';
import { Cmudict } from '../asr/lexicon';
import { Recognizer } from '../asr/recognizer';
import { Store } from '../directory/directory-store';
import { parseDtmfInfo } from '../media/dtmf';
import { MediaClock } from '../media/media-clock';
import { PromptLibrary } from '../media/prompts';
import { PortRange, RtpSession, RtpSourcePolicy } from '../media/rtp';
import { GrpcHooksTransferrer } from '../pbx/hooks';
import { ReferTransferrer } from '../pbx/refer';
import { FallbackTransferrer, Transferrer } from '../pbx/transfer';
import { parseNameAddr, parseUri } from '../sip/address';
import { Dialog } from '../sip/dialog';
import { header } from '../sip/message';
import { formatSdp, negotiate, parseAudioOffer, rtpRemote, SdpError } from '../sip/sdp';
import { peerKey } from '../sip/transport';
import { IncomingInvite, SipUserAgent } from '../sip/user-agent';
import { AnswerGrammar } from './answers';
import { CallRecord, CallRecords } from './call-records';
import { CallSession } from './call-session';
import { FlowContext } from './flow';
import { ThrottledWarning } from './throttled-warning';
import { StoreUnderstanding } from './understanding';
import { CallObserver } from './metrics';

/**
 * Takes the PBX's INVITEs: finds the store (Request-URI user = store id or number, else
 * 404), checks capacity (503 + Retry-After), negotiates G.711 (488 when nothing fits),
 * opens RTP, answers, and runs a CallSession until the call ends.
 */

export type RouteResult = Route | undefined | 'loading';

export interface Route {
  store: Store;
  understanding: StoreUnderstanding;
}

export interface SwitchboardOptions {
  ua: SipUserAgent;
  /** The store a call is for; a promise when it must be looked up (a store this node has not seen yet). */
  route: (user: string) => RouteResult | Promise<RouteResult>;
  recognizer: Recognizer;
  confirm: AnswerGrammar;
  cmudict: Cmudict;
  prompts: PromptLibrary;
  records: CallRecords;
  dataDir: string;
  rtpHost: string;
  /** Whose RTP a call takes (ATTENDANT_RTP_SOURCE): the SDP's address (default) or latched behind NAT. */
  rtpSource?: RtpSourcePolicy;
  rtpPorts: [number, number];
  maxCalls: number;
  /** True when recognition is so far behind that a new call would wait too long: 503. */
  overloaded?: () => boolean;
  log: Logger;
  flow?: Partial<Omit<FlowContext, 'operator' | 'extensions'>>;
  /** Told of each refused INVITE, decision and ended call (the service's metrics). */
  observe?: CallObserver;
  /** For tests: replaces the store's transferrers. */
  transferrers?: { refer: Transferrer; grpc: Transferrer };
}

export class Switchboard {
  private readonly sessions = new Map<string, CallSession>();
  private readonly dialogs = new Map<Dialog, CallSession>();
  private readonly clock = new MediaClock();
  private readonly ports: PortRange;
  private readonly refer: Transferrer;
  private readonly grpc: Transferrer;
  /** Calls being set up (an RTP port being opened): counted against ATTENDANT_MAX_CALLS with the sessions. */
  private readonly reserved = new Set<string>();
  private accepting = true;

  constructor(private readonly o: SwitchboardOptions) {
    this.ports = new PortRange(o.rtpPorts[0], o.rtpPorts[1]);
    this.refer = o.transferrers?.refer ?? new ReferTransferrer();
    this.grpc = o.transferrers?.grpc ?? new FallbackTransferrer(new GrpcHooksTransferrer(), this.refer);
    o.ua.onInvite = (invite) => {
      this.take(invite).catch((err: Error) => {
        o.log.error({ sip_call_id: invite.callId, err }, 'call could not be taken');
        this.reject(invite, 500, err.message);
      });
    };
    o.ua.reinviteAnswer = (dialog, offer) => this.reinvite(dialog, offer);
    // Anyone can send garbage: at most one line every 10 s, counting the rest.
    const malformed = new ThrottledWarning(o.log, 'malformed SIP message');
    o.ua.on('malformed', (error, peer, answered) =>
      malformed.add({ peer: peerKey(peer), err: error.message, answered: answered ? error.status : undefined }),
    );
  }

  get activeCalls(): number {
    return this.sessions.size;
  }

  /** Calls in progress and calls being set up. */
  private get occupied(): number {
    return this.sessions.size + this.reserved.size;
  }

  get lateMediaTicks(): number {
    return this.clock.lateTicks;
  }

  private reject(invite: IncomingInvite, status: number, why: string, headers: [string, string][] = []): void {
    this.o.observe?.refused(status);
    this.o.log.info({ call_id: randomBytes(8).toString('hex'), sip_call_id: invite.callId, status, why }, 'call refused');
    invite.reject(status, headers);
  }

  private async take(invite: IncomingInvite): Promise<void> {
    const { o } = this;
    if (!this.accepting) {
      this.reject(invite, 503, 'shutting down', [['Retry-After', '30']]);
      return;
    }
    if (this.occupied >= o.maxCalls) {
      this.reject(invite, 503, `at capacity (${o.maxCalls} calls)`, [['Retry-After', '5']]);
      return;
    }
    if (o.overloaded?.() === true) {
      // The calls already in will speak too: taking more now would make every caller wait.
      this.reject(invite, 503, 'recognition is behind', [['Retry-After', '5']]);
      return;
    }
    // The offer is checked before the store is looked up: an INVITE that could not set up a call
    // anyway gets the same 488 whether the store exists or not (no enumeration of stores).
    let negotiated;
    try {
      const type = header(invite.request, 'content-type') ?? '';
      if (invite.request.body.length === 0) throw new SdpError('the INVITE has no SDP offer (late offer is not supported)');
      if (!/^application\/sdp/i.test(type)) throw new SdpError(`the INVITE body is ${type || 'untyped'}, not application/sdp`);
      negotiated = negotiate(parseAudioOffer(invite.request.body.toString('utf8')));
    } catch (err) {
      const code = err instanceof SdpError ? err.warnCode : 399;
      this.reject(invite, 488, (err as Error).message, [['Warning', `${code} attendant "${(err as Error).message.replace(/"/g, "'")}"`]]);
      return;
    }
    if (negotiated === undefined) {
      this.reject(invite, 488, 'no common codec', [['Warning', '305 attendant "Incompatible media format: PCMU or PCMA at 8000 Hz only"']]);
      return;
    }
    const user = invite.calledUser;
    let route = o.route(user);
    if (route instanceof Promise) {
      route = await route;
      if (this.occupied >= o.maxCalls) {
        this.reject(invite, 503, `at capacity (${o.maxCalls} calls)`, [['Retry-After', '5']]);
        return;
      }
    }
    if (route === undefined) {
      this.reject(invite, 404, `no store "${user.slice(0, 64)}"`);
      return;
    }
    if (route === 'loading') {
      this.reject(invite, 503, 'the store is still loading', [['Retry-After', '5']]);
      return;
    }
    // Reserve the slot before the first await so that concurrent INVITEs see it.
    const callId = randomBytes(8).toString('hex');
    this.reserved.add(callId);
    let rtp: RtpSession;
    try {
      rtp = await RtpSession.open(this.ports, o.rtpHost, this.clock, { source: o.rtpSource });
    } catch (err) {
      this.reject(invite, 503, (err as Error).message, [['Retry-After', '5']]);
      return;
    } finally {
      this.reserved.delete(callId);
    }
    if (invite.canceled) {
      rtp.close();
      return;
    }
    rtp.configure(rtpRemote(negotiated), negotiated.direction);
    const local = o.ua.transport.advertisedHost(invite.peer);
    const localMedia = { address: local, port: rtp.port, sessionId: Date.now(), sessionVersion: 1 };
    const sdp = formatSdp(
      localMedia,
      [{ codec: negotiated.codec, payloadType: negotiated.payloadType }],
      negotiated.dtmfPayloadType,
      negotiated.direction,
    );
    const dialog = invite.accept(sdp);
    const store = route.store;
    const log = o.log.child({ call_id: callId, store: store.id });
    const pbxHost = store.pbx !== '' ? store.pbx : `${invite.peer.host}${invite.peer.port === 5060 ? '' : `:${invite.peer.port}`}`;
    const caller = parseUri(parseNameAddr(header(invite.request, 'from') ?? '')?.uri ?? '')?.user ?? '';
    const session = new CallSession({
      callId,
      store,
      understanding: route.understanding,
      recognizer: o.recognizer,
      confirm: o.confirm,
      cmudict: o.cmudict,
      prompts: o.prompts,
      storeDir: join(o.dataDir, 'stores', store.id),
      rtp,
      dialog,
      transferrer: store.transfer === 'grpc' ? this.grpc : this.refer,
      pbxHost,
      caller,
      log,
      localMedia,
      flow: o.flow,
    });
    this.sessions.set(callId, session);
    this.dialogs.set(dialog, session);
    o.observe?.taken?.(store.id);
    log.info({ sip_call_id: dialog.callId, transport: invite.peer.transport }, 'call taken');
    dialog.on('info', (request) => {
      const digit = parseDtmfInfo(header(request, 'content-type') ?? '', request.body.toString('utf8'));
      if (digit !== undefined) session.digit(digit);
    });
    // Nothing is played, sent or decided before the caller confirmed the call: its ACK, or
    // RTP from the address it offered. An offer naming someone else's address gets no media.
    dialog.once('acked', () => rtp.open());
    invite.on('ackTimeout', () => {
      if (rtp.isOpen) {
        log.warn('no ACK for our 200 OK, though the caller sends RTP; hanging up');
        return; // the user agent sends the BYE (§13.3.1.4)
      }
      // Never confirmed, no media from the offer: most likely a forged INVITE. End it quietly, no BYE to a stranger.
      log.info('no ACK for our 200 OK and no RTP from the offered address; the call is forgotten');
      dialog.terminate('never confirmed');
    });
    session.on('early', (taken) => o.observe?.earlyHearing?.(taken));
    session.on('decided', (ms) => o.observe?.decided(store.id, ms));
    session.on('ended', (record: CallRecord) => {
      this.sessions.delete(callId);
      this.dialogs.delete(dialog);
      o.observe?.ended(store.id, record.outcome, record.durationMs);
      o.records.keep(record, (err, pending) =>
        log.error({ err, pending }, 'call record could not be stored yet; it is kept in memory and written when the database is back'),
      );
    });
    rtp.once('opened', () => session.start());
  }

  /** Hold and unhold (§14 of RFC 3261, RFC 3264 §8.4): same codec, direction mirrored. */
  private reinvite(dialog: Dialog, offerText: string): string | undefined {
    const session = this.dialogs.get(dialog);
    if (session === undefined) return undefined;
    if (offerText === '') return dialog.localSdp;
    try {
      const negotiated = negotiate(parseAudioOffer(offerText));
      if (negotiated === undefined) return undefined;
      return session.reoffer(negotiated);
    } catch {
      return undefined;
    }
  }

  /**
   * Refuses new calls (503) and waits up to `graceMs` for the calls in progress to end; the
   * calls still up are then sent to the operator, or hung up with a BYE (CallSession.shutdown),
   * before this resolves, so that the user agent is still there to send them.
   */
  async drain(graceMs: number): Promise<void> {
    this.accepting = false;
    const deadline = Date.now() + graceMs;
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await Promise.all(
      [...this.sessions.values()].map((session) => (typeof session.shutdown === 'function' ? session.shutdown() : undefined)),
    );
  }
}

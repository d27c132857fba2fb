import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  createRequest,
  createResponse,
  cseq,
  header,
  headerValues,
  serializeMessage,
  SipParseError,
  SipRequest,
  SipResponse,
} from './message';
import { parseNameAddr, tagOf } from './address';
import { Dialog, dialogId, DialogRequester } from './dialog';
import { Peer, SipTransport } from './transport';
import {
  ClientTransaction,
  clientTransactionKey,
  DEFAULT_TIMERS,
  InviteClientTransaction,
  InviteServerTransaction,
  newBranch,
  NonInviteClientTransaction,
  NonInviteServerTransaction,
  ServerTransaction,
  serverTransactionKey,
  Timers,
} from './transactions';

/**
 * The user agent core (RFC 3261 §8, §12-§15) over the transaction layer: answers OPTIONS,
 * hands new INVITEs to the application, keeps dialogs, answers BYE, CANCEL and
 * re-INVITEs, and sends requests of its own (INVITE, BYE, REFER, NOTIFY).
 */

export const ALLOW = 'INVITE, ACK, BYE, CANCEL, OPTIONS, NOTIFY, REFER, INFO';

export interface UserAgentEvents {
  /** A message we could not parse; answered 400 when it named enough to be answered. */
  malformed: [error: SipParseError, peer: Peer, answered: boolean];
  /** A request refused before reaching the application (481, 405, 420, 483, 403 for a peer not allowed...); no request for a dropped response. */
  refused: [request: SipRequest | undefined, status: number, peer: Peer];
}

export function newTag(): string {
  return randomBytes(6).toString('hex');
}

/** A new INVITE handed to the application: it answers with reject() or accept(). */
export class IncomingInvite extends EventEmitter<{ cancel: []; ackTimeout: [] }> {
  readonly localTag = newTag();
  answered = false;
  canceled = false;

  constructor(
    readonly request: SipRequest,
    readonly peer: Peer,
    private readonly transaction: InviteServerTransaction,
    private readonly ua: SipUserAgent,
  ) {
    super();
  }

  get callId(): string {
    return header(this.request, 'call-id') ?? '';
  }

  /** The user part of the Request-URI, else of the To header. */
  get calledUser(): string {
    const user = (uri: string): string => {
      const raw = /^sips?:([^@;]+)@/i.exec(uri)?.[1] ?? '';
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw; // a malformed %-escape is no store id: routed as is, it gets 404
      }
    };
    return user(this.request.uri) || user(parseNameAddr(header(this.request, 'to') ?? '')?.uri ?? '');
  }

  progress(status = 180): void {
    if (this.answered) return;
    this.transaction.respond(createResponse(this.request, status, { toTag: this.localTag }));
  }

  reject(status: number, headers: [string, string][] = [], reason?: string): void {
    if (this.answered) return;
    this.answered = true;
    this.transaction.respond(createResponse(this.request, status, { toTag: this.localTag, headers, reason }));
    this.ua.inviteDone(this);
  }

  /** Answers 200 with our SDP; the 2xx is retransmitted until the ACK comes (§13.3.1.4). */
  accept(sdp: string): Dialog {
    if (this.answered) throw new Error('the INVITE is already answered');
    this.answered = true;
    const dialog = this.ua.createServerDialog(this.request, this.peer, this.localTag);
    dialog.localSdp = sdp;
    const response = createResponse(this.request, 200, {
      toTag: this.localTag,
      headers: [
        ['Contact', dialog.contact],
        ['Allow', ALLOW],
        ['Supported', 'replaces'],
        ['Content-Type', 'application/sdp'],
      ],
      body: Buffer.from(sdp),
    });
    for (const rr of headerValues(this.request, 'record-route'))
      response.headers.set('record-route', [...(response.headers.get('record-route') ?? []), rr]);
    this.transaction.respond(response);
    this.ua.retransmitUntilAck(dialog, response, this.peer, () => this.emit('ackTimeout'));
    this.ua.inviteDone(this);
    return dialog;
  }

  /** CANCEL arrived before we answered (§9.2): 487 was sent. */
  cancel(): void {
    if (this.answered) return;
    this.canceled = true;
    this.reject(487);
    this.emit('cancel');
  }
}

export interface UserAgentOptions {
  timers?: Timers;
  /** Called for every new INVITE; without it INVITEs get 503. */
  onInvite?: (invite: IncomingInvite) => void;
  /** Whether a peer may send requests; others get 403 (ACKs are dropped). Default: everyone. */
  allow?: (peer: Peer) => boolean;
  /** Whether new calls are taken now; OPTIONS are answered 503 when not. Default: always. */
  available?: () => boolean;
}

export class SipUserAgent extends EventEmitter<UserAgentEvents> implements DialogRequester {
  private readonly servers = new Map<string, ServerTransaction>();
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly dialogs = new Map<string, Dialog>();
  private readonly invites = new Map<string, IncomingInvite>();
  private readonly timers: Timers;
  private readonly allow: (peer: Peer) => boolean;
  private readonly available: () => boolean;
  /** Requests outside dialogs seen lately, for merged-request detection (§8.2.2.2). */
  private readonly recentRequests = new Map<string, { key: string; at: number }>();
  onInvite?: (invite: IncomingInvite) => void;

  constructor(
    readonly transport: SipTransport,
    options: UserAgentOptions = {},
  ) {
    super();
    this.timers = options.timers ?? DEFAULT_TIMERS;
    this.onInvite = options.onInvite;
    this.allow = options.allow ?? (() => true);
    this.available = options.available ?? (() => true);
    transport.on('message', (message, peer) => {
      try {
        if (!this.allow(peer)) {
          // Responses are only taken from allowed peers too: one from elsewhere is no answer of ours.
          if (message.kind === 'request' && message.method !== 'ACK') this.refuse(message, peer, 403);
          else this.emit('refused', message.kind === 'request' ? message : undefined, 403, peer);
          return;
        }
        if (message.kind === 'request') this.receiveRequest(message, peer);
        else this.receiveResponse(message);
      } catch (err) {
        this.emit('malformed', err instanceof SipParseError ? err : new SipParseError((err as Error).message), peer, false);
      }
    });
    transport.on('malformed', (error, peer) => this.answerMalformed(error, peer));
  }

  get activeDialogs(): number {
    return this.dialogs.size;
  }

  get activeTransactions(): number {
    return this.servers.size + this.clients.size;
  }

  private send = (data: Buffer, peer: Peer): void => this.transport.send(data, peer);

  newBranch(): string {
    return newBranch();
  }

  via(peer: Peer, branch: string): string {
    return `SIP/2.0/${peer.transport} ${this.transport.advertisedHost(peer)}:${this.transport.port};branch=${branch};rport`;
  }

  contactFor(peer: Peer): string {
    const transport = peer.transport === 'TCP' ? ';transport=tcp' : '';
    return `<sip:attendant@${this.transport.advertisedHost(peer)}:${this.transport.port}${transport}>`;
  }

  private answerMalformed(error: SipParseError, peer: Peer): void {
    const partial = error.partial;
    let answered = false;
    if (partial !== undefined && partial.method !== 'ACK') {
      // §21.4.1: 400 with a reason phrase that says what was wrong; §21.5.20: 505 for another version.
      const reason = error.status === 505 ? undefined : `Bad Request (${error.message.replace(/[\r\n]/g, ' ').slice(0, 100)})`;
      this.send(
        serializeMessage(
          createResponse(partial, error.status, { reason, toTag: tagOf(header(partial, 'to')) === undefined ? newTag() : undefined }),
        ),
        peer,
      );
      answered = true;
    }
    this.emit('malformed', error, peer, answered);
  }

  /**
   * Whether an INVITE outside any dialog is one already taken under another transaction
   * (§8.2.2.2: same From tag, Call-ID and CSeq, another branch) within the last 64×T1.
   */
  private merged(request: SipRequest, key: string): boolean {
    const now = Date.now();
    const { seq, method } = cseq(request);
    const id = `${header(request, 'call-id') ?? ''}|${tagOf(header(request, 'from')) ?? ''}|${seq} ${method}`;
    const seen = this.recentRequests.get(id);
    if (seen !== undefined && seen.key !== key && now - seen.at < 64 * this.timers.T1) return true;
    this.recentRequests.set(id, { key, at: now });
    if (this.recentRequests.size > 20_000) {
      for (const [k, v] of this.recentRequests) if (now - v.at >= 64 * this.timers.T1) this.recentRequests.delete(k);
      // Under a flood of distinct requests, forget the oldest half rather than grow.
      if (this.recentRequests.size > 20_000)
        for (const k of [...this.recentRequests.keys()].slice(0, 10_000)) this.recentRequests.delete(k);
    }
    return false;
  }

  private refuse(request: SipRequest, peer: Peer, status: number, headers: [string, string][] = []): void {
    const tx = new NonInviteServerTransaction(request, this.send, peer, this.timers, (id) => this.servers.delete(id));
    this.servers.set(tx.id, tx);
    tx.respond(createResponse(request, status, { headers, toTag: tagOf(header(request, 'to')) === undefined ? newTag() : undefined }));
    this.emit('refused', request, status, peer);
  }

  private receiveRequest(request: SipRequest, peer: Peer): void {
    const key = serverTransactionKey(request);
    if (request.method === 'ACK') {
      const tx = this.servers.get(key);
      if (tx instanceof InviteServerTransaction && tx.receiveAck()) return;
      // The ACK for a 2xx is its own transaction, matched to the dialog (§13.3.1.4).
      const dialog = this.dialogs.get(
        dialogId(header(request, 'call-id') ?? '', tagOf(header(request, 'to')) ?? '', tagOf(header(request, 'from')) ?? ''),
      );
      if (dialog?.awaitingAck !== undefined) {
        dialog.awaitingAck();
        dialog.emit('acked');
      }
      return;
    }
    const existing = this.servers.get(key);
    if (existing !== undefined) {
      existing.receiveRetransmission();
      return;
    }
    if (request.method === 'CANCEL') {
      this.receiveCancel(request, peer);
      return;
    }
    const maxForwards = header(request, 'max-forwards');
    if (maxForwards !== undefined && Number(maxForwards) <= 0 && request.method !== 'OPTIONS') {
      this.refuse(request, peer, 483);
      return;
    }
    const require = headerValues(request, 'require').filter((r) => r.toLowerCase() !== 'timer');
    if (require.length > 0) {
      // §8.2.2.3: an extension we do not support.
      this.refuse(request, peer, 420, [['Unsupported', require.join(', ')]]);
      return;
    }
    const toTag = tagOf(header(request, 'to'));
    if (toTag !== undefined) {
      this.receiveInDialog(request, peer, toTag);
      return;
    }
    if (request.method === 'INVITE' && this.merged(request, key)) {
      // §8.2.2.2: the same request reached us twice by different paths (a forking proxy).
      this.refuse(request, peer, 482);
      return;
    }
    switch (request.method) {
      case 'INVITE':
        this.receiveInvite(request, peer);
        return;
      case 'OPTIONS': {
        const tx = this.serverTransaction(request, peer) as NonInviteServerTransaction;
        // A proxy's health check (Kamailio's dispatcher): 503 while not taking calls.
        const available = this.available();
        tx.respond(
          createResponse(request, available ? 200 : 503, {
            toTag: newTag(),
            headers: [
              ...(available ? [] : ([['Retry-After', '30']] as [string, string][])),
              ['Allow', ALLOW],
              ['Accept', 'application/sdp'],
              ['Supported', 'replaces'],
            ],
          }),
        );
        return;
      }
      case 'BYE':
      case 'NOTIFY':
      case 'REFER':
      case 'INFO':
        this.refuse(request, peer, 481);
        return;
      case 'REGISTER':
      case 'SUBSCRIBE':
      case 'MESSAGE':
      case 'PUBLISH':
      case 'UPDATE':
      case 'PRACK':
        this.refuse(request, peer, 405, [['Allow', ALLOW]]);
        return;
      default:
        this.refuse(request, peer, 501, [['Allow', ALLOW]]);
    }
  }

  private serverTransaction(request: SipRequest, peer: Peer): ServerTransaction {
    const done = (id: string): void => {
      this.servers.delete(id);
    };
    const tx =
      request.method === 'INVITE'
        ? new InviteServerTransaction(request, this.send, peer, this.timers, done)
        : new NonInviteServerTransaction(request, this.send, peer, this.timers, done);
    this.servers.set(tx.id, tx);
    return tx;
  }

  private receiveInvite(request: SipRequest, peer: Peer): void {
    const tx = this.serverTransaction(request, peer) as InviteServerTransaction;
    // §17.2.1: answer 100 at once so that the peer stops retransmitting.
    tx.respond(createResponse(request, 100));
    const invite = new IncomingInvite(request, peer, tx, this);
    this.invites.set(tx.id, invite);
    if (this.onInvite === undefined) {
      invite.reject(503, [['Retry-After', '5']]);
      return;
    }
    try {
      this.onInvite(invite);
    } catch (err) {
      invite.reject(500, [], `Server Internal Error (${(err as Error).message.slice(0, 60)})`);
    }
  }

  private receiveCancel(request: SipRequest, peer: Peer): void {
    const tx = this.serverTransaction(request, peer) as NonInviteServerTransaction;
    const inviteKey = serverTransactionKey({ ...request, method: 'INVITE' });
    const invite = this.invites.get(inviteKey);
    if (invite === undefined) {
      tx.respond(createResponse(request, 481, { toTag: newTag() }));
      return;
    }
    if (invite.answered) {
      // §9.2: the INVITE already has its final response; the CANCEL has no effect but is answered 200.
      tx.respond(createResponse(request, 200, { toTag: invite.localTag }));
      return;
    }
    tx.respond(createResponse(request, 200, { toTag: invite.localTag }));
    invite.cancel();
  }

  private receiveInDialog(request: SipRequest, peer: Peer, toTag: string): void {
    const dialog = this.dialogs.get(dialogId(header(request, 'call-id') ?? '', toTag, tagOf(header(request, 'from')) ?? ''));
    if (dialog === undefined) {
      this.refuse(request, peer, 481);
      return;
    }
    const tx = this.serverTransaction(request, peer);
    if (!dialog.acceptRemoteSeq(cseq(request).seq)) {
      tx.respond(createResponse(request, 500, { reason: 'Server Internal Error (CSeq out of order)' }));
      return;
    }
    const ok = (headers: [string, string][] = [], body?: Buffer): SipResponse => createResponse(request, 200, { headers, body });
    switch (request.method) {
      case 'BYE':
        tx.respond(ok());
        dialog.emit('bye');
        dialog.terminate('the caller hung up');
        return;
      case 'INVITE':
        this.receiveReinvite(dialog, request, tx as InviteServerTransaction, peer);
        return;
      case 'NOTIFY':
        tx.respond(ok());
        dialog.emit('notify', request);
        return;
      case 'INFO':
        tx.respond(ok());
        dialog.emit('info', request);
        return;
      case 'REFER': {
        if (dialog.listenerCount('refer') === 0) {
          tx.respond(createResponse(request, 403));
          return;
        }
        dialog.emit('refer', request, (status) => tx.respond(createResponse(request, status, { headers: [['Contact', dialog.contact]] })));
        return;
      }
      case 'OPTIONS':
        tx.respond(ok([['Allow', ALLOW]]));
        return;
      default:
        tx.respond(createResponse(request, 405, { headers: [['Allow', ALLOW]] }));
    }
  }

  /**
   * A re-INVITE (§14.2): hold (sendonly/inactive) or unhold, or a session refresh. We answer
   * with our current SDP, its version bumped and its direction mirroring the offer.
   */
  reinviteAnswer?: (dialog: Dialog, offer: string) => string | undefined;

  private receiveReinvite(dialog: Dialog, request: SipRequest, tx: InviteServerTransaction, peer: Peer): void {
    const offer = request.body.toString('utf8');
    const answer = this.reinviteAnswer?.(dialog, offer) ?? (offer === '' ? dialog.localSdp : undefined);
    if (answer === undefined) {
      tx.respond(createResponse(request, 488));
      return;
    }
    dialog.localSdp = answer;
    const response = createResponse(request, 200, {
      headers: [
        ['Contact', dialog.contact],
        ['Content-Type', 'application/sdp'],
      ],
      body: Buffer.from(answer),
    });
    tx.respond(response);
    this.retransmitUntilAck(dialog, response, peer, () => undefined);
  }

  /** Builds the UAS dialog from an INVITE (§12.1.1). */
  createServerDialog(request: SipRequest, peer: Peer, localTag: string): Dialog {
    const to = header(request, 'to') ?? '';
    const dialog = new Dialog(
      {
        callId: header(request, 'call-id') ?? '',
        localTag,
        remoteTag: tagOf(header(request, 'from')) ?? '',
        localAddress: /;\s*tag=/i.test(to) ? to : `${to};tag=${localTag}`,
        remoteAddress: header(request, 'from') ?? '',
        remoteTarget: parseNameAddr(header(request, 'contact') ?? '')?.uri ?? `sip:${peer.host}:${peer.port}`,
        routeSet: [...headerValues(request, 'record-route')],
        localSeq: Math.floor(Math.random() * 10000) + 1,
        remoteSeq: cseq(request).seq,
        peer,
        contact: this.contactFor(peer),
      },
      this,
    );
    this.dialogs.set(dialog.id, dialog);
    return dialog;
  }

  /** §13.3.1.4: the 2xx to an INVITE goes again at T1, 2T1... up to T2, until the ACK or 64*T1. */
  retransmitUntilAck(dialog: Dialog, response: SipResponse, peer: Peer, onTimeout: () => void): void {
    const data = serializeMessage(response);
    let interval = this.timers.T1;
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => {
      if (timer !== undefined) clearTimeout(timer);
      if (dialog.awaitingAck === undefined) return;
      dialog.awaitingAck = undefined;
      onTimeout();
      // §13.3.1.4: no ACK, so the dialog ends with a BYE.
      void dialog.bye('no ACK for our 200 OK');
    }, 64 * this.timers.T1);
    dialog.awaitingAck = (): void => {
      dialog.awaitingAck = undefined;
      clearTimeout(giveUp);
      if (timer !== undefined) clearTimeout(timer);
    };
    dialog.once('terminated', () => dialog.awaitingAck?.());
    if (peer.transport !== 'UDP') return;
    const again = (): void => {
      if (dialog.awaitingAck === undefined) return;
      this.send(data, peer);
      interval = Math.min(2 * interval, this.timers.T2);
      timer = setTimeout(again, interval);
    };
    timer = setTimeout(again, interval);
  }

  inviteDone(invite: IncomingInvite): void {
    // Kept until the transaction ends so that a late CANCEL still finds it answered.
    setTimeout(() => this.invites.delete(serverTransactionKey(invite.request)), 64 * this.timers.T1).unref();
  }

  forget(dialog: Dialog): void {
    this.dialogs.delete(dialog.id);
  }

  sendRequest(request: SipRequest, peer: Peer): Promise<SipResponse> {
    return new Promise((resolve, reject) => {
      const tx = new NonInviteClientTransaction(request, this.send, peer, this.timers, (id) => this.clients.delete(id), {
        onResponse: (response) => {
          if (response.status >= 200) resolve(response);
        },
        onTimeout: () => reject(new Error(`${request.method} got no final response (timer F)`)),
      });
      this.clients.set(tx.id, tx);
    });
  }

  sendAck(request: SipRequest, peer: Peer): void {
    this.send(serializeMessage(request), peer);
  }

  private receiveResponse(response: SipResponse): void {
    const tx = this.clients.get(clientTransactionKey(response));
    if (tx !== undefined) {
      tx.receive(response);
      return;
    }
    // A retransmitted 2xx after our INVITE transaction ended: ACK it again (§13.2.2.4).
    if (response.status >= 200 && response.status < 300 && cseq(response).method === 'INVITE') {
      const dialog = this.dialogs.get(
        dialogId(header(response, 'call-id') ?? '', tagOf(header(response, 'from')) ?? '', tagOf(header(response, 'to')) ?? ''),
      );
      dialog?.ack(cseq(response).seq);
    }
  }

  /**
   * Sends an INVITE (UAC, §13.2) and resolves with the dialog once a 2xx came and was
   * ACKed, or rejects with the final status. Used by `attendant call`.
   */
  invite(
    target: string,
    peer: Peer,
    options: { from: string; sdp: string; headers?: [string, string][] },
  ): Promise<{ dialog: Dialog; response: SipResponse }> {
    const callId = `${randomBytes(10).toString('hex')}@attendant`;
    const localTag = newTag();
    const seq = 1;
    const contact = this.contactFor(peer);
    const from = `${options.from};tag=${localTag}`;
    const to = `<${target}>`;
    const request = createRequest(
      'INVITE',
      target,
      [
        ['Via', this.via(peer, newBranch())],
        ['Max-Forwards', '70'],
        ['From', from],
        ['To', to],
        ['Call-ID', callId],
        ['CSeq', `${seq} INVITE`],
        ['Contact', contact],
        ['Allow', ALLOW],
        ['User-Agent', 'attendant call'],
        ['Content-Type', 'application/sdp'],
        ...(options.headers ?? []),
      ],
      Buffer.from(options.sdp),
    );
    return new Promise((resolve, reject) => {
      let settled = false;
      const tx = new InviteClientTransaction(request, this.send, peer, this.timers, (id) => this.clients.delete(id), {
        onResponse: (response) => {
          if (response.status < 200 || settled) return;
          settled = true;
          if (response.status >= 300) {
            const error = new Error(`${response.status} ${response.reason}`) as Error & { status: number; response: SipResponse };
            error.status = response.status;
            error.response = response;
            reject(error);
            return;
          }
          const dialog = new Dialog(
            {
              callId,
              localTag,
              remoteTag: tagOf(header(response, 'to')) ?? '',
              localAddress: from,
              remoteAddress: header(response, 'to') ?? to,
              remoteTarget: parseNameAddr(header(response, 'contact') ?? '')?.uri ?? target,
              routeSet: [...headerValues(response, 'record-route')].reverse(),
              localSeq: seq,
              remoteSeq: 0,
              peer,
              contact,
            },
            this,
          );
          dialog.localSdp = options.sdp;
          this.dialogs.set(dialog.id, dialog);
          dialog.ack(seq);
          resolve({ dialog, response });
        },
        onTimeout: () => {
          if (!settled) reject(new Error('the INVITE got no final response (timer B)'));
          settled = true;
        },
      });
      this.clients.set(tx.id, tx);
    });
  }

  close(): void {
    for (const tx of [...this.servers.values(), ...this.clients.values()]) tx.dispose();
    this.servers.clear();
    this.clients.clear();
    for (const dialog of [...this.dialogs.values()]) dialog.terminate('shutting down');
  }
}

import { EventEmitter } from 'node:events';
import { createRequest, header, SipRequest, SipResponse } from './message';
import { parseNameAddr, parseUri } from './address';
import { Peer, TransportName } from './transport';

/**
 * A dialog (RFC 3261 §12): the peer-to-peer relationship an INVITE sets up. It builds
 * in-dialog requests (§12.2.1.1) and checks the order of the peer's (§12.2.2).
 */

export interface DialogEvents {
  /** The peer hung up (BYE, answered 200 by the user agent). */
  bye: [];
  /** A NOTIFY in the dialog (already answered 200), e.g. the sipfrag progress of a REFER. */
  notify: [request: SipRequest];
  /** A REFER in the dialog; `respond` must be called with the status to send. */
  refer: [request: SipRequest, respond: (status: number) => void];
  /** An INFO in the dialog (already answered 200), e.g. application/dtmf-relay. */
  info: [request: SipRequest];
  /** The ACK for our 2xx came (UAS): the peer really is there. Once. */
  acked: [];
  /** The dialog is over, whoever ended it; emitted once. */
  terminated: [reason: string];
}

export interface DialogRequester {
  /** Sends a non-INVITE request in a new client transaction; resolves with its final response. */
  sendRequest(request: SipRequest, peer: Peer): Promise<SipResponse>;
  /** Sends bytes outside any transaction (the ACK for a 2xx). */
  sendAck(request: SipRequest, peer: Peer): void;
  newBranch(): string;
  via(peer: Peer, branch: string): string;
  forget(dialog: Dialog): void;
}

export interface DialogInit {
  callId: string;
  localTag: string;
  remoteTag: string;
  /** From/To values as we send them (with tags). */
  localAddress: string;
  remoteAddress: string;
  remoteTarget: string;
  routeSet: string[];
  localSeq: number;
  remoteSeq: number;
  /** Where the dialog's peer sent from, used when the target cannot be resolved. */
  peer: Peer;
  contact: string;
}

export class Dialog extends EventEmitter<DialogEvents> {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  private readonly localAddress: string;
  private readonly remoteAddress: string;
  remoteTarget: string;
  private readonly routeSet: string[];
  localSeq: number;
  remoteSeq: number;
  readonly peer: Peer;
  readonly contact: string;
  state: 'confirmed' | 'terminated' = 'confirmed';
  /** The current local SDP (re-INVITE answers reuse it with a new version). */
  localSdp = '';
  /** Set by the UAS core while its 2xx waits for the ACK. */
  awaitingAck?: () => void;

  constructor(
    init: DialogInit,
    private readonly requester: DialogRequester,
  ) {
    super();
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.localAddress = init.localAddress;
    this.remoteAddress = init.remoteAddress;
    this.remoteTarget = init.remoteTarget;
    this.routeSet = init.routeSet;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.peer = init.peer;
    this.contact = init.contact;
  }

  get id(): string {
    return dialogId(this.callId, this.localTag, this.remoteTag);
  }

  /** The peer the next in-dialog request goes to: first Route, else the remote target (§12.2.1.1, §8.1.2). */
  destination(): Peer {
    const next = this.routeSet.length > 0 ? parseNameAddr(this.routeSet[0])?.uri : this.remoteTarget;
    const uri = next === undefined ? undefined : parseUri(next);
    if (uri === undefined || uri.scheme === 'tel') return this.peer;
    const transport = (uri.params.get('transport')?.toUpperCase() as TransportName | undefined) ?? this.peer.transport;
    return { transport: transport === 'TCP' ? 'TCP' : 'UDP', host: uri.host.replace(/^\[|\]$/g, ''), port: uri.port ?? 5060 };
  }

  /** Builds an in-dialog request with the next CSeq (§12.2.1.1). */
  createRequest(method: string, extra: [string, string][] = [], body?: Buffer, seq?: number): { request: SipRequest; peer: Peer } {
    const peer = this.destination();
    if (seq === undefined) {
      this.localSeq += 1;
      seq = this.localSeq;
    }
    const headers: [string, string][] = [
      ['Via', this.requester.via(peer, this.requester.newBranch())],
      ...this.routeSet.map((r): [string, string] => ['Route', r]),
      ['Max-Forwards', '70'],
      ['From', this.localAddress],
      ['To', this.remoteAddress],
      ['Call-ID', this.callId],
      ['CSeq', `${seq} ${method}`],
      ['Contact', this.contact],
      ['User-Agent', 'attendant'],
      ...extra,
    ];
    return { request: createRequest(method, this.remoteTarget, headers, body), peer };
  }

  async request(method: string, extra: [string, string][] = [], body?: Buffer): Promise<SipResponse> {
    if (this.state === 'terminated') throw new Error(`the dialog is over; ${method} not sent`);
    const { request, peer } = this.createRequest(method, extra, body);
    return this.requester.sendRequest(request, peer);
  }

  /** The ACK for our INVITE's 2xx (§13.2.2.4): its own transaction-less request, same CSeq number. */
  ack(inviteSeq: number): void {
    const { request, peer } = this.createRequest('ACK', [], undefined, inviteSeq);
    this.requester.sendAck(request, peer);
  }

  /** Hangs up: BYE, then the dialog is over whatever the answer (§15.1.1). */
  async bye(reason = 'hung up'): Promise<void> {
    if (this.state === 'terminated') return;
    const pending = this.request('BYE').catch(() => undefined);
    this.terminate(reason);
    await pending;
  }

  /** Checks the order of a request from the peer (§12.2.2): false when it is out of order. */
  acceptRemoteSeq(seq: number): boolean {
    if (seq <= this.remoteSeq && this.remoteSeq !== 0) return false;
    this.remoteSeq = seq;
    return true;
  }

  terminate(reason: string): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.awaitingAck = undefined;
    this.requester.forget(this);
    this.emit('terminated', reason);
  }

  static fromHeaders(message: SipRequest | SipResponse, name: 'from' | 'to'): string {
    return header(message, name) ?? '';
  }
}

export function dialogId(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}|${localTag}|${remoteTag}`;
}

import { randomBytes } from 'node:crypto';
import { createRequest, cseq, header, headerValues, serializeMessage, SipRequest, SipResponse } from './message';
import { parseVia } from './address';
import { Peer } from './transport';

/**
 * RFC 3261 §17 transactions, with RFC 6026's Accepted states. Each state machine owns its
 * timers and clears them all in one dispose(). Timer values: §17.1.1.1 and Table 4.
 */

export interface Timers {
  T1: number;
  T2: number;
  T4: number;
}

export const DEFAULT_TIMERS: Timers = { T1: 500, T2: 4000, T4: 5000 };

/** The RFC 3261 magic cookie that starts every branch we generate (§8.1.1.7). */
export const BRANCH_COOKIE = 'z9hG4bK';

export function newBranch(): string {
  return `${BRANCH_COOKIE}${randomBytes(8).toString('hex')}`;
}

export type Send = (data: Buffer, peer: Peer) => void;

abstract class Transaction {
  protected readonly timers = new Set<NodeJS.Timeout>();
  terminated = false;

  constructor(
    readonly id: string,
    protected readonly send: Send,
    protected readonly peer: Peer,
    protected readonly t: Timers,
    private readonly onTerminated: (id: string) => void,
  ) {}

  protected get reliable(): boolean {
    return this.peer.transport !== 'UDP';
  }

  protected after(ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.terminated) fn();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  protected clear(timer: NodeJS.Timeout | undefined): void {
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  /** Stops every timer: a final response ends the retransmissions and the timeout alike. */
  protected clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /**
   * Over UDP, sends `data` again after T1, then after each interval `next` gives from the
   * previous one, for as long as `more()` holds (Timers A, E and G).
   */
  protected retransmit(data: Buffer, more: () => boolean, next: (interval: number) => number): void {
    if (this.reliable) return;
    let interval = this.t.T1;
    const again = (): void => {
      if (!more()) return;
      this.send(data, this.peer);
      interval = next(interval);
      this.after(interval, again);
    };
    this.after(interval, again);
  }

  /** Ends at once over a reliable transport; over UDP, after `ms` of absorbing retransmissions (Timers D, I, J, K). */
  protected linger(ms: number): void {
    if (this.reliable) this.terminate();
    else this.after(ms, () => this.terminate());
  }

  protected terminate(): void {
    if (this.terminated) return;
    this.dispose();
    this.onTerminated(this.id);
  }

  dispose(): void {
    this.terminated = true;
    this.clearTimers();
  }
}

/** Key of a server transaction (§17.2.3): branch + sent-by + method, ACK folded into INVITE. */
export function serverTransactionKey(request: SipRequest): string {
  const via = parseVia(headerValues(request, 'via')[0] ?? '');
  const method = request.method === 'ACK' ? 'INVITE' : request.method;
  const branch = via?.params.get('branch') ?? '';
  if (branch.startsWith(BRANCH_COOKIE)) return `${branch}|${via?.host}:${via?.port ?? ''}|${method}`;
  // RFC 2543 peers (§17.2.3, last paragraph): Call-ID, CSeq number, From tag and top Via.
  return `${header(request, 'call-id')}|${cseq(request).seq}|${header(request, 'from')}|${headerValues(request, 'via')[0]}|${method}`;
}

/** Key of a client transaction (§17.1.3): our branch + the CSeq method. */
export function clientTransactionKey(message: SipRequest | SipResponse): string {
  const via = parseVia(headerValues(message, 'via')[0] ?? '');
  const { method } = cseq(message);
  return `${via?.params.get('branch') ?? ''}|${method === 'ACK' ? 'INVITE' : method}`;
}

type ServerInviteState = 'proceeding' | 'completed' | 'confirmed' | 'accepted';

/** §17.2.1 (+ RFC 6026 §7.1 Accepted): INVITE server transaction. */
export class InviteServerTransaction extends Transaction {
  state: ServerInviteState = 'proceeding';
  private last?: Buffer;
  /** Called when a final non-2xx response got no ACK within Timer H (the TU may log it). */
  onTimeout?: () => void;

  constructor(
    readonly request: SipRequest,
    send: Send,
    peer: Peer,
    t: Timers,
    done: (id: string) => void,
  ) {
    super(serverTransactionKey(request), send, peer, t, done);
  }

  respond(response: SipResponse): void {
    if (this.state !== 'proceeding') return;
    this.last = serializeMessage(response);
    this.send(this.last, this.peer);
    if (response.status < 200) return;
    if (response.status < 300) {
      // RFC 6026 §7.1: Accepted; 2xx retransmissions are the UAS core's (§13.3.1.4). Timer L.
      this.state = 'accepted';
      this.after(64 * this.t.T1, () => this.terminate());
      return;
    }
    this.state = 'completed';
    // Timer G: retransmit the final response, T1 doubling up to T2.
    this.retransmit(
      this.last,
      () => this.state === 'completed',
      (interval) => Math.min(2 * interval, this.t.T2),
    );
    // Timer H: give up waiting for the ACK.
    this.after(64 * this.t.T1, () => {
      this.onTimeout?.();
      this.terminate();
    });
  }

  /** A retransmitted INVITE: resend the last provisional or final response (§17.2.1). */
  receiveRetransmission(): void {
    if ((this.state === 'proceeding' || this.state === 'completed') && this.last !== undefined) this.send(this.last, this.peer);
  }

  /** An ACK for a non-2xx final response. Returns true when it belonged here. */
  receiveAck(): boolean {
    if (this.state !== 'completed') return this.state === 'confirmed';
    this.state = 'confirmed';
    this.clearTimers();
    // Timer I: absorb ACK retransmissions.
    this.linger(this.t.T4);
    return true;
  }
}

type ServerNonInviteState = 'trying' | 'proceeding' | 'completed';

/** §17.2.2: non-INVITE server transaction. */
export class NonInviteServerTransaction extends Transaction {
  state: ServerNonInviteState = 'trying';
  private last?: Buffer;

  constructor(
    readonly request: SipRequest,
    send: Send,
    peer: Peer,
    t: Timers,
    done: (id: string) => void,
  ) {
    super(serverTransactionKey(request), send, peer, t, done);
  }

  respond(response: SipResponse): void {
    if (this.state === 'completed') return;
    this.last = serializeMessage(response);
    this.send(this.last, this.peer);
    if (response.status < 200) {
      this.state = 'proceeding';
      return;
    }
    this.state = 'completed';
    // Timer J: absorb request retransmissions.
    this.linger(64 * this.t.T1);
  }

  receiveRetransmission(): void {
    if (this.last !== undefined) this.send(this.last, this.peer);
  }
}

export interface ClientCallbacks {
  onResponse(response: SipResponse): void;
  /** Timer B or F fired, or the transport failed: the request got no final response. */
  onTimeout(): void;
}

/** §17.1.1 (+ RFC 6026 §7.2 Accepted): INVITE client transaction. */
export class InviteClientTransaction extends Transaction {
  state: 'calling' | 'proceeding' | 'completed' | 'accepted' = 'calling';
  private readonly data: Buffer;
  private timerB?: NodeJS.Timeout;
  private ack?: Buffer;

  constructor(
    readonly request: SipRequest,
    send: Send,
    peer: Peer,
    t: Timers,
    done: (id: string) => void,
    private readonly tu: ClientCallbacks,
  ) {
    super(clientTransactionKey(request), send, peer, t, done);
    this.data = serializeMessage(request);
    this.send(this.data, peer);
    // Timer A: retransmit the INVITE, doubling each time.
    this.retransmit(
      this.data,
      () => this.state === 'calling',
      (interval) => 2 * interval,
    );
    this.timerB = this.after(64 * t.T1, () => {
      this.tu.onTimeout();
      this.terminate();
    });
  }

  receive(response: SipResponse): void {
    if (this.state === 'completed') {
      // A retransmitted final response: resend our ACK (§17.1.1.2).
      if (response.status >= 300 && this.ack !== undefined) this.send(this.ack, this.peer);
      return;
    }
    if (this.state === 'accepted') {
      if (response.status >= 200 && response.status < 300) this.tu.onResponse(response);
      return;
    }
    if (response.status < 200) {
      this.state = 'proceeding';
      for (const timer of [...this.timers]) if (timer !== this.timerB) this.clear(timer);
      this.tu.onResponse(response);
      return;
    }
    this.clearTimers();
    if (response.status < 300) {
      // RFC 6026 §7.2: Accepted, Timer M; the TU sends the ACK for a 2xx.
      this.state = 'accepted';
      this.tu.onResponse(response);
      this.after(64 * this.t.T1, () => this.terminate());
      return;
    }
    this.state = 'completed';
    this.ack = serializeMessage(ackForFailure(this.request, response));
    this.send(this.ack, this.peer);
    this.tu.onResponse(response);
    // Timer D.
    this.linger(32_000);
  }
}

/** §17.1.1.3: the ACK for a non-2xx final response, built by the transaction. */
function ackForFailure(invite: SipRequest, response: SipResponse): SipRequest {
  const headers: [string, string][] = [
    ['Via', headerValues(invite, 'via')[0]],
    ...headerValues(invite, 'route').map((r): [string, string] => ['Route', r]),
    ['Max-Forwards', '70'],
    ['From', header(invite, 'from') ?? ''],
    ['To', header(response, 'to') ?? ''],
    ['Call-ID', header(invite, 'call-id') ?? ''],
    ['CSeq', `${cseq(invite).seq} ACK`],
  ];
  return createRequest('ACK', invite.uri, headers);
}

/** §17.1.2: non-INVITE client transaction. */
export class NonInviteClientTransaction extends Transaction {
  state: 'trying' | 'proceeding' | 'completed' = 'trying';
  private readonly data: Buffer;

  constructor(
    readonly request: SipRequest,
    send: Send,
    peer: Peer,
    t: Timers,
    done: (id: string) => void,
    private readonly tu: ClientCallbacks,
  ) {
    super(clientTransactionKey(request), send, peer, t, done);
    this.data = serializeMessage(request);
    this.send(this.data, peer);
    // Timer E: T1 doubling up to T2 while trying, T2 once proceeding.
    this.retransmit(
      this.data,
      () => this.state !== 'completed',
      (interval) => (this.state === 'proceeding' ? t.T2 : Math.min(2 * interval, t.T2)),
    );
    // Timer F.
    this.after(64 * t.T1, () => {
      this.tu.onTimeout();
      this.terminate();
    });
  }

  receive(response: SipResponse): void {
    if (this.state === 'completed') return;
    if (response.status < 200) {
      this.state = 'proceeding';
      this.tu.onResponse(response);
      return;
    }
    this.state = 'completed';
    this.clearTimers();
    this.tu.onResponse(response);
    // Timer K.
    this.linger(this.t.T4);
  }
}

export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;
export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;

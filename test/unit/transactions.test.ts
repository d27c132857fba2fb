import { createResponse, parseMessage, SipRequest } from '../../src/sip/message';
import { DEFAULT_TIMERS, InviteServerTransaction, NonInviteClientTransaction, InviteClientTransaction } from '../../src/sip/transactions';
import { Peer } from '../../src/sip/transport';

const udp: Peer = { transport: 'UDP', host: '127.0.0.1', port: 5099 };
const tcp: Peer = { transport: 'TCP', host: '127.0.0.1', port: 5099 };
const request = (method: string): SipRequest =>
  parseMessage(
    Buffer.from(
      `${method} sip:demo@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bKt1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:demo@127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 1 ${method}\r\nContent-Length: 0\r\n\r\n`,
    ),
  ) as SipRequest;

describe('RFC 3261 transactions', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('retransmits a final error response over UDP (Timer G) until the ACK comes', () => {
    const sent: string[] = [];
    const tx = new InviteServerTransaction(
      request('INVITE'),
      (d) => sent.push(d.toString().split('\r\n')[0]),
      udp,
      DEFAULT_TIMERS,
      () => undefined,
    );
    tx.respond(createResponse(tx.request, 486, { toTag: 'x' }));
    jest.advanceTimersByTime(500 + 1000 + 2000);
    expect(sent).toEqual(Array(4).fill('SIP/2.0 486 Busy Here'));
    expect(tx.receiveAck()).toBe(true);
    jest.advanceTimersByTime(10_000);
    expect(sent).toHaveLength(4);
  });

  it('gives up on the ACK after Timer H (64*T1) and terminates', () => {
    const done = jest.fn();
    const timeout = jest.fn();
    const tx = new InviteServerTransaction(request('INVITE'), () => undefined, udp, DEFAULT_TIMERS, done);
    tx.onTimeout = timeout;
    tx.respond(createResponse(tx.request, 404, { toTag: 'x' }));
    jest.advanceTimersByTime(64 * 500);
    expect(timeout).toHaveBeenCalledTimes(1);
    expect(done).toHaveBeenCalledTimes(1);
  });

  it('does not retransmit over TCP', () => {
    const sent: Buffer[] = [];
    const tx = new InviteServerTransaction(
      request('INVITE'),
      (d) => sent.push(d),
      tcp,
      DEFAULT_TIMERS,
      () => undefined,
    );
    tx.respond(createResponse(tx.request, 486, { toTag: 'x' }));
    jest.advanceTimersByTime(10_000);
    expect(sent).toHaveLength(1);
  });

  it('retransmits a non-INVITE request (Timer E, capped at T2) and times out at Timer F', () => {
    const sent: number[] = [];
    const onTimeout = jest.fn();
    new NonInviteClientTransaction(
      request('BYE'),
      () => sent.push(Date.now()),
      udp,
      DEFAULT_TIMERS,
      () => undefined,
      { onResponse: () => undefined, onTimeout },
    );
    jest.advanceTimersByTime(64 * 500);
    const gaps = sent.slice(1).map((t, i) => t - sent[i]);
    expect(gaps.slice(0, 4)).toEqual([500, 1000, 2000, 4000]);
    expect(Math.max(...gaps)).toBe(4000);
    expect(onTimeout).toHaveBeenCalledTimes(1);
  });

  it('ACKs a failed INVITE itself and passes the response up once', () => {
    const sent: string[] = [];
    const onResponse = jest.fn();
    const tx = new InviteClientTransaction(
      request('INVITE'),
      (d) => sent.push(d.toString().split('\r\n')[0]),
      udp,
      DEFAULT_TIMERS,
      () => undefined,
      { onResponse, onTimeout: () => undefined },
    );
    const failure = createResponse(tx.request, 404, { toTag: 'y' });
    tx.receive(failure);
    tx.receive(failure);
    expect(onResponse).toHaveBeenCalledTimes(1);
    expect(sent.filter((l) => l.startsWith('ACK'))).toHaveLength(2);
  });
});

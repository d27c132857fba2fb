import { createSocket, Socket as UdpSocket } from 'node:dgram';
import { createConnection, createServer, isIP, Server as TcpServer, Socket as TcpSocket } from 'node:net';
import { lookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';
import { EventEmitter, once } from 'node:events';
import { MAX_MESSAGE_BYTES, parseMessage, SipMessage, SipParseError, StreamFramer } from './message';

/**
 * The SIP transport layer (RFC 3261 §18): UDP and TCP on one port. Whole messages in and
 * out; malformed input is reported as an event, never thrown at the caller.
 */

export type TransportName = 'UDP' | 'TCP';

export interface Peer {
  transport: TransportName;
  host: string;
  port: number;
}

export interface TransportEvents {
  message: [message: SipMessage, peer: Peer];
  malformed: [error: SipParseError, peer: Peer];
  /** An inbound TCP connection closed by a limit (too many, or silent too long). */
  refused: [reason: string, peer: Peer];
  error: [error: Error];
}

/**
 * What a hostile or broken peer may hold open over TCP. A PBX (or a kamailio in front)
 * uses one or a few connections; a flood of idle ones must not eat the descriptors that
 * calls need for RTP.
 */
export interface TcpLimits {
  /** Inbound connections at once; more are closed at once. */
  maxConnections: number;
  /** Inbound connections at once from one address. */
  maxConnectionsPerHost: number;
  /**
   * A deadline, not an idle timer: a connection must send its first whole message within
   * this time of connecting, and every later message within this time of its first byte;
   * one byte every few seconds does not keep it open.
   */
  firstMessageMs: number;
  /** A connection idle this long is closed. */
  idleMs: number;
  /**
   * Addresses that may connect (ATTENDANT_SIP_ALLOW): others are closed at once, and these
   * are never refused for lack of room, so that a flood cannot lock out the PBX.
   */
  allow?: (host: string) => boolean;
}

export const DEFAULT_TCP_LIMITS: TcpLimits = {
  maxConnections: 1000,
  maxConnectionsPerHost: 100,
  firstMessageMs: 30_000,
  idleMs: 5 * 60_000,
};

export function peerKey(peer: Peer): string {
  return `${peer.transport}:${peer.host}:${peer.port}`;
}

export class SipTransport extends EventEmitter<TransportEvents> {
  private readonly connections = new Map<string, TcpSocket>();
  /** Inbound connections open, in all and per remote address. */
  private inbound = 0;
  private readonly inboundPerHost = new Map<string, number>();
  private closed = false;

  private constructor(
    private readonly udp: UdpSocket,
    private readonly tcp: TcpServer,
    readonly host: string,
    readonly port: number,
    private readonly limits: TcpLimits,
  ) {
    super();
    udp.on('message', (data, rinfo) => this.receive(data, { transport: 'UDP', host: rinfo.address, port: rinfo.port }));
    udp.on('error', (err) => this.emit('error', err));
    tcp.on('connection', (socket) => this.accept(socket));
    tcp.on('error', (err) => this.emit('error', err));
  }

  /** Binds UDP and TCP on `port` (0: a free port that both can use). */
  static async listen(host: string, port: number, limits: Partial<TcpLimits> = {}): Promise<SipTransport> {
    const tcpLimits = { ...DEFAULT_TCP_LIMITS, ...limits };
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const udp = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4', recvBufferSize: 4 << 20 } as Parameters<typeof createSocket>[0]);
      try {
        udp.bind(port, host);
        await once(udp, 'listening');
      } catch (err) {
        udp.close();
        throw new Error(`cannot listen for SIP on UDP ${host}:${port}: ${(err as Error).message}`, { cause: err });
      }
      const bound = udp.address().port;
      const tcp = createServer();
      try {
        tcp.listen(bound, host);
        await once(tcp, 'listening');
        return new SipTransport(udp, tcp, host, bound, tcpLimits);
      } catch (err) {
        udp.close();
        tcp.close();
        if (port !== 0) throw new Error(`cannot listen for SIP on TCP ${host}:${port}: ${(err as Error).message}`, { cause: err });
      }
    }
    throw new Error(`no port was free for both UDP and TCP on ${host}`);
  }

  /** The address peers should use to reach us (Via, Contact, SDP): a loopback peer gets loopback. */
  /** The address put in Via, Contact and SDP for peers off this host (ATTENDANT_SIP_ADVERTISED_ADDRESS: behind NAT, a public or VIP address). */
  advertised?: string;

  advertisedHost(peer?: { host: string }): string {
    if (peer !== undefined && (peer.host.startsWith('127.') || peer.host === '::1')) return '127.0.0.1';
    if (this.advertised !== undefined) return this.advertised;
    if (this.host !== '0.0.0.0' && this.host !== '::') return this.host;
    return firstExternalAddress() ?? '127.0.0.1';
  }

  private receive(data: Buffer, peer: Peer): void {
    if (data.length > MAX_MESSAGE_BYTES) {
      this.emit('malformed', new SipParseError(`datagram of ${data.length} bytes is too large`), peer);
      return;
    }
    // RFC 5626 keep-alives: a lone CRLF (or CRLFCRLF) is not a message.
    if (data.length <= 4 && data.toString('latin1').trim() === '') return;
    this.trace?.('in', data, peer);
    let message: SipMessage;
    try {
      message = parseMessage(data);
    } catch (err) {
      this.emit('malformed', err instanceof SipParseError ? err : new SipParseError(String(err)), peer);
      return;
    }
    this.emit('message', message, peer);
  }

  /** An inbound connection: within the limits it is adopted, beyond them closed at once. */
  private accept(socket: TcpSocket): void {
    const peer: Peer = { transport: 'TCP', host: normalizeHost(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
    const fromHost = this.inboundPerHost.get(peer.host) ?? 0;
    const allowed = this.limits.allow?.(peer.host);
    const full =
      allowed === false
        ? `${peer.host} is not in ATTENDANT_SIP_ALLOW`
        : allowed === true
          ? undefined
          : this.inbound >= this.limits.maxConnections
            ? `${this.inbound} TCP connections are open, the most allowed`
            : fromHost >= this.limits.maxConnectionsPerHost
              ? `${fromHost} TCP connections from ${peer.host} are open, the most allowed from one address`
              : undefined;
    if (full !== undefined) {
      socket.on('error', () => undefined);
      socket.destroy();
      this.emit('refused', full, peer);
      return;
    }
    this.inbound += 1;
    this.inboundPerHost.set(peer.host, fromHost + 1);
    socket.once('close', () => {
      this.inbound -= 1;
      const left = (this.inboundPerHost.get(peer.host) ?? 1) - 1;
      if (left > 0) this.inboundPerHost.set(peer.host, left);
      else this.inboundPerHost.delete(peer.host);
    });
    this.adopt(socket, undefined, true);
  }

  private adopt(socket: TcpSocket, key?: string, awaitingFirstMessage = false): void {
    const peer: Peer = { transport: 'TCP', host: normalizeHost(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
    const id = key ?? peerKey(peer);
    this.connections.set(id, socket);
    const framer = new StreamFramer();
    // An inbound connection has firstMessageMs for its first whole message, then as long for
    // each later one from its first byte; between messages, the idle timeout.
    let deadline: NodeJS.Timeout | undefined;
    const startDeadline = (what: string): void => {
      deadline = setTimeout(() => {
        this.emit('refused', `no whole SIP message within ${this.limits.firstMessageMs} ms ${what}`, peer);
        socket.destroy();
      }, this.limits.firstMessageMs);
      deadline.unref();
    };
    const stopDeadline = (): void => {
      clearTimeout(deadline);
      deadline = undefined;
    };
    if (awaitingFirstMessage) startDeadline('of connecting');
    socket.setTimeout(this.limits.idleMs);
    socket.on('timeout', () => socket.destroy());
    socket.on('data', (chunk) => {
      let frames: Buffer[];
      try {
        frames = framer.push(chunk);
      } catch (err) {
        // A stream that cannot be framed cannot be resynchronised: close it (§18.3).
        this.emit('malformed', err as SipParseError, peer);
        socket.destroy();
        return;
      }
      if (awaitingFirstMessage) {
        if (frames.length > 0) stopDeadline();
        if (framer.pending > 0 && deadline === undefined) startDeadline('of its first byte');
      }
      for (const frame of frames) this.receive(frame, peer);
    });
    socket.on('close', stopDeadline);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (this.connections.get(id) === socket) this.connections.delete(id);
    });
  }

  /** Sees every message received and sent (the SIP trace at log level debug). */
  trace?: (direction: 'in' | 'out', data: Buffer, peer: Peer) => void;

  /** Sends a serialised message; a TCP peer without a connection gets one. Errors are emitted, not thrown. */
  send(data: Buffer, peer: Peer): void {
    if (this.closed) return;
    this.trace?.('out', data, peer);
    if (peer.transport === 'UDP') {
      this.udp.send(data, peer.port, peer.host, (err) => {
        if (err !== null && err !== undefined) this.emit('error', err);
      });
      return;
    }
    const key = peerKey(peer);
    let socket = this.connections.get(key);
    if (socket === undefined || socket.destroyed) {
      socket = createConnection({ host: peer.host, port: peer.port });
      this.adopt(socket, key);
    }
    socket.write(data);
  }

  /** Resolves a host name to an address (IP literals pass through). */
  static async resolve(host: string): Promise<string> {
    const bare = host.replace(/^\[|\]$/g, '');
    if (isIP(bare) !== 0) return bare;
    return (await lookup(bare, { family: 4 })).address;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const socket of this.connections.values()) socket.destroy();
    this.connections.clear();
    await Promise.all([
      new Promise<void>((resolve) => this.udp.close(() => resolve())),
      new Promise<void>((resolve) => this.tcp.close(() => resolve())),
    ]);
  }
}

function normalizeHost(host: string): string {
  return host.startsWith('::ffff:') ? host.slice(7) : host;
}

function firstExternalAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

/**
 * A SIP message as the debug trace shows it: the caller's identity masked in every message,
 * received or sent (display names; the user part of every SIP or tel URI in the request line
 * and in From, To, Contact, P-Asserted-Identity, P-Preferred-Identity, Remote-Party-ID,
 * Referred-By, Refer-To), except what `keep` says is not the caller's (a store id or number)
 * and extensions (up to 6 digits); cut at 4 KiB. SIP carries no audio.
 */
export function redactSip(data: Buffer, keep: (user: string) => boolean = () => false): string {
  const text = data.subarray(0, 4096).toString('latin1');
  const maskUser = (value: string): string =>
    value
      .replace(/(sips?:)([^@;>\s]+)@/gi, (all, scheme: string, user: string) => (shown(user) ? all : `${scheme}…@`))
      .replace(/tel:([^;>\s]+)/gi, (all, user: string) => (shown(user) ? all : 'tel:…'));
  const shown = (user: string): boolean => /^[0-9*#]{1,6}$/.test(user) || keep(decodeURIComponent(user.split(';')[0]));
  const lines = text.split(/\r?\n/);
  const request = /^([A-Z]+) (\S+) (SIP\/2\.0)$/.exec(lines[0] ?? '');
  if (request !== null) lines[0] = `${request[1]} ${maskUser(request[2])} ${request[3]}`;
  return lines
    .map((line, i) => {
      const m = /^(From|f|To|t|Contact|m|P-Asserted-Identity|P-Preferred-Identity|Remote-Party-ID|Referred-By|b|Refer-To|r)\s*:(.*)$/i.exec(
        line,
      );
      if (i === 0 || m === null) return line;
      return `${m[1]}:${maskUser(m[2].replace(/"[^"]*"/g, '"…"').replace(/^(\s*)([^"<\s][^<]*?)\s*</, '$1"…" <'))}`;
    })
    .join('\n');
}

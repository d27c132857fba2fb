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
  error: [error: Error];
}

/** Idle TCP connections are closed after this long. */
const TCP_IDLE_MS = 5 * 60_000;

export function peerKey(peer: Peer): string {
  return `${peer.transport}:${peer.host}:${peer.port}`;
}

export class SipTransport extends EventEmitter<TransportEvents> {
  private readonly connections = new Map<string, TcpSocket>();
  private closed = false;

  private constructor(
    private readonly udp: UdpSocket,
    private readonly tcp: TcpServer,
    readonly host: string,
    readonly port: number,
  ) {
    super();
    udp.on('message', (data, rinfo) => this.receive(data, { transport: 'UDP', host: rinfo.address, port: rinfo.port }));
    udp.on('error', (err) => this.emit('error', err));
    tcp.on('connection', (socket) => this.adopt(socket));
    tcp.on('error', (err) => this.emit('error', err));
  }

  /** Binds UDP and TCP on `port` (0: a free port that both can use). */
  static async listen(host: string, port: number): Promise<SipTransport> {
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const udp = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4', recvBufferSize: 4 << 20 } as Parameters<typeof createSocket>[0]);
      try {
        udp.bind(port, host);
        await once(udp, 'listening');
      } catch (err) {
        udp.close();
        throw new Error(`cannot listen for SIP on UDP ${host}:${port}: ${(err as Error).message}`);
      }
      const bound = udp.address().port;
      const tcp = createServer();
      try {
        tcp.listen(bound, host);
        await once(tcp, 'listening');
        return new SipTransport(udp, tcp, host, bound);
      } catch (err) {
        udp.close();
        tcp.close();
        if (port !== 0) throw new Error(`cannot listen for SIP on TCP ${host}:${port}: ${(err as Error).message}`);
      }
    }
    throw new Error(`no port was free for both UDP and TCP on ${host}`);
  }

  /** The address peers should use to reach us (Via, Contact, SDP): a loopback peer gets loopback. */
  advertisedHost(peer?: { host: string }): string {
    if (peer !== undefined && (peer.host.startsWith('127.') || peer.host === '::1')) return '127.0.0.1';
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
    let message: SipMessage;
    try {
      message = parseMessage(data);
    } catch (err) {
      this.emit('malformed', err instanceof SipParseError ? err : new SipParseError(String(err)), peer);
      return;
    }
    this.emit('message', message, peer);
  }

  private adopt(socket: TcpSocket, key?: string): void {
    const peer: Peer = { transport: 'TCP', host: normalizeHost(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
    const id = key ?? peerKey(peer);
    this.connections.set(id, socket);
    const framer = new StreamFramer();
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
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
      for (const frame of frames) this.receive(frame, peer);
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (this.connections.get(id) === socket) this.connections.delete(id);
    });
  }

  /** Sends a serialised message; a TCP peer without a connection gets one. Errors are emitted, not thrown. */
  send(data: Buffer, peer: Peer): void {
    if (this.closed) return;
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

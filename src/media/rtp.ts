import { createSocket, Socket } from 'node:dgram';
import { once, EventEmitter } from 'node:events';
import { randomBytes, randomInt } from 'node:crypto';
import { Codec, decodeAlaw, decodeUlaw, encodeAlaw, encodeUlaw } from './g711';
import { parseDtmfEvent, DTMF_DIGITS, formatDtmfEvent } from './dtmf';
import { MediaClock } from './media-clock';

/**
 * One RTP stream (RFC 3550) of G.711 audio at 8 kHz in 20 ms packets, with RFC 4733
 * telephone-events. Audio out is paced by the shared media clock; audio in is handed up
 * as it arrives, in 20 ms frames, and as silence when nothing comes (so that the endpointer
 * hears the end of speech even when the peer stops sending).
 */

export const FRAME_SAMPLES = 160; // 20 ms at 8 kHz
const RTP_HEADER = 12;

export interface RtpRemote {
  address: string;
  port: number;
  codec: Codec;
  payloadType: number;
  dtmfPayloadType?: number;
}

export interface RtpEvents {
  /** One 20 ms frame of caller audio (silence when no packet came in time). */
  frame: [pcm8k: Int16Array];
  dtmf: [digit: string];
  /** No RTP for longer than the no-RTP timeout while the call is not on hold. */
  timeout: [];
  /** The stream is open both ways: the ACK came, or RTP came from the offered address. Once. */
  opened: [];
}

/**
 * Whose RTP a stream takes. `sdp` (default): only from the address and port the peer's SDP
 * names (symmetric RTP, RFC 4961, as PBXs send it), fixed to the first packet's SSRC. `latch`: a peer behind NAT whose SDP
 * address is not where its media comes from; after the stream opened, the first source
 * sending three packets in sequence with one SSRC is latched, then fixed.
 */
export type RtpSourcePolicy = 'sdp' | 'latch';

/** Packets refused for coming from the wrong place, across every stream of the process. */
export const rtpCounters = { dropped: 0 };

const sameHost = (a: string, b: string): boolean => a.replace(/^::ffff:/, '') === b.replace(/^::ffff:/, '');

/**
 * Even RTP ports from a configured range, picked at random so that an outsider cannot
 * guess the next call's port; RTCP (port + 1) is left free (RFC 3550 §11).
 */
export class PortRange {
  constructor(
    private readonly low: number,
    private readonly high: number,
  ) {}

  /** Binds a UDP socket on a free even port; throws when the whole range is in use. */
  async bind(host: string): Promise<Socket> {
    const first = this.low + (this.low % 2);
    const span = Math.max(1, Math.floor((this.high - first) / 2) + 1);
    // A random start, then a random stride coprime with the span: every port once, in no guessable order.
    const start = randomInt(span);
    let stride = 1 + randomInt(Math.max(1, span - 1));
    while (gcd(stride, span) !== 1) stride += 1;
    for (let i = 0; i < span; i += 1) {
      const port = first + 2 * ((start + i * stride) % span);
      const socket = createSocket('udp4');
      try {
        socket.bind(port, host);
        await once(socket, 'listening');
        return socket;
      } catch {
        socket.close();
      }
    }
    throw new Error(`no free RTP port in ${this.low}-${this.high}`);
  }
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

export interface RtpSessionOptions {
  /** No RTP for this long (while not on hold) is a dead line. */
  noRtpTimeoutMs?: number;
  source?: RtpSourcePolicy;
}

export class RtpSession extends EventEmitter<RtpEvents> {
  private remote?: RtpRemote;
  /** Where the peer said it receives (its SDP); RTP is taken from that address only, unless `latch`. */
  private offered?: { address: string; port: number };
  /** The source the stream is fixed to, once its first good packet came. */
  private source?: { address: string; port: number; ssrc: number };
  /** A source trying to become the stream: another SSRC from the fixed source, or (latch) a NAT'd peer. */
  private candidate?: { address: string; port: number; ssrc: number; seq: number; count: number };
  private lastFromSourceAt = 0;
  private opened = false;
  private readonly policy: RtpSourcePolicy;
  private readonly noRtpTimeoutMs: number;
  private readonly ssrc = randomBytes(4).readUInt32BE(0);
  private seq = randomBytes(2).readUInt16BE(0);
  private timestamp = randomBytes(4).readUInt32BE(0);
  private lastFrameAt = Date.now();
  private fillPending = false;
  private playing?: { pcm: Int16Array; offset: number; done: (completed: boolean) => void };
  private readonly digits: string[] = [];
  private dtmf?: { digit: string; step: number; timestamp: number };
  private lastDtmfTimestamp = -1;
  private lastPacketAt = Date.now();
  private closed = false;
  /** While on hold (sendonly/inactive) the peer may send nothing: no timeout then. */
  held = false;
  /** Whether we send at all (false while the peer holds us with `inactive`/`sendonly` answered `recvonly`). */
  sending = true;
  packetsIn = 0;
  packetsOut = 0;
  /** Packets refused: from another address, port or SSRC than the stream's. */
  packetsDropped = 0;

  private constructor(
    private readonly socket: Socket,
    private readonly clock: MediaClock,
    options: RtpSessionOptions,
  ) {
    super();
    this.noRtpTimeoutMs = options.noRtpTimeoutMs ?? 15_000;
    this.policy = options.source ?? 'sdp';
    socket.on('message', (data, rinfo) => this.receive(data, rinfo.address, rinfo.port));
    socket.on('error', () => undefined);
    clock.add(this.tick);
  }

  static async open(ports: PortRange, host: string, clock: MediaClock, options: RtpSessionOptions = {}): Promise<RtpSession> {
    return new RtpSession(await ports.bind(host), clock, options);
  }

  /**
   * Lets audio go out: the dialog is confirmed (the ACK came, or our own INVITE was
   * answered). Until then nothing is sent, so an unconfirmed offer naming someone
   * else's address cannot turn this service into a media reflector.
   */
  open(): void {
    if (this.opened || this.closed) return;
    this.opened = true;
    this.lastPacketAt = Date.now();
    this.emit('opened');
  }

  get isOpen(): boolean {
    return this.opened;
  }

  get port(): number {
    return this.socket.address().port;
  }

  get codec(): Codec | undefined {
    return this.remote?.codec;
  }

  /**
   * Where and how to send, with the stream's direction from our side (the SDP answer's):
   * on hold (recvonly/inactive) nothing is expected from the peer, so no timeout.
   */
  configure(remote: RtpRemote, direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive'): void {
    this.setRemote(remote);
    this.held = direction === 'recvonly' || direction === 'inactive';
    this.sending = direction === 'sendrecv' || direction === 'sendonly';
  }

  setRemote(remote: RtpRemote): void {
    // A re-INVITE may move the stream: the source is learnt again from the new offer.
    this.remote = { ...remote };
    this.offered = { address: remote.address, port: remote.port };
    this.source = undefined;
    this.candidate = undefined;
  }

  /**
   * Whether a packet belongs to the stream (RFC 3550 §8.2, as Asterisk's strictrtp does):
   * from the fixed source and SSRC; else it may become the source, by the policy's rules.
   * A new SSRC from the fixed source (a PBX switching what it bridges) takes over after
   * ten packets in sequence while the old one is silent.
   */
  private admit(address: string, port: number, ssrc: number, seq: number): boolean {
    const source = this.source;
    const now = Date.now();
    if (source !== undefined && source.ssrc === ssrc && source.port === port && sameHost(source.address, address)) {
      this.lastFromSourceAt = now;
      this.candidate = undefined;
      return true;
    }
    const offered = this.offered;
    if (offered === undefined) return false;
    const fromOffered = port === offered.port && sameHost(address, offered.address);
    if (source === undefined && fromOffered) {
      this.source = { address, port, ssrc };
      this.lastFromSourceAt = now;
      // RTP from the address the caller offered proves the offer was theirs: the stream is open.
      this.open();
      return true;
    }
    const sameSource = source !== undefined && source.port === port && sameHost(source.address, address);
    const mayLatch = source === undefined ? this.policy === 'latch' && this.opened : sameSource && now - this.lastFromSourceAt >= 200;
    if (!mayLatch) return false;
    const c = this.candidate;
    if (c !== undefined && c.ssrc === ssrc && c.port === port && sameHost(c.address, address) && seq === ((c.seq + 1) & 0xffff)) {
      c.seq = seq;
      c.count += 1;
    } else {
      this.candidate = { address, port, ssrc, seq, count: 1 };
    }
    if (this.candidate!.count < (source === undefined ? 3 : 10)) return false;
    this.source = { address, port, ssrc };
    this.candidate = undefined;
    this.lastFromSourceAt = now;
    return true;
  }

  private receive(data: Buffer, address: string, port: number): void {
    if (this.closed || data.length < RTP_HEADER || data[0] >> 6 !== 2) return;
    const remote = this.remote;
    if (remote === undefined) return;
    const pt = data[1] & 0x7f;
    if (pt >= 72 && pt <= 76) return; // RTCP on the RTP port (RFC 5761)
    if (!this.admit(address, port, data.readUInt32BE(8), data.readUInt16BE(2))) {
      this.packetsDropped += 1;
      rtpCounters.dropped += 1;
      return;
    }
    const csrc = data[0] & 0x0f;
    let offset = RTP_HEADER + 4 * csrc;
    if (data[0] & 0x10) {
      if (data.length < offset + 4) return;
      offset += 4 + 4 * data.readUInt16BE(offset + 2);
    }
    let end = data.length;
    if (data[0] & 0x20) end -= data[data.length - 1];
    if (offset > end) return;
    this.packetsIn += 1;
    this.lastPacketAt = Date.now();
    // Symmetric RTP (RFC 4961): answer where the caller's media really comes from.
    remote.address = address;
    remote.port = port;
    const payload = data.subarray(offset, end);
    if (remote.dtmfPayloadType !== undefined && pt === remote.dtmfPayloadType) {
      const event = parseDtmfEvent(payload);
      const ts = data.readUInt32BE(4);
      // RFC 4733 §2.5.1: one event is many packets with one timestamp; report it once.
      if (event !== undefined && ts !== this.lastDtmfTimestamp) {
        this.lastDtmfTimestamp = ts;
        this.emit('dtmf', event.digit);
      }
      return;
    }
    if (pt !== remote.payloadType) return;
    const pcm = remote.codec === 'PCMU' ? decodeUlaw(payload) : decodeAlaw(payload);
    this.lastFrameAt = this.lastPacketAt;
    for (let i = 0; i < pcm.length; i += FRAME_SAMPLES) this.emit('frame', pcm.subarray(i, Math.min(pcm.length, i + FRAME_SAMPLES)));
  }

  /** Plays 8 kHz audio paced at 20 ms; resolves true when it played to the end, false when stopped. */
  play(pcm8k: Int16Array): Promise<boolean> {
    this.stopPlayback();
    return new Promise((resolve) => {
      this.playing = { pcm: pcm8k, offset: 0, done: resolve };
    });
  }

  get isPlaying(): boolean {
    return this.playing !== undefined;
  }

  stopPlayback(): void {
    const playing = this.playing;
    this.playing = undefined;
    playing?.done(false);
  }

  /**
   * Queues keypad digits as RFC 4733 events (a test caller's keypad): each is 100 ms of
   * tone (five packets, one timestamp), three end packets, then 60 ms of nothing.
   */
  sendDtmf(digits: string): void {
    for (const digit of digits) if (DTMF_DIGITS.includes(digit)) this.digits.push(digit);
  }

  /** The next DTMF packet due, if a digit is being sent; advances the event. */
  private nextDtmfPacket(pt: number): Buffer | 'gap' | undefined {
    const event = this.dtmf;
    if (event === undefined) {
      const digit = this.digits.shift();
      if (digit === undefined) return undefined;
      this.dtmf = { digit, step: 0, timestamp: this.timestamp };
      return this.nextDtmfPacket(pt);
    }
    event.step += 1;
    if (event.step <= 5)
      return this.packet(pt, formatDtmfEvent(event.digit, event.step * FRAME_SAMPLES, false), event.timestamp, event.step === 1);
    if (event.step <= 8) return this.packet(pt, formatDtmfEvent(event.digit, 5 * FRAME_SAMPLES, true), event.timestamp, false);
    if (event.step >= 11) this.dtmf = undefined;
    return 'gap';
  }

  private packet(pt: number, payload: Uint8Array, timestamp: number, marker: boolean): Buffer {
    const header = Buffer.alloc(RTP_HEADER);
    header[0] = 0x80;
    header[1] = (marker ? 0x80 : 0) | pt;
    header.writeUInt16BE(this.seq, 2);
    this.seq = (this.seq + 1) & 0xffff;
    header.writeUInt32BE(timestamp >>> 0, 4);
    header.writeUInt32BE(this.ssrc, 8);
    return Buffer.concat([header, payload]);
  }

  private readonly tick = (): void => {
    // Nothing goes out, no silence comes in and no prompt advances before the stream opened.
    if (this.closed || !this.opened) return;
    // Caller audio goes up as it arrives; once it stops (end of a stream, DTX, hold) the
    // clock fills in silence, after 60 ms so that ordinary jitter does not cut speech.
    // Timers run before pending socket reads in each turn of the event loop: after a busy
    // moment the caller's queued packets are read just after this tick. So the silence is
    // decided after them (setImmediate), never inserted into the middle of speech.
    if (Date.now() - this.lastFrameAt >= 60 && !this.fillPending) {
      this.fillPending = true;
      setImmediate(() => {
        this.fillPending = false;
        const now = Date.now();
        if (this.closed || now - this.lastFrameAt < 60) return;
        this.lastFrameAt = now - 40;
        this.emit('frame', SILENCE);
      });
    }
    if (!this.held && Date.now() - this.lastPacketAt > this.noRtpTimeoutMs) {
      this.lastPacketAt = Date.now();
      this.emit('timeout');
    }
    // A listener may have ended the call (and closed this stream) just now.
    if (this.closed) return;
    const remote = this.remote;
    if (remote === undefined || !this.sending) return;
    if (remote.dtmfPayloadType !== undefined) {
      // DTMF packets take the place of audio while they last.
      const dtmf = this.nextDtmfPacket(remote.dtmfPayloadType);
      if (dtmf !== undefined) {
        if (dtmf !== 'gap') this.send(dtmf);
        this.timestamp = (this.timestamp + FRAME_SAMPLES) >>> 0;
        return;
      }
    }
    let payload: Uint8Array;
    const playing = this.playing;
    if (playing !== undefined) {
      const pcm = new Int16Array(FRAME_SAMPLES);
      pcm.set(playing.pcm.subarray(playing.offset, playing.offset + FRAME_SAMPLES));
      playing.offset += FRAME_SAMPLES;
      if (playing.offset >= playing.pcm.length) {
        this.playing = undefined;
        playing.done(true);
      }
      payload = remote.codec === 'PCMU' ? encodeUlaw(pcm) : encodeAlaw(pcm);
    } else {
      payload = SILENT_PAYLOAD[remote.codec];
    }
    this.send(this.packet(remote.payloadType, payload, this.timestamp, false));
    this.timestamp = (this.timestamp + FRAME_SAMPLES) >>> 0;
  };

  private send(packet: Buffer): void {
    const remote = this.remote;
    if (remote === undefined || this.closed) return;
    this.packetsOut += 1;
    try {
      this.socket.send(packet, remote.port, remote.address);
    } catch {
      // The socket went away under us: the session is closing; nothing to send to.
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clock.remove(this.tick);
    this.stopPlayback();
    this.socket.close();
    this.removeAllListeners();
  }
}

const SILENCE = new Int16Array(FRAME_SAMPLES);
/** Silence encoded once per law: most frames a call sends while the caller speaks are silence. */
const SILENT_PAYLOAD: Record<Codec, Uint8Array> = { PCMU: encodeUlaw(SILENCE), PCMA: encodeAlaw(SILENCE) };

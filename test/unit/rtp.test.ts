import { createSocket, Socket } from 'node:dgram';
import { once } from 'node:events';
import { MediaClock } from '../../src/media/media-clock';
import { PortRange, RtpSession, RtpSourcePolicy } from '../../src/media/rtp';
import { encodeUlaw } from '../../src/media/g711';
import { formatDtmfEvent } from '../../src/media/dtmf';

/** RTP streams on loopback sockets: whose packets they take, and when they start sending. */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function udp(host = '127.0.0.1'): Promise<Socket> {
  const s = createSocket('udp4');
  s.bind(0, host);
  await once(s, 'listening');
  return s;
}

function packet(pt: number, seq: number, ssrc: number, payload: Uint8Array, timestamp = seq * 160): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = pt;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(timestamp >>> 0, 4);
  h.writeUInt32BE(ssrc >>> 0, 8);
  return Buffer.concat([h, payload]);
}

const LOUD = encodeUlaw(Int16Array.from({ length: 160 }, (_, i) => Math.round(8000 * Math.sin(i / 3))));

describe('RTP streams', () => {
  const clock = new MediaClock();
  const open: (RtpSession | Socket)[] = [];
  afterEach(() => {
    for (const x of open.splice(0)) x.close();
  });

  async function stream(peer: Socket, source: RtpSourcePolicy = 'sdp'): Promise<RtpSession> {
    const rtp = await RtpSession.open(new PortRange(31000, 31999), '127.0.0.1', clock, { source });
    open.push(rtp);
    rtp.configure({ address: '127.0.0.1', port: peer.address().port, codec: 'PCMU', payloadType: 0, dtmfPayloadType: 101 }, 'sendrecv');
    return rtp;
  }

  it('hands out ports at random within the range, even, each once while in use', async () => {
    const range = new PortRange(32000, 32199);
    const sessions = await Promise.all(Array.from({ length: 20 }, () => RtpSession.open(range, '127.0.0.1', clock)));
    open.push(...sessions);
    const ports = sessions.map((s) => s.port);
    expect(new Set(ports).size).toBe(20);
    for (const p of ports) {
      expect(p % 2).toBe(0);
      expect(p).toBeGreaterThanOrEqual(32000);
      expect(p).toBeLessThanOrEqual(32199);
    }
    // In order, the next port would be the last plus 2: almost never so at random.
    const successive = ports.slice(1).filter((p, i) => p === ports[i] + 2).length;
    expect(successive).toBeLessThan(5);
  });

  it('sends nothing before the stream is opened, then audio every 20 ms', async () => {
    const peer = await udp();
    open.push(peer);
    let received = 0;
    peer.on('message', () => (received += 1));
    const rtp = await stream(peer);
    void rtp.play(new Int16Array(8000));
    await sleep(300);
    expect(received).toBe(0);
    expect(rtp.isOpen).toBe(false);
    rtp.open();
    await sleep(300);
    expect(received).toBeGreaterThan(8);
  });

  it('opens when RTP comes from the offered address and port, and takes its audio', async () => {
    const peer = await udp();
    open.push(peer);
    const rtp = await stream(peer);
    const opened = once(rtp, 'opened');
    let frames = 0;
    rtp.on('frame', () => (frames += 1));
    peer.send(packet(0, 1, 1234, LOUD), rtp.port, '127.0.0.1');
    await opened;
    expect(frames).toBe(1);
  });

  it('takes no audio and no digits from another address or port, before or after the caller', async () => {
    const caller = await udp();
    const intruder = await udp('127.0.0.1');
    const elsewhere = await udp('127.0.0.2');
    open.push(caller, intruder, elsewhere);
    const rtp = await stream(caller);
    const digits: string[] = [];
    rtp.on('dtmf', (d) => digits.push(d));
    let frames = 0;
    rtp.on('frame', () => (frames += 1));
    // The intruder goes first (the symptom: the stream latched onto it) from the same host and from another.
    for (let seq = 0; seq < 5; seq += 1) {
      intruder.send(packet(101, seq, 99, formatDtmfEvent('2', 160, true), 1000 + seq), rtp.port, '127.0.0.1');
      elsewhere.send(packet(0, seq, 98, LOUD), rtp.port, '127.0.0.1');
    }
    await sleep(50);
    expect(rtp.isOpen).toBe(false);
    caller.send(packet(0, 1, 1234, LOUD), rtp.port, '127.0.0.1');
    await once(rtp, 'opened');
    // The caller is sent our audio; the intruder keeps trying and gets nothing back.
    let toIntruder = 0;
    intruder.on('message', () => (toIntruder += 1));
    for (let seq = 5; seq < 15; seq += 1) {
      intruder.send(packet(101, seq, 99, formatDtmfEvent('0', 160, true), 2000 + seq), rtp.port, '127.0.0.1');
      intruder.send(packet(0, seq, 1234, LOUD), rtp.port, '127.0.0.1'); // even with the caller's SSRC
      await sleep(5);
    }
    await sleep(100);
    expect(digits).toEqual([]);
    expect(toIntruder).toBe(0);
    expect(rtp.packetsDropped).toBeGreaterThanOrEqual(30);
    const framesFromCaller = frames;
    expect(framesFromCaller).toBeGreaterThanOrEqual(1);
  });

  it('keeps the first SSRC, and follows a new one from the same source only once the old one went quiet', async () => {
    const caller = await udp();
    open.push(caller);
    const rtp = await stream(caller);
    const digits: string[] = [];
    rtp.on('dtmf', (d) => digits.push(d));
    caller.send(packet(0, 1, 1111, LOUD), rtp.port, '127.0.0.1');
    await once(rtp, 'opened');
    const before = rtp.packetsIn;
    // Interleaved with the first SSRC, a second one is refused.
    for (let i = 0; i < 12; i += 1) {
      caller.send(packet(0, 2 + i, 1111, LOUD), rtp.port, '127.0.0.1');
      caller.send(packet(101, 500 + i, 2222, formatDtmfEvent('5', 160, true), 7000), rtp.port, '127.0.0.1');
      await sleep(5);
    }
    await sleep(50);
    expect(digits).toEqual([]);
    expect(rtp.packetsIn - before).toBe(12);
    // The first SSRC stops (a PBX re-bridging): after ten packets in sequence the new one is the stream.
    await sleep(250);
    for (let i = 0; i < 12; i += 1) {
      caller.send(packet(101, 600 + i, 3333, formatDtmfEvent('7', 160, i === 11), 9000), rtp.port, '127.0.0.1');
      await sleep(5);
    }
    await sleep(50);
    expect(digits).toEqual(['7']);
  });

  it('behind NAT (latch): after the stream opened, the first steady source is the stream, then fixed', async () => {
    const offered = await udp(); // the private address in the SDP: nothing comes from it
    const natted = await udp('127.0.0.3');
    const late = await udp('127.0.0.4');
    open.push(offered, natted, late);
    const rtp = await stream(offered, 'latch');
    const digits: string[] = [];
    rtp.on('dtmf', (d) => digits.push(d));
    // Before the ACK nothing latches, however steady.
    for (let seq = 0; seq < 5; seq += 1) natted.send(packet(101, seq, 42, formatDtmfEvent('1', 160, true), 100), rtp.port, '127.0.0.1');
    await sleep(50);
    expect(digits).toEqual([]);
    rtp.open();
    let toNatted = 0;
    natted.on('message', () => (toNatted += 1));
    for (let seq = 5; seq < 10; seq += 1) {
      natted.send(packet(101, seq, 42, formatDtmfEvent('4', 160, true), 200), rtp.port, '127.0.0.1');
      await sleep(5);
    }
    await sleep(50);
    expect(digits).toEqual(['4']);
    for (let seq = 0; seq < 10; seq += 1) {
      late.send(packet(101, seq, 43, formatDtmfEvent('9', 160, true), 300), rtp.port, '127.0.0.1');
      await sleep(5);
    }
    await sleep(100);
    expect(digits).toEqual(['4']);
    expect(toNatted).toBeGreaterThan(0); // our audio follows the latched source (symmetric RTP)
  });
});

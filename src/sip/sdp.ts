/**
 * SDP offer/answer for one audio stream (RFC 4566, RFC 3264): G.711 µ-law or A-law at
 * 8 kHz and RFC 4733 telephone-event. Anything else in an offer is declined, not misread.
 */

import { Codec } from '../media/g711';

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface AudioOffer {
  address: string;
  port: number;
  /** Payload types in the offerer's order of preference. */
  payloads: number[];
  /** Payload type → encoding name (upper case) and clock rate. */
  rtpmap: Map<number, { name: string; rate: number }>;
  direction: Direction;
  ptime?: number;
}

export interface Negotiated {
  codec: Codec;
  payloadType: number;
  /** Payload type of telephone-event, when both sides have it. */
  dtmfPayloadType?: number;
  remoteAddress: string;
  remotePort: number;
  /** Direction from our side (the mirror of the offer's). */
  direction: Direction;
}

export class SdpError extends Error {
  /** RFC 3261 §20.43 warn-code for the 488's Warning header: 399 misc, 301 incompatible address format. */
  constructor(
    message: string,
    readonly warnCode = 399,
  ) {
    super(message);
    this.name = 'SdpError';
  }
}

/** RFC 3551 static payload types we know without an rtpmap. */
const STATIC: Record<number, { name: string; rate: number }> = {
  0: { name: 'PCMU', rate: 8000 },
  8: { name: 'PCMA', rate: 8000 },
};

export function parseAudioOffer(text: string): AudioOffer {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (!lines.some((l) => l.startsWith('v=0'))) throw new SdpError('the body is not SDP (no v=0 line)');
  let sessionAddress = '';
  let sessionDirection: Direction = 'sendrecv';
  let media: AudioOffer | undefined;
  let inAudio = false;
  let seenMedia = false;
  for (const line of lines) {
    const type = line[0];
    const value = line.slice(2);
    if (type === 'm') {
      seenMedia = true;
      const m = /^(\w+) (\d+)(?:\/\d+)? (\S+) ?(.*)$/.exec(value);
      inAudio = m !== null && m[1] === 'audio' && media === undefined && m[2] !== '0' && /RTP\/AVP/.test(m[3]);
      if (inAudio && m !== null) {
        media = {
          address: '',
          port: Number(m[2]),
          payloads: m[4]
            .split(/\s+/)
            .filter((p) => /^\d+$/.test(p))
            .map(Number),
          rtpmap: new Map(),
          direction: sessionDirection,
        };
      }
      continue;
    }
    if (type === 'c') {
      const c = /^IN (IP[46]) (\S+)/.exec(value);
      if (c === null) continue;
      // Media is IPv4 only: an IPv6 address is declined (488, warning 301) rather than answered with IPv4.
      const address = c[1] === 'IP6' ? 'IP6' : c[2].split('/')[0];
      if (!seenMedia) sessionAddress = address;
      else if (inAudio && media !== undefined) media.address = address;
      continue;
    }
    if (type !== 'a') continue;
    const dir = /^(sendrecv|sendonly|recvonly|inactive)$/.exec(value);
    if (dir !== null) {
      if (!seenMedia) sessionDirection = dir[1] as Direction;
      else if (inAudio && media !== undefined) media.direction = dir[1] as Direction;
      continue;
    }
    if (!inAudio || media === undefined) continue;
    const map = /^rtpmap:(\d+) ([^/\s]+)\/(\d+)/.exec(value);
    if (map !== null) media.rtpmap.set(Number(map[1]), { name: map[2].toUpperCase(), rate: Number(map[3]) });
    const ptime = /^ptime:(\d+)/.exec(value);
    if (ptime !== null) media.ptime = Number(ptime[1]);
  }
  if (media === undefined) throw new SdpError('the offer has no active audio stream over RTP/AVP');
  if (media.address === '') media.address = sessionAddress;
  if (media.address === '') throw new SdpError('the offer has no connection address (c= line)');
  if (media.address === 'IP6') throw new SdpError('IPv6 media is not supported; offer an IPv4 address (c=IN IP4)', 301);
  if (media.port < 1 || media.port > 65535) throw new SdpError(`audio port ${media.port} is out of range`);
  return media;
}

const MIRROR: Record<Direction, Direction> = { sendrecv: 'sendrecv', sendonly: 'recvonly', recvonly: 'sendonly', inactive: 'inactive' };

/**
 * Picks the offerer's first codec that we have (RFC 3264 §6.1). Returns undefined when
 * none fits: the caller answers 488.
 */
export function negotiate(offer: AudioOffer, accept: Codec[] = ['PCMU', 'PCMA']): Negotiated | undefined {
  const encoding = (pt: number): { name: string; rate: number } | undefined => offer.rtpmap.get(pt) ?? STATIC[pt];
  const chosen = offer.payloads.find((pt) => {
    const e = encoding(pt);
    return e !== undefined && e.rate === 8000 && (accept as string[]).includes(e.name);
  });
  if (chosen === undefined) return undefined;
  const dtmf = offer.payloads.find((pt) => {
    const e = offer.rtpmap.get(pt);
    return e !== undefined && e.name === 'TELEPHONE-EVENT' && e.rate === 8000;
  });
  return {
    codec: encoding(chosen)?.name as Codec,
    payloadType: chosen,
    dtmfPayloadType: dtmf,
    remoteAddress: offer.address,
    remotePort: offer.port,
    direction: MIRROR[offer.direction],
  };
}

export interface LocalMedia {
  address: string;
  port: number;
  sessionId: number;
  sessionVersion: number;
}

/** Our answer (or, with several codecs, our offer). */
export function formatSdp(
  local: LocalMedia,
  codecs: { codec: Codec; payloadType: number }[],
  dtmfPayloadType: number | undefined,
  direction: Direction,
): string {
  const pts = [...codecs.map((c) => c.payloadType), ...(dtmfPayloadType === undefined ? [] : [dtmfPayloadType])];
  const lines = [
    'v=0',
    `o=attendant ${local.sessionId} ${local.sessionVersion} IN IP4 ${local.address}`,
    's=attendant',
    `c=IN IP4 ${local.address}`,
    't=0 0',
    `m=audio ${local.port} RTP/AVP ${pts.join(' ')}`,
    ...codecs.map((c) => `a=rtpmap:${c.payloadType} ${c.codec}/8000`),
    ...(dtmfPayloadType === undefined ? [] : [`a=rtpmap:${dtmfPayloadType} telephone-event/8000`, `a=fmtp:${dtmfPayloadType} 0-16`]),
    'a=ptime:20',
    `a=${direction}`,
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/** The RTP destination a negotiation arrived at. */
export function rtpRemote(n: Negotiated): { address: string; port: number; codec: Codec; payloadType: number; dtmfPayloadType?: number } {
  return { address: n.remoteAddress, port: n.remotePort, codec: n.codec, payloadType: n.payloadType, dtmfPayloadType: n.dtmfPayloadType };
}

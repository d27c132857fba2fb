/**
 * RFC 4733 telephone-events for DTMF: the 4-byte payload of §2.3 (event, E bit, volume,
 * duration). Events 0-9 are the digits, 10 is *, 11 is #, 12-15 are A-D.
 */
export const DTMF_DIGITS = '0123456789*#ABCD';

export interface DtmfEvent {
  digit: string;
  end: boolean;
  duration: number;
}

export function parseDtmfEvent(payload: Uint8Array): DtmfEvent | undefined {
  if (payload.length < 4 || payload[0] > 15) return undefined;
  return { digit: DTMF_DIGITS[payload[0]], end: (payload[1] & 0x80) !== 0, duration: (payload[2] << 8) | payload[3] };
}

export function formatDtmfEvent(digit: string, duration: number, end: boolean, volume = 10): Uint8Array {
  const event = DTMF_DIGITS.indexOf(digit);
  if (event < 0) throw new Error(`"${digit}" is not a DTMF digit`);
  return Uint8Array.of(event, (end ? 0x80 : 0) | (volume & 0x3f), (duration >> 8) & 0xff, duration & 0xff);
}

/** A digit from a SIP INFO body (application/dtmf-relay "Signal=5" or application/dtmf "5"). */
export function parseDtmfInfo(contentType: string, body: string): string | undefined {
  const type = contentType.toLowerCase();
  let signal: string | undefined;
  if (type.startsWith('application/dtmf-relay')) signal = /^\s*signal\s*=\s*(\S)/im.exec(body)?.[1];
  else if (type.startsWith('application/dtmf')) signal = body.trim()[0];
  if (signal === undefined) return undefined;
  const digit = signal.toUpperCase();
  return DTMF_DIGITS.includes(digit) ? digit : undefined;
}

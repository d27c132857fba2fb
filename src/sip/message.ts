/**
 * SIP messages (RFC 3261 §7): parsing from bytes and serialising back.
 *
 * Header names are kept lower-case, compact forms expanded (§7.3.3). A header that may
 * appear several times keeps every value in order; comma-separated values of Via,
 * Route and Record-Route are split (§7.3.1).
 */

import { addressFault, TOKEN, viaFault } from './address';

export const SIP_VERSION = 'SIP/2.0';

/** Limits against hostile traffic: a message larger than this is dropped unread. */
export const MAX_MESSAGE_BYTES = 65535;
const MAX_HEADERS = 200;

/**
 * A message that could not be read. Its text says what was wrong without quoting header
 * values or the request URI (they name callers: it is logged).
 */
export class SipParseError extends Error {
  /** The request as far as it could be read, when it names enough to be answered. */
  partial?: SipRequest;

  constructor(
    message: string,
    partial?: SipRequest,
    /** The answer for `partial`: 400, or 505 for another SIP version (§8.2.2.1... §21.5.20). */
    readonly status: 400 | 505 = 400,
  ) {
    super(message);
    this.name = 'SipParseError';
    this.partial = partial;
  }
}

const COMPACT: Record<string, string> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
  r: 'refer-to',
  b: 'referred-by',
  o: 'event',
  u: 'allow-events',
};

/** Headers whose comma-separated values are separate entries (§7.3.1). */
const LIST_HEADERS = new Set(['via', 'route', 'record-route', 'allow', 'supported', 'require', 'accept']);

const ROUTE_HEADERS = new Set(['via', 'route', 'record-route']);

/** Headers every message needs (§8.1.1); a request with all of them can be answered. */
const REQUIRED_HEADERS = ['via', 'call-id', 'cseq', 'from', 'to'];
const answerable = (headers: Headers): boolean => REQUIRED_HEADERS.every((h) => headers.has(h));

/** List headers written back on one line (Via and the route sets keep one line per hop). */
const JOINED_HEADERS = new Set(['allow', 'supported', 'require', 'accept']);

/** Canonical spellings for output (peers should not care, some do). */
const CANONICAL: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  www_authenticate: 'WWW-Authenticate',
  rseq: 'RSeq',
  'mime-version': 'MIME-Version',
};

export type Headers = Map<string, string[]>;

interface MessageBase {
  headers: Headers;
  body: Buffer;
}

export interface SipRequest extends MessageBase {
  kind: 'request';
  method: string;
  uri: string;
  /** Set only when the request names a SIP version other than 2.0 (it is then answered 505). */
  version?: string;
}

export interface SipResponse extends MessageBase {
  kind: 'response';
  status: number;
  reason: string;
}

export type SipMessage = SipRequest | SipResponse;

export function header(message: SipMessage, name: string): string | undefined {
  return message.headers.get(name.toLowerCase())?.[0];
}

export function headerValues(message: SipMessage, name: string): string[] {
  return message.headers.get(name.toLowerCase()) ?? [];
}

export function setHeader(message: SipMessage, name: string, value: string | string[]): void {
  message.headers.set(name.toLowerCase(), Array.isArray(value) ? value : [value]);
}

/** The CSeq header split into number and method (§8.1.1.5). */
export function cseq(message: SipMessage): { seq: number; method: string } {
  const text = header(message, 'cseq') ?? '';
  const m = /^\s*(\d+)\s+([A-Za-z0-9.!%*_+`'~-]+)\s*$/.exec(text);
  if (m === null) throw new SipParseError(`CSeq "${text}" is not a number and a method`);
  return { seq: Number(m[1]), method: m[2].toUpperCase() };
}

/** Splits on commas that are outside quotes and angle brackets; empty elements dropped unless `keepEmpty`. */
function splitList(value: string, keepEmpty = false): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i += 1) {
    const ch = value[i];
    if (ch === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && ch === '<') depth += 1;
    else if (!quoted && ch === '>') depth = Math.max(0, depth - 1);
    else if (!quoted && depth === 0 && ch === ',') {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return keepEmpty ? out : out.filter((v) => v !== '');
}

/** The Request-URI and the addresses of a request, as far as a 400 should refuse them. */
function checkRequestSyntax(request: SipRequest): void {
  const uri = request.uri;
  // §19.1.1, Table 1: the Request-URI is a bare URI, with no headers component.
  // The user part may hold "?" (§25.1 user-unreserved); after the host it starts headers.
  if (/^(sips?):/i.test(uri) && uri.slice(uri.indexOf('@') + 1).includes('?'))
    throw new SipParseError('the Request-URI has a headers component');
  if (!/^[a-z][a-z0-9+.-]*:[^\s<>"]+$/i.test(uri)) throw new SipParseError('the Request-URI is not a URI');
  for (const name of ['from', 'to']) {
    const fault = addressFault(request.headers.get(name)?.[0] ?? '');
    if (fault !== undefined) throw new SipParseError(`${name}: ${fault}`);
  }
  for (const value of request.headers.get('contact') ?? []) {
    if (value.trim() === '*') continue;
    for (const one of splitList(value, true)) {
      const fault = one === '' ? 'an empty element' : addressFault(one);
      if (fault !== undefined) throw new SipParseError(`contact: ${fault}`);
    }
  }
  for (const value of request.headers.get('via') ?? []) {
    if (viaFault(value)) throw new SipParseError('a Via value is malformed');
  }
}

/** A request line with runs of spaces, trailing spaces or a space inside the URI, as a request to answer 400. */
function lenientRequest(startLine: string, headers: Headers): SipRequest | undefined {
  const m = new RegExp(`^(${TOKEN})\\s+(\\S+)(?:\\s+\\S+)*?\\s+SIP\\/(\\d+\\.\\d+)\\s*$`).exec(startLine);
  if (m === null || !answerable(headers)) return undefined;
  return { kind: 'request', method: m[1].toUpperCase(), uri: m[2], headers, body: Buffer.alloc(0) };
}

/**
 * Parses one whole message (a UDP datagram, or a TCP frame cut by Content-Length).
 * Throws SipParseError with what is wrong; never anything else.
 */
export function parseMessage(data: Buffer): SipMessage {
  if (data.length > MAX_MESSAGE_BYTES)
    throw new SipParseError(`message of ${data.length} bytes is over the ${MAX_MESSAGE_BYTES}-byte limit`);
  let end = data.indexOf('\r\n\r\n');
  let sepLength = 4;
  if (end < 0) {
    // Bare LF line ends are tolerated (§7.5 asks for CRLF; some tools send LF).
    end = data.indexOf('\n\n');
    sepLength = 2;
  }
  const headText = (end < 0 ? data : data.subarray(0, end)).toString('utf8');
  const bodyStart = end < 0 ? data.length : end + sepLength;
  const lines = unfold(headText.replace(/^(\r?\n)+/, '').split(/\r?\n/));
  const startLine = lines.shift() ?? '';
  const headers: Headers = new Map();
  // Syntax faults found while reading the headers, answered 400 once the request is known.
  const faults: string[] = [];
  if (lines.length > MAX_HEADERS) throw new SipParseError(`more than ${MAX_HEADERS} header lines`);
  for (const line of lines) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new SipParseError(`a header line of ${line.length} characters has no name`);
    const raw = line.slice(0, colon).trim().toLowerCase();
    if (!/^[a-z0-9!%*_+`'~.-]+$/.test(raw)) throw new SipParseError(`header name "${raw.slice(0, 40)}" is not a token`);
    const name = COMPACT[raw] ?? raw;
    const value = line.slice(colon + 1).trim();
    const values = LIST_HEADERS.has(name) ? splitList(value) : [value];
    // An empty Via or route element (RFC 4475 §3.1.2.1); an empty Supported or Allow is legal.
    if (ROUTE_HEADERS.has(name) && values.length !== splitList(value, true).length) faults.push(`the ${name} header has an empty element`);
    const list = headers.get(name);
    if (list === undefined) headers.set(name, values);
    else list.push(...values);
  }
  let body = data.subarray(bodyStart);
  const lengthText = headers.get('content-length')?.[0];
  if (lengthText !== undefined) {
    if (!/^\d+$/.test(lengthText))
      throw new SipParseError(`Content-Length "${lengthText}" is not a number`, partialRequest(startLine, headers));
    const length = Number(lengthText);
    if (length > body.length)
      throw new SipParseError(
        `Content-Length ${length} is more than the ${body.length} body bytes received`,
        partialRequest(startLine, headers),
      );
    body = body.subarray(0, length);
  }
  let message: SipMessage;
  try {
    message = parseStartLine(startLine, headers, Buffer.from(body));
  } catch (err) {
    // A request line with extra spaces or a URI broken by one is still answered (400).
    throw new SipParseError((err as Error).message, lenientRequest(startLine, headers));
  }
  const partial = message.kind === 'request' && answerable(headers) ? message : undefined;
  for (const required of REQUIRED_HEADERS) {
    if (!headers.has(required)) throw new SipParseError(`the ${required} header is missing`);
  }
  if (message.kind === 'request' && message.version !== undefined) {
    throw new SipParseError(`SIP version ${message.version} is not supported`, partial, 505);
  }
  try {
    const { seq, method } = cseq(message);
    // §8.1.1.5: the sequence number is a 32-bit unsigned integer less than 2**31.
    if (seq >= 2 ** 31) throw new SipParseError(`CSeq number ${seq} is not below 2^31`);
    if (message.kind === 'request' && method !== message.method && !(message.method === 'ACK' && method === 'INVITE')) {
      throw new SipParseError(`CSeq method ${method} differs from the request method ${message.method}`);
    }
    const maxForwards = headers.get('max-forwards')?.[0];
    // §20.22: Max-Forwards = 1*DIGIT, leading zeros allowed; RFC 4475 §3.1.2.4: above 255 is malformed.
    if (maxForwards !== undefined && !(/^\d{1,10}$/.test(maxForwards) && Number(maxForwards) <= 255))
      throw new SipParseError(`Max-Forwards "${maxForwards.slice(0, 12)}" is not a number from 0 to 255`);
    if (faults.length > 0) throw new SipParseError(faults[0]);
    if (message.kind === 'request') checkRequestSyntax(message);
  } catch (err) {
    throw new SipParseError((err as Error).message, partial);
  }
  return message;
}

function partialRequest(startLine: string, headers: Headers): SipRequest | undefined {
  try {
    const message = parseStartLine(startLine, headers, Buffer.alloc(0));
    return message.kind === 'request' && answerable(headers) ? message : undefined;
  } catch {
    return undefined;
  }
}

function unfold(lines: string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line) && out.length > 0) out[out.length - 1] += ` ${line.trim()}`;
    else out.push(line);
  }
  return out;
}

function parseStartLine(line: string, headers: Headers, body: Buffer): SipMessage {
  const response = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(line);
  if (response !== null) {
    const status = Number(response[1]);
    if (status < 100 || status > 699) throw new SipParseError(`status ${status} is out of range`);
    return { kind: 'response', status, reason: response[2], headers, body };
  }
  // §25.1: Method = token; SIP-Version = "SIP/" 1*DIGIT "." 1*DIGIT.
  const request = /^([A-Za-z0-9.!%*_+`'~-]+) (\S+) SIP\/(\d+\.\d+)$/.exec(line);
  if (request === null) throw new SipParseError(`the start line (${line.length} characters) is not a SIP request or status line`);
  const version = request[3] === '2.0' ? undefined : request[3];
  return {
    kind: 'request',
    method: request[1].toUpperCase(),
    uri: request[2],
    headers,
    body,
    ...(version === undefined ? {} : { version }),
  };
}

function canonical(name: string): string {
  return CANONICAL[name] ?? name.replace(/(^|-)([a-z])/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase());
}

export function serializeMessage(message: SipMessage): Buffer {
  const start =
    message.kind === 'request' ? `${message.method} ${message.uri} ${SIP_VERSION}` : `${SIP_VERSION} ${message.status} ${message.reason}`;
  const lines = [start];
  for (const [name, values] of message.headers) {
    if (name === 'content-length') continue;
    if (JOINED_HEADERS.has(name)) lines.push(`${canonical(name)}: ${values.join(', ')}`);
    else for (const value of values) lines.push(`${canonical(name)}: ${value}`);
  }
  lines.push(`Content-Length: ${message.body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), message.body]);
}

export function createRequest(method: string, uri: string, headers: [string, string][], body: Buffer = Buffer.alloc(0)): SipRequest {
  const map: Headers = new Map();
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    const list = map.get(key);
    if (list === undefined) map.set(key, [value]);
    else list.push(value);
  }
  return { kind: 'request', method, uri, headers: map, body };
}

const REASONS: Record<number, string> = {
  100: 'Trying',
  180: 'Ringing',
  200: 'OK',
  202: 'Accepted',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  415: 'Unsupported Media Type',
  420: 'Bad Extension',
  481: 'Call/Transaction Does Not Exist',
  483: 'Too Many Hops',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  491: 'Request Pending',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? (status < 300 ? 'OK' : 'Error');
}

/**
 * A response to `request` (§8.2.6.2): Via, From, To, Call-ID and CSeq copied; a To tag
 * added when given and the request's To has none.
 */
export function createResponse(
  request: SipRequest,
  status: number,
  options: { reason?: string; toTag?: string; headers?: [string, string][]; body?: Buffer } = {},
): SipResponse {
  const headers: Headers = new Map();
  for (const name of ['via', 'from', 'to', 'call-id', 'cseq']) {
    const values = request.headers.get(name);
    if (values !== undefined) headers.set(name, [...values]);
  }
  if (status !== 100) headers.delete('timestamp');
  const to = headers.get('to')?.[0];
  if (options.toTag !== undefined && to !== undefined && status > 100 && !/;\s*tag=/i.test(to)) {
    headers.set('to', [`${to};tag=${options.toTag}`]);
  }
  for (const [name, value] of options.headers ?? []) {
    const key = name.toLowerCase();
    const list = headers.get(key);
    if (list === undefined) headers.set(key, [value]);
    else list.push(value);
  }
  return { kind: 'response', status, reason: options.reason ?? reasonPhrase(status), headers, body: options.body ?? Buffer.alloc(0) };
}

/**
 * Cuts complete messages out of a TCP byte stream (§18.3: Content-Length is mandatory
 * on stream transports). Keep-alive CRLFs between messages are skipped (RFC 5626 §3.5.1).
 */
export class StreamFramer {
  private buffer: Buffer = Buffer.alloc(0);

  /** Bytes of a message begun and not yet whole (keep-alive line ends do not count). */
  get pending(): number {
    let skip = 0;
    while (skip < this.buffer.length && (this.buffer[skip] === 13 || this.buffer[skip] === 10)) skip += 1;
    return this.buffer.length - skip;
  }

  /** Returns the complete messages now available; throws SipParseError when the stream cannot be framed. */
  push(chunk: Buffer): Buffer[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      let skip = 0;
      while (skip < this.buffer.length && (this.buffer[skip] === 13 || this.buffer[skip] === 10)) skip += 1;
      if (skip > 0) this.buffer = this.buffer.subarray(skip);
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.buffer.length > MAX_MESSAGE_BYTES) throw new SipParseError('headers longer than the message size limit');
        return out;
      }
      const head = this.buffer.subarray(0, end).toString('utf8');
      const m = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)/im.exec(head);
      if (m === null) throw new SipParseError('a message on a stream transport has no Content-Length');
      const total = end + 4 + Number(m[1]);
      if (total > MAX_MESSAGE_BYTES) throw new SipParseError(`message of ${total} bytes is over the ${MAX_MESSAGE_BYTES}-byte limit`);
      if (this.buffer.length < total) return out;
      out.push(Buffer.from(this.buffer.subarray(0, total)));
      this.buffer = this.buffer.subarray(total);
    }
  }
}

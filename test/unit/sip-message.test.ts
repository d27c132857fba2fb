import {
  createResponse,
  cseq,
  reasonPhrase,
  header,
  headerValues,
  parseMessage,
  serializeMessage,
  SipParseError,
  SipRequest,
  StreamFramer,
} from '../../src/sip/message';
import { parseNameAddr, parseUri, parseVia, tagOf } from '../../src/sip/address';
import { redactSip } from '../../src/sip/transport';

const invite = [
  'INVITE sip:demo@127.0.0.1:5060 SIP/2.0',
  'v: SIP/2.0/UDP 10.0.0.1:5061;branch=z9hG4bK1;rport, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK2',
  'f: "Caller, Jr" <sip:100@10.0.0.1>;tag=abc',
  't: <sip:demo@127.0.0.1>',
  'i: call-1@10.0.0.1',
  'CSeq: 1 INVITE',
  'Subject: a header',
  '  folded on two lines',
  'c: application/sdp',
  'l: 4',
  '',
  'v=0\r\nextra bytes past the length',
].join('\r\n');

describe('SIP messages', () => {
  it('parses compact headers, folded lines, comma-separated Vias and the body by Content-Length', () => {
    const m = parseMessage(Buffer.from(invite)) as SipRequest;
    expect(m.kind).toBe('request');
    expect(m.method).toBe('INVITE');
    expect(m.uri).toBe('sip:demo@127.0.0.1:5060');
    expect(headerValues(m, 'via')).toHaveLength(2);
    expect(header(m, 'subject')).toBe('a header folded on two lines');
    expect(header(m, 'content-type')).toBe('application/sdp');
    expect(m.body.toString()).toBe('v=0\r');
    expect(cseq(m)).toEqual({ seq: 1, method: 'INVITE' });
    expect(tagOf(header(m, 'from'))).toBe('abc');
    expect(parseNameAddr(header(m, 'from') ?? '')?.display).toBe('Caller, Jr');
  });

  it('round-trips through serialisation with a correct Content-Length', () => {
    const m = parseMessage(Buffer.from(invite));
    const again = parseMessage(serializeMessage(m));
    expect(again).toEqual(m);
    expect(serializeMessage(m).toString()).toMatch(/\r\nContent-Length: 4\r\n\r\nv=0\r$/);
  });

  it('builds responses that copy Via, From, To, Call-ID and CSeq and add the To tag', () => {
    const m = parseMessage(Buffer.from(invite)) as SipRequest;
    const r = createResponse(m, 404, { toTag: 'xyz' });
    expect(r.status).toBe(404);
    expect(r.reason).toBe('Not Found');
    expect(headerValues(r, 'via')).toEqual(headerValues(m, 'via'));
    expect(tagOf(header(r, 'to'))).toBe('xyz');
  });

  it.each([
    ['binary garbage', Buffer.from([0, 1, 2, 3, 255, 254])],
    ['a start line that is not SIP', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    [
      'a missing Call-ID',
      Buffer.from(
        'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCSeq: 1 OPTIONS\r\n\r\n',
      ),
    ],
    ['a Content-Length past the end', Buffer.from(`${invite.replace('l: 4', 'l: 400')}`)],
    ['a CSeq that is not a number', Buffer.from(invite.replace('CSeq: 1 INVITE', 'CSeq: one INVITE'))],
  ])('rejects %s with a SipParseError', (_name, data) => {
    expect(() => parseMessage(data)).toThrow(SipParseError);
  });

  it('keeps enough of a bad request to answer it with 400', () => {
    try {
      parseMessage(Buffer.from(invite.replace('CSeq: 1 INVITE', 'CSeq: 1 BYE')));
      throw new Error('no error');
    } catch (err) {
      expect((err as SipParseError).partial?.method).toBe('INVITE');
    }
  });

  const failure = (text: string): SipParseError => {
    try {
      parseMessage(Buffer.from(text));
    } catch (err) {
      return err as SipParseError;
    }
    throw new Error('no error');
  };

  it.each([
    [
      'Max-Forwards that is not a number',
      invite.replace('CSeq: 1 INVITE', 'CSeq: 1 INVITE\r\nMax-Forwards: abc'),
      400,
      /Max-Forwards "abc" is not a number/,
    ],
    [
      'a CSeq number of 2^31 or more (§8.1.1.5)',
      invite.replace('CSeq: 1 INVITE', 'CSeq: 2147483648 INVITE'),
      400,
      /CSeq number 2147483648 is not below 2\^31/,
    ],
    ['another SIP version', invite.replace('SIP/2.0\r\nv:', 'SIP/7.0\r\nv:'), 505, /SIP version 7.0 is not supported/],
  ])('answers %s with %d', (_name, text, status, message) => {
    const err = failure(text);
    expect(err.message).toMatch(message);
    expect(err.status).toBe(status);
    expect(err.partial?.method).toBe('INVITE');
  });

  it('takes what real peers send: leading zeros, IPv6 received, unquoted non-ASCII display names, ? in a user part, an empty Supported, a trailing comma in Allow', () => {
    const ok = invite
      .replace(
        'CSeq: 1 INVITE',
        'CSeq: 1 INVITE\r\nMax-Forwards: 0070\r\nContact: Hervé <sip:100@10.0.0.1;transport=tcp>;expires=60, <sip:101@10.0.0.1>',
      )
      .replace('branch=z9hG4bK1;rport', 'branch=z9hG4bK1;rport=5061;received=2001:db8::1')
      .replace('INVITE sip:demo@127.0.0.1:5060', 'INVITE sip:de?mo@127.0.0.1:5060')
      .replace('Subject: a header', 'Supported:\r\nAllow: INVITE, ACK,\r\nSubject: a header');
    expect((parseMessage(Buffer.from(ok)) as SipRequest).uri).toBe('sip:de?mo@127.0.0.1:5060');
  });

  it.each([
    [
      'a Request-URI in <>',
      invite.replace('INVITE sip:demo@127.0.0.1:5060', 'INVITE <sip:demo@127.0.0.1:5060>'),
      /Request-URI is not a URI/,
    ],
    [
      'a Request-URI with headers',
      invite.replace('INVITE sip:demo@127.0.0.1:5060', 'INVITE sip:demo@127.0.0.1:5060?Route=%3Csip:x%3E'),
      /headers component/,
    ],
    ['two spaces in the request line', invite.replace('INVITE sip:', 'INVITE  sip:'), /start line/],
    ['an unterminated quoted display name', invite.replace('f: "Caller, Jr" <sip:', 'f: "Caller, Jr <sip:'), /from: /],
    ['a comma in an unquoted display name', invite.replace('f: "Caller, Jr" <sip:', 'f: Caller, Jr <sip:'), /from: /],
    ['spaces inside <>', invite.replace('t: <sip:demo@127.0.0.1>', 't: < sip:demo@127.0.0.1 >'), /to: /],
    ['an empty parameter', invite.replace(';tag=abc', ';;tag=abc'), /from: .*parameter/],
    ['an empty Via element', invite.replace('branch=z9hG4bK2', 'branch=z9hG4bK2,,'), /via header has an empty element/],
    ['a Content-Length past the body', invite.replace('l: 4', 'l: 9999'), /Content-Length 9999/],
    ['Max-Forwards over 255', invite.replace('CSeq: 1 INVITE', 'CSeq: 1 INVITE\r\nMax-Forwards: 300'), /Max-Forwards/],
  ])('answers %s with 400 (RFC 4475 §3.1.2)', (_name, text, message) => {
    const err = failure(text);
    expect(err.message).toMatch(message);
    expect(err.status).toBe(400);
    expect(err.partial?.method).toBe('INVITE');
  });

  it('reads a method with token characters, to be answered 501 rather than dropped', () => {
    expect(
      (
        parseMessage(
          Buffer.from(invite.replace('INVITE sip:', 'INV!TE.x sip:').replace('CSeq: 1 INVITE', 'CSeq: 1 INV!TE.x')),
        ) as SipRequest
      ).method,
    ).toBe('INV!TE.X');
  });

  it("never quotes a caller's name, number or request URI in what it says was wrong (it is logged)", () => {
    const privateBits = /Dupont|33698765432|demo@/;
    const broken = [
      invite.replace('f: "Caller, Jr" <sip:100@10.0.0.1>;tag=abc', 'From "Jean Dupont" <sip:+33698765432@pbx>'),
      invite.replace('INVITE sip:demo@127.0.0.1:5060 SIP/2.0', 'INVITE sip:+33698765432@pbx SIP/2.0 extra'),
      'INVITE sip:demo@x SIP/2.0\r\nFrom: "Jean Dupont" <sip:+33698765432@pb',
    ];
    for (const text of broken) expect(failure(text).message).not.toMatch(privateBits);
  });

  it('frames a TCP stream by Content-Length, across chunk boundaries and keep-alives', () => {
    const one = serializeMessage(parseMessage(Buffer.from(invite)));
    const stream = Buffer.concat([Buffer.from('\r\n\r\n'), one, one]);
    const framer = new StreamFramer();
    const out = [
      ...framer.push(stream.subarray(0, 50)),
      ...framer.push(stream.subarray(50, one.length + 20)),
      ...framer.push(stream.subarray(one.length + 20)),
    ];
    expect(out).toHaveLength(2);
    expect(out[1].equals(one)).toBe(true);
  });

  it('gives RFC 3261 reason phrases for every status attendant sends', () => {
    const sent = [100, 180, 200, 202, 400, 403, 404, 405, 408, 420, 481, 483, 486, 487, 488, 500, 501, 503];
    expect(sent.map(reasonPhrase).filter((p) => p === 'Error' || p === 'OK').length).toBe(1); // 200 OK only
    expect(reasonPhrase(420)).toBe('Bad Extension');
    expect(reasonPhrase(483)).toBe('Too Many Hops');
  });

  it('parses URIs and Vias', () => {
    expect(parseUri('sip:2012@pbx.example:5070;transport=tcp')).toMatchObject({ user: '2012', host: 'pbx.example', port: 5070 });
    expect(parseUri('sip:[::1]:5060')).toMatchObject({ host: '[::1]', port: 5060 });
    expect(parseUri('http://x')).toBeUndefined();
    expect(parseVia('SIP/2.0/TCP 10.0.0.1:5062;branch=z9hG4bKa;received=1.2.3.4')).toMatchObject({
      transport: 'TCP',
      host: '10.0.0.1',
      port: 5062,
    });
  });
});

describe('SIP parsing under hostile input', () => {
  it('either parses or throws SipParseError for 5,000 mutated messages, never anything else', () => {
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const base = Buffer.from(invite);
    let parsed = 0;
    for (let i = 0; i < 5000; i += 1) {
      const data = Buffer.from(base);
      const edits = 1 + random(8);
      for (let e = 0; e < edits; e += 1) data[random(data.length)] = random(256);
      const cut = random(4) === 0 ? data.subarray(0, random(data.length)) : data;
      try {
        parseMessage(cut);
        parsed += 1;
      } catch (err) {
        expect(err).toBeInstanceOf(SipParseError);
      }
    }
    // Some mutations leave a valid message, most do not: both paths were exercised.
    expect(parsed).toBeGreaterThan(50);
    expect(parsed).toBeLessThan(5000);
  });
});

describe('SIP trace at debug', () => {
  it("masks the caller's number and name, and keeps the store and the extensions", () => {
    const text = [
      'INVITE sip:brest-01@10.0.0.5 SIP/2.0',
      'From: "Jean Dupont" <sip:+33698765432@pbx.example>;tag=1',
      'To: <sip:brest-01@10.0.0.5>',
      'Contact: <sip:+33698765432@10.0.0.9:5060>',
      'P-Asserted-Identity: <tel:+33698765432>',
      'Refer-To: <sip:2014@pbx.example>',
      '',
      '',
    ].join('\r\n');
    const shown = redactSip(Buffer.from(text, 'latin1'), (user) => user === 'brest-01');
    expect(shown).not.toMatch(/33698765432|Dupont/);
    expect(shown).toContain('INVITE sip:brest-01@10.0.0.5 SIP/2.0');
    expect(shown).toContain('From: "…" <sip:…@pbx.example>;tag=1');
    expect(shown).toContain('To: <sip:brest-01@10.0.0.5>');
    expect(shown).toContain('Refer-To: <sip:2014@pbx.example>');
  });

  it("masks the caller in the messages attendant sends too: a REFER to the caller's contact, its To, and the 200 to a BYE", () => {
    const refer = [
      'REFER sip:0612345678-3f2a@10.0.0.9:5060 SIP/2.0',
      'From: <sip:brest-01@10.0.0.5>;tag=ab',
      'To: "Jean Dupont" <sip:0612345678@pbx.example>;tag=1',
      'Refer-To: <sip:4104@pbx.example>',
      'Referred-By: <sip:brest-01@10.0.0.5>',
      '',
      '',
    ].join('\r\n');
    const ok = [
      'SIP/2.0 200 OK',
      'From: Jean Dupont <sip:0612345678@pbx.example>;tag=1',
      'To: <sip:brest-01@10.0.0.5>;tag=ab',
      '',
      '',
    ].join('\r\n');
    const keep = (user: string): boolean => user === 'brest-01';
    const shown = [refer, ok].map((t) => redactSip(Buffer.from(t, 'latin1'), keep)).join('\n');
    expect(shown).not.toMatch(/0612345678|Jean|Dupont/);
    expect(shown).toContain('REFER sip:…@10.0.0.9:5060 SIP/2.0');
    expect(shown).toContain('To: "…" <sip:…@pbx.example>;tag=1');
    expect(shown).toContain('From: "…" <sip:…@pbx.example>;tag=1');
    expect(shown).toContain('Refer-To: <sip:4104@pbx.example>');
    expect(shown).toContain('Referred-By: <sip:brest-01@10.0.0.5>');
  });
});

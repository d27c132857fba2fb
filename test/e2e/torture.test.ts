import { ChildProcess } from 'node:child_process';
import { createSocket, Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/main';
import { freePort } from '../integration/free-port';
import { spawnServe, untilReady } from '../integration/serve-process';

/**
 * RFC 4475, sections 3.1.1 (valid messages a parser must take) and 3.1.2 (invalid messages),
 * sent over UDP to a running `attendant serve`. The messages are written for this test after
 * the RFC's description of each case (the same defect, addressed to this server); each names
 * the RFC's short name and the answer the RFC expects.
 */

interface Case {
  /** RFC 4475 section and short name. */
  name: string;
  message: (me: string) => string | Buffer;
  /** The status codes the RFC accepts; [] for a message that must get no answer. */
  expect: number[] | 'not 400';
}

const CRLF = '\r\n';
const lines = (...l: string[]): string => l.join(CRLF);
const STORE = 'nobody-torture'; // INVITEs go to a store that does not exist: none sets up a call
const SDP = lines(
  'v=0',
  'o=torture 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 49170 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
  '',
);
const via = (me: string, branch: string): string => `Via: SIP/2.0/UDP ${me};rport;branch=z9hG4bK${branch}`;

const CASES: Case[] = [
  // 3.1.1: valid, if tortuous.
  {
    name: '3.1.1.1 wsinv (folding, escaped quotes, LWS, compact forms, odd case, leading zeros)',
    message: (me) =>
      lines(
        `INVITE sip:${STORE}@127.0.0.1;unknownparam SIP/2.0`,
        'TO :',
        `  sip:${STORE}@127.0.0.1 ;   tag    = 1918181833n`,
        'from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>',
        '  ;',
        '  tag = 98asjd8',
        'MaX-fOrWaRdS: 0068',
        'Call-ID: wsinv.ndaksdj9342dasdd',
        'Content-Length   : 150',
        'cseq: 0009',
        '  INVITE',
        `${via(me, 'wsinv-1')}`,
        's :',
        'NewFangledHeader:   newfangled value',
        ' continued newfangled value',
        'UnknownHeaderWithUnusualValue: ;;,,;;,;',
        'Content-Type: application/sdp',
        'v:  SIP  /   2.0  / TCP     spindle.example.com   ;',
        '  branch  =   z9hG4bK9ikj8  ,',
        ' SIP  /    2.0   / UDP  192.168.255.111   ; branch=',
        ' z9hG4bK30239',
        'm:"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =',
        '      newvalue ;',
        '  secondparam ; q = 0.33',
        '',
        SDP.padEnd(150, ' '),
      ),
    expect: 'not 400',
  },
  {
    name: '3.1.1.2 intmeth (a method of every token character)',
    message: (me) =>
      lines(
        `!interesting-Method0123456789_*+\`.%indeed'~ sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@127.0.0.1 SIP/2.0`,
        `${via(me, 'intmeth-1')}`,
        'To: "BEL:\\\u0007 NUL:\\\u0000 DEL:\\\u007f" <sip:1_unusual.URI~(to-be!sure)&isn\'t+it$/crazy?,/;;*@127.0.0.1>',
        "From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=\"работающий\";tag=_token~1'+`*%!-.",
        'Call-ID: intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{',
        "CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~",
        'Max-Forwards: 255',
        "extensionHeader-!.%*+_`'~: 大停電",
        'Content-Length: 0',
        '',
        '',
      ),
    expect: [501, 405],
  },
  {
    name: '3.1.1.3 esc01 (escaped characters in the Request-URI and addresses)',
    message: (me) =>
      lines(
        `INVITE sip:sips%3A${STORE}%40example.com@127.0.0.1 SIP/2.0`,
        `To: sip:%73ips%3A${STORE}%40example.com@127.0.0.1`,
        'From: <sip:I%20have%20spaces@example.net>;tag=938',
        'Max-Forwards: 87',
        'i: esc01.239409asdfakjkn23onasd0-3234',
        'CSeq: 234234 INVITE',
        `${via(me, 'esc01-1')}`,
        'C: application/sdp',
        'Contact: <sip:cal%6Cer@127.0.0.1;%6C%72;n%61me=v%61lue%25%34%31>',
        `Content-Length: ${Buffer.byteLength(SDP)}`,
        '',
        SDP,
      ),
    expect: 'not 400',
  },
  {
    name: '3.1.1.4 escnull (escaped nulls in URIs)',
    message: (me) =>
      lines(
        'REGISTER sip:127.0.0.1 SIP/2.0',
        'To: sip:null-%00-null@example.com',
        'From: sip:null-%00-null@example.com;tag=839923423',
        'Max-Forwards: 70',
        'Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd',
        'CSeq: 14398234 REGISTER',
        `${via(me, 'escnull-1')}`,
        'Contact: <sip:%00@127.0.0.1>',
        'Contact: <sip:%00%00@127.0.0.1>',
        'L:0',
        '',
        '',
      ),
    expect: 'not 400',
  },
  {
    name: '3.1.1.5 esc02 (% that is not an escape, in the method and elsewhere)',
    message: (me) =>
      lines(
        'RE%47IST%45R sip:127.0.0.1 SIP/2.0',
        'To: "%Z%45" <sip:resource@example.com>',
        'From: "%Z%45" <sip:resource@example.com>;tag=f232jadfj23',
        'Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf',
        `${via(me, 'esc02-1')}`,
        'CSeq: 29344 RE%47IST%45R',
        'Max-Forwards: 70',
        'Contact: <sip:alias1@127.0.0.1>',
        'Content-Length: 0',
        '',
        '',
      ),
    expect: [501, 405],
  },
  {
    name: '3.1.1.6 lwsdisp (no LWS between display name and <)',
    message: (me) =>
      lines(
        'OPTIONS sip:demo@127.0.0.1 SIP/2.0',
        'To: sip:demo@127.0.0.1',
        'From: caller<sip:caller@example.com>;tag=323',
        'Max-Forwards: 70',
        'Call-ID: lwsdisp.1234abcd@funky.example.com',
        'CSeq: 60 OPTIONS',
        `${via(me, 'lwsdisp-1')}`,
        'l: 0',
        '',
        '',
      ),
    expect: [200, 503],
  },
  {
    name: '3.1.1.7 longreq (very long values)',
    message: (me) =>
      lines(
        `INVITE sip:${STORE}@127.0.0.1 SIP/2.0`,
        `To: "I have a user name of ${'extreme'.repeat(10)} proportion"<sip:${STORE}@127.0.0.1:6000;unknownparam1=very${'long'.repeat(30)}value;longparam${'name'.repeat(20)}=shortvalue;very${'long'.repeat(25)}ParameterNameWithNoValue>`,
        `F: sip:${'amazinglylongcallername'.repeat(5)}@example.net;tag=12${'982'.repeat(70)}424;unknownheaderparam${'name'.repeat(30)}=unknowheaderparam${'value'.repeat(30)};unknownValueless${'paramname'.repeat(10)}`,
        `Call-ID: longreq.one${'really'.repeat(60)}longcallid`,
        'CSeq: 3882340 INVITE',
        `Unknown-${'Long'.repeat(30)}-Name: unknown-${'long'.repeat(30)}-value; unknown-${'long'.repeat(30)}-parameter-name = unknown-${'long'.repeat(30)}-parameter-value`,
        `${via(me, 'longreq-1')}`,
        ...Array.from({ length: 20 }, (_, i) => `Via: SIP/2.0/TCP sip${i}.example.com;branch=z9hG4bK${'x'.repeat(40)}${i}`),
        'Max-Forwards: 70',
        `Contact: <sip:${'amazinglylongcallername'.repeat(5)}@127.0.0.1:5060>`,
        'Content-Type: application/sdp',
        `Content-Length: ${Buffer.byteLength(SDP)}`,
        '',
        SDP,
      ),
    expect: 'not 400',
  },
  {
    name: '3.1.1.9 semiuri (semicolons in the user part)',
    message: (me) =>
      lines(
        'OPTIONS sip:user;par=u%40example.net@127.0.0.1 SIP/2.0',
        'To: sip:j_user@example.com',
        'From: sip:caller@example.org;tag=33242',
        'Max-Forwards: 3',
        'Call-ID: semiuri.0ha0isndaksdj',
        'CSeq: 8 OPTIONS',
        'Accept: application/sdp, application/pkcs7-mime,',
        '        multipart/mixed, multipart/signed,',
        '        message/sip, message/sipfrag',
        `${via(me, 'semiuri-1')}`,
        'l: 0',
        '',
        '',
      ),
    expect: [200, 503],
  },
  {
    name: '3.1.1.10 transports (unknown and varied transports in Via)',
    message: (me) =>
      lines(
        'OPTIONS sip:demo@127.0.0.1 SIP/2.0',
        'To: sip:demo@127.0.0.1',
        'From: <sip:caller@example.com>;tag=323',
        'Max-Forwards: 70',
        'Call-ID: transports.kijh4akdnaqjkwendsasfdj',
        'Accept: application/sdp',
        'CSeq: 60 OPTIONS',
        `${via(me, 'transports-1')}`,
        'Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf',
        'Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj',
        'Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en',
        'Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee',
        'l: 0',
        '',
        '',
      ),
    expect: [200, 503],
  },
  {
    name: '3.1.1.11 mpart01 (a multipart body, one part binary)',
    message: (me) => {
      const binary = Buffer.from([
        0x30, 0x82, 0x01, 0x52, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0, 0x00, 0xff, 0xfe, 0x0d, 0x0a, 0x00,
      ]);
      const body = Buffer.concat([
        Buffer.from(
          lines(
            '',
            '--boundary42',
            'Content-Type: application/sdp',
            '',
            SDP,
            '--boundary42',
            'Content-Type: application/octet-stream',
            'Content-Transfer-Encoding: binary',
            '',
            '',
          ),
        ),
        binary,
        Buffer.from(lines('', '--boundary42--', '')),
      ]);
      const head = lines(
        `INVITE sip:${STORE}@127.0.0.1 SIP/2.0`,
        `${via(me, 'mpart01-1')}`,
        'Max-Forwards: 70',
        'From: Bob <sip:bob@example.com>;tag=ldw22z',
        `To: <sip:${STORE}@127.0.0.1>`,
        'Call-ID: mpart01.nwefbuj2398fd',
        'CSeq: 1 INVITE',
        'Contact: <sip:bob@127.0.0.1>',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed;boundary=boundary42',
        `Content-Length: ${body.length}`,
        '',
        '',
      );
      return Buffer.concat([Buffer.from(head), body]);
    },
    expect: 'not 400',
  },
  {
    name: '3.1.1.12 unreason (a response with an unusual reason phrase)',
    message: (me) =>
      lines(
        'SIP/2.0 200 = 2**3 * 5**2 но сто девяносто девять - простое',
        `${via(me, 'unreason-1')}`,
        'Call-ID: unreason.1234ksdfak3j2erwedfsASdf',
        'CSeq: 35 INVITE',
        'From: sip:user@example.com;tag=11141343',
        'To: sip:user@example.edu;tag=2229',
        'Content-Length: 0',
        '',
        '',
      ),
    expect: [],
  },
  {
    name: '3.1.1.13 noreason (a response with an empty reason phrase)',
    message: (me) =>
      lines(
        'SIP/2.0 100 ',
        `${via(me, 'noreason-1')}`,
        'Call-ID: noreason.asndj203insdf99223ndf',
        'CSeq: 35 INVITE',
        'From: <sip:user@example.com>;tag=39ansfi3',
        'To: <sip:user@example.edu>;tag=902jndnke3',
        'Content-Length: 0',
        '',
        '',
      ),
    expect: [],
  },
  // 3.1.2: invalid.
  ...[
    [
      '3.1.2.1 badinv01 (extraneous header field separators)',
      (me: string) =>
        lines(
          `INVITE sip:${STORE}@127.0.0.1 SIP/2.0`,
          `To: sip:${STORE}@127.0.0.1`,
          'From: sip:caller@example.net;;tag=134161461246',
          'Max-Forwards: 7',
          'Call-ID: badinv01.0ha0isndaksdjasdf3234nas',
          'CSeq: 8 INVITE',
          `${via(me, 'badinv01-1')};;,;,,`,
          'Contact: "Joe" <sip:joe@example.org>;;;;',
          'Content-Type: application/sdp',
          `Content-Length: ${Buffer.byteLength(SDP)}`,
          '',
          SDP,
        ),
    ],
    [
      '3.1.2.2 clerr (Content-Length larger than the message)',
      (me: string) =>
        lines(
          `INVITE sip:${STORE}@127.0.0.1 SIP/2.0`,
          'Max-Forwards: 80',
          `To: sip:${STORE}@127.0.0.1`,
          'From: sip:caller@example.net;tag=93942939o2',
          'Contact: <sip:caller@127.0.0.1>',
          'Call-ID: clerr.0ha0isndaksdjweiafasdk3',
          'CSeq: 8 INVITE',
          `${via(me, 'clerr-1')}`,
          'Content-Type: application/sdp',
          'Content-Length: 9999',
          '',
          SDP,
        ),
    ],
    [
      '3.1.2.3 scalar02 (negative Content-Length)',
      (me: string) =>
        lines(
          'REGISTER sip:127.0.0.1 SIP/2.0',
          `${via(me, 'scalar02-1')}`,
          'Max-Forwards: 70',
          'From: <sip:exampleuser@example.com>;tag=932935',
          'To: <sip:exampleuser@example.com>',
          'Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32',
          'CSeq: 36893 REGISTER',
          'Contact: <sip:exampleuser@127.0.0.1>',
          'Expires: 0',
          'Content-Length: -999',
          '',
          '',
        ),
    ],
    [
      '3.1.2.4 scalarlg (request scalar fields with overlarge values)',
      (me: string) =>
        lines(
          'REGISTER sip:127.0.0.1 SIP/2.0',
          `${via(me, 'scalarlg-1')}`,
          'Max-Forwards: 300',
          'From: sip:user@example.com;tag=932935',
          'To: sip:user@example.com',
          'Call-ID: scalarlg.wijoiuqyrewlkqjwrlw',
          'CSeq: 36893488147419103232 REGISTER',
          'Contact: <sip:user@127.0.0.1>',
          'Expires: 1000000000000000000000000000000000000',
          'Contact: <sip:user@127.0.0.2>;expires=280297596632815',
          'Content-Length: 0',
          '',
          '',
        ),
    ],
    [
      '3.1.2.6 quotbal (unterminated quoted string in a display name)',
      (me: string) =>
        lines(
          `INVITE sip:${STORE}@127.0.0.1 SIP/2.0`,
          `To: "Mr. J. User <sip:${STORE}@127.0.0.1>`,
          'From: sip:caller@example.net;tag=93334',
          'Max-Forwards: 10',
          'Call-ID: quotbal.aksdj',
          'Contact: <sip:caller@127.0.0.1:5060>',
          'CSeq: 8 INVITE',
          `${via(me, 'quotbal-1')}`,
          'Content-Type: application/sdp',
          `Content-Length: ${Buffer.byteLength(SDP)}`,
          '',
          SDP,
        ),
    ],
    [
      '3.1.2.7 ltgtruri (<> around the Request-URI)',
      (me: string) =>
        lines(
          `INVITE <sip:${STORE}@127.0.0.1> SIP/2.0`,
          `To: sip:${STORE}@127.0.0.1`,
          'From: sip:caller@example.net;tag=39291',
          'Max-Forwards: 23',
          'Call-ID: ltgtruri.1@192.0.2.5',
          'CSeq: 1 INVITE',
          `${via(me, 'ltgtruri-1')}`,
          'Contact: <sip:caller@127.0.0.1>',
          'Content-Type: application/sdp',
          `Content-Length: ${Buffer.byteLength(SDP)}`,
          '',
          SDP,
        ),
    ],
    [
      '3.1.2.8 lwsruri (LWS inside the Request-URI)',
      (me: string) =>
        lines(
          `INVITE sip:${STORE}@127.0.0.1; lr SIP/2.0`,
          `To: sip:${STORE}@127.0.0.1;tag=3xfe-9921883-z9f`,
          'From: sip:caller@example.net;tag=231413434',
          'Max-Forwards: 5',
          'Call-ID: lwsruri.asdfasdoeoi2323-asdfwrn23-asd834rk423',
          'CSeq: 2130706432 INVITE',
          `${via(me, 'lwsruri-1')}`,
          'Contact: <sip:caller@127.0.0.1:5060>',
          'Content-Type: application/sdp',
          `Content-Length: ${Buffer.byteLength(SDP)}`,
          '',
          SDP,
        ),
    ],
    [
      '3.1.2.9 lwsstart (several SP between the Request-Line elements)',
      (me: string) =>
        lines(
          `INVITE  sip:${STORE}@127.0.0.1  SIP/2.0`,
          'Max-Forwards: 8',
          `To: sip:${STORE}@127.0.0.1`,
          'From: sip:caller@example.net;tag=8814',
          'Call-ID: lwsstart.dfknq234oi243099adsdfnawe3@example.com',
          'CSeq: 1893884 INVITE',
          `${via(me, 'lwsstart-1')}`,
          'Contact: <sip:caller@127.0.0.1:5060>',
          'Content-Type: application/sdp',
          `Content-Length: ${Buffer.byteLength(SDP)}`,
          '',
          SDP,
        ),
    ],
    [
      '3.1.2.10 trws (SP at the end of the Request-Line)',
      (me: string) =>
        lines(
          'OPTIONS sip:demo@127.0.0.1 SIP/2.0  ',
          `${via(me, 'trws-1')}`,
          'Max-Forwards: 82',
          'To: <sip:demo@127.0.0.1>',
          'From: sip:caller@example.net;tag=32394234',
          'Call-ID: trws.oij4q2345sdf@example.com',
          'CSeq: 3923239 OPTIONS',
          'Content-Length: 0',
          '',
          '',
        ),
    ],
    [
      '3.1.2.11 escruri (escaped headers in the Request-URI)',
      (me: string) =>
        lines(
          `INVITE sip:${STORE}@127.0.0.1?Route=%3Csip:example.com%3E SIP/2.0`,
          `To: sip:${STORE}@127.0.0.1`,
          'From: sip:caller@example.net;tag=341518',
          'Max-Forwards: 7',
          'Contact: <sip:caller@127.0.0.1>',
          'Call-ID: escruri.23940-asdfhj-aje3br-234q098w-fawerh2q-h4n5',
          'CSeq: 149209342 INVITE',
          `${via(me, 'escruri-1')}`,
          'Content-Type: application/sdp',
          `Content-Length: ${Buffer.byteLength(SDP)}`,
          '',
          SDP,
        ),
    ],
    [
      '3.1.2.13 regbadct (a name-addr with parameters, not in <>)',
      (me: string) =>
        lines(
          'REGISTER sip:127.0.0.1 SIP/2.0',
          'To: sip:user@example.com',
          'From: sip:user@example.com;tag=998332',
          'Max-Forwards: 70',
          'Call-ID: regbadct.k345asrl3fdbv@10.0.0.1',
          'CSeq: 1 REGISTER',
          `${via(me, 'regbadct-1')}`,
          'Contact: sip:user@127.0.0.1?Route=%3Csip:sip.example.com%3E',
          'l: 0',
          '',
          '',
        ),
    ],
    [
      '3.1.2.14 badaspec (spaces inside an addr-spec)',
      (me: string) =>
        lines(
          'OPTIONS sip:demo@127.0.0.1 SIP/2.0',
          `${via(me, 'badaspec-1')}`,
          'Max-Forwards: 70',
          'From: "Bell, Alexander" <sip:a.g.bell@example.com>;tag=433423',
          'To: "Watson, Thomas" < sip:t.watson@example.org >',
          'Call-ID: badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3',
          'Accept: application/sdp',
          'CSeq: 3923239 OPTIONS',
          'l: 0',
          '',
          '',
        ),
    ],
    [
      '3.1.2.15 baddn (non-token characters in an unquoted display name)',
      (me: string) =>
        lines(
          'OPTIONS sip:demo@127.0.0.1 SIP/2.0',
          `${via(me, 'baddn-1')}`,
          'Max-Forwards: 70',
          'From: Bell, Alexander <sip:a.g.bell@example.com>;tag=43',
          'To: Watson, Thomas <sip:t.watson@example.org>',
          'Call-ID: baddn.31415@c.example.com',
          'Accept: application/sdp',
          'CSeq: 3923239 OPTIONS',
          'l: 0',
          '',
          '',
        ),
    ],
    [
      '3.1.2.16 badvers (an unknown protocol version)',
      (me: string) =>
        lines(
          'OPTIONS sip:demo@127.0.0.1 SIP/7.0',
          `Via: SIP/7.0/UDP ${me};rport;branch=z9hG4bKbadvers-1`,
          'Max-Forwards: 70',
          'From: A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe',
          'To: T. Watson <sip:t.watson@example.org>',
          'Call-ID: badvers.31417@c.example.com',
          'CSeq: 1 OPTIONS',
          'l: 0',
          '',
          '',
        ),
      [505],
    ],
    [
      '3.1.2.17 mismatch01 (Request-Line and CSeq methods differ)',
      (me: string) =>
        lines(
          'OPTIONS sip:demo@127.0.0.1 SIP/2.0',
          'To: sip:demo@127.0.0.1',
          'From: sip:caller@example.org;tag=34525',
          'Max-Forwards: 6',
          'Call-ID: mismatch01.dj0234sxdfl3',
          'CSeq: 8 INVITE',
          `${via(me, 'mismatch01-1')}`,
          'l: 0',
          '',
          '',
        ),
    ],
    [
      '3.1.2.18 mismatch02 (an unknown method, and CSeq naming another)',
      (me: string) =>
        lines(
          'NEWMETHOD sip:demo@127.0.0.1 SIP/2.0',
          'To: sip:demo@127.0.0.1',
          'From: sip:caller@example.net;tag=34525',
          'Max-Forwards: 6',
          'Call-ID: mismatch02.dj0234sxdfl3',
          'CSeq: 8 INVITE',
          'Contact: <sip:caller@127.0.0.1>',
          `${via(me, 'mismatch02-1')}`,
          'Content-Type: application/sdp',
          `Content-Length: ${Buffer.byteLength(SDP)}`,
          '',
          SDP,
        ),
    ],
  ].map(([name, message, expect]): Case => ({
    name: name as string,
    message: message as Case['message'],
    expect: (expect as number[] | undefined) ?? [400],
  })),
  {
    name: '3.1.2.5 scalarls (a response with overlarge scalar fields)',
    message: (me) =>
      lines(
        'SIP/2.0 503 Service Unavailable',
        `${via(me, 'scalarls-1')}`,
        'To: <sip:user@example.com>;tag=2229',
        'From: <sip:other@example.net>;tag=11141343',
        'Call-ID: scalarls.5b9e5a3a',
        'CSeq: 53 INVITE',
        'Retry-After: 949302838503028349304023988',
        'Warning: 1812 overture "In Progress"',
        'Content-Length: 0',
        '',
        '',
      ),
    expect: [],
  },
  {
    name: '3.1.2.19 bigcode (an overlarge response code)',
    message: (me) =>
      lines(
        'SIP/2.0 4294967301 better not break the receiver',
        `${via(me, 'bigcode-1')}`,
        'Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i',
        'CSeq: 353494 INVITE',
        'From: <sip:user@example.com>;tag=39ansfi3',
        'To: <sip:user@example.edu>;tag=902jndnke3',
        'Content-Length: 0',
        '',
        '',
      ),
    expect: [],
  },
];

/**
 * The answers that come back to `socket` within `ms` for requests whose top Via branch starts
 * with `branch`, each once (an INVITE's final answer is sent again until an ACK, which this
 * test does not send), and the status codes of the final ones.
 */
function answers(socket: Socket, ms: number, branch: string): Promise<{ codes: number[]; texts: string[] }> {
  return new Promise((resolve) => {
    const texts: string[] = [];
    const onMessage = (msg: Buffer) => {
      const text = msg.toString('latin1');
      const m = /^SIP\/2\.0 (\d{3})/.exec(text);
      if (m !== null && text.includes(`branch=${branch}`) && !texts.includes(text)) texts.push(text);
    };
    socket.on('message', onMessage);
    setTimeout(() => {
      socket.off('message', onMessage);
      resolve({ codes: texts.map((t) => Number(t.slice(8, 11))).filter((code) => code >= 200), texts });
    }, ms);
  });
}

describe('RFC 4475 torture messages, sections 3.1.1 and 3.1.2 (issue 14)', () => {
  let dir: string;
  let child: ChildProcess;
  let socket: Socket;
  let sipPort = 0;
  let log = '';
  let exited: number | null | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'attendant-torture-'));
    const env = { ...process.env, ATTENDANT_DATA_DIR: dir };
    const quiet = { out: () => undefined, err: () => undefined };
    expect(
      await run(
        ['directory', 'import', 'demo', join(__dirname, '..', '..', '..', 'directory-fixtures', 'demo-store.csv'), '--create'],
        quiet,
        env,
      ),
    ).toBe(0);
    sipPort = await freePort();
    const httpPort = await freePort();
    child = spawnServe({
      ...env,
      ATTENDANT_SIP_PORT: String(sipPort),
      ATTENDANT_HTTP_PORT: String(httpPort),
      ATTENDANT_GRPC_PORT: String(await freePort()),
      ATTENDANT_ASR_WORKERS: '1',
    });
    child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-200_000)));
    child.on('exit', (code) => (exited = code));
    await untilReady(httpPort, () => log, 60_000);
    socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  }, 90_000);

  afterAll(() => {
    socket?.close();
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const me = `127.0.0.1:${socket.address().port}`;
    const m = c.message(me);
    const branch = /branch=(z9hG4bK[^\s;,]+)/.exec(m.toString('latin1'))?.[1] ?? '';
    const got = answers(socket, c.expect === 'not 400' || c.expect.length > 0 ? 1500 : 600, branch);
    socket.send(typeof m === 'string' ? Buffer.from(m, 'utf8') : m, sipPort, '127.0.0.1');
    const { codes } = await got;
    if (c.expect === 'not 400') {
      expect(codes.length).toBeGreaterThan(0);
      expect(codes).not.toContain(400);
    } else if (c.expect.length === 0) expect(codes).toEqual([]);
    else {
      expect(codes.length).toBeGreaterThan(0);
      expect(c.expect).toContain(codes[0]);
    }
    expect(exited).toBeUndefined();
  });

  it('3.1.1.8 dblreq: answers the request of a datagram once, and ignores what follows its body', async () => {
    const me = `127.0.0.1:${socket.address().port}`;
    const register = lines(
      'REGISTER sip:127.0.0.1 SIP/2.0',
      'To: sip:j.user@example.com',
      'From: sip:j.user@example.com;tag=43251j3j324',
      'Max-Forwards: 8',
      'I: dblreq.0ha0isndaksdj99sdfafnl3lk233412',
      'Contact: sip:j.user@127.0.0.1:8888',
      'CSeq: 8 REGISTER',
      `${via(me, 'dblreq-1')}`,
      'Content-Length: 0',
      '',
      '',
    );
    const trailing = lines(
      `INVITE sip:${STORE}@127.0.0.1 SIP/2.0`,
      `To: sip:${STORE}@127.0.0.1`,
      'From: sip:j.user@example.com;tag=234123',
      'Max-Forwards: 8',
      'Call-ID: dblreq.0ha0isnda977644900765@127.0.0.1',
      'CSeq: 8 INVITE',
      `${via(me, 'dblreq-2')}`,
      'Content-Length: 0',
      '',
      '',
    );
    const got = answers(socket, 1500, 'z9hG4bKdblreq-');
    socket.send(Buffer.from(register + trailing), sipPort, '127.0.0.1');
    const { codes, texts } = await got;
    expect(codes.length).toBe(1);
    expect(codes[0]).not.toBe(400);
    expect(texts.every((a) => /CSeq: 8 REGISTER/i.test(a))).toBe(true);
  });

  it('still answers OPTIONS after every torture message, and logged no caller identity', async () => {
    const me = `127.0.0.1:${socket.address().port}`;
    const got = answers(socket, 1500, 'z9hG4bKafter-1');
    socket.send(
      Buffer.from(
        lines(
          'OPTIONS sip:demo@127.0.0.1 SIP/2.0',
          `${via(me, 'after-1')}`,
          'Max-Forwards: 70',
          'From: <sip:probe@127.0.0.1>;tag=1',
          'To: <sip:demo@127.0.0.1>',
          'Call-ID: after-torture',
          'CSeq: 1 OPTIONS',
          'Content-Length: 0',
          '',
          '',
        ),
      ),
      sipPort,
      '127.0.0.1',
    );
    expect((await got).codes).toEqual([200]);
    expect(log).not.toMatch(/a\.g\.bell|t\.watson|jdrosen|Rosenberg/);
  });
});

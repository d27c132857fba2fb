import { formatSdp, negotiate, parseAudioOffer, SdpError } from '../../src/sip/sdp';

const offer = (m: string, extra: string[] = [], c = 'c=IN IP4 192.0.2.10'): string =>
  ['v=0', 'o=pbx 1 1 IN IP4 192.0.2.10', 's=-', c, 't=0 0', m, ...extra, ''].join('\r\n');

describe('SDP offer/answer', () => {
  it("takes the offerer's first G.711 codec and its telephone-event", () => {
    const o = parseAudioOffer(
      offer('m=audio 4000 RTP/AVP 8 0 101', ['a=rtpmap:8 PCMA/8000', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000']),
    );
    expect(negotiate(o)).toEqual({
      codec: 'PCMA',
      payloadType: 8,
      dtmfPayloadType: 101,
      remoteAddress: '192.0.2.10',
      remotePort: 4000,
      direction: 'sendrecv',
    });
  });

  it('knows PCMU by its static payload type without an rtpmap', () => {
    expect(negotiate(parseAudioOffer(offer('m=audio 4000 RTP/AVP 18 0')))?.codec).toBe('PCMU');
  });

  it('finds no codec in a G.729-only or wideband-only offer (the caller answers 488)', () => {
    expect(negotiate(parseAudioOffer(offer('m=audio 4000 RTP/AVP 18', ['a=rtpmap:18 G729/8000'])))).toBeUndefined();
    expect(negotiate(parseAudioOffer(offer('m=audio 4000 RTP/AVP 96', ['a=rtpmap:96 PCMU/16000'])))).toBeUndefined();
  });

  it('declines IPv6 media with warning 301 rather than answering it with IPv4 (issue 14, 9)', () => {
    const err = (() => {
      try {
        parseAudioOffer(offer('m=audio 4000 RTP/AVP 0', [], 'c=IN IP6 2001:db8::10'));
      } catch (e) {
        return e as SdpError;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(SdpError);
    expect(err?.warnCode).toBe(301);
    expect(err?.message).toContain('IPv6');
    expect(parseAudioOffer(offer('m=audio 4000 RTP/AVP 0')).address).toBe('192.0.2.10');
  });

  it('mirrors hold: a sendonly offer is answered recvonly', () => {
    expect(negotiate(parseAudioOffer(offer('m=audio 4000 RTP/AVP 0', ['a=sendonly'])))?.direction).toBe('recvonly');
    expect(negotiate(parseAudioOffer(offer('m=audio 4000 RTP/AVP 0', ['a=inactive'])))?.direction).toBe('inactive');
  });

  it('uses the media-level connection address over the session one', () => {
    const o = parseAudioOffer(
      ['v=0', 'o=- 1 1 IN IP4 a', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 5000 RTP/AVP 0', 'c=IN IP4 192.0.2.2', ''].join('\n'),
    );
    expect(o.address).toBe('192.0.2.2');
  });

  it('refuses bodies that are not usable SDP, saying why', () => {
    expect(() => parseAudioOffer('hello')).toThrow(SdpError);
    expect(() => parseAudioOffer(offer('m=video 4000 RTP/AVP 96'))).toThrow(/no active audio stream/);
    expect(() => parseAudioOffer(offer('m=audio 0 RTP/AVP 0'))).toThrow(/no active audio stream/);
    expect(() => parseAudioOffer(offer('m=audio 4000 RTP/AVP 0', [], ''))).toThrow(/connection address/);
  });

  it('writes an answer that parses back to the same choice', () => {
    const text = formatSdp(
      { address: '127.0.0.1', port: 20000, sessionId: 7, sessionVersion: 1 },
      [{ codec: 'PCMU', payloadType: 0 }],
      101,
      'sendrecv',
    );
    expect(negotiate(parseAudioOffer(text))).toEqual({
      codec: 'PCMU',
      payloadType: 0,
      dtmfPayloadType: 101,
      remoteAddress: '127.0.0.1',
      remotePort: 20000,
      direction: 'sendrecv',
    });
  });
});

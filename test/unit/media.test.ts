import { Endpointer } from '../../src/media/endpointer';
import { formatDtmfEvent, parseDtmfEvent, parseDtmfInfo } from '../../src/media/dtmf';

const frame = (level: number, n = 160): Int16Array => {
  const f = new Int16Array(n);
  for (let i = 0; i < n; i += 1) f[i] = Math.round(level * Math.sin((2 * Math.PI * 440 * i) / 8000) * Math.SQRT2);
  return f;
};

describe('endpointer', () => {
  it('finds one utterance in silence-speech-silence, with pre-roll, after the end silence', () => {
    const ep = new Endpointer({ endSilenceMs: 500, preRollMs: 200 });
    const starts: number[] = [];
    const utterances: { samples: number; at: number }[] = [];
    ep.on('speechStart', () => starts.push(t));
    ep.on('utterance', (pcm, info) => utterances.push({ samples: pcm.length, at: info.endedAt }));
    let t = 0;
    const feed = (level: number, ms: number): void => {
      for (let i = 0; i < ms / 20; i += 1) {
        t += 20;
        ep.write(frame(level), t);
      }
    };
    feed(20, 1000);
    feed(3000, 800);
    feed(20, 400);
    expect(utterances).toHaveLength(0);
    feed(20, 200);
    expect(starts).toEqual([1080]);
    expect(utterances).toHaveLength(1);
    // 200 ms pre-roll + 800 ms speech + 350 ms of the 500 ms end silence, in whole 20 ms frames.
    expect(utterances[0].samples / 8).toBe(200 + 800 + 360);
  });

  it('hears a caller on a line with a DC offset as on a clean one', () => {
    const heard = (offset: number): number[] => {
      const ep = new Endpointer({ endSilenceMs: 500, preRollMs: 200 });
      const lengths: number[] = [];
      ep.on('utterance', (pcm) => lengths.push(pcm.length));
      let t = 0;
      const feed = (level: number, ms: number): void => {
        for (let i = 0; i < ms / 20; i += 1)
          ep.write(
            frame(level).map((v) => v + offset),
            (t += 20),
          );
      };
      feed(20, 1000);
      feed(3000, 800);
      feed(20, 1000);
      return lengths;
    };
    expect(heard(0)).toHaveLength(1);
    // An analogue gateway's offset of 4000 (-18 dBFS): counted as level, the floor was 4000 and no word rose over it.
    expect(heard(4000)).toEqual(heard(0));
    expect(heard(-2500)).toEqual(heard(0));
  });

  it('hands the utterance up settled, sample for sample, 140 ms before its end; speech or a reset after it unsettles it', () => {
    const ep = new Endpointer({ endSilenceMs: 500, keepTrailingMs: 350, preRollMs: 200 });
    const events: { type: string; at: number; pcm?: Int16Array }[] = [];
    ep.on('settled', (pcm) => events.push({ type: 'settled', at: t, pcm }));
    ep.on('unsettled', () => events.push({ type: 'unsettled', at: t }));
    ep.on('utterance', (pcm, info) => events.push({ type: 'utterance', at: info.endedAt, pcm }));
    let t = 0;
    const feed = (level: number, ms: number): void => {
      for (let i = 0; i < ms / 20; i += 1) {
        t += 20;
        ep.write(frame(level, 160), t);
      }
    };
    feed(20, 1000);
    // A pause of 400 ms inside the utterance: settled, then unsettled by the speech after it.
    feed(3000, 600);
    feed(20, 400);
    feed(3000, 400);
    feed(20, 600);
    expect(events.map((e) => e.type)).toEqual(['settled', 'unsettled', 'settled', 'utterance']);
    const [, , settled, utterance] = events;
    expect(utterance.at - settled.at).toBe(140);
    expect(Array.from(settled.pcm!)).toEqual(Array.from(utterance.pcm!));
    // The whole utterance, pause included: 200 + 600 + 400 + 400 + 360 ms.
    expect(utterance.pcm!.length / 8).toBe(1960);
    // Settled, then a new question resets the endpointer: that utterance will not come.
    events.length = 0;
    feed(3000, 400);
    feed(20, 380);
    ep.reset();
    feed(20, 400);
    expect(events.map((e) => e.type)).toEqual(['settled', 'unsettled']);
  });

  it('hears a quiet caller (speech at -50 dBFS) on a silent line, but not as loud an echo of its own prompt', () => {
    const starts = (playing: boolean): number => {
      const ep = new Endpointer({ endSilenceMs: 500 });
      ep.playing = playing;
      let n = 0;
      ep.on('speechStart', () => (n += 1));
      for (let i = 0; i < 50; i += 1) ep.write(frame(0));
      for (let i = 0; i < 40; i += 1) ep.write(frame(100));
      for (let i = 0; i < 50; i += 1) ep.write(frame(0));
      return n;
    };
    expect(starts(false)).toBe(1);
    expect(starts(true)).toBe(0);
  });

  it('hears no speech in steady low noise', () => {
    const ep = new Endpointer();
    const start = jest.fn();
    ep.on('speechStart', start);
    for (let i = 0; i < 300; i += 1) ep.write(frame(150));
    expect(start).not.toHaveBeenCalled();
  });

  it('cuts an endless utterance at the maximum length', () => {
    const ep = new Endpointer({ maxSpeechMs: 2000 });
    const got = jest.fn();
    ep.on('utterance', got);
    for (let i = 0; i < 150; i += 1) ep.write(frame(3000));
    expect(got).toHaveBeenCalledTimes(1);
  });
});

describe('DTMF', () => {
  it('reads and writes RFC 4733 events', () => {
    expect(parseDtmfEvent(formatDtmfEvent('#', 800, true))).toEqual({ digit: '#', end: true, duration: 800 });
    expect(parseDtmfEvent(Uint8Array.of(16, 0, 0, 0))).toBeUndefined();
    expect(parseDtmfEvent(Uint8Array.of(1))).toBeUndefined();
  });

  it('reads SIP INFO bodies', () => {
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n')).toBe('5');
    expect(parseDtmfInfo('application/dtmf', '*')).toBe('*');
    expect(parseDtmfInfo('text/plain', '5')).toBeUndefined();
  });
});

import { decodeAlaw, decodeUlaw, encodeAlaw, encodeUlaw } from '../../src/media/g711';
import { resample } from '../../src/media/resample';
import { decodeWav } from '../../src/media/audio-file';
import { ipaToCmu } from '../../src/asr/phones';
import { addLineNoise, LINE_LEVEL, raiseQuietLine, withoutDc } from '../../src/asr/noise-floor';
import { lineNoiseShape } from '../../src/asr/pocketsphinx-tuning';

const tone = (n: number, rate: number, freq: number, amp = 8000): Int16Array =>
  Int16Array.from({ length: n }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * freq * i) / rate)));

function wav(format: number, bits: number, channels: number, rate: number, data: Buffer): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(format, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE((rate * channels * bits) / 8, 28);
  header.writeUInt16LE((channels * bits) / 8, 32);
  header.writeUInt16LE(bits, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

describe('G.711', () => {
  it.each([
    ['µ-law', encodeUlaw, decodeUlaw],
    ['A-law', encodeAlaw, decodeAlaw],
  ])('%s round trip stays within 1/16 of the signal', (_name, encode, decode) => {
    const pcm = tone(800, 8000, 440, 12000);
    const back = decode(encode(pcm));
    for (let i = 0; i < pcm.length; i += 1) expect(Math.abs(back[i] - pcm[i])).toBeLessThanOrEqual(Math.abs(pcm[i]) / 16 + 16);
  });
});

describe('resample', () => {
  it('doubles 8 kHz to 16 kHz and keeps a 1 kHz tone', () => {
    const out = resample(tone(8000, 8000, 1000), 8000, 16000);
    expect(out.length).toBe(16000);
    const expected = tone(16000, 16000, 1000);
    let err = 0;
    for (let i = 100; i < 15900; i += 1) err += Math.abs(out[i] - expected[i]);
    expect(err / 15800).toBeLessThan(200);
  });
});

describe('decodeWav', () => {
  it('reads 8 kHz µ-law stereo into 16 kHz mono', async () => {
    const mono = tone(800, 8000, 500);
    const interleaved = Buffer.from(encodeUlaw(Int16Array.from({ length: 1600 }, (_, i) => mono[i >> 1])));
    const audio = await decodeWav(wav(7, 8, 2, 8000, interleaved), 'x.wav');
    expect(audio.source).toEqual({ encoding: 'mulaw', sampleRate: 8000, channels: 2 });
    expect(audio.pcm.length).toBe(1600);
  });

  it('reads 16 kHz PCM as it is', async () => {
    const pcm = tone(320, 16000, 300);
    const audio = await decodeWav(wav(1, 16, 1, 16000, Buffer.from(pcm.buffer)), 'y.wav');
    expect(Array.from(audio.pcm)).toEqual(Array.from(pcm));
  });

  it('refuses a file that is not WAV with its name in the message', async () => {
    await expect(decodeWav(Buffer.from('not a wav file at all, just text'), 'z.wav')).rejects.toThrow(/z\.wav/);
  });
});

describe('ipaToCmu', () => {
  it('maps espeak-ng French IPA to the model phones', () => {
    expect(ipaToCmu('pʁodˈɔm')).toEqual(['P', 'R', 'OW', 'D', 'AO', 'M']);
    expect(ipaToCmu('kɛʁʒˈɑ̃')).toEqual(['K', 'EH', 'R', 'ZH', 'AA', 'N']);
  });

  it('drops the French r and nasality in the second reading', () => {
    expect(ipaToCmu('kɛʁʒˈɑ̃', 'second')).toEqual(['K', 'AE', 'ZH', 'AA']);
  });

  it("reads espeak-ng's language switches as no sound: 'Le Gall' and 'Guivarc'h' as espeak's French voice writes them", () => {
    expect(ipaToCmu('lə- (en)ɡˈɔːl(fr)')).toEqual(['L', 'AH', 'G', 'AO', 'L']);
    expect(ipaToCmu('(en)ɡˈɪvɑːk(fr)')).toEqual(['G', 'IH', 'V', 'AA', 'K']);
  });
});

describe('addLineNoise', () => {
  it('fills digital silence with the same faint noise each time, and clips nothing', () => {
    const a = addLineNoise(new Int16Array(8000), 64);
    const b = addLineNoise(new Int16Array(8000), 64);
    expect(Array.from(a)).toEqual(Array.from(b));
    const rms = Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
    expect(rms).toBeGreaterThan(30); // uniform in ±64: RMS 37
    expect(rms).toBeLessThan(45);
    expect(Math.max(...Array.from(a, Math.abs))).toBeLessThanOrEqual(64);
    const loud = addLineNoise(Int16Array.from([32767, -32768, 1000]), 64);
    expect(loud[0]).toBeLessThanOrEqual(32767);
    expect(loud[1]).toBeGreaterThanOrEqual(-32768);
    expect(Math.abs(loud[2] - 1000)).toBeLessThanOrEqual(64);
  });

  it('shapes pink noise to the same RMS as the white, with far less of it in the high band', () => {
    const rms = (x: ArrayLike<number>): number => Math.sqrt(Array.from(x).reduce((s, v) => s + v * v, 0) / x.length);
    // The first difference weighs the high band: for white noise its RMS is about 1.4 times the noise's.
    const slope = (x: Int16Array): number => rms(x.subarray(1).map((v, i) => v - x[i])) / rms(x);
    const white = addLineNoise(new Int16Array(16000), 64, 'white');
    const pink = addLineNoise(new Int16Array(16000), 64, 'pink');
    expect(Array.from(pink)).toEqual(Array.from(addLineNoise(new Int16Array(16000), 64, 'pink')));
    expect(rms(pink) / rms(white)).toBeGreaterThan(0.85);
    expect(rms(pink) / rms(white)).toBeLessThan(1.15);
    expect(slope(white)).toBeGreaterThan(1.3);
    expect(slope(pink)).toBeLessThan(0.8);
  });
});

describe('lineNoiseShape', () => {
  it('gives a telephone-band model pink noise and a wideband one white', () => {
    expect(lineNoiseShape(8000)).toBe('pink');
    expect(lineNoiseShape(16000)).toBe('white');
  });
});

describe('withoutDc', () => {
  it("takes a line's DC offset out exactly, keeping the speech", () => {
    const speech = tone(16000, 16000, 440, 3000);
    const offset = speech.map((v) => v + 4000);
    expect(Array.from(withoutDc(offset))).toEqual(Array.from(speech));
  });

  it('returns a line without an offset as it is, and clips nothing', () => {
    const speech = tone(16000, 16000, 440, 3000);
    expect(withoutDc(speech)).toBe(speech);
    expect(withoutDc(new Int16Array(0))).toHaveLength(0);
    // Mostly -32768 with a few loud positive samples: the mean is near the floor, and the loud ones are clipped, not wrapped.
    const lopsided = Int16Array.from({ length: 100 }, (_, i) => (i < 10 ? 32767 : -32768));
    const out = withoutDc(lopsided);
    expect(Math.min(...out)).toBeGreaterThanOrEqual(-32768);
    expect(out[0]).toBe(32767);
  });
});

describe('raiseQuietLine', () => {
  const loudTenth = (pcm: Int16Array): number => {
    const rms: number[] = [];
    for (let i = 0; i + 320 <= pcm.length; i += 320) rms.push(Math.sqrt(pcm.subarray(i, i + 320).reduce((s, v) => s + v * v, 0) / 320));
    return rms.sort((a, b) => a - b)[Math.floor(rms.length * 0.9)];
  };

  it('raises a -26 dBFS line to the line level, keeping its shape', () => {
    // Half a second of speech-like tone between two pauses, at about -26 dBFS.
    const quiet = new Int16Array(16000);
    quiet.set(tone(8000, 16000, 440, 1500), 4000);
    const raised = raiseQuietLine(quiet);
    expect(loudTenth(raised)).toBeGreaterThan(0.95 * LINE_LEVEL);
    expect(loudTenth(raised)).toBeLessThan(1.05 * LINE_LEVEL);
    const gain = raised[4100] / quiet[4100];
    expect(raised[5000]).toBeCloseTo(quiet[5000] * gain, -1);
    expect(raised[100]).toBe(0);
  });

  it('leaves a line already at the line level, and a silent one, as they are', () => {
    const normal = tone(16000, 16000, 440, 8000);
    expect(raiseQuietLine(normal)).toBe(normal);
    const silent = new Int16Array(16000);
    expect(raiseQuietLine(silent)).toBe(silent);
  });

  it('raises a very faint line by 24 dB at most, and clips nothing', () => {
    const faint = tone(16000, 16000, 440, 20);
    const raised = raiseQuietLine(faint);
    expect(Math.max(...Array.from(raised))).toBeLessThanOrEqual(16 * 20 + 1);
    const spiky = tone(16000, 16000, 440, 300);
    spiky[10] = 32000;
    expect(Math.max(...Array.from(raiseQuietLine(spiky)))).toBeLessThanOrEqual(32767);
  });
});

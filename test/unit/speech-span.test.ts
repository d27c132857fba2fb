import { findSpeechSpan, frameSpeech, MIN_SNR_DB, SPAN_AFTER_MS, SPAN_BEFORE_MS } from '../../src/asr/speech-span';
import { lettersPerSecond, MIN_LETTERS_PER_SECOND, MIN_TRANSFER_SPEECH_MS, withEvidence } from '../../src/directory/decision';

const RATE = 16000;

/** A syllable-like signal: a 200 Hz tone whose loudness rises and falls every 150 ms, `seconds` long, at `db` dBFS. */
function speechLike(seconds: number, db: number): Float64Array {
  const n = Math.round(seconds * RATE);
  const out = new Float64Array(n);
  const amp = 32768 * 10 ** (db / 20) * Math.SQRT2;
  for (let i = 0; i < n; i += 1)
    out[i] = amp * (0.55 + 0.45 * Math.sin((2 * Math.PI * i) / (0.15 * RATE))) * Math.sin((2 * Math.PI * 200 * i) / RATE);
  return out;
}

function noise(seconds: number, db: number, seed = 7): Float64Array {
  let s = seed;
  const amp = 32768 * 10 ** (db / 20) * Math.sqrt(3);
  return Float64Array.from({ length: Math.round(seconds * RATE) }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return amp * (2 * (s / 2147483648) - 1);
  });
}

function line(...parts: Float64Array[]): Int16Array {
  const all = parts.flatMap((p) => [...p]);
  return Int16Array.from(all, (v) => Math.max(-32768, Math.min(32767, Math.round(v))));
}

const mix = (a: Float64Array, b: Float64Array): Float64Array => a.map((v, i) => v + (b[i] ?? 0));
const seconds = (samples: number): number => Math.round((samples / RATE) * 100) / 100;

describe('where the speech of an utterance lies', () => {
  it('finds a word between digital silence, comfort noise at -45 dBFS, or none', () => {
    const word = speechLike(0.8, -12);
    for (const [name, before, after] of [
      ['digital silence', new Float64Array(0.5 * RATE), new Float64Array(0.8 * RATE)],
      ['comfort noise', noise(2, -45), noise(2, -45, 9)],
      ['tight', new Float64Array(0), new Float64Array(0)],
    ] as const) {
      const span = findSpeechSpan(line(before, word, after));
      expect([name, seconds(span!.start), seconds(span!.end)]).toEqual([
        name,
        seconds(before.length),
        seconds(before.length + word.length),
      ]);
    }
  });

  it('finds a quiet word (-40 dBFS) on a line with noise 20 dB under it', () => {
    const word = speechLike(0.4, -40);
    const audio = line(mix(new Float64Array(0.5 * RATE), noise(0.5, -60)), mix(word, noise(0.4, -60, 3)), noise(0.8, -60, 5));
    const span = findSpeechSpan(audio)!;
    expect(Math.abs(span.start / RATE - 0.5)).toBeLessThan(0.06);
    expect(Math.abs(span.end / RATE - 0.9)).toBeLessThan(0.06);
  });

  it('finds a quiet word (-35 dBFS) 8 to 15 dB over comfort or line noise, and says how far over it stands', () => {
    const word = speechLike(0.35, -35);
    for (const floorDb of [-50, -43]) {
      const audio = line(noise(2, floorDb), mix(word, noise(0.35, floorDb, 3)), noise(2, floorDb, 5));
      const span = findSpeechSpan(audio)!;
      // Before, the whole 4.35 s was taken for speech and the word was heard as nothing.
      expect([floorDb, Math.abs(span.start / RATE - 2) < 0.08, Math.abs(span.end / RATE - 2.35) < 0.08]).toEqual([floorDb, true, true]);
      expect(span.clear).toBe(false);
      expect(span.overFloorDb).toBeGreaterThan(MIN_SNR_DB);
    }
  });

  it('finds nothing in silence, and cuts nothing from steady noise', () => {
    expect(findSpeechSpan(new Int16Array(RATE))).toBeUndefined();
    expect(findSpeechSpan(line(noise(1.5, -30)))).toEqual({ start: 0, end: 1.5 * RATE, clear: false, overFloorDb: 0, floor: 0 });
  });

  it('frames the same word the same way whatever surrounds it', () => {
    const word = speechLike(0.6, -15);
    const tight = frameSpeech(line(word));
    const padded = frameSpeech(line(new Float64Array(1.3 * RATE), word, new Float64Array(2 * RATE)));
    const margins = ((SPAN_BEFORE_MS + SPAN_AFTER_MS) * RATE) / 1000;
    expect(tight.length).toBe(padded.length);
    expect(tight.length).toBe(word.length + margins);
    expect([...tight]).toEqual([...padded]);
  });

  it('frames a word between comfort noise with margins of digital silence, up to the first sound over the noise', () => {
    const word = speechLike(0.6, -15);
    // A 20-ms click 100 ms before the word: too short to be taken for speech, over the noise.
    const click = speechLike(0.02, -30);
    const audio = line(
      noise(2, -50),
      mix(click, noise(0.02, -50, 4)),
      noise(0.08, -50, 6),
      mix(word, noise(0.6, -50, 3)),
      noise(2, -50, 5),
    );
    const span = findSpeechSpan(audio)!;
    expect(span.floor).toBeGreaterThan(0);
    const framed = frameSpeech(audio, span);
    const before = (SPAN_BEFORE_MS * RATE) / 1000;
    const loud = (from: number, to: number): boolean => framed.subarray(from, to).some((v) => v !== 0);
    // The noise alone before the click and after the word: digital silence.
    expect(loud(0, before - 0.125 * RATE)).toBe(false);
    expect(loud(framed.length - 0.25 * RATE, framed.length)).toBe(false);
    // The click, the noise between it and the word, and the word, as they came.
    expect(loud(before - 0.125 * RATE, before - 0.0625 * RATE)).toBe(true);
    expect(loud(before - 0.05 * RATE, before)).toBe(true);
    expect(loud(before, before + 0.6 * RATE)).toBe(true);
  });

  it('keeps the margins as they came where the speech does not stand clear of the noise', () => {
    const word = speechLike(0.6, -30);
    const framed = frameSpeech(line(noise(1, -40), mix(word, noise(0.6, -40, 3)), noise(1, -40, 5)));
    expect(framed.subarray(0, 0.2 * RATE).some((v) => v !== 0)).toBe(true);
  });
});

describe('too little evidence to put a caller through', () => {
  const sophie = {
    id: 'p04',
    type: 'person' as const,
    firstName: 'Sophie',
    lastName: 'Martin',
    serviceName: '',
    department: '',
    extension: '2014',
    aliases: [],
    enabled: true,
  };
  const transfer = { kind: 'transfer' as const, entry: sophie, choices: [], confidence: 0.99, reason: 'clear match' };

  it('asks instead of transferring a word shorter than 0.6 s, or speech buried in the line noise', () => {
    expect(withEvidence(transfer, [{ speechMs: MIN_TRANSFER_SPEECH_MS - 1, clearSpeech: true }])).toMatchObject({
      kind: 'confirm',
      entry: sophie,
      reason: expect.stringMatching(/too short/),
    });
    expect(withEvidence(transfer, [{ speechMs: 1500, clearSpeech: false }])).toMatchObject({
      kind: 'confirm',
      reason: expect.stringMatching(/too noisy/),
    });
    expect(withEvidence(transfer, [{ speechMs: 1500, clearSpeech: true }, { speechMs: 1500 }])).toBe(transfer);
  });

  it('asks instead of transferring when the words heard account for too little of the speech', () => {
    // « je souhaite parler à Dupont »: 23 letters; said in 1.6 s, a request; over 4.7 s of speech, something else.
    const heard = (speechMs: number) => ({ speechMs, clearSpeech: true, nbest: [{ text: 'je souhaite parler a dupont' }] });
    expect(lettersPerSecond(heard(1600))).toBeCloseTo(23 / 1.6);
    expect(withEvidence(transfer, [heard(1600), heard(1600)])).toBe(transfer);
    expect(withEvidence(transfer, [heard(1600), heard(4700)])).toMatchObject({
      kind: 'confirm',
      entry: sophie,
      reason: expect.stringMatching(/more speech than the words heard/),
    });
    expect(lettersPerSecond(heard(4700))).toBeLessThan(MIN_LETTERS_PER_SECOND);
    // Without a transcript or a measure of the speech, nothing to say.
    expect(withEvidence(transfer, [{ speechMs: 4700, clearSpeech: true }])).toBe(transfer);
    expect(lettersPerSecond({ nbest: [{ text: 'dupont' }] })).toBeUndefined();
  });

  it('says whether the speech stood clear of the line: a word over digital silence or faint noise does, one 3 dB over the noise does not', () => {
    const word = speechLike(1, -20);
    expect(findSpeechSpan(line(new Float64Array(RATE / 2), word, new Float64Array(RATE / 2)))?.clear).toBe(true);
    expect(findSpeechSpan(line(noise(0.5, -60), mix(word, noise(1, -60, 3)), noise(0.5, -60, 5)))?.clear).toBe(true);
    expect(findSpeechSpan(line(noise(0.5, -23), mix(word, noise(1, -23, 3)), noise(0.5, -23, 5)))?.clear).toBe(false);
  });
});

import { SpeechPresence } from '../../src/media/speech-presence';

const frames = (levels: number[]): Int16Array => {
  const out = new Int16Array(levels.length * 320);
  levels.forEach((level, f) => {
    for (let i = 0; i < 320; i += 1) out[f * 320 + i] = Math.round(level * Math.sin(i / 3) * Math.SQRT2);
  });
  return out;
};

describe('SpeechPresence', () => {
  const heard = (levels: number[]): boolean => {
    const p = new SpeechPresence();
    p.write(frames(levels));
    return p.hasSpeech();
  };

  it('hears syllables rising out of a quiet line', () => {
    expect(heard([20, 20, 3000, 5000, 400, 4000, 2500, 30, 20, 20])).toBe(true);
  });

  it('hears a quiet caller on a silent line: syllables whose loudest frames lie about -50 dBFS', () => {
    expect(heard([0, 0, 60, 100, 20, 90, 70, 0, 0, 0])).toBe(true);
  });

  it('hears nothing in silence', () => {
    expect(heard(new Array(50).fill(5))).toBe(false);
  });

  it('hears nothing in steady loud noise', () => {
    expect(heard(new Array(50).fill(8000).map((v, i) => v + (i % 3) * 200))).toBe(false);
  });

  it('hears nothing when nothing was written', () => {
    expect(new SpeechPresence().hasSpeech()).toBe(false);
  });
});

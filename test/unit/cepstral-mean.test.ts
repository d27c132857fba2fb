import { subtractMean } from '../../src/asr/cepstral-mean';
import { withoutCmn } from '../../src/asr/pocketsphinx';

/** Frames of two coefficients (c0, c1). */
const frames = (...rows: [number, number][]): Float32Array => Float32Array.from(rows.flat());

describe('the cepstral mean over the speech', () => {
  it('takes the mean over the frames given and subtracts it from every frame, the quiet ones too', () => {
    // Quiet, two frames of speech, quiet: the mean of the speech is (30, 3).
    const c = frames([5, 9], [20, 2], [40, 4], [5, 9]);
    subtractMean(c, 2, 1, 3);
    expect(Array.from(c)).toEqual([-25, 6, -10, -1, 10, 1, -25, 6]);
  });

  it('is the mean of every frame where the speech is not known, as pocketsphinx takes it', () => {
    const c = frames([5, 9], [20, 2], [40, 4], [15, 1]);
    subtractMean(c, 2, 0, 4);
    expect(Array.from(c)).toEqual([-15, 5, 0, -2, 20, 0, -5, -3]);
    const outside = frames([1, 1], [3, 3]);
    subtractMean(outside, 2, 7, 9);
    expect(Array.from(outside)).toEqual([-1, -1, 1, 1]);
  });

  it('clips a range that runs past the frames, and leaves frames of negative energy (digital silence) out of the mean as sphinxbase does', () => {
    const c = frames([-3, 50], [20, 2], [40, 4]);
    subtractMean(c, 2, -5, 10);
    expect(Array.from(c)).toEqual([-33, 47, -10, -1, 10, 1]);
  });

  it('leaves the cepstra as they are where no frame has energy', () => {
    const c = frames([-3, 50], [-1, 2]);
    subtractMean(c, 2, 0, 2);
    expect(Array.from(c)).toEqual([-3, 50, -1, 2]);
  });
});

describe("a model's feature parameters without a mean of the decoder's own", () => {
  it('replaces the cepstral mean setting and keeps the rest', () => {
    const params = '-lowerf 130\n-upperf 3700\n-cmn current\n-varnorm no\n';
    expect(withoutCmn(params)).toBe('-lowerf 130\n-upperf 3700\n-varnorm no\n-cmn none\n');
    expect(withoutCmn('-nfilt 20')).toBe('-nfilt 20\n-cmn none\n');
  });
});

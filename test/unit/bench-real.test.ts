import { realSetArgs } from '../bench/accuracy';
import { confidenceLine, RealOutcome, storesOf, verdictOf } from '../bench/real-speech';

/** A call of the real-speech benchmark, as far as its figures read it. */
function outcome(expect: string | undefined, best?: { id: string; score: number }): RealOutcome {
  return {
    call: { clip: { source: 's', file: 'f.wav', path: '/f.wav', transcript: 't', speaker: 'a', seconds: 1 }, surround: 'tight', expect },
    results: [],
    decision: 'confirm',
    choices: [],
    plain: { text: '' },
    best,
    ms: 0,
  };
}

describe("the real-speech benchmark's figures", () => {
  it('counts a transfer to someone else as wrong, a question about the entry meant as right', () => {
    expect(verdictOf('r001', 'transfer', 'r001', [])).toBe('right');
    expect(verdictOf('r001', 'transfer', 'p01', [])).toBe('wrong-transfer');
    expect(verdictOf('r001', 'disambiguate', undefined, ['p01', 'r001'])).toBe('right');
    expect(verdictOf('r001', 'confirm', 'p01', [])).toBe('wrong-asked');
    expect(verdictOf(undefined, 'confirm', 'p01', [])).toBe('absent-asked');
    expect(verdictOf(undefined, 'transfer', 'p01', [])).toBe('wrong-transfer');
  });

  it("gives the AUC of the best entry's probability: 1 when every right entry outscores every wrong one, 0.5 for a tie", () => {
    const ranked = [
      outcome('r1', { id: 'r1', score: 0.9 }),
      outcome('r2', { id: 'p1', score: 0.3 }),
      outcome(undefined, { id: 'p2', score: 0.2 }),
    ];
    expect(confidenceLine(ranked)).toContain('AUC 1.000');
    expect(confidenceLine(ranked)).toContain('over 3 calls with an entry (1 the one meant)');
    const tied = [outcome('r1', { id: 'r1', score: 0.5 }), outcome('r2', { id: 'p1', score: 0.5 })];
    expect(confidenceLine(tied)).toContain('AUC 0.500');
    const inverted = [outcome('r1', { id: 'r1', score: 0.1 }), outcome('r2', { id: 'p1', score: 0.8 }), outcome('r3')];
    expect(confidenceLine(inverted)).toContain('AUC 0.000');
    expect(confidenceLine(inverted)).toContain('over 2 calls');
  });

  it('says so when every call heard is right (or none is): no AUC then', () => {
    expect(confidenceLine([outcome('r1', { id: 'r1', score: 0.9 })])).toContain('one class only');
  });

  it('splits a source into stores of N services, every clip in the store naming its word, the <OOV> clips in the first', () => {
    const clip = (transcript: string, n: number) => ({
      source: 's',
      file: `${transcript}${n}.wav`,
      path: '/f.wav',
      transcript,
      speaker: 'a',
      seconds: 1,
    });
    const clips = ['stop', 'avance', 'gauche', '<OOV>', 'recule', 'droite', 'stop'].map(clip);
    const stores = storesOf(clips, 2);
    expect(stores.map((g) => g.map((c) => c.transcript))).toEqual([
      ['avance', '<OOV>', 'droite'],
      ['gauche', 'recule'],
      ['stop', 'stop'],
    ]);
    expect(storesOf(clips, undefined)).toEqual([clips]);
    expect(storesOf(clips, 5)).toEqual([clips]);
  });
});

describe('bench:accuracy -- --set real', () => {
  it("hands the real speech sets the rest of its arguments, and leaves the synthetic sets' alone", () => {
    expect(realSetArgs(['--set', 'real', '--source', 'en-fsdd', '--takes', '2'])).toEqual(['--source', 'en-fsdd', '--takes', '2']);
    expect(realSetArgs(['--verbose', '--set=real'])).toEqual(['--verbose']);
    expect(realSetArgs(['--set', 'heldout', '--locale', 'en'])).toBeUndefined();
    expect(realSetArgs([])).toBeUndefined();
  });
});

import { judge, plainVerdict } from '../bench/accuracy';

describe("the synthetic-store benchmark's plain engine", () => {
  it('counts its hypothesis right where it names the entry meant, wrong where it names anyone else', () => {
    expect(plainVerdict({ kind: 'entry', ids: ['p01'] }, { text: 'herve prodhomme', entryId: 'p01' })).toBe('right');
    expect(plainVerdict({ kind: 'entry', ids: ['p01'] }, { text: 'patrick durand', entryId: 'p40' })).toBe('wrong');
    // It cannot ask which namesake: one of them is as right as it gets.
    expect(plainVerdict({ kind: 'homonym', ids: ['p02', 'p03'] }, { text: 'sophie martin', entryId: 'p03' })).toBe('right');
    // A name not in the directory put through to anyone is a wrong transfer.
    expect(plainVerdict({ kind: 'absent', ids: [] }, { text: 'sophie martin', entryId: 'p02' })).toBe('wrong');
    expect(plainVerdict({ kind: 'absent', ids: [] }, { text: '' })).toBe('none');
    expect(plainVerdict({ kind: 'entry', ids: ['p01'] }, undefined)).toBe('none');
  });

  it('holds attendant to a stricter verdict: a namesake put through without asking is a wrong transfer', () => {
    expect(judge({ kind: 'homonym', ids: ['p02', 'p03'] }, { kind: 'transfer', entryId: 'p03', choices: [] })).toBe('wrong-transfer');
    expect(judge({ kind: 'homonym', ids: ['p02', 'p03'] }, { kind: 'disambiguate', choices: ['p02', 'p03'] })).toBe('right');
  });
});

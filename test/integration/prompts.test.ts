import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav, PromptLibrary } from '../../src/media/prompts';

/** A tone of `ms` milliseconds at 8 kHz. */
const tone = (ms: number): Int16Array => Int16Array.from({ length: ms * 8 }, (_, i) => Math.round(8000 * Math.sin(i / 3)));

describe("a store's own prompt recordings (issue 13, 5)", () => {
  let data: string;
  let storeDir: string;
  beforeEach(() => {
    data = mkdtempSync(join(tmpdir(), 'attendant-prompts-'));
    storeDir = join(data, 'stores', 'demo');
    mkdirSync(join(storeDir, 'prompts'), { recursive: true });
  });
  afterEach(() => rmSync(data, { recursive: true, force: true }));

  it('plays a replaced recording at the next call, without a restart', async () => {
    const prompts = new PromptLibrary(data);
    const file = join(storeDir, 'prompts', 'greeting.wav');
    writeFileSync(file, await encodeWav(tone(500), 8000));
    expect((await prompts.render({ key: 'greeting' }, 'fr-FR', storeDir)).length).toBe(4000);
    writeFileSync(file, await encodeWav(tone(1000), 8000));
    // The same second as the first write on a coarse clock: the size tells them apart, and the time too.
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect((await prompts.render({ key: 'greeting' }, 'fr-FR', storeDir)).length).toBe(8000);
  });

  it('reports a recording that cannot be played, once, and says the synthesised prompt instead', async () => {
    const reports: { file: string; message: string }[] = [];
    const prompts = new PromptLibrary(data, undefined, (file, message) => reports.push({ file, message }));
    const synthesised = await prompts.render({ key: 'greeting' }, 'fr-FR');
    const file = join(storeDir, 'prompts', 'greeting.wav');
    // A FLAC file renamed .wav.
    writeFileSync(file, Buffer.concat([Buffer.from('fLaC\0\0\0\x22'), Buffer.alloc(200, 7)]));
    expect(await prompts.render({ key: 'greeting' }, 'fr-FR', storeDir)).toEqual(synthesised);
    expect(await prompts.render({ key: 'greeting' }, 'fr-FR', storeDir)).toEqual(synthesised);
    expect(reports).toHaveLength(1);
    expect(reports[0].file).toBe(file);
    expect(reports[0].message).toMatch(/greeting\.wav/);
    // Fixed: played again, and a later bad version is reported again.
    writeFileSync(file, await encodeWav(tone(250), 8000));
    expect((await prompts.render({ key: 'greeting' }, 'fr-FR', storeDir)).length).toBe(2000);
    writeFileSync(file, Buffer.from('not a sound at all'));
    utimesSync(file, new Date(), new Date(Date.now() + 10_000));
    expect(await prompts.render({ key: 'greeting' }, 'fr-FR', storeDir)).toEqual(synthesised);
    expect(reports).toHaveLength(2);
  });
});

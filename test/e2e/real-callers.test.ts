import { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/main';
import { entriesToCsv } from '../../src/directory/export';
import { loadRealSource, realSources, telephoneClip } from '../audio/real-speech';
import { realStore } from '../bench/real-speech';
import { freePort } from '../integration/free-port';
import { frenchModelsDir } from '../integration/shared-models';
import { spawnServe, untilReady } from '../integration/serve-process';

/**
 * Real people's recordings through the whole service: `attendant serve` with the French model,
 * a French store whose services are the recordings' commands, and `attendant call` playing a
 * recording over real SIP and RTP (µ-law, 20 ms packets, with the silence a caller leaves
 * around it), so that the endpointer cuts the utterance out of the stream as in a call; the
 * test caller answers « oui » (synthesised) when asked to confirm. Skipped, saying why, without
 * the shared recordings or the French model.
 */

const sources = realSources('real callers over SIP');
const modelsDir = sources.includes('fr-speech-to-phrase') ? frenchModelsDir('real callers over SIP') : undefined;
const maybe = modelsDir === undefined ? describe.skip : describe;

maybe('real callers through attendant serve (SIP, RTP, endpointer)', () => {
  let dir: string;
  let child: ChildProcess;
  let log = '';
  let sipPort: number;
  const clips = sources.length === 0 ? [] : loadRealSource('fr-speech-to-phrase');
  const { entries, serviceOf } = realStore(clips);
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, ATTENDANT_DATA_DIR: dir, ATTENDANT_MODELS_DIR: modelsDir });
  const call = async (args: string[]): Promise<{ code: number; text: string }> => {
    const out: string[] = [];
    const code = await run(
      ['call', 'real-fr', '--server', `127.0.0.1:${sipPort}`, '--voice', 'fr', '--timeout', '60', ...args],
      { out: (t) => out.push(t), err: (t) => out.push(t) },
      { ...env(), ATTENDANT_LOG_LEVEL: 'silent' },
    );
    return { code, text: out.join('\n') };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'attendant-real-callers-'));
    const csv = join(dir, 'real-fr.csv');
    writeFileSync(csv, entriesToCsv(entries));
    const quiet = { out: () => undefined, err: () => undefined };
    expect(await run(['store', 'create', 'real-fr', '--locale', 'fr-FR'], quiet, env())).toBe(0);
    expect(await run(['directory', 'import', 'real-fr', csv], quiet, env())).toBe(0);
    sipPort = await freePort();
    const httpPort = await freePort();
    child = spawnServe({
      ...env(),
      ATTENDANT_SIP_PORT: String(sipPort),
      ATTENDANT_HTTP_PORT: String(httpPort),
      ATTENDANT_GRPC_PORT: String(await freePort()),
      ATTENDANT_RTP_PORTS: '23000-23999',
      ATTENDANT_ASR_WORKERS: '2',
      ATTENDANT_ASR_PROFILE: 'accurate',
    });
    child.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
    });
    await untilReady(httpPort, () => log, 90_000);
  }, 120_000);

  afterAll(() => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['stp_fr_002.wav', 'stp_fr_005.wav', 'stp_fr_031.wav'])(
    'puts a real caller saying a command (%s, with 0.5/0.8 s of silence around it) through to that service, answering « oui » when asked',
    async (file) => {
      const clip = clips.find((c) => c.file === file)!;
      const wanted = entries.find((e) => e.id === serviceOf.get(clip.transcript))!;
      const wav = await telephoneClip(clip, { surround: 'silence' });
      const { code, text } = await call(['--wav', wav, '--say', 'oui', '--expect', wanted.extension]);
      expect([file, text]).toEqual([file, expect.stringMatching(new RegExp(`^transferred to ${wanted.extension} `, 'm'))]);
      expect(code).toBe(0);
    },
    90_000,
  );

  it('hears a quiet real caller (speech peaking at -40 dBFS, its loudest frames about -55 dBFS) and asks about the service meant, or offers it', async () => {
    // The endpointer took nothing under -41 dBFS for speech, so this caller was never heard;
    // while nothing is played to the caller it now takes speech down to -58 dBFS (Endpointer.quietMinLevel).
    // Cut by the endpointer (about 1 s of the 2.4-s clip), the French model hears the service
    // and the English one a name: heard again, the service is asked about (« oui » puts the
    // caller through) or, where the two models' names stay close, offered with the other
    // (this scripted caller's « oui » then answers nothing, and the call goes to the operator).
    const clip = clips.find((c) => c.file === 'stp_fr_002.wav')!;
    const wanted = entries.find((e) => e.id === serviceOf.get(clip.transcript))!;
    const wav = await telephoneClip(clip, { surround: 'silence', level: -40 });
    const before = log.length;
    const { code, text } = await call(['--wav', wav, '--say', 'oui', '--expect', wanted.extension]);
    const heard = log
      .slice(before)
      .split('\n')
      .filter((l) => l.includes('"heard a name"'))
      .map((l) => JSON.parse(l) as { decision: string; models: string[] });
    expect(heard).toHaveLength(1);
    expect(heard[0].models).toContain(`fr-ptm-8khz-ci:${wanted.id}`);
    expect(['transfer', 'confirm', 'disambiguate']).toContain(heard[0].decision);
    if (heard[0].decision !== 'disambiguate') {
      expect(text).toMatch(new RegExp(`^transferred to ${wanted.extension} `, 'm'));
      expect(code).toBe(0);
    } else {
      expect(text).not.toMatch(/^transferred to (?!9 )/m); // nobody else, the operator at most
    }
  }, 90_000);

  it('puts a real caller saying a long command through, the names the two models disagreed on heard again (logged)', async () => {
    // « supprime tous les minuteurs »: the US English model hears a name of its own; searched
    // again, the French model's command leads by far (docs/benchmarks.md).
    const clip = clips.find((c) => c.file === 'stp_fr_044.wav')!;
    const wanted = entries.find((e) => e.id === serviceOf.get(clip.transcript))!;
    const wav = await telephoneClip(clip, { surround: 'silence' });
    const { text } = await call(['--wav', wav, '--say', 'oui', '--expect', wanted.extension]);
    expect(text).toMatch(new RegExp(`^transferred to ${wanted.extension} `, 'm'));
    const heard = log
      .split('\n')
      .filter((l) => l.includes('"heard a name"'))
      .map((l) => JSON.parse(l) as { heard_again?: boolean; entry?: string; call_id?: string });
    expect(heard.find((l) => l.heard_again === true && l.entry === wanted.id)?.call_id).toMatch(/^[0-9a-f]{16}$/);
  }, 90_000);

  it('puts a real caller asking for no one in the directory through to no one in it (answering « non » when asked)', async () => {
    const clip = clips.find((c) => c.transcript === '<OOV>')!;
    const wav = await telephoneClip(clip, { surround: 'silence' });
    const { text } = await call(['--wav', wav, '--say', 'non', '--wav', wav, '--say', 'non', '--wav', wav, '--say', 'non']);
    const through = /^transferred to (\d+)/m.exec(text)?.[1];
    expect([clip.file, through]).toEqual([clip.file, undefined]);
  }, 120_000);
});

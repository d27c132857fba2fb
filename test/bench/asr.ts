import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { resolveEngine } from '../../src/asr/engine';
import { RecognizerPool } from '../../src/asr/pool';
import { StoreUnderstanding } from '../../src/attendant/understanding';
import { loadCmudict } from '../../src/asr/store-lexicons';
import { recognizePcm } from '../../src/attendant/understanding';
import { readDirectory } from '../../src/directory/directory-file';
import { readAudioFile } from '../../src/media/audio-file';
import { buildCallerSet, DEV_ABSENT, DEV_PHRASES, DEV_VOICES } from '../audio/caller-set';
import { synthesize } from '../audio/synth';
import { cpuSeconds, rssMb } from './proc';
import { benchProfile, mapLimit, percentile } from './stats';

/**
 * npm run bench:asr [-- --utterances N --workers 1,2]
 * Real-time factor of recognition and how many utterances per second one machine decodes
 * with N worker threads, on telephone-band caller audio from the accuracy set.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { utterances: { type: 'string', default: '80' }, workers: { type: 'string', default: '1,2' } } });
  const root = join(__dirname, '..', '..', '..');
  const file = join(root, 'directory-fixtures', 'demo-store.csv');
  const { entries } = readDirectory(readFileSync(file), file);
  const calls = buildCallerSet(entries, { voices: DEV_VOICES, phrases: DEV_PHRASES, absent: DEV_ABSENT, perEntry: 3, seed: 1 }).slice(
    0,
    Number(values.utterances),
  );
  const paths = await mapLimit(calls, 4, (c) => synthesize(c.utterance));
  const audio = await Promise.all(paths.map(async (p) => (await readAudioFile(p)).pcm));
  const audioSeconds = audio.reduce((s, a) => s + a.length / 16000, 0);
  const t0 = performance.now();
  const understanding = await StoreUnderstanding.build({ store: 'bench', version: 1, entries }, loadCmudict());
  const buildMs = performance.now() - t0;
  const spec = resolveEngine((process.env.ATTENDANT_ASR_ENGINE as 'auto') ?? 'auto', undefined, benchProfile());
  console.log(
    `engine ${spec.engine} (profile ${spec.profile}); ${audio.length} utterances, ${audioSeconds.toFixed(1)} s of audio; grammar for ${entries.length} entries built in ${buildMs.toFixed(0)} ms\n`,
  );
  console.log('| workers | utterances/s | RTF (CPU s per audio s) | decision p50 ms | p95 ms | RSS MB |');
  console.log('|---|---|---|---|---|---|');
  for (const workers of values.workers.split(',').map(Number)) {
    const pool = await RecognizerPool.create(spec, workers);
    await recognizePcm(pool, understanding, audio[0]); // load the grammar in a worker
    const start = performance.now();
    const cpu0 = process.cpuUsage();
    const workerCpu0 = pool.pids.reduce((n, pid) => n + cpuSeconds(pid), 0);
    const ms = await mapLimit(audio, workers, async (pcm) => (await recognizePcm(pool, understanding, pcm)).ms);
    const wall = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpu0);
    // This process and the recognition workers (processes of their own).
    const cpuUsed = (cpu.user + cpu.system) / 1e6 + pool.pids.reduce((n, pid) => n + cpuSeconds(pid), 0) - workerCpu0;
    const rss = process.memoryUsage().rss / 1024 / 1024 + pool.pids.reduce((n, pid) => n + rssMb(pid), 0);
    console.log(
      `| ${workers} | ${(audio.length / wall).toFixed(2)} | ${(cpuUsed / audioSeconds).toFixed(3)} | ${percentile(ms, 50).toFixed(0)} | ${percentile(ms, 95).toFixed(0)} | ${rss.toFixed(0)} |`,
    );
    await pool.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

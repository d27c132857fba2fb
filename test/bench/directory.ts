import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { resolveEngine } from '../../src/asr/engine';
import { buildPhraseGrammar, carrierTokens, buildGrammar } from '../../src/asr/grammar';
import { RecognizerPool } from '../../src/asr/pool';
import { readAudioFile } from '../../src/media/audio-file';
import { synthesize } from '../audio/synth';
import { loadCmudict } from '../../src/asr/store-lexicons';
import { entriesToCsv } from '../../src/directory/export';
import { parseDirectory } from '../../src/directory/directory-file';
import { Storage } from '../../src/cli/storage';
import { displayName } from '../../src/directory/entry';
import { DirectoryMatcher } from '../../src/directory/matcher';
import { percentile } from './stats';
import { bigDirectory, bretonDirectory } from './synthetic-directory';
import { rssMb } from './proc';

/**
 * npm run bench:directory: a 10,000-entry directory, from CSV text to live, and the time to
 * match a heard name against it.
 */
async function main(): Promise<void> {
  const entries = bigDirectory(10_000);
  const csv = Buffer.from(entriesToCsv(entries));
  const dir = mkdtempSync(join(tmpdir(), 'attendant-bench-dir-'));
  const storage = await Storage.open({ dataDir: dir });
  const store = storage.directory;
  await store.createStore('big');
  const times: Record<string, number[]> = { validate: [], store: [], matcher: [], live: [] };
  for (let round = 0; round < 5; round += 1) {
    const t0 = performance.now();
    const parsed = parseDirectory(csv, 'big.csv');
    if (parsed.problems.length > 0) throw new Error(parsed.problems[0].message);
    const t1 = performance.now();
    await store.replaceDirectory('big', parsed.entries, { via: 'bench', actor: 'bench' });
    const t2 = performance.now();
    new DirectoryMatcher(parsed.entries, { carrierWords: carrierTokens(), minFuzzyScore: 0.35 });
    const t3 = performance.now();
    times.validate.push(t1 - t0);
    times.store.push(t2 - t1);
    times.matcher.push(t3 - t2);
    times.live.push(t3 - t0);
  }
  const t4 = performance.now();
  const grammar = await buildGrammar(entries, loadCmudict());
  const grammarMs = performance.now() - t4;
  const t5 = performance.now();
  await buildGrammar(entries, loadCmudict());
  const grammarCachedMs = performance.now() - t5;
  const matcher = new DirectoryMatcher(entries, { carrierWords: carrierTokens(), minFuzzyScore: 0.35 });
  const exact: number[] = [];
  const fuzzy: number[] = [];
  for (let i = 0; i < 2000; i += 1) {
    const e = entries[(i * 7919) % entries.length];
    const a = performance.now();
    matcher.matchText(`je voudrais parler a ${displayName(e)}`);
    exact.push(performance.now() - a);
    const b = performance.now();
    matcher.matchText(`${displayName(e).replace(/e/g, 'é').replace(/t$/, 'd')}x`);
    fuzzy.push(performance.now() - b);
  }
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
  const ms = (v: number): string => v.toFixed(1);
  console.log(`10,000 entries, ${(csv.length / 1024).toFixed(0)} KiB of CSV, median of 5 rounds\n`);
  console.log('| step | ms |');
  console.log('|---|---|');
  console.log(`| validate (parse + check every row) | ${ms(percentile(times.validate, 50))} |`);
  console.log(`| store (new SQLite version, one transaction) | ${ms(percentile(times.store, 50))} |`);
  console.log(`| swap (build the matcher) | ${ms(percentile(times.matcher, 50))} |`);
  console.log(`| live (all three) | ${ms(percentile(times.live, 50))} |`);
  console.log(
    `| recognition grammar, first build (espeak-ng for ${grammar.dict.split('\n').length - 1} pronunciations) | ${ms(grammarMs)} |`,
  );
  console.log(`| recognition grammar, words already known | ${ms(grammarCachedMs)} |`);
  console.log('\n| match a heard name | p50 ms | p99 ms |');
  console.log('|---|---|---|');
  console.log(`| exact name in a carrier phrase | ${percentile(exact, 50).toFixed(3)} | ${percentile(exact, 99).toFixed(3)} |`);
  console.log(`| misheard name (fuse.js + phonetic key) | ${percentile(fuzzy, 50).toFixed(3)} | ${percentile(fuzzy, 99).toFixed(3)} |`);
  await largeStore(Number(process.env.BENCH_LARGE_ENTRIES ?? 50_000));
}

/**
 * A store of `n` entries loaded by the recognition pool (as serve does before its version
 * goes live; above about 2,000 entries, in the worker of large grammars, at a lower priority)
 * while another store's callers are heard by the serving workers: how long the load takes, and what it
 * does to the other store's decisions (end of audio to result, one utterance at a time).
 */
async function largeStore(n: number): Promise<void> {
  const lexicon = loadCmudict();
  const t0 = performance.now();
  const big = await buildGrammar(bretonDirectory(n), lexicon);
  const buildMs = performance.now() - t0;
  const pool = await RecognizerPool.create(resolveEngine('pocketsphinx', undefined, 'accurate'), 2);
  const small = await buildPhraseGrammar(
    ['Sophie Martin', 'Paul Dupont', 'la boulangerie'].map((text) => ({ text, reading: 'both' as const })),
    lexicon,
  );
  await pool.prepare(small);
  const pcm = (await readAudioFile(await synthesize({ text: 'Sophie Martin', synth: 'espeak', voice: 'fr', condition: 'clean' }))).pcm;
  const hear = async (): Promise<number> => {
    const session = await pool.start(small);
    session.write(pcm);
    const a = performance.now();
    await session.end();
    session.close();
    return performance.now() - a;
  };
  const quiet: number[] = [];
  for (let i = 0; i < 10; i += 1) quiet.push(await hear());
  const workersRss = (): number => pool.pids.reduce((n, pid) => n + rssMb(pid), 0) * 1024 * 1024;
  const rss0 = process.memoryUsage().rss + workersRss();
  let loading = true;
  const t1 = performance.now();
  const prepared = pool.prepare(big).then(() => {
    loading = false;
  });
  const during: number[] = [];
  while (loading) during.push(await hear());
  await prepared;
  const loadMs = performance.now() - t1;
  const addedMb = (process.memoryUsage().rss + workersRss() - rss0) / 1e6;
  await pool.close();
  console.log(`\n${n.toLocaleString('en')} entries loaded by a pool of 2 recognition workers while another store is heard\n`);
  console.log('| step | figure |');
  console.log('|---|---|');
  console.log(`| grammar built (${big.dict.split('\n').length - 1} pronunciations) | ${(buildMs / 1000).toFixed(1)} s |`);
  console.log(`| grammar loaded (in the worker of large grammars above about 2,000 entries) | ${(loadMs / 1000).toFixed(1)} s |`);
  console.log(`| memory added by the loaded grammar (RSS of the server and every worker) | ${addedMb.toFixed(0)} MB |`);
  console.log(
    `| other store, decision ms p50 / max, before the load | ${percentile(quiet, 50).toFixed(0)} / ${Math.max(...quiet).toFixed(0)} |`,
  );
  console.log(
    `| other store, decision ms p50 / max, during the load (${during.length} utterances) | ${percentile(during, 50).toFixed(0)} / ${Math.max(...during).toFixed(0)} |`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

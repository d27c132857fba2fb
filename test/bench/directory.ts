import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { carrierTokens, buildGrammar } from '../../src/asr/grammar';
import { loadCmudict } from '../../src/cli/recognize-command';
import { entriesToCsv } from '../../src/cli/main';
import { parseDirectory } from '../../src/directory/directory-file';
import { DirectoryStore } from '../../src/directory/directory-store';
import { DirectoryEntry, displayName } from '../../src/directory/entry';
import { DirectoryMatcher } from '../../src/directory/matcher';
import { percentile } from './stats';

/**
 * npm run bench:directory: a 10,000-entry directory, from CSV text to live, and the time to
 * match a heard name against it.
 */
const FIRST = ['Paul', 'Sophie', 'Jean', 'Claire', 'Hervé', 'Nadia', 'Karim', 'Yann', 'Minh', 'Léa', 'Hugo', 'Inès', 'Lucas', 'Manon', 'Thi', 'Rui', 'Ana', 'Moussa', 'Piotr', 'Zoé'];
const LAST = ['Martin', 'Dupont', 'Dupond', 'Lefebvre', 'Nguyen', 'Le Goff', 'Kerjean', 'Prodhomme', 'Benali', 'Diallo', 'Haddad', 'Traoré', 'Da Silva', 'Ferreira', 'Tran', 'Moreau', 'Garnier', 'Fontaine', 'Rousseau', 'Chevalier'];

function bigDirectory(n: number): DirectoryEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `p${i}`,
    type: 'person' as const,
    firstName: FIRST[i % FIRST.length],
    lastName: `${LAST[Math.floor(i / FIRST.length) % LAST.length]}${i >= 400 ? `-${Math.floor(i / 400)}` : ''}`,
    serviceName: '',
    department: `D${i % 30}`,
    extension: String(10000 + i),
    aliases: [],
    enabled: true,
  }));
}

async function main(): Promise<void> {
  const entries = bigDirectory(10_000);
  const csv = Buffer.from(entriesToCsv(entries));
  const dir = mkdtempSync(join(tmpdir(), 'attendant-bench-dir-'));
  const store = DirectoryStore.open(dir);
  store.createStore('big');
  const times: Record<string, number[]> = { validate: [], store: [], matcher: [], live: [] };
  for (let round = 0; round < 5; round += 1) {
    const t0 = performance.now();
    const parsed = parseDirectory(csv, 'big.csv');
    if (parsed.problems.length > 0) throw new Error(parsed.problems[0].message);
    const t1 = performance.now();
    store.replaceDirectory('big', parsed.entries, { via: 'bench', actor: 'bench' });
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
  store.close();
  rmSync(dir, { recursive: true, force: true });
  const ms = (v: number): string => v.toFixed(1);
  console.log(`10,000 entries, ${(csv.length / 1024).toFixed(0)} KiB of CSV, median of 5 rounds\n`);
  console.log('| step | ms |');
  console.log('|---|---|');
  console.log(`| validate (parse + check every row) | ${ms(percentile(times.validate, 50))} |`);
  console.log(`| store (new SQLite version, one transaction) | ${ms(percentile(times.store, 50))} |`);
  console.log(`| swap (build the matcher) | ${ms(percentile(times.matcher, 50))} |`);
  console.log(`| live (all three) | ${ms(percentile(times.live, 50))} |`);
  console.log(`| recognition grammar, first build (espeak-ng for ${grammar.dict.split('\n').length - 1} pronunciations) | ${ms(grammarMs)} |`);
  console.log(`| recognition grammar, words already known | ${ms(grammarCachedMs)} |`);
  console.log('\n| match a heard name | p50 ms | p99 ms |');
  console.log('|---|---|---|');
  console.log(`| exact name in a carrier phrase | ${percentile(exact, 50).toFixed(3)} | ${percentile(exact, 99).toFixed(3)} |`);
  console.log(`| misheard name (fuse.js + phonetic key) | ${percentile(fuzzy, 50).toFixed(3)} | ${percentile(fuzzy, 99).toFixed(3)} |`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

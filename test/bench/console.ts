import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { run } from '../../src/cli/main';
import { CSV_COLUMNS } from '../../src/directory/directory-file';
import { entryCells } from '../../src/directory/export';
import { writeXlsx } from '../../src/directory/xlsx';
import { DirectoryEntry } from '../../src/directory/entry';
import { freePort } from '../integration/free-port';
import { percentile } from './stats';

/**
 * npm run bench:console: a 10,000-entry Excel workbook sent to the store console of a real
 * `attendant serve` over HTTP, as the browser sends it: the preview (upload, read, validate,
 * compare with the current version) and the apply (a new version stored), five rounds of
 * two workbooks that differ in 1,000 extensions.
 */
const root = join(__dirname, '..', '..', '..');
const N = 10_000;

function entries(shift: number): DirectoryEntry[] {
  return Array.from({ length: N }, (_, i) => ({
    id: `p${i}`,
    type: 'person' as const,
    firstName: ['Paul', 'Sophie', 'Yann', 'Gwenaëlle'][i % 4],
    lastName: `Kerhervé-${i}`,
    serviceName: '',
    department: `Rayon ${i % 30}`,
    extension: String(10000 + i + (i % 10 === 0 ? shift : 0)),
    aliases: [],
    enabled: true,
  }));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'attendant-bench-console-'));
  const data = join(dir, 'data');
  const quiet = { out: () => undefined, err: () => undefined };
  const [http, grpc, sip] = [await freePort(), await freePort(), await freePort()];
  const serve = spawn(process.execPath, [join(root, 'bin', 'attendant.js'), 'serve'], {
    env: {
      ...process.env,
      ATTENDANT_DATA_DIR: data,
      ATTENDANT_HTTP_PORT: String(http),
      ATTENDANT_GRPC_PORT: String(grpc),
      ATTENDANT_SIP_PORT: String(sip),
      ATTENDANT_HTTP_HOST: '127.0.0.1',
      ATTENDANT_SIP_HOST: '127.0.0.1',
      ATTENDANT_LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
  try {
    const base = `http://127.0.0.1:${http}`;
    for (let i = 0; ; i += 1) {
      if ((await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200) break;
      if (i > 300) throw new Error('attendant serve did not become ready');
      await new Promise((r) => setTimeout(r, 200));
    }
    await run(['store', 'create', 'big'], quiet, { ATTENDANT_DATA_DIR: data });
    const out: string[] = [];
    await run(['token', 'create', 'big'], { out: (t) => out.push(t), err: () => undefined }, { ATTENDANT_DATA_DIR: data });
    const signIn = await fetch(`${base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: out[0] }),
    });
    const { csrf } = (await signIn.json()) as { csrf: string };
    const headers = { cookie: (signIn.headers.get('set-cookie') ?? '').split(';')[0], 'x-csrf-token': csrf };
    const books = [await writeXlsx(CSV_COLUMNS, entries(0).map(entryCells)), await writeXlsx(CSV_COLUMNS, entries(50_000).map(entryCells))];
    const preview: number[] = [];
    const apply: number[] = [];
    let changed = 0;
    for (let round = 0; round < 6; round += 1) {
      const book = books[round % 2];
      const t0 = performance.now();
      const res = await fetch(`${base}/api/stores/big/import`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/octet-stream', 'x-file-name': 'annuaire.xlsx' },
        body: new Uint8Array(book),
      });
      const p = (await res.json()) as { preview?: string; problems: unknown[]; changed: unknown[]; error?: string };
      const t1 = performance.now();
      if (p.preview === undefined) throw new Error(`preview refused: ${p.error ?? JSON.stringify(p.problems.slice(0, 3))}`);
      const applied = await fetch(`${base}/api/stores/big/import/${p.preview}`, { method: 'POST', headers });
      if (applied.status !== 200) throw new Error(`apply refused: ${await applied.text()}`);
      const t2 = performance.now();
      // The first round makes version 1 from nothing; the others change 1,000 extensions each.
      if (round > 0) {
        preview.push(t1 - t0);
        apply.push(t2 - t1);
        changed = p.changed.length;
      }
    }
    const f = (xs: number[]): string => `median ${Math.round(percentile(xs, 50))} ms, max ${Math.round(Math.max(...xs))} ms`;
    console.log(
      `console import of a ${N}-entry XLSX (${Math.round(books[0].length / 1024)} KiB), ${changed} entries changed per round, ${preview.length} rounds, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}):`,
    );
    console.log(`  preview (upload, read, validate, compare): ${f(preview)}   (target <= 2000 ms)`);
    console.log(`  apply (a new version stored):              ${f(apply)}   (target <= 1000 ms)`);
  } finally {
    serve.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});

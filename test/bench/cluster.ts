import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { run } from '../../src/cli/main';
import { Storage } from '../../src/cli/storage';
import { callerAnswer, synthesize } from '../audio/synth';
import { ANSWERED, callerTurns, G711_OFFER, invite, runSipp, scenario } from '../e2e/sipp';
import { ClusterNode, hasKamailio, Kamailio, newNode, routed, startKamailio, startNode } from '../integration/cluster-parts';
import { freePort } from '../integration/free-port';
import { PgCluster } from '../integration/postgres';
import { treeCpuSeconds } from './proc';
import { percentile } from './stats';

/**
 * npm run bench:cluster [-- --levels 25,50,100 --rounds 2 --wait 8000]
 *
 * The capacity of two attendant nodes behind Kamailio against one, in the same run (issue
 * 12): PostgreSQL 15 in a cluster of its own, Kamailio with deploy/kamailio/kamailio.cfg, and
 * first one node with two recognition workers, then two nodes with one each (the same
 * machine's two cores either way), then two nodes with two each (as on two machines, here
 * sharing the two cores), the same calls through Kamailio. Each call: RTP silence
 * for `--wait` ms (the greeting heard out), "Sophie Martin", a REFER to 2014 (a caller asked
 * to confirm says yes). Per level: calls, failures, decision latency from end of speech to
 * REFER (p50/p95, from the call records in PostgreSQL), CPU per call of the nodes and of
 * Kamailio, and how Kamailio spread the calls.
 */

const root = join(__dirname, '..', '..', '..');

interface Setup {
  name: string;
  nodes: string[];
  workers: string;
}

const SETUPS: Setup[] = [
  { name: 'one node, 2 recognition workers', nodes: ['A'], workers: '2' },
  { name: 'two nodes, 1 recognition worker each', nodes: ['A', 'B'], workers: '1' },
  // As two machines of two cores would run them, here sharing two cores.
  { name: 'two nodes, 2 recognition workers each', nodes: ['A', 'B'], workers: '2' },
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      levels: { type: 'string', default: '25,50,100' },
      rounds: { type: 'string', default: '2' },
      wait: { type: 'string', default: '8000' },
    },
  });
  if (!hasKamailio()) throw new Error('kamailio is not installed (scripts/setup.sh installs it)');
  const pg = await PgCluster.start();
  if (pg === undefined) throw new Error('PostgreSQL is not installed (scripts/setup.sh installs postgresql-15)');
  const work = mkdtempSync(join(tmpdir(), 'attendant-bench-cluster-'));
  let kamailio: Kamailio | undefined;
  const nodes: ClusterNode[] = [];
  const stopAll = async (): Promise<void> => {
    await kamailio?.stop();
    kamailio = undefined;
    for (const n of nodes.splice(0)) {
      n.child?.kill('SIGTERM');
      await n.exited;
    }
  };
  try {
    const url = await pg.createDatabase('attendant');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ATTENDANT_DATABASE_URL: url,
      ATTENDANT_DATA_DIR: join(work, 'cli'),
      ATTENDANT_LOG_LEVEL: 'warn',
    };
    const quiet = { out: () => undefined, err: (t: string) => process.stderr.write(`${t}\n`) };
    if ((await run(['directory', 'import', 'demo', join(root, 'directory-fixtures', 'demo-store.csv'), '--create'], quiet, env)) !== 0)
      throw new Error('the demo directory could not be imported');
    const speech = await synthesize({ text: 'Sophie Martin', synth: 'espeak', voice: 'en-us', condition: 'clean' });
    const audio = join(work, 'caller.wav');
    await promisify(execFile)('sox', [speech, audio, 'pad', String(Number(values.wait) / 1000), '1']);
    const yes = await callerAnswer('yes', 'en-us', join(work, 'yes.wav'));
    const xml = routed(
      scenario('bench-cluster', [
        invite(G711_OFFER),
        ...ANSWERED,
        ...callerTurns({ speech: audio, yes, extension: '2014', referWithinMs: Number(values.wait) + 5000 }),
      ]),
    );
    const storage = await Storage.open({ dataDir: join(work, 'cli'), databaseUrl: url });
    const seen = new Set<string>();
    const callSeconds = Number(values.wait) / 1000 + 4;
    const rows: string[] = [];
    for (const setup of SETUPS) {
      for (const name of setup.nodes) {
        const node = await newNode(name, work);
        nodes.push(node);
        await startNode(node, env, {
          ATTENDANT_ASR_WORKERS: setup.workers,
          ATTENDANT_RTP_PORTS: name === 'A' ? '22000-22999' : '23000-23999',
          ATTENDANT_MAX_CALLS: '100',
        });
      }
      const proxy = await startKamailio(work, nodes);
      kamailio = proxy;
      console.log(`${setup.name}: node pids ${nodes.map((n) => n.child?.pid).join(', ')}, Kamailio on udp 127.0.0.1:${proxy.port}`);
      for (const concurrency of values.levels.split(',').map(Number)) {
        const calls = concurrency * Number(values.rounds);
        const logFrom = proxy.log().length;
        const cpu0 = nodes.map((n) => treeCpuSeconds(n.child?.pid ?? 0));
        const kamailioCpu0 = treeCpuSeconds(proxy.child.pid ?? 0);
        const t0 = Date.now();
        const result = await runSipp(xml, {
          target: `127.0.0.1:${proxy.port}`,
          service: 'demo',
          calls,
          limit: concurrency,
          rate: Math.max(1, Math.round(concurrency / callSeconds)),
          localPort: await freePort(),
          mediaPort: 36000,
          timeoutS: 60 + calls,
          stats: true,
        });
        const seconds = (Date.now() - t0) / 1000;
        await new Promise((r) => setTimeout(r, 1500));
        const nodeCpu = nodes.reduce((sum, n, i) => sum + treeCpuSeconds(n.child?.pid ?? 0) - cpu0[i], 0);
        const kamailioCpu = treeCpuSeconds(proxy.child.pid ?? 0) - kamailioCpu0;
        const fresh = (await storage.records.list('demo', 5000)).filter((r) => !seen.has(r.callId));
        for (const r of fresh) seen.add(r.callId);
        const latencies = fresh.filter((r) => r.decisionMs >= 0).map((r) => r.decisionMs);
        const ok = Number(result.stats?.['SuccessfulCall(C)'] ?? 0);
        const failed = Number(result.stats?.['FailedCall(C)'] ?? calls - ok);
        const spread = nodes.map((n) => `${n.name} ${proxy.routedTo(n, logFrom)}`).join(', ');
        const row = `| ${setup.name} | ${concurrency} | ${calls} | ${ok} | ${failed} | ${percentile(latencies, 50).toFixed(0)} | ${percentile(latencies, 95).toFixed(0)} | ${(nodeCpu / calls).toFixed(3)} | ${(kamailioCpu / calls).toFixed(4)} | ${spread} | ${seconds.toFixed(0)} |`;
        console.log(row);
        if (failed > 0 && result.errors !== '')
          console.log(`sipp's errors (the first ones):\n${result.errors.split('\n').slice(0, 8).join('\n')}`);
        rows.push(row);
      }
      await stopAll();
    }
    await storage.close();
    console.log(
      '\n| setup | concurrent calls | calls | ok | failed | decision p50 ms | p95 ms | CPU s per call, nodes | CPU s per call, Kamailio | INVITEs routed | wall s |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const row of rows) console.log(row);
  } finally {
    await stopAll();
    pg.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

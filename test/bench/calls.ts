import { ChildProcess, execFile, spawn } from 'node:child_process';
import { childPids, cpuSeconds, rssMb, treeCpuSeconds } from './proc';
import { bretonDirectory } from './synthetic-directory';
import { entriesToCsv } from '../../src/directory/export';
import { promisify } from 'node:util';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { Storage } from '../../src/cli/storage';
import { scrapeMetric } from '../integration/scrape';
import type { CallRecord } from '../../src/attendant/call-records';
import { run } from '../../src/cli/main';
import { callerAnswer, synthesize } from '../audio/synth';
import { freePort } from '../integration/free-port';
import { ANSWERED, callerTurns, G711_OFFER, invite, runSipp, scenario } from '../e2e/sipp';
import { percentile } from './stats';

/**
 * npm run bench:calls [-- --levels 10,25,50,75,100 --max-calls 100 --over 120 --wait 8000 --stores 1 --sync-entries 0 --voice en-us --log FILE]
 * --sync-entries N: a store of N people is served too, and at the start of each level a new
 * version of it (a tenth of the names changed) is imported, so the calls run while it is
 * validated, stored, built and loaded in the workers (issue 14: calls during a large sync).
 * --voice: the espeak-ng voice of the caller (`fr` for a French caller).
 *
 * attendant serve, run as in production, called by sipp as the PBX: each call sends real RTP
 * speech ("Sophie Martin", after `--wait` ms: by default 8 s, the demo store's greeting heard
 * out (6.9 s in French, 7.8 s in English)), and must end in a REFER to 2014; a caller asked
 * to confirm says yes ("oui" in a French voice) and the REFER must follow; one offered a
 * choice, to whom "oui" has the choices read again, then says the name again. For each level of
 * concurrent calls: calls handled, failures, decision latency from the endpointer's end of
 * speech to the REFER (p50/p95, from the call records), the same for every utterance (from
 * the log's heard_ms), calls put through after a yes or a choice, CPU seconds and RSS per call. Then one
 * level above ATTENDANT_MAX_CALLS: the excess gets 503 with Retry-After, and the admitted
 * calls must still be transferred.
 */

const root = join(__dirname, '..', '..', '..');

function count(items: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}

/** Resident memory of the server and its recognition workers, in MB; throws once the server is gone. */
function serviceRssMb(pid: number): number {
  const mb = rssMb(pid);
  if (mb === 0) throw new Error(`attendant serve (pid ${pid}) is gone: it crashed under load`);
  return mb + childPids(pid).reduce((n, c) => n + rssMb(c), 0);
}

/** A counter's value, 0 before its first sample. */
async function metric(httpPort: number, name: string): Promise<number> {
  return (await scrapeMetric(httpPort, name)) || 0;
}

/** Busy and total CPU ticks of the whole machine (attendant, sipp playing the PBX, this script). */
function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  return { busy: total - cpu[3] - cpu[4], total }; // idle and iowait are not busy
}

interface Level {
  concurrency: number;
  rate: number;
  calls: number;
  ok: number;
  failed: number;
  refused503: number;
  p50: number;
  p95: number;
  /** Every utterance (names and answers): end of speech to what attendant made of it. */
  heardP95: number;
  /** Calls put through after the caller confirmed. */
  confirmed: number;
  /** Calls put through after the caller was offered a choice and said the name again. */
  chose: number;
  cpuPerCall: number;
  mainCpuPerCall: number;
  machineBusyPct: number;
  rssPerCall: number;
  rssPeak: number;
  /** With --sync-entries: seconds to import the large store's new version, and until serve used it. */
  synced?: { importS: number; liveS: number };
  /** With --sync-entries: the calls to the large store during its sync. */
  big?: { ok: number; failed: number; outcomes: string; p95: number };
  seconds: number;
  transferred: number;
  notTransferred: string;
  /** Utterances decoded at the fast speed, per call (percent). */
  fastPct: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      levels: { type: 'string', default: '10,25,50,75,100' },
      'max-calls': { type: 'string', default: '100' },
      over: { type: 'string', default: '120' },
      wait: { type: 'string', default: '8000' },
      voice: { type: 'string', default: 'en-us' },
      rounds: { type: 'string', default: '2' },
      stores: { type: 'string', default: '1' },
      'sync-entries': { type: 'string', default: '0' },
      // Every line serve logs, kept in this file (to see what a slow call waited for).
      log: { type: 'string' },
    },
  });
  const maxCalls = Number(values['max-calls']);
  const dir = mkdtempSync(join(tmpdir(), 'attendant-bench-calls-'));
  const quiet = { out: () => undefined, err: () => undefined };
  await run(['directory', 'import', 'demo', join(root, 'directory-fixtures', 'demo-store.csv'), '--create'], quiet, {
    ATTENDANT_DATA_DIR: dir,
  });
  // --stores N: calls go round N stores, each with the demo directory and one service of its
  // own, so that every store has its own grammar, as in a deployment hosting many stores.
  const storeCount = Number(values.stores);
  const storeIds = storeCount <= 1 ? ['demo'] : Array.from({ length: storeCount }, (_, i) => `store${i + 1}`);
  if (storeCount > 1) {
    const demoCsv = readFileSync(join(root, 'directory-fixtures', 'demo-store.csv'), 'utf8').trimEnd();
    for (const [i, id] of storeIds.entries()) {
      const file = join(dir, `${id}.csv`);
      writeFileSync(file, `${demoCsv}\nbench${i},service,,,Caisse ${i + 1},,${3000 + i},,true\n`);
      await run(['directory', 'import', id, file, '--create'], quiet, { ATTENDANT_DATA_DIR: dir });
    }
  }
  // --sync-entries N: two versions of a large store, imported in turn, one per level.
  const syncEntries = Number(values['sync-entries']);
  const syncFiles: string[] = [];
  // The large store is called too while it syncs: someone of it (the same in both versions).
  let bigCaller: { audio: string; again: string; extension: string; name: string } | undefined;
  if (syncEntries > 0) {
    const people = bretonDirectory(syncEntries);
    const callee = people[Math.min(people.length - 1, 1234)];
    bigCaller = {
      audio: join(dir, 'big-caller.wav'),
      again: join(dir, 'big-again.wav'),
      extension: callee.extension,
      name: `${callee.firstName} ${callee.lastName}`,
    };
    syncFiles.push(join(dir, 'big-a.csv'), join(dir, 'big-b.csv'));
    writeFileSync(syncFiles[0], entriesToCsv(people));
    writeFileSync(syncFiles[1], entriesToCsv(people.map((e, i) => (i % 10 === 0 ? { ...e, lastName: `${e.lastName}nec` } : e))));
    await run(['directory', 'import', 'big', syncFiles[0], '--create'], quiet, { ATTENDANT_DATA_DIR: dir });
  }
  const voice = values.voice;
  const speech = await synthesize({ text: 'Sophie Martin', synth: 'espeak', voice, condition: 'clean' });
  // A phone line carries RTP all along: the caller's silence while the greeting plays, then the name.
  const audio = join(dir, 'caller.wav');
  await promisify(execFile)('sox', [speech, audio, 'pad', String(Number(values.wait) / 1000), '1']);
  // The name said again, at once (barging in on the choices read again).
  const again = join(dir, 'again.wav');
  await promisify(execFile)('sox', [speech, again, 'pad', '0', '1']);
  if (bigCaller !== undefined) {
    const bigSpeech = await synthesize({ text: bigCaller.name, synth: 'espeak', voice, condition: 'clean' });
    await promisify(execFile)('sox', [bigSpeech, bigCaller.audio, 'pad', String(Number(values.wait) / 1000), '1']);
    await promisify(execFile)('sox', [bigSpeech, bigCaller.again, 'pad', '0', '1']);
  }
  // Asked "Vous avez dit Sophie Martin ?" (as callers are when attendant is not sure enough,
  // more often when its workers are busy and a French store is heard by one model), the caller says yes.
  const yes = await callerAnswer(voice.startsWith('fr') ? 'oui' : 'yes', voice, join(dir, 'yes.wav'));
  const [sipPort, httpPort, grpcPort] = [await freePort(), await freePort(), await freePort()];
  const child: ChildProcess = spawn(process.execPath, [join(root, 'bin', 'attendant.js'), 'serve'], {
    env: {
      ...process.env,
      ATTENDANT_DATA_DIR: dir,
      ATTENDANT_SIP_PORT: String(sipPort),
      ATTENDANT_HTTP_PORT: String(httpPort),
      ATTENDANT_GRPC_PORT: String(grpcPort),
      ATTENDANT_MAX_CALLS: String(maxCalls),
      ATTENDANT_RTP_PORTS: '22000-23999',
      // 'heard a name' and 'heard an answer' give each utterance's time to a decision (heard_ms).
      ATTENDANT_LOG_LEVEL: 'info',
      // The large store's version, to see when a sync is live.
      ...(syncEntries > 0 ? { ATTENDANT_METRICS_STORES: 'on' } : {}),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // Every utterance heard: its time from end of speech to what attendant made of it. Warnings
  // and errors are shown as serve shows them.
  const heard: { callId: string; ms: number }[] = [];
  const logFile = values.log === undefined ? undefined : createWriteStream(values.log);
  createInterface({ input: child.stderr! }).on('line', (line) => {
    logFile?.write(`${line}\n`);
    let entry: { level?: number; call_id?: string; heard_ms?: number } = {};
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      process.stderr.write(`${line}\n`);
      return;
    }
    if ((entry.level ?? 0) >= 40) process.stderr.write(`${line}\n`);
    if (entry.heard_ms !== undefined && entry.call_id !== undefined) heard.push({ callId: entry.call_id, ms: entry.heard_ms });
  });
  const stop = (): void => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stop);
  for (let i = 0; ; i += 1) {
    const ok = await fetch(`http://127.0.0.1:${httpPort}/readyz`)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) break;
    if (i > (syncEntries > 0 ? 2400 : 240)) throw new Error('attendant serve did not become ready');
    await new Promise((r) => setTimeout(r, 250));
  }
  const pid = child.pid as number;
  // The REFER comes within a few seconds of the name, or the caller was asked to confirm or
  // to choose (callerTurns).
  const referWithin = Number(values.wait) + 5000;
  const callerScenario = (name: string, speech: string, extension: string, nameAgain = again): string =>
    scenario(name, [
      invite(G711_OFFER),
      ...ANSWERED,
      ...callerTurns({ speech, yes, again: nameAgain, extension, referWithinMs: referWithin }),
    ]);
  let xml = callerScenario('bench', audio, '2014');
  // Calls to the large store while it syncs: put through to anyone (a REFER at all), counted apart.
  const bigXml = bigCaller === undefined ? undefined : callerScenario('bench-big', bigCaller.audio, '[0-9]+', bigCaller.again);
  // Many stores: each call's Request-URI user comes from sipp's injection file, in turn.
  if (storeCount > 1) xml = xml.replaceAll('[service]', '[field0]');
  const injection = storeCount > 1 ? `SEQUENTIAL\n${storeIds.map((id) => `${id};`).join('\n')}\n` : undefined;
  console.log(
    `attendant serve (pid ${pid}), engine pocketsphinx, ${process.env.ATTENDANT_ASR_WORKERS ?? 'one worker per core'}; ATTENDANT_MAX_CALLS=${maxCalls}`,
  );
  if (storeCount > 1) console.log(`calls go round ${storeCount} stores, each with its own grammar`);
  console.log(`each call: RTP silence for ${values.wait} ms (the caller listens), then "Sophie Martin", REFER to 2014 expected\n`);

  const callSeconds = Number(values.wait) / 1000 + 4;
  const runLevel = async (concurrency: number): Promise<Level> => {
    const calls = concurrency * Number(values.rounds);
    const before = new Set((await callsOf(dir, storeIds)).map((r) => r.callId));
    const refusedBefore = await metric(httpPort, 'attendant_calls_refused_total{status="503"}');
    const fastBefore = await metric(httpPort, 'attendant_asr_fast_utterances_total');
    const cpu0 = treeCpuSeconds(pid);
    const main0 = cpuSeconds(pid, true);
    const machine0 = machineTicks();
    const rss0 = serviceRssMb(pid);
    let rssPeak = rss0;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, serviceRssMb(pid));
    }, 200);
    const rate = Math.max(1, Math.round(concurrency / callSeconds));
    // A sync of the large store, started with the calls: imported by the CLI as an admin does,
    // then built and loaded by serve while the calls go on.
    let sync: Promise<{ importS: number; liveS: number }> | undefined;
    if (syncEntries > 0) {
      const version = await metric(httpPort, 'attendant_store_directory_version{store="big"}');
      const file = syncFiles[version % 2];
      const t0 = performance.now();
      sync = promisify(execFile)(process.execPath, [join(root, 'bin', 'attendant.js'), 'directory', 'import', 'big', file], {
        env: { ...process.env, ATTENDANT_DATA_DIR: dir },
      }).then(async () => {
        const importS = (performance.now() - t0) / 1000;
        while ((await metric(httpPort, 'attendant_store_directory_version{store="big"}')) <= version)
          await new Promise((r) => setTimeout(r, 200));
        return { importS, liveS: (performance.now() - t0) / 1000 };
      });
    }
    // Ten calls to the large store during the sync, three at a time.
    const bigBefore = new Set((await callsOf(dir, ['big'])).map((r) => r.callId));
    const bigCalls =
      bigXml === undefined
        ? undefined
        : runSipp(bigXml, {
            target: `127.0.0.1:${sipPort}`,
            service: 'big',
            calls: 10,
            limit: 3,
            rate: 1,
            localPort: await freePort(),
            mediaPort: 38000,
            timeoutS: 120,
            stats: true,
          });
    const result = await runSipp(xml, {
      target: `127.0.0.1:${sipPort}`,
      service: 'demo',
      calls,
      limit: concurrency,
      // Arrivals spread over one call's length, as callers do, so that `concurrency` calls overlap.
      rate,
      localPort: await freePort(),
      mediaPort: 36000,
      timeoutS: 60 + calls,
      stats: true,
      injection,
    });
    clearInterval(sampler);
    const synced = sync === undefined ? undefined : await sync;
    const bigResult = bigCalls === undefined ? undefined : await bigCalls;
    // Let the last records land.
    await new Promise((r) => setTimeout(r, 1500));
    const cpu = treeCpuSeconds(pid) - cpu0;
    const mainCpu = cpuSeconds(pid, true) - main0;
    const machine1 = machineTicks();
    const fresh = (await callsOf(dir, storeIds)).filter((r) => !before.has(r.callId));
    const latencies = fresh.filter((r) => r.decisionMs >= 0).map((r) => r.decisionMs);
    const ids = new Set(fresh.map((r) => r.callId));
    const utterances = heard.filter((h) => ids.has(h.callId)).map((h) => h.ms);
    const ok = Number(result.stats?.['SuccessfulCall(C)'] ?? 0);
    const failed = Number(result.stats?.['FailedCall(C)'] ?? calls - ok);
    if (failed > 0 && result.errors !== '')
      console.log(`sipp's errors at ${concurrency} calls (the first ones):\n${result.errors.split('\n').slice(0, 12).join('\n')}`);
    return {
      concurrency,
      rate,
      calls,
      ok,
      failed,
      refused503: (await metric(httpPort, 'attendant_calls_refused_total{status="503"}')) - refusedBefore,
      fastPct: (100 * ((await metric(httpPort, 'attendant_asr_fast_utterances_total')) - fastBefore)) / Math.max(1, fresh.length),
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      heardP95: percentile(utterances, 95),
      confirmed: fresh.filter((r) => r.outcome === 'transferred' && r.path.some((step) => step.startsWith('heard:confirm'))).length,
      chose: fresh.filter((r) => r.outcome === 'transferred' && r.path.some((step) => step.startsWith('heard:disambiguate'))).length,
      cpuPerCall: cpu / Math.max(1, fresh.length),
      mainCpuPerCall: mainCpu / Math.max(1, fresh.length),
      machineBusyPct: (100 * (machine1.busy - machine0.busy)) / Math.max(1, machine1.total - machine0.total),
      rssPerCall: (rssPeak - rss0) / concurrency,
      rssPeak,
      seconds: result.ms / 1000,
      synced,
      big:
        bigResult === undefined || bigCaller === undefined
          ? undefined
          : await (async () => {
              const records = (await callsOf(dir, ['big'])).filter((r) => !bigBefore.has(r.callId));
              const decided = records.filter((r) => r.decisionMs >= 0).map((r) => r.decisionMs);
              return {
                ok: Number(bigResult.stats?.['SuccessfulCall(C)'] ?? 0),
                failed: Number(bigResult.stats?.['FailedCall(C)'] ?? 10),
                outcomes: [
                  ...count(
                    records.map((r) =>
                      r.outcome === 'transferred'
                        ? r.extension === bigCaller!.extension
                          ? 'transferred to the right person'
                          : 'transferred to someone else'
                        : r.outcome,
                    ),
                  ),
                ]
                  .map(([what, n]) => `${n} × ${what}`)
                  .join(', '),
                p95: percentile(decided, 95),
              };
            })(),
      transferred: fresh.filter((r) => r.outcome === 'transferred').length,
      // How the calls that were not put through ended, and the decisions on their way.
      notTransferred: [...count(fresh.filter((r) => r.outcome !== 'transferred').map((r) => `${r.outcome} (${r.path.join(' > ')})`))]
        .map(([what, n]) => `${n} × ${what}`)
        .join('; '),
    };
  };

  console.log(
    '| concurrent calls | new calls/s | calls | ok | failed | failure % | decision p50 ms | p95 ms | every utterance p95 ms | put through after a yes | after a choice | CPU s per call | of which main thread | machine busy % | RSS MB per call | peak RSS MB | wall s | fast decodes per 100 calls |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  let best = 0;
  let fast = 0;
  const notes: string[] = [];
  for (const concurrency of values.levels.split(',').map(Number)) {
    const l = await runLevel(concurrency);
    const failurePct = (100 * l.failed) / l.calls;
    if (failurePct <= 1) best = Math.max(best, concurrency);
    if (failurePct <= 1 && l.p95 <= 300) fast = Math.max(fast, concurrency);
    console.log(
      `| ${l.concurrency} | ${l.rate} | ${l.calls} | ${l.ok} | ${l.failed} | ${failurePct.toFixed(1)} | ${l.p50.toFixed(0)} | ${l.p95.toFixed(0)} | ${l.heardP95.toFixed(0)} | ${l.confirmed} | ${l.chose} | ${l.cpuPerCall.toFixed(3)} | ${l.mainCpuPerCall.toFixed(3)} | ${l.machineBusyPct.toFixed(0)} | ${l.rssPerCall.toFixed(2)} | ${l.rssPeak.toFixed(0)} | ${l.seconds.toFixed(1)} | ${l.fastPct.toFixed(0)} |`,
    );
    if (l.notTransferred !== '') notes.push(`${concurrency} calls, not put through: ${l.notTransferred}`);
    if (l.big !== undefined && bigCaller !== undefined) {
      notes.push(
        `${concurrency} calls: 10 calls to the large store during its sync ("${bigCaller.name}", in the version being replaced and the new one): ${l.big.ok} completed, ${l.big.failed} failed; ${l.big.outcomes}; decision p95 ${l.big.p95.toFixed(0)} ms`,
      );
    }
    if (l.synced !== undefined)
      notes.push(
        `${concurrency} calls: the ${syncEntries.toLocaleString('en')}-entry sync was imported in ${l.synced.importS.toFixed(1)} s and live ${l.synced.liveS.toFixed(1)} s after it began (the calls took ${l.seconds.toFixed(1)} s)`,
      );
  }
  if (notes.length > 0) console.log(`\n${notes.join('\n')}`);
  console.log(`\nhighest concurrency with ≤1% failures: ${best}; with decision p95 ≤ 300 ms: ${fast > 0 ? fast : 'none'}`);

  const over = Number(values.over);
  if (over > maxCalls) {
    const l = await runLevel(over);
    console.log(
      `\nover capacity: ${over} concurrent calls against ATTENDANT_MAX_CALLS=${maxCalls}: ${l.refused503} got 503 + Retry-After, ` +
        `${l.transferred} admitted calls were transferred, ${l.ok} sipp calls succeeded, decision p95 ${l.p95.toFixed(0)} ms`,
    );
  }
  stop();
  process.exit(0);
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});

/** The latest call records of these stores, read from the data dir's database. */
async function callsOf(dir: string, storeIds: string[]): Promise<CallRecord[]> {
  const storage = await Storage.open({ dataDir: dir });
  try {
    return (await Promise.all(storeIds.map((id) => storage.records.list(id, 1000)))).flat();
  } finally {
    await storage.close();
  }
}

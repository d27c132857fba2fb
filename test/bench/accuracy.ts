import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveEngine } from '../../src/asr/engine';
import { RecognizerPool } from '../../src/asr/pool';
import { StoreUnderstanding } from '../../src/attendant/understanding';
import { loadCmudict, recognizePcm } from '../../src/cli/recognize-command';
import { decide, DecisionThresholds, DEFAULT_THRESHOLDS } from '../../src/directory/decision';
import { readDirectory } from '../../src/directory/directory-file';
import { Candidate } from '../../src/directory/matcher';
import { readAudioFile } from '../../src/media/audio-file';
import {
  buildCallerSet, Call, DEV_ABSENT, DEV_PHRASES, DEV_VOICES, HELDOUT_ABSENT, HELDOUT_PHRASES, HELDOUT_VOICES,
} from '../audio/caller-set';
import { synthesize } from '../audio/synth';
import { benchProfile, mapLimit, pct, percentile } from './stats';

/**
 * npm run bench:accuracy [-- --set dev|heldout] [--workers N] [--sweep]
 * Generates a synthetic caller set for a store directory, sends each utterance through
 * the real recognizer and matcher, and prints right / wrong-transfer / rejection rates
 * per condition and the latency from end of audio to decision.
 */

interface Outcome {
  call: Call;
  transcript: string;
  decision: string;
  entryId?: string;
  choices: string[];
  candidates: Candidate[];
  operatorAsked: boolean;
  fit?: number;
  ms: number;
}

type Verdict = 'right' | 'wrong-transfer' | 'wrong-confirm' | 'missed' | 'rejected' | 'false-accept';

export function judge(expect: Call['expect'], decision: { kind: string; entryId?: string; choices: string[] }): Verdict {
  const { kind, entryId, choices } = decision;
  if (expect.kind === 'absent') {
    if (kind === 'reprompt' || kind === 'operator') return 'rejected';
    return kind === 'transfer' ? 'wrong-transfer' : 'false-accept';
  }
  if (expect.kind === 'homonym') {
    if (kind === 'disambiguate' && expect.ids.every((id) => choices.includes(id))) return 'right';
  } else if ((kind === 'transfer' || kind === 'confirm') && entryId === expect.ids[0]) return 'right';
  else if (kind === 'disambiguate' && choices.includes(expect.ids[0])) return 'right';
  if (kind === 'transfer') return 'wrong-transfer';
  if (kind === 'confirm' || kind === 'disambiguate') return 'wrong-confirm';
  return 'missed';
}

function table(outcomes: Outcome[], verdicts: Verdict[]): string {
  const groups = new Map<string, number[]>();
  outcomes.forEach((o, i) => {
    for (const key of ['all', o.call.utterance.condition, `lang ${o.call.language}`]) groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  const lines = [
    '| condition | calls | right | wrong transfer | absent rejected | confirmed | p50 ms | p95 ms |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const [name, idx] of groups) {
    const present = idx.filter((i) => outcomes[i].call.expect.kind !== 'absent');
    const absent = idx.filter((i) => outcomes[i].call.expect.kind === 'absent');
    const right = present.filter((i) => verdicts[i] === 'right').length;
    const wrong = idx.filter((i) => verdicts[i] === 'wrong-transfer').length;
    const rejected = absent.filter((i) => verdicts[i] === 'rejected').length;
    const confirmed = present.filter((i) => outcomes[i].decision === 'confirm').length;
    const ms = idx.map((i) => outcomes[i].ms);
    lines.push(
      `| ${name} | ${idx.length} | ${pct(right, present.length)} | ${pct(wrong, idx.length)} | ${pct(rejected, absent.length)} | ${pct(confirmed, present.length)} | ${percentile(ms, 50).toFixed(0)} | ${percentile(ms, 95).toFixed(0)} |`,
    );
  }
  return lines.join('\n');
}

function redecide(o: Outcome, t: DecisionThresholds): { kind: string; entryId?: string; choices: string[] } {
  const d = decide(o.candidates, { operatorAsked: o.operatorAsked, thresholds: t });
  return { kind: d.kind, entryId: d.entry?.id, choices: d.choices.map((e) => e.id) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      set: { type: 'string', default: 'dev' },
      workers: { type: 'string', default: '2' },
      sweep: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
    },
  });
  const heldout = values.set === 'heldout';
  const root = join(__dirname, '..', '..', '..');
  const file = join(root, 'directory-fixtures', heldout ? 'heldout-store.csv' : 'demo-store.csv');
  const { entries } = readDirectory(readFileSync(file), file);
  const calls = buildCallerSet(entries, {
    voices: heldout ? HELDOUT_VOICES : DEV_VOICES,
    phrases: heldout ? HELDOUT_PHRASES : DEV_PHRASES,
    absent: heldout ? HELDOUT_ABSENT : DEV_ABSENT,
    perEntry: heldout ? 2 : 3,
    seed: heldout ? 7 : 1,
  });
  const t0 = Date.now();
  const paths = await mapLimit(calls, 4, (c) => synthesize(c.utterance));
  console.log(`${calls.length} calls synthesized in ${((Date.now() - t0) / 1000).toFixed(1)} s (cached in .cache/audio)`);

  const understanding = await StoreUnderstanding.build({ store: 'bench', version: 1, entries }, loadCmudict());
  const spec = resolveEngine((process.env.ATTENDANT_ASR_ENGINE as 'auto') ?? 'auto', undefined, benchProfile());
  const workers = Number(values.workers);
  const pool = await RecognizerPool.create(spec, workers);
  const t1 = Date.now();
  const cpu0 = process.cpuUsage();
  const outcomes = await mapLimit(calls, workers * 2, async (call, i): Promise<Outcome> => {
    const audio = await readAudioFile(paths[i]);
    const { understanding: u, ms } = await recognizePcm(pool, understanding, audio.pcm);
    return {
      call,
      transcript: u.transcript,
      decision: u.decision.kind,
      entryId: u.decision.entry?.id,
      choices: u.decision.choices.map((e) => e.id),
      candidates: u.candidates,
      operatorAsked: u.decision.kind === 'operator',
      fit: u.fit,
      ms,
    };
  });
  const cpu = process.cpuUsage(cpu0);
  await pool.close();
  const verdicts = outcomes.map((o) => judge(o.call.expect, { kind: o.decision, entryId: o.entryId, choices: o.choices }));
  console.log(`engine ${spec.engine} (profile ${spec.profile}), ${workers} workers, ${calls.length} calls decoded in ${((Date.now() - t1) / 1000).toFixed(1)} s, ${((cpu.user + cpu.system) / 1e3 / calls.length).toFixed(0)} ms CPU per call`);
  console.log(`set: ${values.set} (${file.replace(`${root}/`, '')}), thresholds ${JSON.stringify(DEFAULT_THRESHOLDS)}\n`);
  console.log(table(outcomes, verdicts));
  if (values.verbose) {
    outcomes.forEach((o, i) => {
      if (verdicts[i] !== 'right' && verdicts[i] !== 'rejected') {
        console.log(`${verdicts[i]}\t${o.call.utterance.voice}/${o.call.utterance.condition}\t"${o.call.utterance.text}" -> "${o.transcript}" fit ${o.fit?.toFixed(2)} ${o.decision} ${o.entryId ?? o.choices.join(',')} [${o.candidates.slice(0, 3).map((c) => `${c.entry.id}:${c.score.toFixed(2)}`).join(' ')}]`);
      }
    });
  }
  if (values.sweep) {
    console.log('\nthreshold sweep (transfer / confirm / tie): right, wrong transfer, absent rejected, confirmed');
    for (const transfer of [0.6, 0.7, 0.8, 0.9, 0.95]) {
      for (const confirm of [0.3, 0.4, 0.45, 0.5, 0.6]) {
        for (const tieRatio of [0.6, 0.75, 0.9]) {
          const t = { transfer, confirm, tieRatio };
          const v = outcomes.map((o) => judge(o.call.expect, redecide(o, t)));
          const present = outcomes.filter((o) => o.call.expect.kind !== 'absent').length;
          const absent = outcomes.length - present;
          const right = v.filter((x, i) => x === 'right' && outcomes[i].call.expect.kind !== 'absent').length;
          const wrong = v.filter((x) => x === 'wrong-transfer').length;
          const rejected = v.filter((x) => x === 'rejected').length;
          const confirmed = outcomes.filter((o, i) => redecide(o, t).kind === 'confirm' && o.call.expect.kind !== 'absent').length;
          console.log(`${transfer} / ${confirm} / ${tieRatio}: ${pct(right, present)}, ${pct(wrong, outcomes.length)}, ${pct(rejected, absent)}, ${pct(confirmed, present)}`);
        }
      }
    }
  }
  const out = join(root, '.cache', 'bench');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, `accuracy-${values.set}.json`),
    JSON.stringify(outcomes.map((o, i) => ({ ...o, candidates: o.candidates.map((c) => ({ id: c.entry.id, score: c.score })), verdict: verdicts[i] })), null, 1),
  );
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveEngine } from '../../src/asr/engine';
import { loadCatalog } from '../../src/asr/models';
import { RecognizerPool } from '../../src/asr/pool';
import { asQuiet } from '../../src/asr/recognizer';
import { differentNames } from '../../src/directory/decision';
import { agreedAnswer, AnswerGrammar, choiceAnswers, confirmAnswers, hearConfirmation } from '../../src/attendant/answers';
import {
  Answer,
  DEFAULT_FLOW,
  FlowAction,
  FlowContext,
  FlowEvent,
  FlowState,
  initialState,
  keypadDigits,
  step,
} from '../../src/attendant/flow';
import { decodeAll, hearUtterance, StoreUnderstanding } from '../../src/attendant/understanding';
import { DirectoryEntry, displayName } from '../../src/directory/entry';
import { readAudioFile } from '../../src/media/audio-file';
import { Prompt, PromptLibrary } from '../../src/media/prompts';
import { RealClip, realSources, Surround, telephoneClip } from '../audio/real-speech';
import { synthesize } from '../audio/synth';
import { localeOf, sourceStores } from './real-speech';
import { benchProfile, mapLimit, pct, percentile } from './stats';

/**
 * npm run bench:whole-call [-- --source fr-speech-to-phrase] [--takes N] [--services N] [--verbose]
 *
 * Whole calls, not single decisions: each real clip is a caller who goes through the call
 * flow itself (attendant/flow.ts, the state machine calls run on) with real recognition. The
 * caller says the clip after the greeting; answers "oui"/"non" (an espeak voice: there are no
 * real recordings of answers) to "Vous avez dit X ?" truthfully; to "A, ou B ?" says the
 * clip again when what they want is offered, "non" otherwise (offered on the keypad alone,
 * Decision.keysOnly: presses its key); says the clip again (heard on
 * another line: comfort noise, then line noise) when asked to repeat; types the name on the
 * keypad when that is offered, and picks it from the names read back. Per source: reached
 * the right person, the wrong person (a "non" heard as "oui" counts), the operator; turns
 * and seconds per call (prompts as attendant says them, and the caller's audio). `--services N`
 * makes the source's words N services a store (bench:real's storesOf); the cut and
 * synthesized sources of bench:real are heard too.
 */

interface CallResult {
  clip: RealClip;
  expect?: string;
  /** Whom the caller asked for, as the directory names them. */
  wanted?: string;
  outcome: 'right' | 'wrong' | 'operator' | 'stuck';
  turns: number;
  seconds: number;
  path: string[];
}

const ANSWER_VOICE = { synth: 'espeak' as const, condition: 'clean' as const, encoding: 'u-law' as const };
const REPEATS: Surround[] = ['silence', 'comfort', 'line', 'tight'];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      source: { type: 'string' },
      takes: { type: 'string', default: '1' },
      services: { type: 'string' },
      workers: { type: 'string', default: '2' },
      verbose: { type: 'boolean', default: false },
    },
  });
  const sources = values.source === undefined ? realSources('bench:whole-call') : values.source.split(',');
  console.log(`bench:whole-call, profile ${benchProfile()}, ${new Date().toISOString()}`);
  const servicesPerStore = values.services === undefined ? undefined : Number(values.services);
  if (servicesPerStore !== undefined && !(Number.isInteger(servicesPerStore) && servicesPerStore >= 1))
    throw new Error(`--services takes a number of services a store, not ${values.services}`);
  const catalog = loadCatalog();
  const pool = await RecognizerPool.create(
    resolveEngine('pocketsphinx', undefined, benchProfile(), catalog.models),
    Number(values.workers),
  );
  const prompts = new PromptLibrary(mkdtempSync(join(tmpdir(), 'attendant-whole-call-')));
  try {
    for (const source of sources) {
      const locale = localeOf(source);
      const fr = locale === 'fr-FR';
      const results: CallResult[] = [];
      let models: string[] = [];
      for await (const { clips: group, entries, serviceOf, understanding } of sourceStores(
        source,
        Number(values.takes),
        catalog,
        servicesPerStore,
      )) {
        models = understanding.models;
        results.push(...(await wholeCalls(group, entries, serviceOf, understanding, fr)));
      }
      report(source, models, results, values.verbose === true, servicesPerStore);
    }
  } finally {
    await pool.close();
  }

  /** Each clip of one store a whole call. */
  async function wholeCalls(
    clips: RealClip[],
    entries: DirectoryEntry[],
    serviceOf: Map<string, string>,
    understanding: StoreUnderstanding,
    fr: boolean,
  ): Promise<CallResult[]> {
    const lexicons = understanding.lexicons;
    const confirm = await Promise.all(lexicons.map((l) => confirmAnswers(l)));
    const ctx: FlowContext = {
      ...DEFAULT_FLOW,
      operator: '9',
      extensions: new Map(entries.filter((e) => e.enabled).map((e) => [e.extension, e])),
      directory: entries.filter((e) => e.enabled),
    };
    const promptSeconds = async (prompt: Prompt): Promise<number> => (await prompts.render(prompt, fr ? 'fr-FR' : 'en-US')).length / 16000;
    const said = async (text: string): Promise<Int16Array> =>
      (await readAudioFile(await synthesize({ ...ANSWER_VOICE, text, voice: fr ? 'fr' : 'en-us' }))).pcm;
    const clipAudio = async (clip: RealClip, attempt: number): Promise<Int16Array> =>
      (await readAudioFile(await telephoneClip(clip, { surround: REPEATS[Math.min(attempt, REPEATS.length - 1)] }))).pcm;

    return mapLimit(clips, Number(values.workers) * 2, async (clip): Promise<CallResult> => {
      const expect = serviceOf.get(clip.transcript);
      const wanted = entries.find((e) => e.id === expect);
      let state: FlowState = initialState();
      let seconds = 0;
      let turns = 0;
      let attempts = 0;
      let listening: 'name' | 'answer' = 'name';
      const queue: FlowEvent[] = [{ type: 'start' }];
      let transferTo: string | undefined;
      const run = async (actions: FlowAction[]): Promise<void> => {
        for (const a of actions) {
          if (a.type === 'play') seconds += await promptSeconds(a.prompt);
          else if (a.type === 'listen') listening = a.for;
          else if (a.type === 'transfer') transferTo = a.target.operator ? 'operator' : a.target.entry?.id;
        }
      };
      for (let guard = 0; guard < 200 && transferTo === undefined; guard += 1) {
        const event = queue.shift();
        if (event !== undefined) {
          const next = step(state, event, ctx);
          state = next.state;
          await run(next.actions);
          continue;
        }
        // The caller's turn, after the prompt.
        const ended = step(state, { type: 'promptEnded' }, ctx);
        state = ended.state;
        turns += 1;
        if (state.phase === 'spelling') {
          // Typed on the keypad: the name's keys, then the pause; then the right one of the names read back.
          const keys = wanted === undefined ? '0' : keypadDigits(wanted.lastName || wanted.serviceName);
          seconds += keys.length * 0.4 + 3;
          for (const d of keys) queue.push({ type: 'digit', digit: d });
          if (wanted !== undefined) queue.push({ type: 'timer', name: 'digits' });
          continue;
        }
        if (state.phase === 'disambiguating' && state.choicesReadAgain === true && state.path.some((p) => p.startsWith('spell:'))) {
          const index = state.choices.findIndex((e) => e.id === expect);
          seconds += 1;
          queue.push(index >= 0 ? { type: 'digit', digit: String(index + 1) } : { type: 'digit', digit: '0' });
          continue;
        }
        if (listening === 'name') {
          const pcm = await clipAudio(clip, attempts);
          attempts += 1;
          seconds += pcm.length / 16000;
          // Heard as a store's caller alone would be (recognition, not latency: bench:calls).
          const { understood } = await hearUtterance(asQuiet(pool), understanding, (send) => {
            for (let k = 0; k < pcm.length; k += 320) send(pcm.subarray(k, Math.min(pcm.length, k + 320)));
          });
          queue.push({ type: 'speechStarted' }, { type: 'heard', decision: understood.decision });
          continue;
        }
        if (state.phase === 'disambiguating' && expect === undefined && differentNames(state.choices)) {
          // Asking for no one, offered different names: 0 for the operator, as the offer says.
          seconds += 1;
          queue.push({ type: 'digit', digit: '0' }, { type: 'timer', name: 'digits' });
          continue;
        }
        if (state.phase === 'disambiguating' && state.keysOnly === true && state.choices.some((e) => e.id === expect)) {
          // Offered on the keypad alone: the caller presses the key of the one they want.
          seconds += 1;
          queue.push({ type: 'digit', digit: String(state.choices.findIndex((e) => e.id === expect) + 1) });
          continue;
        }
        // An answer.
        let answer: Answer;
        if (state.phase === 'confirming') {
          const yes = state.pending?.id === expect;
          const pcm = await said(yes ? (fr ? 'oui' : 'yes') : fr ? 'non' : 'no');
          seconds += pcm.length / 16000;
          answer = (await hearConfirmation(pool, confirm, pcm)).answer;
        } else {
          const offered = state.choices.some((e) => e.id === expect);
          const pcm = offered ? await clipAudio(clip, 0) : await said(fr ? 'non' : 'no');
          seconds += pcm.length / 16000;
          const grammars: AnswerGrammar[] = await Promise.all(lexicons.map((l) => choiceAnswers(state.choices, l)));
          const heard = await decodeAll(
            pool,
            grammars.map((g) => g.grammar),
            (send) => send(pcm),
            undefined,
            { together: true },
          );
          answer = agreedAnswer(grammars.map((g, i) => g.hear(heard[i])));
        }
        queue.push({ type: 'speechStarted' }, { type: 'answered', answer });
      }
      const outcome: CallResult['outcome'] =
        transferTo === undefined ? 'stuck' : transferTo === 'operator' ? 'operator' : transferTo === expect ? 'right' : 'wrong';
      return { clip, expect, wanted: wanted && displayName(wanted), outcome, turns, seconds, path: state.path };
    });
  }
}

function report(source: string, models: string[], results: CallResult[], verbose: boolean, servicesPerStore: number | undefined): void {
  const present = results.filter((r) => r.expect !== undefined);
  const absent = results.filter((r) => r.expect === undefined);
  const line = (label: string, rs: CallResult[]): string => {
    const n = (o: CallResult['outcome']): number => rs.filter((r) => r.outcome === o).length;
    const turns = rs.map((r) => r.turns);
    const secs = rs.map((r) => r.seconds);
    return `| ${label} | ${rs.length} | ${pct(n('right'), rs.length)} | ${pct(n('wrong'), rs.length)} | ${pct(n('operator'), rs.length)} | ${(turns.reduce((a, b) => a + b, 0) / Math.max(1, rs.length)).toFixed(2)} | ${(secs.reduce((a, b) => a + b, 0) / Math.max(1, rs.length)).toFixed(1)} | ${percentile(secs, 95).toFixed(1)} |`;
  };
  console.log(
    `\n## ${source} (models ${models.join(' + ')}${servicesPerStore === undefined ? '' : `, ${servicesPerStore} services a store`})\n`,
  );
  console.log(
    '| callers | calls | reached the right person | the wrong person | the operator | turns a call | seconds a call | p95 seconds |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  console.log(line('asking for someone in the directory', present));
  if (absent.length > 0) console.log(line('asking for no one in it (<OOV>)', absent));
  if (verbose) {
    for (const r of results) {
      if (r.outcome === 'right') continue;
      console.log(`${r.outcome}\t${r.clip.file}\t"${r.clip.transcript}" (${r.wanted ?? 'absent'})\t${r.path.join(' ')}`);
    }
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

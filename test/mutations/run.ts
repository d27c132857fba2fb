import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

/**
 * npm run test:mutations [-- --only 3,5]
 *
 * Proof that the tests of the defects fixed for issues 13, 14, 33, 34, 35 and 36 can fail: each fix is undone
 * in a copy of the last commit (a git worktree), the project is built, and the test written
 * for that defect must fail. A mutation its test does not catch fails this run (exit 1).
 * Not part of `npm test`: each mutation rebuilds the project (about 8 minutes in all).
 */

interface Mutation {
  defect: string;
  file: string;
  /** The fixed code, exactly as in the file, and the code that undoes the fix. */
  fixed: string;
  undone: string;
  /** The compiled test file and the name (a part of it) of the test that must fail. */
  test: string;
  name: string;
}

const MUTATIONS: Mutation[] = [
  {
    defect:
      'a name the English model cannot search counts as unheard in the second hearing: real French sentences asked as someone else (33)',
    file: 'src/attendant/understanding.ts',
    fixed: 'if (!usable.some(Boolean)) return decision;',
    undone: 'if (!usable.every(Boolean)) return decision;',
    test: 'dist/test/unit/cross-hearing.test.js',
    name: 'compares the names on one model alone',
  },
  {
    defect: 'a store version that cannot be built is built again at every database check, every second (36, found splitting serve())',
    file: 'src/attendant/store-registry.ts',
    fixed: 'const at = this.tried.get(id) ?? this.known.get(id)?.version;',
    undone: 'const at = this.known.get(id)?.version;',
    test: 'dist/test/unit/store-registry.test.js',
    name: 'does not try a failed version again',
  },
  {
    defect: "GetStats with a store's token returns every store's totals (13, 6)",
    file: 'src/api/attendant-service.ts',
    fixed: "const store = token.store ?? (asked === '' ? undefined : asked);",
    undone: "const store = asked === '' ? undefined : asked;",
    test: 'dist/test/integration/directory-api.test.js',
    name: 'scopes GetStats',
  },
  {
    defect: 'a call still up when the shutdown grace ends is cut without a BYE (13, 4)',
    file: 'src/attendant/switchboard.ts',
    fixed: "(session) => (typeof session.shutdown === 'function' ? session.shutdown() : undefined)",
    undone: '() => undefined',
    test: 'dist/test/integration/serve.test.js',
    name: 'sends a call still up to the operator',
  },
  {
    defect: 'a store whose PBX hooks are down hangs up on the caller (13)',
    file: 'src/pbx/transfer.ts',
    fixed: 'if (first.ok || first.unreachable !== true) return first;',
    undone: 'return first;',
    test: 'dist/test/e2e/sipp.test.js',
    name: 'hooks cannot be reached',
  },
  {
    defect: "a store's replaced recording is ignored until restart (13, 5)",
    file: 'src/media/prompts.ts',
    fixed: 'version = `file:${file}:${st.size}:${st.mtimeMs}`;',
    undone: 'version = `file:${file}`;',
    test: 'dist/test/integration/prompts.test.js',
    name: 'replaced recording',
  },
  {
    defect: 'an unplayable recording is never reported (13, 5)',
    file: 'src/media/prompts.ts',
    fixed: 'this.onBadRecording(file, (err as Error).message);',
    undone: 'void err;',
    test: 'dist/test/integration/prompts.test.js',
    name: 'reports a recording that cannot be played',
  },
  {
    defect: 'a model that crashes the engine passes the start-up check (13, 3)',
    file: 'src/cli/serve-command.ts',
    fixed: "log.info({ checked: await probeEngine(spec) }, 'models loaded and tried on a test sound');",
    undone: "log.info({ checked: probeEngine.name }, 'models not tried');",
    test: 'dist/test/integration/serve.test.js',
    name: 'Vosk folder of empty files',
  },
  {
    defect: 'ATTENDANT_LOG_LEVEL=verbose is not named as a wrong setting (13)',
    file: 'src/config/settings.ts',
    fixed: '  if (!LOG_LEVELS.includes(level))',
    undone: '  if (LOG_LEVELS.length < 0 && !LOG_LEVELS.includes(level))',
    test: 'dist/test/integration/cli.test.js',
    name: 'names the setting that is wrong',
  },
  {
    defect: 'a store just created is not answered (13; 14, 9)',
    file: 'src/attendant/flow.ts',
    fixed: 'if (ctx.extensions.size === 0) {',
    undone: 'if (ctx.extensions.size < 0) {',
    test: 'dist/test/e2e/sipp.test.js',
    name: 'answers a store created while it runs',
  },
  {
    defect: "RTP from anyone is taken as the caller's (14, 1)",
    file: 'src/media/rtp.ts',
    fixed: 'const fromOffered = port === offered.port && sameHost(address, offered.address);',
    undone: 'const fromOffered = port > 0;',
    test: 'dist/test/e2e/sipp.test.js',
    name: 'takes no keypad events from an intruder',
  },
  {
    defect: 'RTP is sent to an INVITE never ACKed (14, 2: reflection)',
    file: 'src/attendant/switchboard.ts',
    fixed: "dialog.once('acked', () => rtp.open());",
    undone: 'rtp.open();',
    test: 'dist/test/e2e/sipp.test.js',
    name: 'sends no RTP to the address of an INVITE',
  },
  {
    defect: 'exported cells run as formulas in a spreadsheet (14, 7)',
    file: 'src/directory/csv.ts',
    fixed: 'if (!/^[=+\\-@\\t\\r]/.test(value) || /^[+-]?[0-9][0-9 .]*$/.test(value)) return value;',
    undone: 'if (value.length >= 0) return value;',
    test: 'dist/test/unit/csv.test.js',
    name: 'formulas',
  },
  {
    defect: 'a merged INVITE sets up a second call instead of 482 (14, 9)',
    file: 'src/sip/user-agent.ts',
    fixed: "if (request.method === 'INVITE' && this.merged(request, key)) {",
    undone: "if (request.method === 'INVITE' && this.merged(request, key) && key === '') {",
    test: 'dist/test/integration/sip-user-agent.test.js',
    name: 'answers 482 to a merged request',
  },
  {
    defect: 'a workbook whose headers lie about its size inflates in memory (34, 1)',
    file: 'src/directory/zip-check.ts',
    fixed: 'if (inflated > limit) {',
    undone: 'if (inflated > limit && limit < 0) {',
    test: 'dist/test/unit/hostile-files.test.js',
    name: 'headers say 1,000 bytes',
  },
  {
    defect: 'a file that stops the service while read is read again at every start (34, 2)',
    file: 'src/api/drop-folder.ts',
    fixed: "      path = this.moveTo(folder, path, name, 'processing');\n",
    undone: '',
    test: 'dist/test/integration/drop-folder.test.js',
    name: 'files each where it belongs',
  },
  {
    defect: 'a 20 MB cell is checked field by field (34, 3)',
    file: 'src/directory/xlsx.ts',
    fixed: 'if (text.length <= MAX_CELL_CHARS) return text;',
    undone: 'return text;',
    test: 'dist/test/unit/hostile-files.test.js',
    name: '20 MB cell',
  },
  {
    defect: 'a file of a million rows is parsed whole before it is refused (34, 4)',
    file: 'src/directory/directory-file.ts',
    fixed: 'if (records.length > MAX_DIRECTORY_ENTRIES + 1) {',
    undone: 'if (records.length < 0) {',
    test: 'dist/test/unit/hostile-files.test.js',
    name: 'million rows',
  },
  {
    defect: 'gRPC holds the message of a call with no token (34, 5)',
    file: 'src/api/grpc-server.ts',
    fixed: 'interceptors: [authenticateFirst(authorize)],',
    undone: 'interceptors: [],',
    test: 'dist/test/integration/directory-api.test.js',
    name: 'before the 15 MiB message',
  },
  {
    defect: 'a test recording of minutes holds a recognition worker (34, 6)',
    file: 'src/console/console-server.ts',
    fixed: 'if (seconds > MAX_TEST_AUDIO_SECONDS)',
    undone: 'if (seconds < 0)',
    test: 'dist/test/integration/console-limits.test.js',
    name: 'refuses a test recording over',
  },
  {
    defect: "test recordings heard one after another hold another store's caller for seconds (34, 6)",
    file: 'src/console/console-server.ts',
    fixed: ' || (this.deps.callsInProgress?.() ?? 0) > 0;',
    undone: ';',
    test: 'dist/test/integration/hostile-admin.test.js',
    name: 'posts test recordings over and over',
  },
  {
    defect: "a flood of sign-ins signs out every other token's sessions (34, 7)",
    file: 'src/console/sessions.ts',
    fixed: 'if (own.length >= this.perToken || (this.sessions.size >= this.max && own.length > 0)) this.close(own[0].id);',
    undone: 'if (this.sessions.size >= this.max) this.close(this.sessions.keys().next().value as string);',
    test: 'dist/test/integration/console-limits.test.js',
    name: 'never another',
  },
  {
    defect: 'drop folder follows a store folder that is a link (34, 9)',
    file: 'src/api/drop-folder.ts',
    fixed: '  return lstatSync(path, { throwIfNoEntry: false })?.isDirectory() === true;',
    undone: '  return existsSync(path);',
    test: 'dist/test/integration/drop-folder.test.js',
    name: 'follows no link',
  },
  {
    defect: 'a directory of 600 bad rows gets no gRPC status (34, 10)',
    file: 'src/api/directory-service.ts',
    fixed: 'const shown = capProblems(problems, MAX_STATUS_PROBLEMS);',
    undone: 'const shown = problems;',
    test: 'dist/test/integration/directory-api.test.js',
    name: '600 bad rows',
  },
  {
    defect: 'capitals are spelled out in prompts (35, 2)',
    file: 'src/attendant/flow.ts',
    fixed: "{ key: 'connecting', name: spokenName(entry) }",
    undone: "{ key: 'connecting', name: `${entry.firstName} ${entry.lastName}`.trim() }",
    test: 'dist/test/unit/flow.test.js',
    name: 'says a back office',
  },
  {
    defect: 'a store answers 404 to its number in E.164 (35, 3)',
    file: 'src/directory/directory-store.ts',
    fixed: 'store.numbers.some((n) => sameNumber(user, n, store.locale))',
    undone: 'store.numbers.includes(user)',
    test: 'dist/test/integration/directory-store.test.js',
    name: 'finds a store by one of its numbers',
  },
  {
    defect: 'a process-group SIGTERM kills the recognition workers during the drain (35, 6)',
    file: 'src/asr/worker.ts',
    fixed: "  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => undefined);\n",
    undone: '',
    test: 'dist/test/integration/serve.test.js',
    name: 'whole process group',
  },
  {
    defect: 'the debug trace shows the caller in the messages attendant sends (35, 7)',
    file: 'src/sip/transport.ts',
    fixed: '/^(From|f|To|t|Contact|m|P-Asserted-Identity|P-Preferred-Identity|Remote-Party-ID|Referred-By|b|Refer-To|r)\\s*:(.*)$/i',
    undone: '/^(From|f|Contact|m|P-Asserted-Identity|P-Preferred-Identity|Remote-Party-ID|Referred-By|b)\\s*:(.*)$/i',
    test: 'dist/test/unit/sip-message.test.js',
    name: 'messages attendant sends',
  },
  {
    defect: "espeak's language switches read as phones (35, 8)",
    file: 'src/asr/phones.ts',
    fixed: ".replace(/\\([a-z]{2,3}(?:-[a-z]+)?\\)/g, '')",
    undone: '',
    test: 'dist/test/unit/audio.test.js',
    name: 'language switches',
  },
  {
    defect: 'a short real word is put straight through on a score that tells little (33)',
    file: 'src/attendant/understanding.ts',
    fixed: 'const decision = withEvidence(decide(candidates, { operatorAsked: this.operatorAsked(result), thresholds }), [result]);',
    undone: 'const decision = decide(candidates, { operatorAsked: this.operatorAsked(result), thresholds });',
    test: 'dist/test/integration/real-speech.test.js',
    name: 'English digits',
  },
  {
    defect: "the weekly back-office import erases the store's fixes (35, 1)",
    file: 'src/directory/reimport.ts',
    fixed: '      if (!carried.has(field)) {',
    undone: '      if (carried.size < 0) {',
    test: 'dist/test/integration/reimport.test.js',
    name: 'changes nothing the store fixed',
  },
  {
    defect: 'a header below title rows is not found (35, 10)',
    file: 'src/directory/directory-file.ts',
    fixed: 'const [header, ...rows] = headerAt > 0 ? records.slice(headerAt) : records;',
    undone: 'const [header, ...rows] = records;',
    test: 'dist/test/unit/directory-file.test.js',
    name: 'below title rows',
  },
  {
    defect: 'attendant call prints "transferred to 9" for an operator fallback (35, 5)',
    file: 'src/cli/calls-commands.ts',
    fixed: '      callResult.record = await recordOf(storeId, callResult.sipCallId);\n',
    undone: '',
    test: 'dist/test/e2e/sipp.test.js',
    name: 'never "transferred"',
  },
  {
    defect: 'the sign-in page shows the menu and « Se déconnecter » (35, 9)',
    file: 'src/console/static/app.css',
    fixed: '[hidden] {\n  display: none !important;\n}',
    undone: '',
    test: 'dist/test/browser/console.test.js',
    name: 'signs in with the store token',
  },
  {
    defect: 'a 4.7-s sentence heard as « je souhaite parler à Dupont » is put straight through (33)',
    file: 'src/directory/decision.ts',
    fixed: '  const unaccounted = heard.some((h) => (lettersPerSecond(h) ?? Infinity) < MIN_LETTERS_PER_SECOND);',
    undone: '  const unaccounted = heard.length < 0;',
    test: 'dist/test/unit/speech-span.test.js',
    name: 'account for too little',
  },
  {
    defect: 'a name that leads the other by a little on a short word is put through on a second hearing (33)',
    file: 'src/attendant/understanding.ts',
    fixed: '  return Number.isFinite(lead) ? (lead * Math.min(...spans)) / 1000 : undefined;',
    undone: '  return Number.isFinite(lead) ? lead * 2 : undefined;',
    test: 'dist/test/unit/cross-hearing.test.js',
    name: 'leads the other by enough over the whole speech',
  },
  {
    defect: 'an English store puts a caller through to someone else at 0.859 (33)',
    file: 'src/directory/decision.ts',
    fixed: 'export const DEFAULT_THRESHOLDS: DecisionThresholds = { transfer: 0.86, confirm: 0.45, tieRatio: 0.75 };',
    undone: 'export const DEFAULT_THRESHOLDS: DecisionThresholds = { transfer: 0.8, confirm: 0.45, tieRatio: 0.75 };',
    test: 'dist/test/unit/matcher.test.js',
    name: 'would have put through at 0.859',
  },
  {
    defect: 'the French model hears « pause » as Faure: white noise under a telephone-band model sounds like an /f/ (33)',
    file: 'src/asr/pocketsphinx-tuning.ts',
    fixed: "  return sampleRate < SAMPLE_RATE ? 'pink' : 'white';",
    undone: "  return 'white';",
    test: 'dist/test/integration/real-speech.test.js',
    name: 'hears a short command with a stop in it',
  },
  {
    defect: 'a DC offset on the line (-18 dBFS) has half the real French commands asked about another service (33)',
    file: 'src/asr/pocketsphinx.ts',
    fixed: '    const line = withoutDc(audio);',
    undone: '    const line = audio;',
    test: 'dist/test/integration/real-speech.test.js',
    name: 'hears a command the same with a DC offset',
  },
  {
    defect: 'the endpointer counts a DC offset as level, and never hears a caller on such a line (33)',
    file: 'src/media/endpointer.ts',
    fixed: '  return Math.sqrt(Math.max(0, squares / frame.length - mean * mean));',
    undone: '  return Math.sqrt(squares / frame.length);',
    test: 'dist/test/unit/media.test.js',
    name: 'hears a caller on a line with a DC offset',
  },
  {
    defect: 'a caller whose speech peaks at -40 dBFS is heard as nothing: no frame reaches -45 dBFS (33)',
    file: 'src/media/speech-presence.ts',
    fixed: 'export const SPEECH_MIN_RMS = 30;',
    undone: 'export const SPEECH_MIN_RMS = 180;',
    test: 'dist/test/integration/real-speech.test.js',
    name: 'hears a command said quietly',
  },
  {
    defect: 'the endpointer takes nothing under -41 dBFS for speech, and a quiet caller is never heard in a call (33)',
    file: 'src/media/endpointer.ts',
    fixed: '    const threshold = Math.max(this.playing ? this.o.minLevel : this.o.quietMinLevel, this.floor * this.o.floorRatio);',
    undone: '    const threshold = Math.max(this.o.minLevel, this.floor * this.o.floorRatio);',
    test: 'dist/test/unit/media.test.js',
    name: 'hears a quiet caller',
  },
  {
    defect: 'a second hearing that barely tells two names apart asks about one of them, a coin toss, instead of offering both (33)',
    file: 'src/attendant/understanding.ts',
    fixed: '    if (rule.offerLead !== undefined && lead !== undefined && lead < rule.offerLead) {',
    undone: '    if (rule.offerLead !== undefined && lead !== undefined && lead < rule.offerLead && (false as boolean)) {',
    test: 'dist/test/unit/cross-hearing.test.js',
    name: 'offers both names',
  },
  {
    defect:
      'a second model that heard nothing at all counts against every entry the first heard, and a sentence heard right is asked again (33)',
    file: 'src/attendant/understanding.ts',
    fixed:
      '    if (results.length === 2 && results[1].nbest.length === 0 && results[0].nbest.length > 0) return this.understand(results[0]);',
    undone: '',
    test: 'dist/test/unit/cross-hearing.test.js',
    name: 'decides on the French model alone',
  },
  {
    defect: 'a store heard by one model asks about its first guess alone, though the runner-up fits the speech as well (33)',
    file: 'src/attendant/understanding.ts',
    fixed: '    if (!(lead < rule.offerLead)) return undefined;',
    undone: '    if (!(lead < rule.offerLead) || (true as boolean)) return undefined;',
    test: 'dist/test/unit/cross-hearing.test.js',
    name: 'offers both, on the keypad',
  },
  {
    defect: 'a store heard by one model never hears the utterance again without the name it would ask about (33)',
    file: 'src/attendant/understanding.ts',
    fixed: '  if (asked !== undefined && recognizer.busy !== true && alone) {',
    undone: '  if (asked !== undefined && recognizer.busy !== true && alone && (false as boolean)) {',
    test: 'dist/test/unit/cross-hearing.test.js',
    name: 'searches the utterance again, grammar alone',
  },
  {
    defect:
      "a French store heard by two models asks about one name after its second hearing, though the French model's runner-up fits as well (33)",
    file: 'src/attendant/understanding.ts',
    fixed: '    return this.offeringRunnerUp(decided, results[0]);',
    undone: '    return decided;',
    test: 'dist/test/unit/cross-hearing.test.js',
    name: "hears the French model's runner-up",
  },
  {
    defect:
      "a French store offering its two models' names never offers the French model's runner-up beside them, though it fits as well (33)",
    file: 'src/attendant/understanding.ts',
    fixed: '  return own !== undefined && names.has(displayName(own)) ? own : undefined;',
    undone: '  return undefined;',
    test: 'dist/test/unit/cross-hearing.test.js',
    name: "hears the French model's runner-up",
  },
  {
    defect: 'a spoken choice between the two names one model confused is taken, and one caller in five reaches the other one (33)',
    file: 'src/attendant/flow.ts',
    fixed: "        const spokenChoice = a.kind === 'choice' && s.keysOnly === true;",
    undone: "        const spokenChoice = a.kind === 'choice' && s.keysOnly === true && (false as boolean);",
    test: 'dist/test/unit/flow.test.js',
    name: 'a spoken choice between names offered on the keypad alone',
  },
];

function main(): void {
  const { values } = parseArgs({ options: { only: { type: 'string' } } });
  const root = join(__dirname, '..', '..', '..');
  const only = values.only?.split(',').map(Number);
  const copy = join(mkdtempSync(join(tmpdir(), 'attendant-mutations-')), 'copy');
  execFileSync('git', ['worktree', 'add', '--detach', copy, 'HEAD'], { cwd: root, stdio: 'ignore' });
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
  // The shared test data (models, real speech) beside the copy as beside the project, so that
  // the tests that need it run rather than skip.
  if (existsSync(join(root, '..', 'shared'))) symlinkSync(join(root, '..', 'shared'), join(copy, '..', 'shared'));
  const survived: string[] = [];
  try {
    MUTATIONS.forEach((m, i) => {
      if (only !== undefined && !only.includes(i)) return;
      const path = join(copy, m.file);
      const text = readFileSync(path, 'utf8');
      if (!text.includes(m.fixed)) throw new Error(`${m.file} no longer holds the fix of "${m.defect}": update test/mutations/run.ts`);
      writeFileSync(path, text.replace(m.fixed, m.undone));
      try {
        const built = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: copy, encoding: 'utf8' });
        if (built.status !== 0) throw new Error(`the mutation of ${m.file} does not build:\n${built.stdout}`);
        const t0 = Date.now();
        const run = spawnSync('npx', ['jest', m.test, '-t', m.name], { cwd: copy, encoding: 'utf8', env: { ...process.env, CI: '1' } });
        const summary = /Tests:\s+(.*)/.exec(run.stderr)?.[1] ?? 'no summary';
        const caught = run.status !== 0 && /\d+ failed/.test(summary);
        console.log(
          `${caught ? 'caught   ' : 'SURVIVED '} ${m.defect}: ${m.test.replace('dist/', '')} "${m.name}" → ${summary} (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
        );
        if (!caught) survived.push(m.defect);
      } finally {
        writeFileSync(path, text);
      }
    });
  } finally {
    execFileSync('git', ['worktree', 'remove', '--force', copy], { cwd: root, stdio: 'ignore' });
    rmSync(join(copy, '..'), { recursive: true, force: true });
  }
  if (survived.length > 0) {
    console.log(`\n${survived.length} defect(s) brought back without a test failing: ${survived.join('; ')}`);
    process.exit(1);
  }
  console.log('\nevery defect brought back made its test fail');
}

if (require.main === module) main();

import { Command } from 'commander';
import { csvLine } from '../directory/export';
import { displayName } from '../directory/entry';
import { EXIT_INVALID, EXIT_OK, EXIT_UNAVAILABLE, usageError } from './exit-codes';
import { CallResult, describeCall, describeStep, placeCall, Turn } from './call-command';
import { CallOutcome } from '../attendant/call-records';
import { SETTINGS_HELP, OUTCOMES, parseSince } from './cli-helpers';
import { CliContext } from './context';

/** `attendant call` (a test call) and `attendant calls` (call records). */
export function callsCommands(root: Command, ctx: CliContext): void {
  const { io, settings, withStorage, withStore, existingData, done } = ctx;
  const recordOf = async (storeId: string, sipCallId: string | undefined): Promise<CallResult['record']> => {
    if (sipCallId === undefined) return undefined;
    try {
      return await withStorage(async ({ records, directory }) => {
        const store = await directory.findStore(storeId);
        if (store === undefined) return undefined;
        for (let tries = 0; tries < 30; tries += 1) {
          const found = (await records.list(store.id, 20)).find((c) => c.sipCallId === sipCallId);
          if (found !== undefined) {
            const entries = (await directory.snapshot(store.id)).entries;
            const nameOf = (ext: string): string | undefined => {
              const e = entries.find((x) => x.extension === ext);
              return e === undefined ? undefined : displayName(e);
            };
            const operator = found.outcome === 'operator';
            return {
              outcome: found.outcome,
              extension: found.extension,
              name: operator ? undefined : nameOf(found.extension),
              steps: found.path.map((step) => describeStep(step, store.operator, nameOf)),
              operator,
            };
          }
          await new Promise((r) => setTimeout(r, 200));
        }
        return undefined;
      });
    } catch {
      return undefined; // another node's database, or none here: the REFER alone is told
    }
  };

  // call
  const turns: Turn[] = [];
  root
    .command('call <store>')
    .description('place a test call to a running attendant: say names, type digits, see where it goes')
    .option('--say <text>', 'speak this (synthesised); repeat for each turn', (v: string) => (turns.push({ say: v }), v))
    .option('--wav <file>', 'play this recording; repeat for each turn', (v: string) => (turns.push({ wav: v }), v))
    .option('--dtmf <digits>', 'press these keys (RFC 4733); repeat for each turn', (v: string) => {
      if (!/^[0-9*#A-D]+$/.test(v)) throw usageError(`--dtmf "${v}" is not keypad digits (0-9 * #)`);
      turns.push({ dtmf: v });
      return v;
    })
    .option('--server <host:port>', "attendant's SIP address (default 127.0.0.1:ATTENDANT_SIP_PORT)")
    .option('--tcp', 'SIP over TCP')
    .option('--voice <lang>', 'en or fr (default en)')
    .option('--timeout <seconds>', 'give up after', '60')
    .option('--json', 'print the result as JSON')
    .option('--expect <ext>', 'exit 0 only when the call is transferred to this extension')
    .addHelpText('after', `\n${SETTINGS_HELP.call}`)
    .action(
      async (
        storeId: string,
        values: { server?: string; tcp?: boolean; voice?: string; timeout: string; json?: boolean; expect?: string },
      ) => {
        if (turns.length === 0) throw usageError('call needs --say "text", --wav file or --dtmf digits');
        const s = settings();
        const server = values.server ?? `127.0.0.1:${s.sipPort === 0 ? 5060 : s.sipPort}`;
        const hp = /^([^\s:]+|\[[^\]]+\]):(\d{1,5})$/.exec(server);
        if (hp === null) throw usageError('--server is HOST:PORT');
        if (values.voice !== undefined && values.voice !== 'fr' && values.voice !== 'en') throw usageError('--voice is fr or en');
        const timeout = Number(values.timeout);
        if (!(timeout > 0)) throw usageError('--timeout is a number of seconds');
        const callResult = await placeCall({
          store: storeId,
          server: { host: hp[1], port: Number(hp[2]), transport: values.tcp === true ? 'TCP' : 'UDP' },
          turns,
          // The caller's voice: English by default, which the en-US PocketSphinx model hears best.
          locale: values.voice === 'fr' ? 'fr-FR' : 'en-US',
          dataDir: s.dataDir,
          timeoutMs: timeout * 1000,
        });
        callResult.record = await recordOf(storeId, callResult.sipCallId);
        io.out(values.json === true ? JSON.stringify(callResult) : describeCall(callResult));
        // A fallback to the operator is not the transfer asked for.
        if (callResult.record?.outcome === 'operator' && values.expect !== undefined && values.expect !== callResult.record.extension)
          done(EXIT_INVALID);
        else if (callResult.outcome === 'transferred')
          done(values.expect === undefined || values.expect === callResult.extension ? EXIT_OK : EXIT_INVALID);
        else done(callResult.outcome === 'refused' && callResult.status === 404 ? EXIT_INVALID : EXIT_UNAVAILABLE);
      },
    );

  // calls
  root
    .command('calls [store]')
    .description('recent calls: when, outcome, where they went, how')
    .option('--limit <n>', 'how many, newest first (default 20; 100000 with --csv)')
    .option('--since <when>', 'from this date or time, or this long ago: 30m, 24h, 7d')
    .option('--outcome <outcome>', `only ${OUTCOMES.join(', ')}`)
    .option('--all-stores', 'every store')
    .option('--json', 'one JSON object a line')
    .option('--csv', 'a CDR file: CSV with a header line')
    .addHelpText('after', `\n${SETTINGS_HELP.data}`)
    .action(
      async (
        storeId: string | undefined,
        values: { limit?: string; since?: string; outcome?: string; allStores?: boolean; json?: boolean; csv?: boolean },
      ) => {
        if ((storeId === undefined) === (values.allStores !== true)) throw usageError('calls needs <store> or --all-stores');
        const limit = values.limit === undefined ? (values.csv === true ? 100_000 : 20) : Number(values.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw usageError('--limit is a whole number from 1 to 100000');
        if (values.outcome !== undefined && !OUTCOMES.includes(values.outcome as CallOutcome))
          throw usageError(`--outcome is one of ${OUTCOMES.join(', ')}`);
        const since = values.since === undefined ? undefined : parseSince(values.since);
        existingData();
        if (storeId !== undefined) await withStore((db) => db.getStore(storeId));
        await withStorage(async ({ records }) => {
          const calls = await records.list(storeId, limit, { since, outcome: values.outcome as CallOutcome | undefined });
          if (values.csv === true) {
            io.out(
              csvLine([
                'call_id',
                'store',
                'started_at',
                'ended_at',
                'outcome',
                'extension',
                'entry_id',
                'duration_ms',
                'decision_ms',
                'path',
                'transfer',
                'reason',
                'sip_call_id',
              ]),
            );
            for (const c of calls)
              io.out(
                csvLine([
                  c.callId,
                  c.store,
                  c.startedAt,
                  c.endedAt,
                  c.outcome,
                  c.extension,
                  c.entryId,
                  c.durationMs,
                  c.decisionMs,
                  c.path.join(' > '),
                  c.transfer,
                  c.reason,
                  c.sipCallId,
                ]),
              );
          } else if (values.json === true) for (const c of calls) io.out(JSON.stringify(c));
          else if (calls.length === 0) io.out(`no calls recorded${storeId === undefined ? '' : ` for store "${storeId}"`} yet`);
          else {
            io.out(
              `started                   ${storeId === undefined ? 'store        ' : ''}outcome      extension  duration  decision  path`,
            );
            for (const c of calls) {
              io.out(
                `${c.startedAt.padEnd(25)} ${storeId === undefined ? `${c.store.padEnd(12)} ` : ''}${c.outcome.padEnd(12)} ${(c.extension || '-').padEnd(10)} ${`${(c.durationMs / 1000).toFixed(1)} s`.padEnd(9)} ${(c.decisionMs < 0 ? '-' : `${c.decisionMs} ms`).padEnd(9)} ${c.path.join(' > ')}`,
              );
            }
          }
        });
        done();
      },
    );
}

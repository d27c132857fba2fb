import { Sql } from '../storage/sql';

/**
 * Every call, stored: store, times, decision path, where it went, how it ended, durations;
 * what the recognizer heard only when the store records transcripts. Listed by
 * `attendant calls <store>` and AttendantService.ListCalls.
 */

export type CallOutcome = 'transferred' | 'operator' | 'abandoned' | 'failed' | 'rejected';

export interface CallRecord {
  callId: string;
  store: string;
  sipCallId: string;
  startedAt: string;
  endedAt: string;
  outcome: CallOutcome;
  extension: string;
  entryId: string;
  path: string[];
  durationMs: number;
  /** End of speech (as the endpointer decided it) to the transfer request; -1 when there was none. */
  decisionMs: number;
  transcripts: string[];
  transfer: string;
  reason: string;
}

const COLUMNS = `
  call_id TEXT PRIMARY KEY,
  store TEXT NOT NULL,
  sip_call_id TEXT NOT NULL,
  started_at TEXT NOT NULL,
  ended_at TEXT NOT NULL,
  outcome TEXT NOT NULL,
  extension TEXT NOT NULL,
  entry_id TEXT NOT NULL,
  path TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  decision_ms INTEGER NOT NULL,
  transcripts TEXT NOT NULL,
  transfer TEXT NOT NULL,
  reason TEXT NOT NULL`;

/** The calls table (migration "003_calls"). PostgreSQL has no rowid: `seq` orders calls that started in the same millisecond. */
export const CALLS_MIGRATION = {
  name: '003_calls',
  sqlite: `CREATE TABLE IF NOT EXISTS calls (${COLUMNS});
CREATE INDEX IF NOT EXISTS calls_by_store ON calls (store, started_at);`,
  postgres: `CREATE TABLE IF NOT EXISTS calls (seq BIGSERIAL, ${COLUMNS});
CREATE INDEX IF NOT EXISTS calls_by_store ON calls (store, started_at)`,
};

export const CALL_FIELDS = [
  'call_id',
  'store',
  'sip_call_id',
  'started_at',
  'ended_at',
  'outcome',
  'extension',
  'entry_id',
  'path',
  'duration_ms',
  'decision_ms',
  'transcripts',
  'transfer',
  'reason',
];
const INSERT = `INSERT INTO calls (${CALL_FIELDS.join(', ')}) VALUES (${CALL_FIELDS.map(() => '?').join(', ')})
  ON CONFLICT (call_id) DO UPDATE SET ${CALL_FIELDS.slice(1)
    .map((f) => `${f} = excluded.${f}`)
    .join(', ')}`;

const RETRY_MS = 5000;

/** Records older than this many per store are pruned as new ones come in. */
export const KEPT_CALLS_PER_STORE = 100_000;

/** Records kept in memory while the database cannot be reached, written when it is back. */
export const MAX_PENDING_RECORDS = 20_000;

export class CallRecords {
  private writes = 0;
  private readonly pending: CallRecord[] = [];
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly sql: Sql) {}

  /**
   * Stores a record without making the call wait. When the database cannot be reached, the
   * record waits in memory (up to MAX_PENDING_RECORDS, oldest dropped first) and is written
   * when it is back; `onError` hears of each failure.
   */
  keep(record: CallRecord, onError: (err: Error, pending: number) => void = () => undefined): void {
    this.add(record).catch((err: Error) => {
      this.pending.push(record);
      if (this.pending.length > MAX_PENDING_RECORDS) this.pending.shift();
      onError(err, this.pending.length);
      this.scheduleRetry(onError);
    });
  }

  /** Records not yet written. */
  get backlog(): number {
    return this.pending.length;
  }

  private scheduleRetry(onError: (err: Error, pending: number) => void): void {
    if (this.retry !== undefined) return;
    this.retry = setTimeout(async () => {
      this.retry = undefined;
      while (this.pending.length > 0) {
        try {
          await this.add(this.pending[0]);
          this.pending.shift();
        } catch (err) {
          onError(err as Error, this.pending.length);
          this.scheduleRetry(onError);
          return;
        }
      }
    }, RETRY_MS);
    this.retry.unref();
  }

  /** Stops retrying; records still pending are lost (the caller logs how many). */
  stop(): number {
    clearTimeout(this.retry);
    this.retry = undefined;
    return this.pending.length;
  }

  async add(r: CallRecord): Promise<void> {
    await this.sql.run(INSERT, [
      r.callId,
      r.store,
      r.sipCallId,
      r.startedAt,
      r.endedAt,
      r.outcome,
      r.extension,
      r.entryId,
      JSON.stringify(r.path),
      r.durationMs,
      r.decisionMs,
      JSON.stringify(r.transcripts),
      r.transfer,
      r.reason,
    ]);
    this.writes += 1;
    if (this.writes % 1000 === 0) await this.prune(r.store);
  }

  private async prune(store: string): Promise<void> {
    await this.sql.run(
      'DELETE FROM calls WHERE store = ? AND call_id NOT IN (SELECT call_id FROM calls WHERE store = ? ORDER BY started_at DESC LIMIT ?)',
      [store, store, KEPT_CALLS_PER_STORE],
    );
  }

  /**
   * The latest calls of a store (or of every store when `store` is undefined), newest first;
   * `since` an ISO time, `outcome` one outcome.
   */
  async list(store: string | undefined, limit = 50, filter: { since?: string; outcome?: CallOutcome } = {}): Promise<CallRecord[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    const when = (value: string | undefined, clause: string): void => {
      if (value === undefined) return;
      where.push(clause);
      params.push(value);
    };
    when(store, 'store = ?');
    when(filter.since, 'started_at >= ?');
    when(filter.outcome, 'outcome = ?');
    const order = this.sql.dialect === 'sqlite' ? 'rowid' : 'seq';
    const rows = await this.sql.all<Record<string, string | number>>(
      `SELECT * FROM calls ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, ${order} DESC LIMIT ?`,
      [...params, Math.max(1, Math.min(100_000, limit))],
    );
    return rows.map((r) => ({
      callId: String(r.call_id),
      store: String(r.store),
      sipCallId: String(r.sip_call_id),
      startedAt: String(r.started_at),
      endedAt: String(r.ended_at),
      outcome: String(r.outcome) as CallOutcome,
      extension: String(r.extension),
      entryId: String(r.entry_id),
      path: JSON.parse(String(r.path)) as string[],
      durationMs: Number(r.duration_ms),
      decisionMs: Number(r.decision_ms),
      transcripts: JSON.parse(String(r.transcripts)) as string[],
      transfer: String(r.transfer),
      reason: String(r.reason),
    }));
  }
}

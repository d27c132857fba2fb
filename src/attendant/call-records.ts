import Database from 'better-sqlite3';
import { openDatabase } from '../directory/database';

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

const SCHEMA = `
CREATE TABLE IF NOT EXISTS calls (
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
  reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_by_store ON calls (store, started_at);
`;

/** Records older than this many per store are pruned as new ones come in. */
export const KEPT_CALLS_PER_STORE = 100_000;

export class CallRecords {
  private readonly insert: Database.Statement;
  private writes = 0;

  private constructor(private readonly db: Database.Database) {
    // Call records are not directory data: a power cut may lose the last few, never corrupt.
    db.pragma('synchronous = NORMAL');
    this.insert = db.prepare(`INSERT OR REPLACE INTO calls
      (call_id, store, sip_call_id, started_at, ended_at, outcome, extension, entry_id, path, duration_ms, decision_ms, transcripts, transfer, reason)
      VALUES (@callId, @store, @sipCallId, @startedAt, @endedAt, @outcome, @extension, @entryId, @path, @durationMs, @decisionMs, @transcripts, @transfer, @reason)`);
  }

  static open(dataDir: string): CallRecords {
    return new CallRecords(openDatabase(dataDir, SCHEMA));
  }

  add(record: CallRecord): void {
    this.insert.run({ ...record, path: JSON.stringify(record.path), transcripts: JSON.stringify(record.transcripts) });
    this.writes += 1;
    if (this.writes % 1000 === 0) this.prune(record.store);
  }

  private prune(store: string): void {
    this.db
      .prepare(`DELETE FROM calls WHERE store = ? AND call_id NOT IN (SELECT call_id FROM calls WHERE store = ? ORDER BY started_at DESC LIMIT ?)`)
      .run(store, store, KEPT_CALLS_PER_STORE);
  }

  /**
   * The latest calls of a store (or of every store when `store` is undefined), newest first;
   * `since` an ISO time, `outcome` one outcome.
   */
  list(store: string | undefined, limit = 50, filter: { since?: string; outcome?: CallOutcome } = {}): CallRecord[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (store !== undefined) (where.push('store = ?'), params.push(store));
    if (filter.since !== undefined) (where.push('started_at >= ?'), params.push(filter.since));
    if (filter.outcome !== undefined) (where.push('outcome = ?'), params.push(filter.outcome));
    const rows = this.db
      .prepare(`SELECT * FROM calls ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, rowid DESC LIMIT ?`)
      .all(...params, Math.max(1, Math.min(100_000, limit))) as Record<string, string | number>[];
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

  close(): void {
    this.db.close();
  }
}

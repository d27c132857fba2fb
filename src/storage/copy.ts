import { AttendantError } from '../util/errors';
import { Sql } from './sql';

/**
 * Copies the tables of one attendant database into another, empty one: SQLite to
 * PostgreSQL when a site moves to two nodes (`attendant database copy --to postgres://…`),
 * or back. Stores, every kept version, the audit history, tokens (hashes only: a token is
 * never stored) and call records, in one transaction on the target: all or nothing.
 */

export interface Table {
  name: string;
  columns: string[];
  /** The order rows are read in (and so numbered in the target). */
  order: { sqlite: string; postgres: string };
  /** A column numbered by the database, copied as it is; PostgreSQL's sequence is then moved past it. */
  serial?: string;
}

/** Rows written per INSERT (PostgreSQL takes at most 65,535 parameters a statement). */
const BATCH = 500;

export class TargetNotEmptyError extends AttendantError {
  constructor(message: string) {
    super('conflict', message);
  }
}

/** Copies `tables` (in the order rows can be written) from `from` into `to`; resolves to the rows copied per table. */
export async function copyDatabase(from: Sql, to: Sql, tables: Table[]): Promise<Record<string, number>> {
  const copied: Record<string, number> = {};
  await to.transaction(async (tx) => {
    for (const table of tables) {
      const held = await tx.get<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${table.name}`);
      if (Number(held?.n ?? 0) > 0) {
        throw new TargetNotEmptyError(
          `the target database already holds ${table.name} (${Number(held?.n)} rows): nothing was copied; copy into a new, empty database`,
        );
      }
    }
    for (const table of tables) {
      const rows = await from.all(`SELECT ${table.columns.join(', ')} FROM ${table.name} ORDER BY ${table.order[from.dialect]}`);
      for (let i = 0; i < rows.length; i += BATCH) {
        const batch = rows.slice(i, i + BATCH);
        const values = batch.map(() => `(${table.columns.map(() => '?').join(', ')})`).join(', ');
        await tx.run(
          `INSERT INTO ${table.name} (${table.columns.join(', ')}) VALUES ${values}`,
          batch.flatMap((row) => table.columns.map((c) => row[c] ?? null)),
        );
      }
      if (table.serial !== undefined && to.dialect === 'postgres' && rows.length > 0) {
        await tx.run(
          `SELECT setval(pg_get_serial_sequence('${table.name}', '${table.serial}'), (SELECT MAX(${table.serial}) FROM ${table.name}))`,
        );
      }
      copied[table.name] = rows.length;
    }
  });
  return copied;
}

import type { WriteModeName } from './objects';

/**
 * Why an incremental sync reads all of an object's rows instead of those changed since its cursor:
 *
 * - `new-fields`: the table gained columns its rows were written without. Salesforce already has
 *   values for them on old rows (defaults, formulas, backfills), and SystemModstamp did not move,
 *   so only a read of every row fills them.
 * - `formulas`: asked for (`refreshFormulas`): formula fields change without SystemModstamp moving.
 *
 * Iceberg rows are rewritten whole, so either way the full rows are read and merged by Id in the
 * same snapshot as the sync's other changes.
 */
export type RereadReason = 'new-fields' | 'formulas';

export interface RereadQuestion {
  mode: WriteModeName;
  /** The stored cursor the sync would read after (undefined: it reads everything anyway). */
  after?: string;
  /** Columns the rows in the table lack values for (see Destination.prepare). */
  newColumns?: string[];
  /** Fill new columns on old rows (default true). */
  backfillNewFields?: boolean;
  refreshFormulas?: boolean;
}

/**
 * Whether this sync re-reads every row, and why. Only merge objects: replace reads everything
 * every time, and append would add every row again (its old rows keep their nulls; a row's next
 * change appends it whole).
 */
export function rereadReason(q: RereadQuestion): RereadReason | undefined {
  if (q.mode !== 'merge' || q.after === undefined) return undefined;
  if (q.backfillNewFields !== false && (q.newColumns?.length ?? 0) > 0) return 'new-fields';
  if (q.refreshFormulas) return 'formulas';
  return undefined;
}

/**
 * Snapshot summary key: the highest field id among the columns the snapshot's sync wrote. Rows
 * the table holds have values for every column up to it (or were left null on request): columns
 * above it were added after, and their old rows hold nulls. Kept in the summary, not read from
 * the snapshot's schema id, because catalogs may move that to the current schema (Nessie does).
 */
export const FILLED_THROUGH_PROPERTY = 'salesforce.filled-through-field-id';

/**
 * Columns (of those a sync writes) that the rows already in the table were written without: those
 * above the current snapshot's FILLED_THROUGH_PROPERTY, so a sync that added a column and then
 * committed nothing leaves it to the next. A snapshot without it (written before it was recorded,
 * or by another engine): the columns this sync's prepare added.
 */
export function columnsToFill(columns: { id: number; name: string }[], summary: Record<string, string> | undefined, added: string[]): string[] {
  const through = Number(summary?.[FILLED_THROUGH_PROPERTY] ?? NaN);
  if (!Number.isInteger(through)) return added;
  return columns.filter((c) => c.id > through).map((c) => c.name);
}

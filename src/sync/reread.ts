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
  writeMode: WriteModeName;
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
  if (q.writeMode !== 'merge' || q.after === undefined) return undefined;
  if (q.backfillNewFields !== false && (q.newColumns?.length ?? 0) > 0) return 'new-fields';
  if (q.refreshFormulas) return 'formulas';
  return undefined;
}

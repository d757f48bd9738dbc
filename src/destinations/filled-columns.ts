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

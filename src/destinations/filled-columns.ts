import { FILLED_THROUGH_PROPERTY } from '../table-contract';

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

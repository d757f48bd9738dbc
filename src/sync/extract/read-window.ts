import type { WriteModeName } from '../objects';

/** The rows an incremental read asks for: `after < field <= upTo`. */
export interface ReadWindow {
  field: string;
  after?: string;
  upTo: string;
}

type WindowOf = { cursorField?: string; writeMode: WriteModeName; after?: string; upTo: string; deletedAfter?: string; deletes?: { from: string } };

/** The main read's window; none (every row) for objects without a cursor field and for replace. */
export function readWindow(p: WindowOf): ReadWindow | undefined {
  return p.cursorField && p.writeMode !== 'replace' ? { field: p.cursorField, after: p.after, upTo: p.upTo } : undefined;
}

/**
 * The window of the deleted Ids to read, or none. Only merge removes rows, and only an incremental
 * sync asks: a read of everything already leaves out what is gone. A sync that re-reads every
 * row still removes the rows deleted since the stored cursor (`deletedAfter`). None either when
 * prepare read them from Salesforce's delete log (src/sync/deletes.ts).
 */
export function deletedIdsWindow(p: WindowOf): ReadWindow | undefined {
  if (p.deletes?.from === 'getDeleted') return undefined;
  const window = readWindow(p);
  const after = p.deletedAfter ?? window?.after;
  return window && after && p.writeMode === 'merge' ? { ...window, after } : undefined;
}

import { ERROR_CODES, SyncError } from '../errors';
import { SalesforceApiError, type SalesforceClient } from '../salesforce/client';
import type { SObjectDescribe } from '../salesforce/describe';
import { countRows } from '../salesforce/rest-reader';
import { countSoql } from '../salesforce/soql';
import type { WriteModeName } from './objects';

/**
 * What a sync does with its count check: warn of a mismatch (the default), fail the object, warn
 * and have the next sync reconcile when the table holds more rows than Salesforce, or not count.
 */
export type CountCheckMode = 'warn' | 'fail' | 'reconcile' | 'off';

/** The count check of one sync, as its result and the snapshot summary carry it. */
export interface CountCheck {
  /** Rows Salesforce counts for what the table claims to hold. */
  salesforce?: number;
  /** The table's live rows after the commit. */
  table?: number;
  /** Why the object was not counted (its write mode, or a COUNT() Salesforce refuses). */
  skipped?: string;
}

export { COUNT_PROPERTY } from '../table-contract';

/**
 * The COUNT() whose answer a table of this write mode should hold after the sync, or why there is
 * none. A merge table holds every row created by the window's end that still exists
 * (`CreatedDate <= upTo`: a row changed since is still in the table, in the version the sync
 * read); a replace table every row the read returned, so every row now. An append table keeps
 * every version of a row, which no count of Salesforce's rows says anything about — unless its
 * rows never change (its only cursor is CreatedDate): then it holds each row once, as a merge table.
 */
export function countQuery(describe: SObjectDescribe, p: { writeMode: WriteModeName; upTo: string; cursorField?: string }): { soql: string } | { skipped: string } {
  // Rows that never change once created (the only cursor is CreatedDate: history objects) are appended once each: counted as a merge table's.
  if (p.writeMode === 'append' && p.cursorField !== 'CreatedDate')
    return { skipped: 'append keeps every version of a row: a count of Salesforce rows says nothing about the table' };
  if (p.writeMode === 'replace') return { soql: countSoql(describe) };
  const created = describe.fields.find((f) => f.name === 'CreatedDate' && f.type === 'datetime');
  if (!created) return { skipped: `${describe.name} has no CreatedDate to bound a count by` };
  return { soql: countSoql(describe, { range: { field: created.name, before: new Date(Date.parse(p.upTo) + 1).toISOString() } }) };
}

/** Counts in Salesforce what the table should hold; a COUNT() Salesforce refuses for this object is named, not guessed. */
export async function countInSalesforce(
  client: SalesforceClient,
  describe: SObjectDescribe,
  p: { writeMode: WriteModeName; upTo: string; cursorField?: string },
): Promise<CountCheck> {
  const query = countQuery(describe, p);
  if ('skipped' in query) return { skipped: query.skipped };
  try {
    return { salesforce: await countRows(client, query.soql) };
  } catch (error) {
    // Refused for this object (a 400: not a fault that heals); anything else is retried as usual.
    if (error instanceof SalesforceApiError && error.status === 400) return { skipped: `Salesforce refuses COUNT() on ${describe.name}: ${error.errorCode ?? error.message}` };
    throw error;
  }
}

/** The warning of a count that differs, with both numbers and what to do; undefined when they agree (or were not both taken). */
export function countMismatch(object: string, check: CountCheck): string | undefined {
  if (check.salesforce === undefined || check.table === undefined || check.salesforce === check.table) return undefined;
  const more = check.salesforce > check.table;
  return (
    `Count check of ${object}: Salesforce has ${check.salesforce} rows for what the table holds, the table ${check.table}. ` +
    (more
      ? 'Rows the sync did not see (changed without moving their SystemModstamp, restored, or hidden from the integration user while read) are missing: a full sync (readMode full) or a reconciling one reads them.'
      : 'The table has rows Salesforce no longer returns (deleted past its delete log, or no longer visible to the integration user): a reconciling sync removes them (SYNC_COUNT_CHECK=reconcile has the next sync do it).') +
    ' The sync committed what it read.'
  );
}

/**
 * Why this sync reconciles because the last one's count check found the table holding more rows
 * than Salesforce (SYNC_COUNT_CHECK=reconcile), or undefined. Stateless: the last sync's summary
 * has Salesforce's count, and the table's live rows now are those that sync left (unless another
 * writer changed them since: then the comparison still says what a reconciliation would find).
 */
export function reconcileAfterCount(object: string, last: { salesforce?: number; table?: number }): string | undefined {
  if (last.salesforce === undefined || last.table === undefined || last.table <= last.salesforce) return undefined;
  return `the last sync's count check found ${last.table} rows in the table and ${last.salesforce} in Salesforce (SYNC_COUNT_CHECK=reconcile)`;
}

/** Fails the object after its commit when the worker asks for it (SYNC_COUNT_CHECK=fail). */
export function countMismatchError(message: string): SyncError {
  return new SyncError(`${message} SYNC_COUNT_CHECK=fail makes this fail the object.`, { code: ERROR_CODES.COUNT_MISMATCH, retryable: false });
}

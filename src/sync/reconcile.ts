import type { SalesforceClient } from '../salesforce/client';
import type { SObjectDescribe } from '../salesforce/describe';
import { readObject, type ReadApi } from '../salesforce/reader';
import type { Destination, TableRef } from '../destinations/destination';
import { IdDifference, type IdDifferenceOptions } from './id-difference';
import type { WriteModeName } from './objects';
import type { ExtractProgress, PreparedObject, SyncContext } from './types';
import type { KeyList, StagedExtraction } from './staging';
import { ERROR_CODES, SyncError } from '../errors';

import { RECONCILED_PROPERTY } from '../table-contract';

/**
 * Why an object a sync asked to reconcile is not reconciled, or undefined when it is (or was not
 * asked). Only merge tables remove rows by Id: append keeps every version on purpose, and replace
 * already makes the table exactly what Salesforce returned.
 */
export function reconcileSkipped(p: { object: string; writeMode: WriteModeName; reconcile?: boolean }): string | undefined {
  if (!p.reconcile || p.writeMode === 'merge') return undefined;
  return p.writeMode === 'append'
    ? `${p.object} is synced in append mode, which keeps every row it ever read: not reconciled`
    : `${p.object} is synced in replace mode, which rewrites the whole table each sync: nothing to reconcile`;
}

export interface ReconcileRequest {
  salesforce: SalesforceClient;
  destination: Destination;
  table: TableRef;
  describe: SObjectDescribe;
  /** The table's key column (Salesforce's Id). */
  idColumn: string;
  api?: ReadApi;
  /** Ids this sync read (their rows are being written, never removed) or already deletes. */
  keep: Iterable<string>[];
  /** Told how far it got, for heartbeats. */
  progress?: (text: string) => void;
  /** Told when Salesforce refuses Bulk for the Id read and REST reads it instead. */
  onFallback?: (reason: string) => void;
  signal?: AbortSignal;
  spill?: IdDifferenceOptions;
}

export interface Reconciled {
  /** Ids of live table rows Salesforce no longer has (hard-deleted or purged from the Recycle Bin). */
  removed: string[];
  tableIds: number;
  /** Ids Salesforce returned; undefined when the table had no rows and Salesforce was not asked. */
  salesforceIds?: number;
}

/**
 * Finds the table's live rows whose Id Salesforce no longer returns. `queryAll` sees deletes only
 * while they are in the Recycle Bin; hard deletes, emptied bins and objects that only hard-delete
 * (CampaignMember) are found only by comparing Ids. Reads the table's Id column (deletes applied)
 * and every Id of the object (`SELECT Id FROM X`: query, not queryAll, so rows in the Recycle Bin
 * count as gone; Bulk API 2.0 where available, without ORDER BY so Salesforce can chunk it), and
 * compares them in bounded memory through an IdDifference (hash buckets spilled to a temp folder).
 * Beyond the IdDifference's bound, memory holds one data file's Id column and the table's deleted
 * positions while the table is read (as a merge commit does), and the Ids it removes (the merge
 * commit holds them too).
 */
export async function reconcileIds(req: ReconcileRequest): Promise<Reconciled> {
  const diff = await IdDifference.create(req.spill);
  try {
    let tableIds = 0;
    await req.destination.liveKeys(req.table, req.idColumn, async (ids) => {
      req.signal?.throwIfAborted();
      for (const id of ids) diff.live(id);
      tableIds += ids.length;
      await diff.flush();
      req.progress?.(`reconciling: ${tableIds} table Ids read`);
    });
    // An empty table has nothing to remove: Salesforce is not asked.
    if (tableIds === 0) return { removed: [], tableIds };
    for (const ids of req.keep) for (const id of ids) diff.keep(id);
    await diff.flush();
    const idField = req.describe.fields.find((f) => f.name === 'Id');
    if (!idField) throw new SyncError(`${req.describe.name} has no Id field to reconcile by`, { code: ERROR_CODES.UNKNOWN_FIELD, retryable: false });
    let salesforceIds = 0;
    // No window: every row Salesforce has now (Bulk: SELECT Id FROM X, unordered, chunked).
    for await (const page of readObject({ client: req.salesforce, describe: req.describe, fields: [idField], api: req.api, onFallback: req.onFallback })) {
      req.signal?.throwIfAborted();
      for (let r = 0; r < page.length; r++) {
        const id = page.text(r, 0);
        if (id !== null) diff.keep(id);
      }
      salesforceIds += page.length;
      await diff.flush();
      req.progress?.(`reconciling: ${tableIds} table Ids, ${salesforceIds} Salesforce Ids read`);
    }
    const removed: string[] = [];
    for await (const batch of diff.missing()) for (const id of batch) removed.push(id);
    req.progress?.(`reconciled: ${removed.length} of ${tableIds} table rows are gone from Salesforce`);
    return { removed, tableIds, salesforceIds };
  } finally {
    await diff.close();
  }
}

/**
 * The extraction's part: after the main read (and the queryAll deletes), the Ids of live rows
 * Salesforce no longer has, or undefined when this sync does not reconcile the object. The rows
 * the sync just read and the Ids queryAll already deletes are kept out, so they are never removed
 * twice or counted twice.
 */
export async function reconcileExtraction(
  ctx: SyncContext,
  p: PreparedObject,
  opts: {
    salesforce: SalesforceClient;
    describe: SObjectDescribe;
    keys: KeyList;
    deletedKeys: readonly string[];
    progress?: (p: Partial<ExtractProgress>) => void;
    signal?: AbortSignal;
  },
): Promise<string[] | undefined> {
  if (!p.reconcile) return undefined;
  const skipped = reconcileSkipped(p);
  if (skipped) {
    opts.progress?.({ reconciling: skipped });
    return undefined;
  }
  const found = await reconcileIds({
    salesforce: opts.salesforce,
    destination: ctx.destination,
    table: p,
    describe: opts.describe,
    idColumn: p.idColumn,
    api: ctx.api,
    keep: [opts.keys.values(), opts.deletedKeys],
    progress: (reconciling) => (ctx.log?.debug(reconciling), opts.progress?.({ reconciling })),
    onFallback: (reason) => ctx.log?.warn(reason),
    signal: opts.signal,
  });
  ctx.log?.info(`Reconciled ${p.object}: ${found.removed.length} of ${found.tableIds} table rows are gone from Salesforce`, {
    removed: found.removed.length,
    tableIds: found.tableIds,
  });
  return found.removed;
}

/** The commit's summary properties of a reconciling sync. */
export function reconcileProperties(staged: Pick<StagedExtraction, 'reconciled'>): Record<string, string> {
  return staged.reconciled === undefined ? {} : { [RECONCILED_PROPERTY]: String(staged.reconciled) };
}

/** What the object's result says about reconciliation. */
export function reconcileOutcome(p: PreparedObject, staged: Pick<StagedExtraction, 'reconciled'>): { reconciled?: number; reconcileSkipped?: string } {
  const skipped = reconcileSkipped(p);
  return { ...(staged.reconciled !== undefined ? { reconciled: staged.reconciled } : {}), ...(skipped ? { reconcileSkipped: skipped } : {}) };
}

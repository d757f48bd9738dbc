import type { SalesforceClient } from '../salesforce/client';
import { runDescribe, type SObjectDescribe } from '../salesforce/describe';
import { readObject, type ReadApi } from '../salesforce/reader';
import type { Destination, TableRef } from '../destinations/destination';
import { IdDifference, type IdDifferenceOptions } from './id-difference';
import type { WriteModeName } from './objects';
import { runPaths } from '../iceberg/run-paths';
import { noLog } from '../log';
import { NO_USAGE } from '../salesforce/budget';
import { budgetedClient } from './extract/budgeted-client';
import type { ExtractProgress, PreparedObject, ReconcileOptions, ReconcileResult, SyncContext } from './types';
import { KeyList, readStaging, writeStaging, type StagedExtraction } from './staging';
import { ERROR_CODES, SyncError } from '../errors';
import { withDeletes } from './deletes';

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
  /** Ids this sync read (their rows are being written, never removed) or already deletes, batch by batch. */
  keep: Iterable<Iterable<string>> | AsyncIterable<Iterable<string>>;
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
    for await (const ids of req.keep) {
      for (const id of ids) diff.keep(id);
      await diff.flush();
    }
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
 * The Ids of live rows Salesforce no longer has, or undefined when this sync does not reconcile
 * the object. `keep` holds the rows the sync read and the Ids queryAll already deletes: they are
 * never removed twice or counted twice.
 */
export async function reconciledIds(
  ctx: SyncContext,
  p: PreparedObject,
  opts: {
    salesforce: SalesforceClient;
    describe: SObjectDescribe;
    keep: ReconcileRequest['keep'];
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
    keep: opts.keep,
    progress: (reconciling) => (ctx.log?.debug(reconciling), opts.progress?.({ reconciling })),
    onFallback: (reason) => ctx.log?.warn(reason),
    signal: opts.signal,
  });
  const refused = tooManyGone(p.object, found.removed.length, found.tableIds, ctx.reconcileMaxShare ?? DEFAULT_RECONCILE_MAX_SHARE);
  if (refused) throw new SyncError(refused, { code: ERROR_CODES.RECONCILE_REFUSED, retryable: false });
  ctx.log?.info(`Reconciled ${p.object}: ${found.removed.length} of ${found.tableIds} table rows are gone from Salesforce`, {
    removed: found.removed.length,
    tableIds: found.tableIds,
  });
  return found.removed;
}

export const DEFAULT_RECONCILE_MAX_SHARE = 0.1;

/**
 * Why a reconciliation that found `gone` of a table's `rows` rows missing from Salesforce must not
 * remove them, or undefined when it may. Many rows gone at once is far more often a change of what
 * the integration user can see (a sharing rule, a profile, another user) than deletes: removing
 * them would empty the table of rows that still exist.
 */
export function tooManyGone(object: string, gone: number, rows: number, maxShare: number): string | undefined {
  if (rows === 0 || gone <= maxShare * rows) return undefined;
  const percent = (n: number) => `${Math.round(n * 1000) / 10} %`;
  return (
    `The reconciliation of ${object} found ${gone} of the table's ${rows} rows (${percent(gone / rows)}) gone from Salesforce, more than SYNC_RECONCILE_MAX_PERCENT ` +
    `(${percent(maxShare)}) allows: nothing was removed. Rows the integration user can no longer see look deleted; check its sharing and profile, ` +
    `or, if they were really deleted, run the sync again on workers with SYNC_RECONCILE_MAX_PERCENT=${Math.min(100, Math.ceil((gone / rows) * 100))}`
  );
}

/**
 * The reconcile step of a sync, after its extraction (whole or partitioned) and before its commit:
 * reads the extraction's staging manifests (`staging`: one, or the plan's and every partition's)
 * for the Ids it read and deletes, finds the table's live rows Salesforce no longer has, and
 * stages their Ids as deletes in a manifest of its own (`<run>.reconcile.json`), which the commit
 * takes with the others. The Ids are read one manifest at a time. A new attempt starts over:
 * what it stages replaces what an earlier one did.
 */
export async function reconcileObject(ctx: SyncContext, p: PreparedObject, staging: string | string[], opts: ReconcileOptions = {}): Promise<ReconcileResult> {
  const log = ctx.log ?? noLog;
  // Counts from zero (or what earlier attempts spent): the commit adds it to the extraction's.
  const { salesforce, budget } = await budgetedClient(ctx.salesforce.withLog(log), {
    api: ctx.api,
    spent: opts.usage ?? NO_USAGE,
    signal: opts.signal,
    progress: opts.progress,
    log,
  });
  const area = await ctx.destination.writeTarget(p);
  const staged = await Promise.all(withDeletes(p, staging).map((key) => readStaging(area.store, key)));
  const describe = await runDescribe(salesforce, p.object, p.runId);
  async function* keep(): AsyncGenerator<Iterable<string>> {
    for (const s of staged) {
      yield (await s.loadKeys()).values();
      yield s.deletedKeys;
    }
  }
  const removed = await reconciledIds(ctx, p, { salesforce, describe, keep: keep(), progress: opts.progress, signal: opts.signal });
  const usage = budget.usage;
  const path = runPaths(area.location, p.runId).staging('reconcile');
  await writeStaging(area.store, path, { runId: p.runId, files: [], keys: new KeyList(), deletedKeys: removed ?? [], reconciled: removed?.length, usage });
  opts.progress?.({ usage });
  return { staging: path, ...(removed ? { reconciled: removed.length } : {}), usage };
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

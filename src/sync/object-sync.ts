import { openWriteArea } from './extract/write-area';
import { NotFoundError } from '../iceberg/errors';
import { noLog } from '../log';
import { ListingNotAllowedError } from '../storage/object-store';
import { runPaths } from '../iceberg/run-paths';
import { columnName } from '../mapping/schema-mapping';
import type { WriteMode } from '../iceberg/snapshot-producer';
import { ApiBudget, usageSummary } from '../salesforce/budget';
import { cursorField, describeObject, syncableFields } from '../salesforce/describe';
import { readObject } from '../salesforce/reader';
import { CURSOR_PROPERTY } from '../destinations/destination';
import { FILLED_THROUGH_PROPERTY } from '../destinations/filled-columns';
import { budgetedClient } from './extract/budgeted-client';
import { Checkpointer } from './extract/checkpointer';
import { readDeletedIds } from './extract/deleted-ids';
import { deletedIdsWindow, readWindow } from './extract/read-window';
import { positionOf, usableCheckpoint } from './extract/resume';
import { StageTimer } from './extract/stage-timer';
import { defaultMode } from './objects';
import { reconcileExtraction, reconcileOutcome, reconcileProperties } from './reconcile';
import { rereadReason } from './reread';
import { readStaging } from './staging';
import { combineStaged } from './partitions';
import { bulkJobAlive, deleteBulkJob, type BulkJobRef } from '../salesforce/bulk-reader';

export { CURSOR_PROPERTY };

/** Snapshot summary key saying why a sync read every row (`new-fields`, `formulas`), when it did. */
export const REREAD_PROPERTY = 'salesforce.reread';

import type { CommitSummary, ExtractOptions, ExtractResult, PrepareObjectInput, PreparedObject, SyncContext } from './types';

export const DEFAULT_CHECKPOINT_MS = 60_000;

/** Describes the object, creates or evolves its table, and fixes the incremental window. */
export async function prepareObject(ctx: SyncContext, input: PrepareObjectInput): Promise<PreparedObject> {
  const naming = ctx.naming ?? 'snake_case';
  // Counted only: the budget is enforced where a wait can be seen (the extraction).
  const budget = new ApiBudget();
  const log = ctx.log ?? noLog;
  const describe = await describeObject(ctx.salesforce.withLog(log).withBudget(budget), input.object);
  const fields = syncableFields(describe);
  const table = columnName(describe.name, naming);
  const {
    cursor: stored,
    created,
    newColumns,
  } = await ctx.destination.prepare({ namespace: input.namespace, table }, fields, { naming, timeAs: ctx.timeAs }, input.runId, { label: describe.label });
  const mode = input.mode ?? defaultMode(describe.name);
  const cursor = cursorField(describe);
  const after = mode !== 'replace' && !input.full && stored ? stored : undefined;
  const reread = cursor ? rereadReason({ mode, after, newColumns, backfillNewFields: input.backfillNewFields, refreshFormulas: input.refreshFormulas }) : undefined;
  log.info(`Prepared ${describe.name}: table ${[...input.namespace, table].join('.')}, mode ${mode}`, {
    object: describe.name,
    mode,
    after,
    created,
    newColumns: newColumns?.length ?? 0,
    ...(reread ? { reread } : {}),
  });
  return {
    ...input,
    object: describe.name,
    table,
    mode,
    cursorField: cursor,
    after: reread ? undefined : after,
    ...(reread ? { reread, deletedAfter: after } : {}),
    ...(newColumns?.length ? { newColumns } : {}),
    upTo: new Date(Date.now() - (ctx.lagMs ?? 60_000)).toISOString(),
    idColumn: columnName('Id', naming),
    created,
    usage: budget.usage,
  };
}

/**
 * Reads the object's rows (and deleted Ids) into data files; returns where the staging manifest is.
 * Every `checkpointMs` the open file is closed and what was written so far is recorded, so a new
 * attempt given that checkpoint reads on from the row after it instead of starting again.
 * The steps live in src/sync/extract/: the client under the API budget, the column alignment,
 * the checkpointer, the deleted-Ids read and the stage timer.
 */
export async function extractObject(ctx: SyncContext, p: PreparedObject, opts: ExtractOptions = {}): Promise<ExtractResult> {
  const log = ctx.log ?? noLog;
  const { salesforce, budget } = await budgetedClient(ctx.salesforce.withLog(log), {
    api: ctx.api,
    spent: opts.usage ?? p.usage,
    signal: opts.signal,
    progress: opts.progress,
    log,
  });
  const { table, describe, columns, paths, writer } = await openWriteArea(ctx, salesforce, p);
  const resume = await usableCheckpoint(salesforce, opts.resume, ctx.api, (note) => (log.warn(note.retrying!), opts.progress?.(note)));
  if (resume) log.info(`Resuming ${p.object} after ${resume.rows} rows (checkpoint ${resume.staging})`, { rows: resume.rows, files: resume.files });
  const checkpointer = await Checkpointer.open(
    { store: table.store, runId: p.runId, stagingPath: paths.staging, writer, everyMs: opts.checkpointMs ?? DEFAULT_CHECKPOINT_MS },
    resume,
  );
  // The plan's job, while it lives (a retry long after the plan may find it expired: a new job then).
  const planned = !resume && opts.job && (await bulkJobAlive(salesforce, opts.job)) ? opts.job : undefined;
  const timer = new StageTimer();
  const pages = readObject({
    client: salesforce,
    describe,
    fields: columns.fields,
    window: readWindow(p),
    resume: resume ? positionOf(resume) : planned && { api: 'bulk', job: planned },
    api: ctx.api,
    pagesInFlight: ctx.pagesInFlight,
    sliceFloorMs: ctx.sliceFloorMs,
    onSplit: (reason) => (log.warn(reason), opts.progress?.({ retrying: reason })),
    onFallback: (reason) => log.warn(reason),
  })[Symbol.asyncIterator]();
  const nextPage = () => timer.read(() => pages.next());
  for (let next = await nextPage(); !next.done; next = await nextPage()) {
    const page = next.value;
    opts.signal?.throwIfAborted();
    await writer.writeColumns(page.columns(columns.at));
    checkpointer.add(page, columns.idAt);
    if (checkpointer.due(page)) {
      await checkpointer.save(page);
      log.info(`Checkpoint of ${p.object} at ${checkpointer.rows} rows`, { rows: checkpointer.rows, files: checkpointer.fileCount, staging: checkpointer.checkpoint?.staging });
    }
    log.debug(`Page of ${page.length} rows`, { api: page.api, rows: checkpointer.rows, files: checkpointer.fileCount });
    opts.progress?.({ rows: checkpointer.rows, files: checkpointer.fileCount, last: page.last, checkpoint: checkpointer.checkpoint, retrying: undefined });
  }
  await writer.close();
  const deletedWindow = deletedIdsWindow(p);
  const deletedKeys = deletedWindow ? await readDeletedIds(salesforce, describe, deletedWindow) : [];
  // Hard deletes never reach queryAll: a reconciling sync compares all Ids (src/sync/reconcile.ts).
  const reconciled = await reconcileExtraction(ctx, p, { salesforce, describe, keys: checkpointer.keys, deletedKeys, progress: opts.progress, signal: opts.signal });
  const usage = budget.usage;
  const staging = await checkpointer.finish({ deletedKeys, reconciled, usage });
  const files = checkpointer.files;
  opts.progress?.({ rows: checkpointer.rows, files: files.length, checkpoint: checkpointer.checkpoint, usage });
  log.info(`Extracted ${p.object}: ${checkpointer.rows} rows in ${files.length} files`, {
    rows: checkpointer.rows,
    files: files.length,
    deleted: deletedKeys.length,
    ...(reconciled ? { reconciled: reconciled.length } : {}),
    staging,
  });
  const bytes = files.reduce((sum, f) => sum + Number(f.fileSizeInBytes), 0);
  return {
    staging,
    rows: checkpointer.rows,
    files: files.length,
    bytes,
    deleted: deletedKeys.length,
    reconciled: reconciled?.length,
    timings: timer.timings(writer.timings),
    usage,
  };
}

/** Commits the staged files as one snapshot; the cursor goes into the same snapshot's summary. */
export async function commitObject(ctx: SyncContext, p: PreparedObject, staging: string | string[]): Promise<CommitSummary> {
  const area = await ctx.destination.writeTarget(p);
  // A partitioned extraction: the plan's manifest and every partition's, as one.
  const staged = combineStaged(await Promise.all([staging].flat().map((key) => readStaging(area.store, key))));
  const mode: WriteMode =
    p.mode === 'replace'
      ? { kind: 'replace' }
      : p.mode === 'append'
        ? { kind: 'append' }
        : { kind: 'merge', keyColumn: p.idColumn, keys: async () => (await staged.loadKeys()).toArray(), deleteKeys: staged.deletedKeys };
  const cursor = p.cursorField ? p.upTo : undefined;
  const log = ctx.log ?? noLog;
  const result = await ctx.destination.commit(p, {
    runId: p.runId,
    files: staged.files,
    mode,
    onRetry: (attempt, reason) => log.warn(`Commit attempt ${attempt} to ${p.table} failed: ${reason}; trying again on the table's new state`),
    properties: {
      'salesforce.object': p.object,
      ...(cursor ? { [CURSOR_PROPERTY]: cursor } : {}),
      ...(p.reread ? { [REREAD_PROPERTY]: p.reread } : {}),
      // Columns up to here now hold values on every row (or were left null on request): see columnsToFill.
      [FILLED_THROUGH_PROPERTY]: String(Math.max(0, ...area.columns.map((c) => c.id))),
      ...(staged.usage ? usageSummary(staged.usage) : {}),
      ...reconcileProperties(staged),
    },
  });
  const deleted = staged.deletedKeys.length - (staged.reconciled ?? 0);
  log.info(result.alreadyCommitted ? `${p.object} was already committed by this run: snapshot ${result.snapshotId}` : `Committed ${p.object}: snapshot ${result.snapshotId}`, {
    snapshotId: result.snapshotId,
    rows: staged.keyCount,
    files: staged.files.length,
    deleted,
    alreadyCommitted: result.alreadyCommitted,
    cursor,
  });
  return {
    snapshotId: result.snapshotId,
    rows: staged.keyCount,
    deleted,
    alreadyCommitted: result.alreadyCommitted,
    cursor,
    ...reconcileOutcome(p, staged),
    ...(p.reread ? { reread: p.reread } : {}),
  };
}

/**
 * Removes every file this run wrote that no snapshot of the table references: data files of
 * attempts whose rows were written again or never committed, delete files, manifests and manifest
 * lists of commit attempts that never landed, staging manifests, and unfinished multipart uploads.
 * It finds them by the run's prefixes (`runPaths`), so it works the same on any worker after a
 * crash, and twice in a row removes nothing more. Files of other runs and other engines are never
 * looked at. Then a first sync that committed nothing drops the table it created. Returns how
 * many files it removed.
 */
export async function cleanupObject(ctx: SyncContext, p: PreparedObject, job?: BulkJobRef): Promise<number> {
  const log = ctx.log ?? noLog;
  // A partitioned extraction's job (its partitions leave it for each other): its results are read or no longer wanted.
  if (job) await deleteBulkJob(ctx.salesforce.withLog(log), job);
  let area;
  try {
    area = await ctx.destination.writeTarget(p);
  } catch (error) {
    // The table is gone: nothing of it to clean. Anything else (the catalog unreachable) is retried.
    if (!(error instanceof NotFoundError)) throw error;
    log.info(`Cleanup of ${p.object}: the table is gone, nothing to remove`);
    return 0;
  }
  const paths = runPaths(area.location, p.runId);
  const prefixes = Object.values(paths.prefixes);
  const written: string[] = [];
  // Storage access a catalog vends or signs may not cover listings (Nessie signs no listing, and
  // its STS session policy allows no listing of multipart uploads): what cannot be looked for
  // stays (unreferenced, harmless to readers), and the cleanup goes on.
  const unlisted = (error: unknown, what: string) => {
    if (!(error instanceof ListingNotAllowedError)) throw error;
    log.warn(`Cleanup of ${p.object}: ${error.message}; ${what} of this run, if any, are left in place`);
  };
  try {
    for (const prefix of prefixes) await area.store.abortUnfinished?.(prefix);
  } catch (error) {
    unlisted(error, 'unfinished uploads');
  }
  try {
    for (const prefix of prefixes) for await (const o of area.store.list(prefix)) written.push(o.uri);
  } catch (error) {
    unlisted(error, 'files of failed attempts');
    written.length = 0;
  }
  // The table is read after the listing: a file that a commit made part of the table after it
  // was listed is then seen as referenced, never taken for garbage.
  const inUse = written.length > 0 ? await ctx.destination.runFilesInUse(p, p.runId, written) : new Set<string>();
  const unreferenced = written.filter((uri) => !inUse.has(uri));
  if (unreferenced.length > 0) await area.store.delete(unreferenced);
  const dropped = await discardUnused(ctx, p);
  log.info(`Cleanup of ${p.object}: ${unreferenced.length} unreferenced files of the run removed${dropped ? ', and the table it created dropped' : ''}`, {
    removed: unreferenced.length,
    kept: inUse.size,
    dropped,
  });
  return unreferenced.length;
}

/** A sync that committed nothing takes back the table (and namespace) its prepare created. */
export async function discardUnused(ctx: SyncContext, p: PreparedObject): Promise<boolean> {
  return p.created ? ctx.destination.discardUnused(p, p.runId, p.created) : false;
}

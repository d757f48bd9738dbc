import { NotFoundError } from '../iceberg/errors';
import { noLog } from '../log';
import { ListingNotAllowedError } from '../storage/object-store';
import { runPaths } from '../iceberg/run-paths';
import { columnName, planSchema } from '../mapping/schema-mapping';
import { resolveLayout } from './layout';
import type { WriteMode } from '../iceberg/snapshot-producer';
import { ApiBudget, usageSummary } from '../salesforce/budget';
import {
  cursorField,
  describeObject,
  keepRunDescribe,
  knownDescribe,
  runDescribe,
  sameDescribe,
  skippedFields,
  syncableFields,
  type SObjectDescribe,
} from '../salesforce/describe';
import { findHiddenFields, hiddenFieldsWarning, type HiddenFields } from '../salesforce/hidden-fields';
import type { SalesforceClient } from '../salesforce/client';
import { runExtraction } from './extract/extraction';
import type { CommitFilesRequest, CommitResult } from '../destinations/destination';
import { readDeletedIds } from './extract/deleted-ids';
import { deletedIdsWindow, readWindow } from './extract/read-window';
import { chooseReadApi, countWindow, DEFAULT_REST_WINDOW_ROWS } from './read-api';
import { prefetchWindow, readPrefetched, stagePrefetched } from './prefetch';
import type { PrefetchedWindow } from '../salesforce/rest-reader';
import { usableCheckpoint } from './extract/resume';
import { windowPages } from './extract/window-pages';
import { chooseWriteMode } from './objects';
import { reconciledIds, reconcileOutcome, reconcileProperties } from './reconcile';
import { rereadReason } from './reread';
import { readStaging, type StagedExtraction } from './staging';
import { combineStaged } from './partitions';
import { deletesOutcome, stageDeletes, withDeletes } from './deletes';
import { COUNT_PROPERTY, countInSalesforce, countMismatch, countMismatchError, reconcileAfterCount, type CountCheck } from './count-check';
import { deleteBulkJob, type BulkJobRef } from '../salesforce/bulk-reader';
import { CURSOR_PROPERTY, FILLED_THROUGH_PROPERTY, OBJECT_PROPERTY, REREAD_PROPERTY } from '../table-contract';

import type { CommitSummary, DeletesSource, ExtractOptions, ExtractResult, PrepareObjectInput, PreparedObject, SyncContext } from './types';

/** Describes the object, creates or evolves its table, and fixes the incremental window. */
export async function prepareObject(ctx: SyncContext, input: PrepareObjectInput): Promise<PreparedObject> {
  const naming = ctx.naming ?? 'snake_case';
  // Counted only: the budget is enforced where a wait can be seen (the extraction).
  const budget = new ApiBudget();
  const log = ctx.log ?? noLog;
  const salesforce = ctx.salesforce.withLog(log).withBudget(budget);
  // The describe this worker last prepared the object with: its questions go out with a new
  // describe in one Composite request, and are asked again only if the fields changed since.
  const known = knownDescribe(ctx.salesforce, input.object);
  let describe = known ?? (await describeObject(salesforce, input.object));
  const table = columnName(describe.name, naming);
  const ref = { namespace: input.namespace, table };
  let cursor = cursorField(describe);
  let { writeMode, reason: writeModeReason } = chooseWriteMode(describe.name, cursor, input.writeMode);
  // The incremental window from the cursor the last sync stored (the table's metadata, no Salesforce
  // call), so everything prepare asks Salesforce goes out together as one Composite request (one API
  // call): which fields the integration user cannot read, the window's deleted Ids (the delete log),
  // its rows (which API reads it, and the rows themselves when they are few) and the count check's COUNT().
  const storedAfter = async () => (writeMode !== 'replace' && !input.full ? await ctx.destination.storedCursor(ref) : undefined);
  let askedAfter = await storedAfter();
  // The window ends now (less the lag), once the table has been read: as late as it can before Salesforce is asked about it.
  const upTo = new Date(Date.now() - (ctx.lagMs ?? 60_000)).toISOString();
  // The table's location and store, loaded once for what prepare stages (the delete log's Ids, a prefetched window).
  let loaded: ReturnType<SyncContext['destination']['writeTarget']> | undefined;
  const target = () => (loaded ??= ctx.destination.writeTarget(ref));
  const ask = (after: string | undefined, client = salesforce) =>
    askSalesforce(ctx, client, describe, { cursorField: cursor, writeMode, after, upTo, object: describe.name, runId: input.runId, ...ref }, target);
  let answers: Awaited<ReturnType<typeof ask>> | undefined;
  if (known) {
    const together = salesforce.batching();
    const [described, asked] = await Promise.allSettled([describeObject(together, input.object), ask(askedAfter, together)]);
    if (described.status === 'rejected') throw described.reason;
    describe = described.value;
    if (sameDescribe(describe, known)) {
      if (asked.status === 'rejected') throw asked.reason;
      answers = asked.value;
    } else {
      log.info(`${describe.name}'s describe changed since this worker last synced it: its questions are asked again`, { object: describe.name });
      cursor = cursorField(describe);
      ({ writeMode, reason: writeModeReason } = chooseWriteMode(describe.name, cursor, input.writeMode));
      askedAfter = await storedAfter();
    }
  }
  keepRunDescribe(ctx.salesforce, input.runId, describe);
  answers ??= await ask(askedAfter);
  const { visibility } = answers;
  // Describe lists fields the integration user cannot read; naming one would fail every read, so
  // they are left out: a new table gets no column for them, an existing column stays null on the rows this sync writes.
  const hiddenFields = visibility.hidden;
  if (hiddenFields.length > 0) log.warn(hiddenFieldsWarning(describe.name, hiddenFields), { object: describe.name, hiddenFields });
  if (visibility.unchecked) log.warn(`${describe.name}: could not check which fields the integration user can see: ${visibility.unchecked}`, { object: describe.name });
  const fields = syncableFields(describe, { hidden: hiddenFields });
  const skipped = skippedFields(describe);
  // The partition spec and sort order asked for: checked against the object's fields before anything is created or read.
  const asked =
    input.partitionBy || input.sortBy
      ? resolveLayout(describe.name, fields, planSchema(fields, { naming, timeAs: ctx.timeAs, table: [...input.namespace, table].join('.') }).schema, naming, input)
      : undefined;
  for (const note of asked?.kept ?? []) log.warn(note, { object: describe.name });
  const {
    cursor: stored,
    created,
    newColumns,
    layoutChanges,
    lastCount,
  } = await ctx.destination.prepare(ref, fields, { naming, timeAs: ctx.timeAs }, input.runId, { label: describe.label }, asked?.layout);
  const after = writeMode !== 'replace' && !input.full && stored ? stored : undefined;
  // Another writer moved the cursor between the two reads of it: the window's questions are asked again.
  if (after !== askedAfter) answers = await ask(after);
  const { deletes, windowRows, deletedRows, counted, prefetched } = answers;
  const reread = cursor ? rereadReason({ writeMode, after, newColumns, backfillNewFields: input.backfillNewFields, refreshFormulas: input.refreshFormulas }) : undefined;
  // The window, as the result carries it: a re-read of every row still removes what was deleted since the stored cursor.
  const window = {
    cursorField: cursor,
    writeMode,
    after: reread ? undefined : after,
    upTo,
    ...(reread ? { reread, deletedAfter: after } : {}),
  };
  // A re-read of every row is not the window the rows and the count were asked for: Bulk, and counted at the commit.
  const incremental = readWindow(window)?.after !== undefined;
  const deletedIn = deletedIdsWindow(window);
  if (deletes?.from === 'queryAll') log.warn(`Deletes of ${describe.name} from queryAll: ${deletes.reason}`, { object: describe.name });
  const readApi = chooseReadApi({ api: ctx.api, restWindowRows: ctx.restWindowRows, incremental, windowRows });
  const deletesApi = deletedIn
    ? chooseReadApi({ api: ctx.api, restWindowRows: ctx.restWindowRows, incremental, windowRows: deletedRows ?? windowRows, what: 'the deleted rows' }).api
    : undefined;
  // Why every Id is compared though nobody asked: the delete log could not answer, or the last count check found too many rows.
  const reconcileReason =
    deletes?.from === 'queryAll' && deletes.reconcile
      ? deletes.reason
      : ctx.countCheck === 'reconcile' && writeMode === 'merge' && after && lastCount !== undefined
        ? reconcileAfterCount(describe.name, { salesforce: lastCount, table: await ctx.destination.liveRows({ namespace: input.namespace, table }) })
        : undefined;
  if (reconcileReason && !input.reconcile) log.warn(`${describe.name} is reconciled: ${reconcileReason}`, { object: describe.name });
  // The window came back whole with the other answers: written here when the workflow asks for it
  // and the extraction would ask Salesforce nothing more (no deleted rows to query, no
  // reconciliation); else staged for the extract step, which then asks nothing either.
  const whole = readApi.api === 'rest' && incremental && prefetched ? prefetched : undefined;
  const extractHere = whole && input.extractSmallWindow && !deletedIdsWindow({ ...window, deletes }) && !reconcileReason && !input.reconcile;
  const staged = whole && !extractHere ? await stagePrefetched(target, input.runId, whole) : undefined;
  log.info(
    `Prepared ${describe.name}: table ${[...input.namespace, table].join('.')}, write mode ${writeMode} (${writeModeReason})${layoutChanges ? `; ${layoutChanges.join('; ')}` : ''}`,
    {
      object: describe.name,
      writeMode,
      writeModeReason,
      after,
      created,
      newColumns: newColumns?.length ?? 0,
      ...(reread ? { reread } : {}),
      ...(layoutChanges ? { layoutChanges } : {}),
      ...(deletes?.from === 'getDeleted' ? { deletedInLog: deletes.ids } : {}),
      ...(windowRows !== undefined ? { windowRows } : {}),
      readApi: readApi.api,
      readApiReason: readApi.reason,
      ...(whole ? { prefetchedRows: whole.records.length } : {}),
    },
  );
  const prepared: PreparedObject = {
    ...input,
    object: describe.name,
    table,
    ...window,
    writeModeReason,
    ...(newColumns?.length ? { newColumns } : {}),
    ...(asked?.kept.length ? { layoutKept: asked.kept } : {}),
    ...(deletes ? { deletes } : {}),
    ...(reconcileReason && !input.reconcile ? { reconcile: true, reconcileReason } : {}),
    ...(hiddenFields.length ? { hiddenFields } : {}),
    ...(skipped.length ? { skippedFields: skipped } : {}),
    idColumn: columnName('Id', naming),
    createdField: describe.fields.find((f) => f.name === 'CreatedDate' && f.type === 'datetime')?.name ?? null,
    created,
    readApi,
    ...(staged ? { prefetched: staged } : {}),
    ...(deletesApi ? { deletesApi } : {}),
    ...(counted && incremental ? { counted } : {}),
    usage: budget.usage,
  };
  return extractHere ? { ...prepared, extracted: await extractObject(ctx, prepared, { prefetched: whole }) } : prepared;
}

/** What prepare asks Salesforce of the object and its window, in one Composite request (see prepareObject). */
async function askSalesforce(
  ctx: SyncContext,
  salesforce: SalesforceClient,
  describe: SObjectDescribe,
  w: Parameters<typeof stageDeletes>[1],
  target: Parameters<typeof stageDeletes>[4],
): Promise<{ visibility: HiddenFields; deletes?: DeletesSource; windowRows?: number; deletedRows?: number; counted?: CountCheck; prefetched?: PrefetchedWindow }> {
  const together = salesforce.batching();
  const readIn = readWindow(w);
  const incremental = readIn?.after !== undefined;
  const readsRest = incremental && ctx.api !== 'bulk' && (ctx.api === 'rest' || (ctx.restWindowRows ?? DEFAULT_REST_WINDOW_ROWS) > 0);
  const countsWindow = readsRest && ctx.api !== 'rest';
  // Deleted rows read through queryAll (no delete log to ask) are counted too: their read follows the same rule.
  const deletedIn = deletedIdsWindow(w);
  const countsDeleted = countsWindow && deletedIn !== undefined && (ctx.getDeleted === false || describe.replicateable === false);
  const [visibility, deletes, windowRows, deletedRows, counted, prefetched] = await Promise.all([
    findHiddenFields(together, describe, syncableFields(describe)),
    stageDeletes(ctx, w, together, describe, target),
    countsWindow ? countWindow(together, describe, readIn!) : undefined,
    countsDeleted ? countWindow(together, describe, deletedIn!, { deletedOnly: true }) : undefined,
    // An incremental merge is counted now, right after the window's end: a row deleted later is still in the table this sync leaves.
    incremental && ctx.countCheck !== 'off' ? countInSalesforce(together, describe, w) : undefined,
    // The rows themselves, when one page holds them: the read then asks nothing more.
    readsRest ? prefetchWindow(together, describe, readIn!) : undefined,
  ]);
  return { visibility, deletes, windowRows, deletedRows, counted, prefetched };
}

/**
 * Reads the object's rows (and deleted Ids) into data files; returns where the staging manifest is.
 * Every `checkpointMs` the open file is closed and what was written so far is recorded, so a new
 * attempt given that checkpoint reads on from the row after it instead of starting again. The loop
 * is the one a partition runs (src/sync/extract/extraction.ts); the object's own part is where the
 * read starts (a usable checkpoint, the plan's job, or the window) and the deleted Ids at the end.
 * A reconciling sync compares every Id in a step of its own (reconcileObject) unless `opts.reconcile`
 * asks for it here, as syncs did before that step existed.
 */
export async function extractObject(ctx: SyncContext, p: PreparedObject, opts: ExtractOptions = {}): Promise<ExtractResult> {
  const log = ctx.log ?? noLog;
  return runExtraction(ctx, p, opts, {
    name: p.object,
    spent: p.usage,
    stagingPath: (paths) => paths.staging,
    resume: (salesforce) => usableCheckpoint(salesforce, opts.resume, ctx.api, (note) => (log.warn(note.retrying!), opts.progress?.(note))),
    // The plan's job, while it lives (a retry long after the plan may find it expired: a new job then).
    pages: async (salesforce, { describe, columns, table }, resume, onFallback) =>
      windowPages(
        ctx,
        p,
        salesforce,
        { describe, fields: columns.fields, resume, prefetched: opts.prefetched ?? (p.prefetched && !resume ? await readPrefetched(table.store, p.prefetched) : undefined) },
        { job: opts.job, progress: opts.progress, onFallback },
      ),
    async deletes(salesforce, { describe }, keys) {
      const deletedWindow = deletedIdsWindow(p);
      const deletedKeys = deletedWindow ? await readDeletedIds(salesforce, describe, deletedWindow, p.deletesApi === 'bulk' ? ctx.api : 'rest') : [];
      if (!opts.reconcile) return { deletedKeys };
      // Hard deletes never reach queryAll: a reconciling sync compares all Ids (src/sync/reconcile.ts).
      const reconciled = await reconciledIds(ctx, p, { salesforce, describe, keep: [keys.values(), deletedKeys], progress: opts.progress, signal: opts.signal });
      return { deletedKeys, reconciled };
    },
  });
}

/** Commits the staged files as one snapshot; the cursor goes into the same snapshot's summary. */
export async function commitObject(ctx: SyncContext, p: PreparedObject, staging: string | string[]): Promise<CommitSummary> {
  const log = ctx.log ?? noLog;
  const { counted, calls, properties } = await countBeforeCommit(ctx, p);
  const { req, staged, cursor } = await stagedCommit(ctx, p, staging, properties, calls);
  const result = await ctx.destination.commit(p, {
    ...req,
    // An incremental sync that found no change moves its cursor without adding a snapshot.
    unchangedWithoutSnapshot: p.after !== undefined && !p.reread,
    onRetry: (attempt, reason) => log.warn(`Commit attempt ${attempt} to ${p.table} failed: ${reason}; trying again on the table's new state`),
  });
  const summary = committedSummary(ctx, p, { staged, cursor }, result);
  if (!counted) return summary;
  const { countCheck, mismatch } = await countAfterCommit(ctx, p, counted, result.liveRows);
  if (mismatch && ctx.countCheck === 'fail') throw countMismatchError(mismatch);
  return { ...summary, countCheck };
}

/**
 * Salesforce's count of what the table will hold (SYNC_COUNT_CHECK), taken before the commit so
 * the snapshot's summary carries it: the count, the API calls it took, the summary property.
 */
export async function countBeforeCommit(ctx: SyncContext, p: PreparedObject): Promise<{ counted?: CountCheck; calls: number; properties: Record<string, string> }> {
  if (ctx.countCheck === 'off') return { calls: 0, properties: {} };
  // Taken by prepare with the window's other questions (its call is in prepare's usage).
  if (p.counted) return { counted: p.counted, calls: 0, properties: p.counted.salesforce !== undefined ? { [COUNT_PROPERTY]: String(p.counted.salesforce) } : {} };
  const salesforce = ctx.salesforce.withLog(ctx.log ?? noLog);
  // What prepare saw of the object is enough to count it; a result of an older worker has it described again.
  const described = p.createdField === undefined ? await runDescribe(salesforce, p.object, p.runId) : undefined;
  const counted = await countInSalesforce(
    salesforce,
    described ?? { name: p.object, label: p.object, custom: false, fields: p.createdField ? [{ name: p.createdField, type: 'datetime' }] : [] },
    p,
  );
  return { counted, calls: described ? 2 : 1, properties: counted.salesforce !== undefined ? { [COUNT_PROPERTY]: String(counted.salesforce) } : {} };
}

/**
 * The count check once committed: Salesforce's count beside the table's live rows (as of the
 * commit, when it reported them: `committedRows`); a mismatch is logged and returned.
 */
export async function countAfterCommit(
  ctx: SyncContext,
  p: PreparedObject,
  counted: CountCheck,
  committedRows?: number | null,
): Promise<{ countCheck: CountCheck; mismatch?: string }> {
  const live = async () => (committedRows === undefined ? await ctx.destination.liveRows(p) : (committedRows ?? undefined));
  const countCheck: CountCheck = counted.salesforce === undefined ? counted : { salesforce: counted.salesforce, ...definedTable(await live()) };
  const mismatch = countMismatch(p.object, countCheck);
  if (mismatch) (ctx.log ?? noLog).warn(mismatch, { object: p.object, salesforce: countCheck.salesforce, table: countCheck.table });
  return { countCheck, ...(mismatch ? { mismatch } : {}) };
}

const definedTable = (table: number | undefined) => (table === undefined ? { skipped: 'the table cannot tell its live rows from its metadata (equality deletes)' } : { table });

/**
 * What committing an object's staged files asks of the destination: the files, the write mode
 * and the summary properties (cursor and the like), read from the staging manifests.
 */
export async function stagedCommit(
  ctx: SyncContext,
  p: PreparedObject,
  staging: string | string[],
  extraProperties: Record<string, string> = {},
  /** API calls made at commit time (the count check's describe and COUNT()), added to the run's usage. */
  commitCalls = 0,
): Promise<{ req: CommitFilesRequest; staged: StagedExtraction; cursor?: string }> {
  const area = await ctx.destination.writeTarget(p);
  // A partitioned extraction: the plan's manifest and every partition's, as one.
  const staged = combineStaged(await Promise.all(withDeletes(p, staging).map((key) => readStaging(area.store, key))));
  const mode: WriteMode =
    p.writeMode === 'replace'
      ? { kind: 'overwrite' }
      : p.writeMode === 'append'
        ? { kind: 'append' }
        : { kind: 'merge', keyColumn: p.idColumn, keys: async () => (await staged.loadKeys()).toArray(), deleteKeys: staged.deletedKeys };
  const cursor = p.cursorField ? p.upTo : undefined;
  const req: CommitFilesRequest = {
    runId: p.runId,
    files: staged.files,
    mode,
    properties: {
      [OBJECT_PROPERTY]: p.object,
      ...(cursor ? { [CURSOR_PROPERTY]: cursor } : {}),
      ...(p.reread ? { [REREAD_PROPERTY]: p.reread } : {}),
      // Columns up to here now hold values on every row (or were left null on request): see columnsToFill.
      [FILLED_THROUGH_PROPERTY]: String(Math.max(0, ...area.columns.map((c) => c.id))),
      ...(staged.usage ? usageSummary({ ...staged.usage, apiCalls: staged.usage.apiCalls + commitCalls }) : {}),
      ...reconcileProperties(staged),
      ...extraProperties,
    },
  };
  return { req, staged, cursor };
}

/** What a commit of an object's staged files reports (and logs). */
export function committedSummary(ctx: SyncContext, p: PreparedObject, { staged, cursor }: { staged: StagedExtraction; cursor?: string }, result: CommitResult): CommitSummary {
  const log = ctx.log ?? noLog;
  const deleted = staged.deletedKeys.length - (staged.reconciled ?? 0);
  const said = result.alreadyCommitted
    ? `${p.object} was already committed by this run: snapshot ${result.snapshotId}`
    : result.unchanged
      ? `${p.object}: no changes; the cursor moved to ${cursor} without a new snapshot (the table stays at ${result.snapshotId})`
      : `Committed ${p.object}: snapshot ${result.snapshotId}`;
  log.info(said, {
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
    ...(result.unchanged ? { unchanged: true } : {}),
    writeMode: p.writeMode,
    ...(p.writeModeReason ? { writeModeReason: p.writeModeReason } : {}),
    ...(staged.readApi ? { readApi: staged.readApi } : {}),
    ...reconcileOutcome(p, staged),
    ...deletesOutcome(p),
    ...(p.reconcileReason ? { reconcileReason: p.reconcileReason } : {}),
    ...(p.reread ? { reread: p.reread } : {}),
    ...(p.layoutKept ? { layoutKept: p.layoutKept } : {}),
    ...(p.hiddenFields?.length ? { hiddenFields: p.hiddenFields } : {}),
    ...(p.skippedFields?.length ? { skippedFields: p.skippedFields } : {}),
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
  // The prefixes are asked about at once (each is a round trip, and a sync waits for its cleanup);
  // uploads are aborted before the listing, so one that was unfinished cannot complete unlisted.
  try {
    await Promise.all(prefixes.map((prefix) => area.store.abortUnfinished?.(prefix)));
  } catch (error) {
    unlisted(error, 'unfinished uploads');
  }
  const listing = async (prefix: string) => {
    const uris: string[] = [];
    for await (const o of area.store.list(prefix)) uris.push(o.uri);
    return uris;
  };
  try {
    written.push(...(await Promise.all(prefixes.map(listing))).flat());
  } catch (error) {
    unlisted(error, 'files of failed attempts');
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

import { NotFoundError } from '../iceberg/errors';
import { runPaths } from '../iceberg/run-paths';
import { columnName, type NamingConvention, type TimeMapping } from '../mapping/schema-mapping';
import type { WriteMode } from '../iceberg/snapshot-producer';
import { DataFileWriter } from '../parquet/writer';
import { ApiBudget, usageSummary, type UsageCounts } from '../salesforce/budget';
import type { SalesforceClient } from '../salesforce/client';
import { cursorField, describeObject, syncableFields } from '../salesforce/describe';
import { readObject, type ReadApi, type ReadPosition } from '../salesforce/reader';
import { CURSOR_PROPERTY, type Created, type Destination, type TableRef } from '../destinations/destination';
import { FILLED_THROUGH_PROPERTY } from '../destinations/filled-columns';
import { budgetedClient } from './extract/budgeted-client';
import { Checkpointer } from './extract/checkpointer';
import { alignColumns } from './extract/column-aligner';
import { readDeletedIds } from './extract/deleted-ids';
import { deletedIdsWindow, readWindow } from './extract/read-window';
import { positionOf, usableCheckpoint } from './extract/resume';
import { StageTimer, type StageTimings } from './extract/stage-timer';
import { defaultMode, type WriteModeName } from './objects';
import { reconcileExtraction, reconcileOutcome, reconcileProperties } from './reconcile';
import { rereadReason, type RereadReason } from './reread';
import { readStaging } from './staging';

export { CURSOR_PROPERTY };

/** Snapshot summary key saying why a sync read every row (`new-fields`, `formulas`), when it did. */
export const REREAD_PROPERTY = 'salesforce.reread';

/** Everything the steps need, built once per worker from its environment. */
export interface SyncContext {
  salesforce: SalesforceClient;
  destination: Destination;
  naming?: NamingConvention;
  /** Salesforce times as text (default: every engine reads it) or as Iceberg time. */
  timeAs?: TimeMapping;
  /** The window's upper bound trails "now" by this much, so rows still being written are left for next time. */
  lagMs?: number;
  api?: ReadApi;
  /** Bulk result pages downloaded at once (API 62.0 and later). */
  pagesInFlight?: number;
  /** A Bulk job that fails in Salesforce is read again over halves of its time window, down to this. */
  sliceFloorMs?: number;
}

export interface ObjectSyncInput {
  object: string;
  namespace: string[];
  runId: string;
  mode?: WriteModeName;
  /** Ignore the stored cursor and read everything. */
  full?: boolean;
  /** Also remove rows Salesforce no longer has (merge mode only; src/sync/reconcile.ts). */
  reconcile?: boolean;
  /** Columns added to a table with rows: read every row so old rows get their values (default true). */
  backfillNewFields?: boolean;
  /** Read every row so formula (calculated) fields are current: their changes do not move SystemModstamp. */
  refreshFormulas?: boolean;
}

/** The small, serialisable result of prepare: what extract and commit work from. */
export interface PreparedObject extends ObjectSyncInput, TableRef {
  table: string;
  mode: WriteModeName;
  cursorField?: string;
  /** The main read's lower bound: the stored cursor, or none when reading everything. */
  after?: string;
  upTo: string;
  /**
   * When this incremental sync reads every row (see rereadReason): the stored cursor, from which
   * the deleted Ids are still read, since `after` is then empty.
   */
  deletedAfter?: string;
  reread?: RereadReason;
  /** Columns the table's rows were written without (filled by a `new-fields` re-read). */
  newColumns?: string[];
  idColumn: string;
  /** What prepare created for this run (taken back if the sync commits nothing). */
  created?: Created;
  /** Salesforce requests prepare made (the extraction adds its own; the snapshot records the sum). */
  usage?: UsageCounts;
}

export interface ExtractResult {
  staging: string;
  rows: number;
  files: number;
  bytes: number;
  deleted: number;
  /** Rows a reconciliation found gone from Salesforce (among the deletes), when one ran. */
  reconciled?: number;
  /**
   * Where this attempt's time went, in seconds: waiting for Salesforce pages (and the CPU this
   * process spent parsing them meanwhile), building column buffers, Parquet encoding, uploading.
   */
  timings: StageTimings;
  /** What the sync spent of the org's Salesforce limits so far: prepare and every extraction attempt. */
  usage?: UsageCounts;
}

export interface CommitSummary {
  snapshotId: string;
  rows: number;
  deleted: number;
  alreadyCommitted: boolean;
  cursor?: string;
  /** Rows removed because Salesforce no longer has them (a reconciling sync; not counted in `deleted`). */
  reconciled?: number;
  /** Why an object the sync asked to reconcile was not (its write mode). */
  reconcileSkipped?: string;
  /** Why every row was read, when it was. */
  reread?: RereadReason;
}

/**
 * A point an interrupted extraction can resume from: every file written up to `position` is closed
 * and listed (with its keys) in the staging manifest `staging`. Small enough for a heartbeat.
 */
export interface ExtractCheckpoint {
  staging: string;
  rows: number;
  files: number;
  /** The last row written (progress; and the resume point of checkpoints that have no `position`). */
  last?: { id: string; cursor?: string };
  /** Where the read goes on: after a row (REST), or at a Bulk job's next result page. */
  position?: ReadPosition;
}

export interface ExtractProgress {
  rows: number;
  files: number;
  /** Why the extraction is waiting to try a request again, while it is (cleared by the next page). */
  retrying?: string;
  /** Why the extraction waits for the org's API budget, while it does (see budget.ts). */
  waiting?: string;
  /** Salesforce requests, Bulk jobs and result bytes spent so far, earlier attempts included (a retry goes on from them). */
  usage?: UsageCounts;
  last?: { id: string; cursor?: string };
  checkpoint?: ExtractCheckpoint;
  /** How far a reconciliation got (or why it was skipped). */
  reconciling?: string;
}

export interface ExtractOptions {
  /** Told what changed: rows and files so far, the resume point, why a request is retried. */
  progress?: (p: Partial<ExtractProgress>) => void;
  /** Resume after this checkpoint (from the last heartbeat of a failed attempt). */
  resume?: ExtractCheckpoint;
  /** What earlier attempts spent (their last heartbeat's `usage`, prepare's included); default: prepare's. */
  usage?: UsageCounts;
  /** Least time between checkpoints (each closes the open data file). Default 60 s. */
  checkpointMs?: number;
  signal?: AbortSignal;
}

export const DEFAULT_CHECKPOINT_MS = 60_000;

/** Describes the object, creates or evolves its table, and fixes the incremental window. */
export async function prepareObject(ctx: SyncContext, input: ObjectSyncInput): Promise<PreparedObject> {
  const naming = ctx.naming ?? 'snake_case';
  // Counted only: the budget is enforced where a wait can be seen (the extraction).
  const budget = new ApiBudget();
  const describe = await describeObject(ctx.salesforce.withBudget(budget), input.object);
  const fields = syncableFields(describe);
  const table = columnName(describe.name, naming);
  const { cursor: stored, created, newColumns } = await ctx.destination.prepare({ namespace: input.namespace, table }, fields, { naming, timeAs: ctx.timeAs }, input.runId, { label: describe.label });
  const mode = input.mode ?? defaultMode(describe.name);
  const cursor = cursorField(describe);
  const after = mode !== 'replace' && !input.full && stored ? stored : undefined;
  const reread = cursor ? rereadReason({ mode, after, newColumns, backfillNewFields: input.backfillNewFields, refreshFormulas: input.refreshFormulas }) : undefined;
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
  const { salesforce, budget } = await budgetedClient(ctx.salesforce, { api: ctx.api, spent: opts.usage ?? p.usage, signal: opts.signal, progress: opts.progress });
  const table = await ctx.destination.staging(p);
  const describe = await describeObject(salesforce, p.object);
  const columns = alignColumns(table.columns, syncableFields(describe), ctx.naming ?? 'snake_case');
  const paths = runPaths(table.location, p.runId);
  const resume = await usableCheckpoint(salesforce, opts.resume, ctx.api, opts.progress);
  const writer = new DataFileWriter({ fields: table.columns, store: table.store, location: paths.dataFolder, namePrefix: paths.segment, dictionaryColumns: columns.dictionaryColumns });
  const checkpointer = await Checkpointer.open({ store: table.store, runId: p.runId, stagingPath: paths.staging, writer, everyMs: opts.checkpointMs ?? DEFAULT_CHECKPOINT_MS }, resume);
  const timer = new StageTimer();
  const pages = readObject({
    client: salesforce, describe, fields: columns.fields, window: readWindow(p), resume: resume && positionOf(resume), api: ctx.api, pagesInFlight: ctx.pagesInFlight, sliceFloorMs: ctx.sliceFloorMs,
    onSplit: (reason) => opts.progress?.({ retrying: reason }),
  })[Symbol.asyncIterator]();
  const nextPage = () => timer.read(() => pages.next());
  for (let next = await nextPage(); !next.done; next = await nextPage()) {
    const page = next.value;
    opts.signal?.throwIfAborted();
    await writer.writeColumns(page.columns(columns.at));
    checkpointer.add(page, columns.idAt);
    if (checkpointer.due(page)) await checkpointer.save(page);
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
  const bytes = files.reduce((sum, f) => sum + Number(f.fileSizeInBytes), 0);
  return { staging, rows: checkpointer.rows, files: files.length, bytes, deleted: deletedKeys.length, reconciled: reconciled?.length, timings: timer.timings(writer.timings), usage };
}

/** Commits the staged files as one snapshot; the cursor goes into the same snapshot's summary. */
export async function commitObject(ctx: SyncContext, p: PreparedObject, staging: string): Promise<CommitSummary> {
  const area = await ctx.destination.staging(p);
  const staged = await readStaging(area.store, staging);
  const mode: WriteMode =
    p.mode === 'replace' ? { kind: 'overwrite' } : p.mode === 'append' ? { kind: 'append' } : { kind: 'merge', keyColumn: p.idColumn, keys: async () => (await staged.loadKeys()).toArray(), deleteKeys: staged.deletedKeys };
  const cursor = p.cursorField ? p.upTo : undefined;
  const result = await ctx.destination.commit(p, {
    runId: p.runId,
    files: staged.files,
    mode,
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
  return { snapshotId: result.snapshotId, rows: staged.keyCount, deleted, alreadyCommitted: result.alreadyCommitted, cursor, ...reconcileOutcome(p, staged), ...(p.reread ? { reread: p.reread } : {}) };
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
export async function cleanupObject(ctx: SyncContext, p: PreparedObject): Promise<number> {
  let area;
  try {
    area = await ctx.destination.staging(p);
  } catch (error) {
    // The table is gone: nothing of it to clean. Anything else (the catalog unreachable) is retried.
    if (error instanceof NotFoundError) return 0;
    throw error;
  }
  const paths = runPaths(area.location, p.runId);
  const prefixes = Object.values(paths.prefixes);
  for (const prefix of prefixes) await area.store.abortUnfinished?.(prefix);
  const written: string[] = [];
  for (const prefix of prefixes) for await (const o of area.store.list(prefix)) written.push(o.uri);
  // The table is read after the listing: a file that a commit made part of the table after it
  // was listed is then seen as referenced, never taken for garbage.
  const inUse = written.length > 0 ? await ctx.destination.runFilesInUse(p, p.runId, written) : new Set<string>();
  const unreferenced = written.filter((uri) => !inUse.has(uri));
  if (unreferenced.length > 0) await area.store.delete(unreferenced);
  await discardUnused(ctx, p);
  return unreferenced.length;
}

/** A sync that committed nothing takes back the table (and namespace) its prepare created. */
export async function discardUnused(ctx: SyncContext, p: PreparedObject): Promise<boolean> {
  return p.created ? ctx.destination.discardUnused(p, p.runId, p.created) : false;
}

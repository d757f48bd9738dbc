import { NotFoundError } from '../iceberg/errors';
import { noLog, type Logger } from '../log';
import { runPaths } from '../iceberg/run-paths';
import { columnName, type NamingConvention, type TimeMapping } from '../iceberg/schema-mapping';
import type { WriteMode } from '../iceberg/snapshot-producer';
import { DataFileWriter } from '../parquet/writer';
import { ApiBudget, DEFAULT_BUDGET, usageSummary, type UsageCounts } from '../salesforce/budget';
import type { SalesforceClient } from '../salesforce/client';
import { cursorField, describeObject, syncableFields } from '../salesforce/describe';
import type { SalesforceField, SalesforceFieldType } from '../salesforce/describe-types';
import { bulkJobAlive } from '../salesforce/bulk-reader';
import { readObject, type ReadApi, type ReadPosition } from '../salesforce/reader';
import { CURSOR_PROPERTY, type Created, type Destination, type TableRef } from './destination';
import { defaultMode, type WriteModeName } from './objects';
import { reconcileExtraction, reconcileOutcome, reconcileProperties } from './reconcile';
import { FILLED_THROUGH_PROPERTY, rereadReason, type RereadReason } from './reread';
import { KeyList, readStaging, writeStaging } from './staging';

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
  /** Where the steps log (activities bind Temporal's activity logger); nowhere by default. */
  log?: Logger;
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
  timings: { readS: number; readCpuS: number; buildS: number; encodeS: number; uploadS: number };
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
  const log = ctx.log ?? noLog;
  const describe = await describeObject(ctx.salesforce.withLog(log).withBudget(budget), input.object);
  const fields = syncableFields(describe);
  const table = columnName(describe.name, naming);
  const { cursor: stored, created, newColumns } = await ctx.destination.prepare({ namespace: input.namespace, table }, fields, { naming, timeAs: ctx.timeAs }, input.runId, { label: describe.label });
  const mode = input.mode ?? defaultMode(describe.name);
  const cursor = cursorField(describe);
  const after = mode !== 'replace' && !input.full && stored ? stored : undefined;
  const reread = cursor ? rereadReason({ mode, after, newColumns, backfillNewFields: input.backfillNewFields, refreshFormulas: input.refreshFormulas }) : undefined;
  log.info(`Prepared ${describe.name}: table ${[...input.namespace, table].join('.')}, mode ${mode}`, {
    object: describe.name, mode, after, created, newColumns: newColumns?.length ?? 0, ...(reread ? { reread } : {}),
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

const FEW_DISTINCT_VALUES = new Set<SalesforceFieldType>(['picklist', 'multipicklist', 'combobox', 'reference', 'boolean']);

/**
 * Reads the object's rows (and deleted Ids) into data files; returns where the staging manifest is.
 * Every `checkpointMs` the open file is closed and what was written so far is recorded, so a new
 * attempt given that checkpoint reads on from the row after it instead of starting again.
 */
export async function extractObject(ctx: SyncContext, p: PreparedObject, opts: ExtractOptions = {}): Promise<ExtractResult> {
  const naming = ctx.naming ?? 'snake_case';
  const log = ctx.log ?? noLog;
  // Cancellation aborts the request in flight, not only the next page.
  const logged = ctx.salesforce.withLog(log);
  const signalled = opts.signal ? logged.withSignal(opts.signal, (retrying) => opts.progress?.({ retrying })) : logged;
  // The org's limits are read before the object is, and watched (and counted) as requests go.
  const budget = new ApiBudget(ctx.salesforce.settings.budget ?? DEFAULT_BUDGET, {
    bulk: ctx.api !== 'rest',
    spent: opts.usage ?? p.usage,
    onWaiting: (waiting) => {
      if (waiting) log.warn(waiting);
      else log.info('The Salesforce API budget allows reading again');
      opts.progress?.({ waiting });
    },
    onUsage: (usage) => opts.progress?.({ usage }),
  });
  const salesforce = signalled.withBudget(budget);
  await budget.check(salesforce);
  const table = await ctx.destination.staging(p);
  const describe = await describeObject(salesforce, p.object);
  const byColumn = new Map(syncableFields(describe).map((f) => [columnName(f.name, naming), f]));
  const columns = table.columns;
  // Table columns Salesforce no longer has are read as nulls.
  const fields: (SalesforceField | undefined)[] = columns.map((c) => byColumn.get(c.name));
  const present = fields.filter((f): f is SalesforceField => f !== undefined);
  const at = fields.map((f) => (f ? present.indexOf(f) : -1));
  const idAt = present.findIndex((f) => f.name === 'Id');
  // Picklists, references and flags repeat a few values: the columns worth a dictionary.
  const dictionaryColumns = new Set(columns.filter((_, k) => fields[k] && FEW_DISTINCT_VALUES.has(fields[k]!.type)).map((c) => c.name));
  const paths = runPaths(table.location, p.runId);
  const resume = await usableCheckpoint(salesforce, opts.resume, ctx.api, (note) => (log.warn(note.retrying!), opts.progress?.(note)));
  if (resume) log.info(`Resuming ${p.object} after ${resume.rows} rows (checkpoint ${resume.staging})`, { rows: resume.rows, files: resume.files });
  const writer = new DataFileWriter({ fields: columns, store: table.store, location: paths.dataFolder, namePrefix: paths.segment, dictionaryColumns });
  const window = p.cursorField && p.mode !== 'replace' ? { field: p.cursorField, after: p.after, upTo: p.upTo } : undefined;
  const earlier = resume ? await readStaging(table.store, resume.staging) : undefined;
  const keys = earlier ? await earlier.loadKeys() : new KeyList();
  const fileCount = () => (earlier?.files.length ?? 0) + writer.files.length;
  const allFiles = () => [...(earlier?.files ?? []), ...writer.files];
  let rows = resume?.rows ?? 0;
  let checkpoint = resume;
  let checkpointedAt = Date.now();
  const every = opts.checkpointMs ?? DEFAULT_CHECKPOINT_MS;
  const pages = readObject({
    client: salesforce, describe, fields: present, window, resume: resume && positionOf(resume), api: ctx.api, pagesInFlight: ctx.pagesInFlight, sliceFloorMs: ctx.sliceFloorMs,
    onSplit: (reason) => (log.warn(reason), opts.progress?.({ retrying: reason })),
    onFallback: (reason) => log.warn(reason),
  })[Symbol.asyncIterator]();
  // Time waiting for pages, and this process's CPU meanwhile (parsing and normalising them).
  let readMs = 0;
  let readCpuUs = 0;
  const nextPage = async () => {
    const t = performance.now();
    const cpu = process.cpuUsage();
    try {
      return await pages.next();
    } finally {
      readMs += performance.now() - t;
      const used = process.cpuUsage(cpu);
      readCpuUs += used.user + used.system;
    }
  };
  for (let next = await nextPage(); !next.done; next = await nextPage()) {
    const page = next.value;
    opts.signal?.throwIfAborted();
    await writer.writeColumns(page.columns(at));
    for (let r = 0; r < page.length; r++) keys.add(page.text(r, idAt)!);
    rows += page.length;
    if (page.position && Date.now() - checkpointedAt >= every) {
      await writer.flush();
      const staging = paths.staging(`at-${rows}`);
      await writeStaging(table.store, staging, { runId: p.runId, files: allFiles(), keys, deletedKeys: [] });
      checkpoint = { staging, rows, files: fileCount(), last: page.last, position: page.position };
      checkpointedAt = Date.now();
      log.info(`Checkpoint of ${p.object} at ${rows} rows`, { rows, files: checkpoint.files, staging });
    }
    log.debug(`Page of ${page.length} rows`, { api: page.api, rows, files: fileCount() });
    opts.progress?.({ rows, files: fileCount(), last: page.last, checkpoint, retrying: undefined });
  }
  await writer.close();
  const deletedKeys: string[] = [];
  // A sync that re-reads every row still removes the rows deleted since the stored cursor.
  const deletedAfter = p.deletedAfter ?? window?.after;
  if (window && deletedAfter && p.mode === 'merge') {
    const idField = describe.fields.filter((f) => f.name === 'Id');
    for await (const page of readObject({ client: salesforce, describe, fields: idField, window: { ...window, after: deletedAfter }, deletedOnly: true, api: 'rest' })) {
      for (const r of page.rows) deletedKeys.push(String(r[0]));
    }
  }
  // Hard deletes never reach queryAll: a reconciling sync compares all Ids (src/sync/reconcile.ts).
  const reconciled = await reconcileExtraction(ctx, p, { salesforce, describe, keys, deletedKeys, progress: opts.progress, signal: opts.signal });
  const staging = paths.staging();
  const files = allFiles();
  const usage = budget.usage;
  await writeStaging(table.store, staging, { runId: p.runId, files, keys, deletedKeys: reconciled ? deletedKeys.concat(reconciled) : deletedKeys, reconciled: reconciled?.length, usage });
  opts.progress?.({ rows, files: files.length, checkpoint, usage });
  log.info(`Extracted ${p.object}: ${rows} rows in ${files.length} files`, { rows, files: files.length, deleted: deletedKeys.length, ...(reconciled ? { reconciled: reconciled.length } : {}), staging });
  const bytes = files.reduce((sum, f) => sum + Number(f.fileSizeInBytes), 0);
  const seconds = (ms: number) => Math.round(ms) / 1000;
  const timings = {
    readS: seconds(readMs),
    readCpuS: seconds(readCpuUs / 1000),
    buildS: seconds(writer.timings.buildMs),
    encodeS: seconds(writer.timings.encodeMs),
    uploadS: seconds(writer.timings.uploadMs),
  };
  return { staging, rows, files: files.length, bytes, deleted: deletedKeys.length, reconciled: reconciled?.length, timings, usage };
}

/** Where a checkpoint's read goes on (checkpoints of ordered reads name only their last row). */
function positionOf(c: ExtractCheckpoint): ReadPosition | undefined {
  return c.position ?? (c.last ? { api: 'rest', after: c.last } : undefined);
}

/**
 * The checkpoint to resume from, if its read can go on: a Bulk job that is gone (expired, deleted,
 * failed) cannot serve its remaining pages, so the extraction starts again over the same window
 * with a new job and what the earlier attempts staged is left for cleanup — no row twice.
 */
async function usableCheckpoint(client: SalesforceClient, c: ExtractCheckpoint | undefined, api: ReadApi | undefined, progress: ExtractOptions['progress']): Promise<ExtractCheckpoint | undefined> {
  const position = c && positionOf(c);
  if (!c || position?.api !== 'bulk') return c;
  // A worker now told to read through REST cannot go on in a Bulk job's results.
  if (api === 'rest') {
    progress?.({ retrying: `the earlier attempt read through Bulk API 2.0 and this worker reads through REST: reading the window again (the ${c.rows} rows staged before are discarded)` });
    return undefined;
  }
  if (!position.job || (await bulkJobAlive(client, position.job))) return c;
  progress?.({ retrying: `Bulk job ${position.job.jobId} of the earlier attempt can no longer serve its results: reading the window again with a new job (the ${c.rows} rows staged before are discarded)` });
  return undefined;
}

/** Commits the staged files as one snapshot; the cursor goes into the same snapshot's summary. */
export async function commitObject(ctx: SyncContext, p: PreparedObject, staging: string): Promise<CommitSummary> {
  const area = await ctx.destination.staging(p);
  const staged = await readStaging(area.store, staging);
  const mode: WriteMode =
    p.mode === 'replace' ? { kind: 'overwrite' } : p.mode === 'append' ? { kind: 'append' } : { kind: 'merge', keyColumn: p.idColumn, keys: async () => (await staged.loadKeys()).toArray(), deleteKeys: staged.deletedKeys };
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
    snapshotId: result.snapshotId, rows: staged.keyCount, files: staged.files.length, deleted, alreadyCommitted: result.alreadyCommitted, cursor,
  });
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
  const log = ctx.log ?? noLog;
  let area;
  try {
    area = await ctx.destination.staging(p);
  } catch (error) {
    // The table is gone: nothing of it to clean. Anything else (the catalog unreachable) is retried.
    if (!(error instanceof NotFoundError)) throw error;
    log.info(`Cleanup of ${p.object}: the table is gone, nothing to remove`);
    return 0;
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
  const dropped = await discardUnused(ctx, p);
  log.info(`Cleanup of ${p.object}: ${unreferenced.length} unreferenced files of the run removed${dropped ? ', and the table it created dropped' : ''}`, {
    removed: unreferenced.length, kept: inUse.size, dropped,
  });
  return unreferenced.length;
}

/** A sync that committed nothing takes back the table (and namespace) its prepare created. */
export async function discardUnused(ctx: SyncContext, p: PreparedObject): Promise<boolean> {
  return p.created ? ctx.destination.discardUnused(p, p.runId, p.created) : false;
}

import { openWriteArea } from './extract/write-area';
import { ERROR_CODES, SyncError } from '../errors';
import { runPaths } from '../iceberg/run-paths';
import { noLog } from '../log';
import { NO_USAGE } from '../salesforce/budget';
import {
  BulkJobFailedError,
  BulkJobGoneError,
  BulkUnavailableError,
  PARALLEL_RESULTS_VERSION,
  bulkJobReady,
  listResultPageSets,
  readBulkPages,
  type BulkJobRef,
} from '../salesforce/bulk-reader';
import { describeObject, syncableFields } from '../salesforce/describe';
import { MAX_BULK_QUERY_LENGTH, type ReadPosition } from '../salesforce/reader';
import { buildSoql } from '../salesforce/soql';
import { budgetedClient } from './extract/budgeted-client';
import { Checkpointer } from './extract/checkpointer';
import { alignColumns } from './extract/column-aligner';
import { readDeletedIds } from './extract/deleted-ids';
import { deletedIdsWindow, readWindow } from './extract/read-window';
import { StageTimer } from './extract/stage-timer';
import { DEFAULT_CHECKPOINT_MS } from './object-sync';
import { partitionWorthIt, planPartitions, type ExtractPlan, type PartitionRange } from './partitions';
import { KeyList, writeStaging } from './staging';
import type { ExtractOptions, ExtractResult, PreparedObject, SyncContext } from './types';

export interface PlanOptions extends Pick<ExtractOptions, 'signal' | 'progress'> {
  /** The job an earlier attempt of the plan created (from its heartbeat): reused while it lives. */
  job?: BulkJobRef;
  /** Told of the job once created (the activity heartbeats it, so a retry reuses it). */
  onJob?: (job: BulkJobRef) => void;
}

/**
 * Decides how an object is extracted. A Bulk read of an object whose job has at least
 * `minPages` result pages is split into partitions (runs of result pages) that separate
 * activities read, on any worker; the job is created here, once, and the deleted Ids read here
 * too (staged as the plan's own manifest). Anything else — partitioning off, a REST read, API
 * versions without parallel result pages, a reconciling sync, a job Salesforce failed — gets no
 * partition and is extracted by one activity, as before (reusing the job when there is one).
 */
export async function planObject(ctx: SyncContext, p: PreparedObject, opts: PlanOptions = {}): Promise<ExtractPlan> {
  const settings = ctx.partitions;
  const none = (reason: string, extra: Partial<ExtractPlan> = {}): ExtractPlan => ({ partitions: [], inFlight: 1, reason, ...extra });
  if (!settings || settings.minPages <= 0) return none('partitioning is off (SYNC_PARTITION_MIN_PAGES=0)');
  if (ctx.api === 'rest') return none('REST reads are extracted by one activity');
  if (p.reconcile && p.writeMode === 'merge') return none('a reconciling sync compares every Id in one extraction');
  if (Number(ctx.salesforce.apiVersion) < PARALLEL_RESULTS_VERSION) return none(`API ${ctx.salesforce.apiVersion} has no parallel result pages (62.0 and later)`);
  const log = ctx.log ?? noLog;
  const { salesforce, budget } = await budgetedClient(ctx.salesforce.withLog(log), { api: ctx.api, spent: p.usage, signal: opts.signal, progress: opts.progress, log });
  const table = await ctx.destination.writeTarget(p);
  const describe = await describeObject(salesforce, p.object);
  const columns = alignColumns(table.columns, syncableFields(describe), ctx.naming ?? 'snake_case');
  const window = readWindow(p);
  const soql = buildSoql(
    describe,
    columns.fields.map((f) => f.name),
    { window, ordered: false },
  );
  if (soql.length > MAX_BULK_QUERY_LENGTH) return none('the query is too long for Bulk API 2.0', { usage: budget.usage });
  let job: BulkJobRef;
  try {
    try {
      job = await bulkJobReady({ client: salesforce, soql, resume: opts.job, onJob: (jobId) => opts.onJob?.({ jobId, apiVersion: salesforce.apiVersion }) });
    } catch (error) {
      // The earlier attempt's job is gone: a new one.
      if (!(error instanceof BulkJobGoneError) || !opts.job) throw error;
      log.warn(`${error.message}: planning ${p.object} with a new job`);
      job = await bulkJobReady({ client: salesforce, soql, onJob: (jobId) => opts.onJob?.({ jobId, apiVersion: salesforce.apiVersion }) });
    }
  } catch (error) {
    // The single extraction knows what to do: fall back to REST, or read halves of the window.
    if (error instanceof BulkUnavailableError || error instanceof BulkJobFailedError) return none(error.message, { usage: budget.usage });
    throw error;
  }
  const { sets } = await listResultPageSets(salesforce, job);
  const pages = sets.reduce((n, s) => n + s.links, 0);
  if (!partitionWorthIt(pages, settings)) return none(`${pages} result pages, below SYNC_PARTITION_MIN_PAGES (${settings.minPages})`, { job, pages, usage: budget.usage });
  const partitions = planPartitions(sets, settings);
  const deletedWindow = deletedIdsWindow(p);
  const deletedKeys = deletedWindow ? await readDeletedIds(salesforce, describe, deletedWindow) : [];
  const staging = runPaths(table.location, p.runId).staging('plan');
  await writeStaging(table.store, staging, { runId: p.runId, files: [], keys: new KeyList(), deletedKeys, usage: budget.usage });
  log.info(`Planned ${p.object}: ${pages} result pages of Bulk job ${job.jobId} in ${partitions.length} partitions, ${settings.inFlight} at once`, {
    job: job.jobId,
    pages,
    partitions: partitions.length,
    deleted: deletedKeys.length,
  });
  return { job, partitions, inFlight: settings.inFlight, staging, pages, deleted: deletedKeys.length };
}

/** Result pages one partition downloads at once (see extractPartition). */
const PARTITION_PAGES_IN_FLIGHT = 2;

/**
 * Reads one partition's result pages into data files under the run's paths, and stages them in a
 * manifest of its own (`<run>.part-<n>.json`). Checkpoints as the single extraction does: a new
 * attempt given the last checkpoint reads on from the page after it. The job is not deleted here
 * (other partitions read it): cleanup does.
 */
export async function extractPartition(ctx: SyncContext, p: PreparedObject, job: BulkJobRef, part: PartitionRange, opts: ExtractOptions = {}): Promise<ExtractResult> {
  const log = ctx.log ?? noLog;
  // Each partition counts what it spends itself: the commit adds up the plan's and every partition's.
  const { salesforce, budget } = await budgetedClient(ctx.salesforce.withLog(log), {
    api: ctx.api,
    spent: opts.usage ?? NO_USAGE,
    signal: opts.signal,
    progress: opts.progress,
    log,
  });
  const { table, columns, paths, writer } = await openWriteArea(ctx, salesforce, p);
  const resume = opts.resume;
  const done = resume?.pages ?? 0;
  const at = resume?.position?.api === 'bulk' && resume.position.job?.pages ? resume.position.job.pages : part.from;
  if (resume) log.info(`Resuming ${p.object} partition ${part.index} after ${done} pages, ${resume.rows} rows`, { rows: resume.rows, pages: done });
  const checkpointer = await Checkpointer.open(
    {
      store: table.store,
      runId: p.runId,
      stagingPath: (suffix) => paths.staging(`part-${part.index}${suffix ? `.${suffix}` : ''}`),
      writer,
      everyMs: opts.checkpointMs ?? DEFAULT_CHECKPOINT_MS,
    },
    resume,
  );
  const timer = new StageTimer();
  const pages = readBulkPages({
    client: salesforce,
    job,
    from: at,
    count: part.pages - done,
    fields: columns.fields,
    cursorField: readWindow(p)?.field,
    // Partitions already download in parallel (several per worker): each keeps one page ahead of
    // the one it writes, so a worker's memory grows with its partitions, not partitions × pages.
    pagesInFlight: Math.min(ctx.pagesInFlight ?? PARTITION_PAGES_IN_FLIGHT, PARTITION_PAGES_IN_FLIGHT),
  })[Symbol.asyncIterator]();
  const nextPage = () =>
    timer.read(async () => {
      try {
        return await pages.next();
      } catch (error) {
        // Only a new plan (a new job) can read these rows again: retrying this partition cannot.
        if (error instanceof BulkJobGoneError)
          throw new SyncError(`${error.message}: partition ${part.index + 1} of ${p.object} cannot be read; sync the object again (a new run plans a new job)`, {
            code: ERROR_CODES.BULK_JOB_GONE,
            retryable: false,
          });
        throw error;
      }
    });
  let read = done;
  for (let next = await nextPage(); !next.done; next = await nextPage()) {
    const { csv, last } = next.value;
    opts.signal?.throwIfAborted();
    read++;
    const position: ReadPosition | undefined = next.value.next ? { api: 'bulk', job: next.value.next } : undefined;
    const page = { length: csv.length, text: (r: number, f: number) => csv.text(r, f), last, position };
    await writer.writeColumns(csv.columns(columns.at));
    checkpointer.add(page, columns.idAt);
    if (read < part.pages && checkpointer.due(page)) await checkpointer.save(page, { pages: read });
    opts.progress?.({ rows: checkpointer.rows, files: checkpointer.fileCount, last, checkpoint: checkpointer.checkpoint, retrying: undefined });
  }
  await writer.close();
  const usage = budget.usage;
  const staging = await checkpointer.finish({ deletedKeys: [], usage });
  const files = checkpointer.files;
  opts.progress?.({ rows: checkpointer.rows, files: files.length, checkpoint: checkpointer.checkpoint, usage });
  log.info(`Extracted ${p.object} partition ${part.index}: ${checkpointer.rows} rows in ${files.length} files`, { rows: checkpointer.rows, files: files.length, staging });
  return {
    staging,
    rows: checkpointer.rows,
    files: files.length,
    bytes: files.reduce((sum, f) => sum + Number(f.fileSizeInBytes), 0),
    deleted: 0,
    timings: timer.timings(writer.timings),
    usage,
  };
}

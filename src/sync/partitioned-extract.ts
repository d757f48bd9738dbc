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
import { MAX_BULK_QUERY_LENGTH } from '../salesforce/reader';
import type { SalesforceClient } from '../salesforce/client';
import type { SalesforceField } from '../salesforce/describe-types';
import { buildSoql } from '../salesforce/soql';
import { budgetedClient } from './extract/budgeted-client';
import { alignColumns } from './extract/column-aligner';
import { readDeletedIds } from './extract/deleted-ids';
import { deletedIdsWindow, readWindow } from './extract/read-window';
import { runExtraction, type ExtractedPage } from './extract/extraction';
import { partitionWorthIt, planPartitions, type ExtractPlan, type PartitionRange } from './partitions';
import { KeyList, writeStaging } from './staging';
import type { ExtractCheckpoint, ExtractOptions, ExtractResult, PreparedObject, SyncContext } from './types';

export interface PlanOptions extends Pick<ExtractOptions, 'signal' | 'progress'> {
  /** The job an earlier attempt of the plan created (from its heartbeat): reused while it lives. */
  job?: BulkJobRef;
  /** Told of the job once created (the activity heartbeats it, so a retry reuses it). */
  onJob?: (job: BulkJobRef) => void;
  /**
   * The sync reconciles in a step of its own (reconcileObject), after the extraction however it is
   * split. Without, a reconciling sync (one that started before that step existed) compares every
   * Id inside its one extraction, so it is not partitioned.
   */
  reconcileStep?: boolean;
}

/**
 * Decides how an object is extracted. A Bulk read of an object whose job has at least
 * `minPages` result pages is split into partitions (runs of result pages) that separate
 * activities read, on any worker; the job is created here, once, and the deleted Ids read here
 * too (staged as the plan's own manifest). Anything else — partitioning off, a REST read, API
 * versions without parallel result pages, a job Salesforce failed — gets no partition and is
 * extracted by one activity, as before (reusing the job when there is one). A reconciling sync is
 * partitioned like any other: its reconcile step reads the Ids every partition staged.
 */
export async function planObject(ctx: SyncContext, p: PreparedObject, opts: PlanOptions = {}): Promise<ExtractPlan> {
  const settings = ctx.partitions;
  const none = (reason: string, extra: Partial<ExtractPlan> = {}): ExtractPlan => ({ partitions: [], inFlight: 1, reason, ...extra });
  if (!settings || settings.minPages <= 0) return none('partitioning is off (SYNC_PARTITION_MIN_PAGES=0)');
  if (ctx.api === 'rest') return none('REST reads are extracted by one activity');
  if (p.reconcile && p.writeMode === 'merge' && !opts.reconcileStep) return none('this reconciling sync compares every Id inside its one extraction');
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
 * manifest of its own (`<run>.part-<n>.json`), through the loop the single extraction runs
 * (src/sync/extract/extraction.ts): a new attempt given the last checkpoint reads on from the page
 * after it. The job is not deleted here (other partitions read it): cleanup does.
 */
export async function extractPartition(ctx: SyncContext, p: PreparedObject, job: BulkJobRef, part: PartitionRange, opts: ExtractOptions = {}): Promise<ExtractResult> {
  return runExtraction(ctx, p, opts, {
    name: `${p.object} partition ${part.index}`,
    // Each partition counts what it spends itself: the commit adds up the plan's and every partition's.
    spent: NO_USAGE,
    stagingPath: (paths) => (suffix) => paths.staging(`part-${part.index}${suffix ? `.${suffix}` : ''}`),
    resume: async () => opts.resume,
    pages: async (salesforce, { columns }, resume) => partitionPages(salesforce, ctx, p, job, part, columns.fields, resume),
  });
}

/**
 * The partition's result pages from the checkpoint on. The last one has no position: the
 * partition ends there, so there is nothing to checkpoint after it.
 */
async function* partitionPages(
  salesforce: SalesforceClient,
  ctx: SyncContext,
  p: PreparedObject,
  job: BulkJobRef,
  part: PartitionRange,
  fields: SalesforceField[],
  resume: ExtractCheckpoint | undefined,
): AsyncGenerator<ExtractedPage> {
  let read = resume?.pages ?? 0;
  const at = resume?.position?.api === 'bulk' && resume.position.job?.pages ? resume.position.job.pages : part.from;
  const pages = readBulkPages({
    client: salesforce,
    job,
    from: at,
    count: part.pages - read,
    fields,
    cursorField: readWindow(p)?.field,
    // Partitions already download in parallel (several per worker): each keeps one page ahead of
    // the one it writes, so a worker's memory grows with its partitions, not partitions × pages.
    pagesInFlight: Math.min(ctx.pagesInFlight ?? PARTITION_PAGES_IN_FLIGHT, PARTITION_PAGES_IN_FLIGHT),
  });
  try {
    for await (const { csv, last, next } of pages) {
      read++;
      yield {
        api: 'bulk',
        length: csv.length,
        text: (r, f) => csv.text(r, f),
        columns: (at) => csv.columns(at),
        last,
        position: read < part.pages && next ? { api: 'bulk', job: next } : undefined,
        pages: read,
      };
    }
  } catch (error) {
    // Only a new plan (a new job) can read these rows again: retrying this partition cannot.
    if (error instanceof BulkJobGoneError)
      throw new SyncError(`${error.message}: partition ${part.index + 1} of ${p.object} cannot be read; sync the object again (a new run plans a new job)`, {
        code: ERROR_CODES.BULK_JOB_GONE,
        retryable: false,
      });
    throw error;
  }
}

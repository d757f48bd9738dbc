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
  createBulkJob,
  listResultPageSets,
  readBulkPages,
  type BulkJobRef,
} from '../salesforce/bulk-reader';
import { runDescribe, syncableFields } from '../salesforce/describe';
import { MAX_BULK_QUERY_LENGTH } from '../salesforce/reader';
import type { SalesforceClient } from '../salesforce/client';
import type { SalesforceField } from '../salesforce/describe-types';
import { buildSoql, countSoql, edgeSoql, type CursorWindow, type FieldRange } from '../salesforce/soql';
import { countRows, firstValue } from '../salesforce/rest-reader';
import type { SObjectDescribe } from '../salesforce/describe';
import type { WriteTarget } from '../destinations/destination';
import { columnName } from '../mapping/schema-mapping';
import { usableCheckpoint } from './extract/resume';
import { windowPages } from './extract/window-pages';
import { budgetedClient } from './extract/budgeted-client';
import { alignColumns } from './extract/column-aligner';
import { readDeletedIds } from './extract/deleted-ids';
import { deletedIdsWindow, readWindow } from './extract/read-window';
import { runExtraction, type ExtractedPage } from './extract/extraction';
import { partitionWorthIt, planPartitions, planRanges, type ExtractPlan, type PartitionRange, type PartitionSettings, type TimeUnit } from './partitions';
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
  if (p.readApi?.api === 'rest') return none(`read through REST (${p.readApi.reason ?? 'chosen by prepare'}), by one activity`);
  if (p.reconcile && p.writeMode === 'merge' && !opts.reconcileStep) return none('this reconciling sync compares every Id inside its one extraction');
  if (Number(ctx.salesforce.apiVersion) < PARALLEL_RESULTS_VERSION) return none(`API ${ctx.salesforce.apiVersion} has no parallel result pages (62.0 and later)`);
  const log = ctx.log ?? noLog;
  const { salesforce, budget } = await budgetedClient(ctx.salesforce.withLog(log), { api: ctx.api, spent: p.usage, signal: opts.signal, progress: opts.progress, log });
  const table = await ctx.destination.writeTarget(p);
  const describe = await runDescribe(salesforce, p.object, p.runId);
  const columns = alignColumns(table.columns, syncableFields(describe, { hidden: p.hiddenFields }), ctx.naming ?? 'snake_case');
  const window = readWindow(p);
  const ranges = await createdRanges(salesforce, describe, columns.fields, table, window, settings, ctx.naming ?? 'snake_case');
  if (ranges) {
    const staging = await stagePlan(salesforce, p, describe, table, budget.usage);
    log.info(
      `Planned ${p.object}: ${ranges.rows} rows in ${ranges.partitions.length} ranges of CreatedDate (whole ${ranges.unit}s of the table's partitions), each a Bulk job of its own, ${settings.inFlight} at once`,
      { rows: ranges.rows, partitions: ranges.partitions.length, deleted: staging.deleted },
    );
    return { partitions: ranges.partitions, inFlight: settings.inFlight, staging: staging.path, rows: ranges.rows, deleted: staging.deleted };
  }
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
  const staging = await stagePlan(salesforce, p, describe, table, budget.usage);
  log.info(`Planned ${p.object}: ${pages} result pages of Bulk job ${job.jobId} in ${partitions.length} partitions, ${settings.inFlight} at once`, {
    job: job.jobId,
    pages,
    partitions: partitions.length,
    deleted: staging.deleted,
  });
  return { job, partitions, inFlight: settings.inFlight, staging: staging.path, pages, deleted: staging.deleted };
}

/** The plan's own staging manifest: the deleted Ids (read here, once) and what the plan spent. */
async function stagePlan(
  salesforce: SalesforceClient,
  p: PreparedObject,
  describe: SObjectDescribe,
  table: WriteTarget,
  usage: ExtractPlan['usage'],
): Promise<{ path: string; deleted: number }> {
  const deletedWindow = deletedIdsWindow(p);
  const deletedKeys = deletedWindow ? await readDeletedIds(salesforce, describe, deletedWindow) : [];
  const path = runPaths(table.location, p.runId).staging('plan');
  await writeStaging(table.store, path, { runId: p.runId, files: [], keys: new KeyList(), deletedKeys, ...(usage ? { usage } : {}) });
  return { path, deleted: deletedKeys.length };
}

const TIME_UNITS: readonly string[] = ['year', 'month', 'day', 'hour'] satisfies TimeUnit[];

/**
 * CreatedDate ranges for an object whose table is partitioned by a time transform of CreatedDate
 * (which no update changes, so a row is in one range only) and that has at least twice
 * `sliceRows` rows to read: each range a whole number of the table's partitions, read by a Bulk
 * job of its own, so a table partition's rows come from one extraction partition. A Bulk job's
 * result pages follow Id order, which need not follow CreatedDate (records loaded with their
 * original dates): split by pages, every extraction partition would write a small file into most
 * table partitions. Costs three REST queries (a count and the first and last CreatedDate).
 */
async function createdRanges(
  salesforce: SalesforceClient,
  describe: SObjectDescribe,
  fields: SalesforceField[],
  table: WriteTarget,
  window: CursorWindow | undefined,
  settings: PartitionSettings,
  naming: NonNullable<SyncContext['naming']>,
): Promise<{ partitions: PartitionRange[]; rows: number; unit: TimeUnit } | undefined> {
  if (!settings.sliceRows || !table.spec) return undefined;
  const created = describe.fields.find((f) => f.name === 'CreatedDate' && f.type === 'datetime');
  const column = created && table.columns.find((c) => c.name === columnName(created.name, naming));
  const unit = column && table.spec.fields.find((f) => f['source-id'] === column.id && TIME_UNITS.includes(f.transform))?.transform;
  if (!created || !unit) return undefined;
  const rows = await countRows(salesforce, countSoql(describe, { window }));
  if (rows < 2 * settings.sliceRows) return undefined;
  const first = await firstValue(salesforce, edgeSoql(describe, created.name, 'first', { window }), created.name);
  const last = await firstValue(salesforce, edgeSoql(describe, created.name, 'last', { window }), created.name);
  if (!first || !last) return undefined;
  const partitions = planRanges({ field: created.name, first, last, unit: unit as TimeUnit, rows, rowsPerPartition: settings.sliceRows, maxPartitions: settings.maxPartitions });
  if (partitions.length === 0) return undefined;
  // Every range's job now: Salesforce runs them while the first ranges are read, so a partition
  // rarely waits for its job. A range whose job cannot be made (Bulk refused) makes its own.
  try {
    for (const part of partitions) part.job = await createBulkJob(salesforce, rangeSoql(describe, fields, window, part.range!));
  } catch (error) {
    if (!(error instanceof BulkUnavailableError)) throw error;
    for (const part of partitions) delete part.job;
  }
  return { partitions, rows, unit: unit as TimeUnit };
}

/** The Bulk query of one CreatedDate range: what readObject sends for it. */
function rangeSoql(describe: SObjectDescribe, fields: SalesforceField[], window: CursorWindow | undefined, range: FieldRange): string {
  return buildSoql(
    describe,
    fields.map((f) => f.name),
    { window, range, ordered: false },
  );
}

/** Result pages one partition downloads at once (see extractPartition). */
const PARTITION_PAGES_IN_FLIGHT = 2;

/**
 * Reads one partition's result pages into data files under the run's paths, and stages them in a
 * manifest of its own (`<run>.part-<n>.json`), through the loop the single extraction runs
 * (src/sync/extract/extraction.ts): a new attempt given the last checkpoint reads on from the page
 * after it. The job is not deleted here (other partitions read it): cleanup does.
 */
export async function extractPartition(ctx: SyncContext, p: PreparedObject, job: BulkJobRef | undefined, part: PartitionRange, opts: ExtractOptions = {}): Promise<ExtractResult> {
  if (part.range) return extractRange(ctx, p, part, opts);
  if (!job) throw new SyncError(`partition ${part.index + 1} of ${p.object} reads result pages but was given no Bulk job`, { code: ERROR_CODES.INTERNAL, retryable: false });
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
 * Reads one CreatedDate range of the object (its own Bulk job, or REST where Bulk is refused) as
 * the single extraction reads a window: a new attempt goes on in the job's results from the last
 * checkpoint while the job lives, else reads the range again (what it staged is left for cleanup).
 */
function extractRange(ctx: SyncContext, p: PreparedObject, part: PartitionRange, opts: ExtractOptions): Promise<ExtractResult> {
  const log = ctx.log ?? noLog;
  return runExtraction(ctx, p, opts, {
    name: `${p.object} partition ${part.index}`,
    spent: NO_USAGE,
    stagingPath: (paths) => (suffix) => paths.staging(`part-${part.index}${suffix ? `.${suffix}` : ''}`),
    resume: (salesforce) => usableCheckpoint(salesforce, opts.resume, ctx.api, (note) => (log.warn(note.retrying!), opts.progress?.(note))),
    // The plan's job for the range while it lives (running or done); a new one otherwise.
    pages: (salesforce, { describe, columns }, resume, onFallback) =>
      windowPages(
        ctx,
        p,
        salesforce,
        { describe, fields: columns.fields, resume },
        {
          job: part.job,
          orRunning: true,
          range: part.range,
          progress: opts.progress,
          pagesInFlight: Math.min(ctx.pagesInFlight ?? PARTITION_PAGES_IN_FLIGHT, PARTITION_PAGES_IN_FLIGHT),
          onFallback,
        },
      ),
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

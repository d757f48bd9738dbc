import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/common';
import { maintainTableId } from '../src/maintenance/workflow-ids';
import type { Logger } from '../src/log';
import { toSyncError } from '../src/sync/failures';
import { searchAttributeState } from './search-attribute-state';
import { activityRetryingSignal, activityWaitingSignal, extractProgressSignal } from './signals';
import { cleanupObject, commitObject, extractObject, prepareObject } from '../src/sync/object-sync';
import { reconcileObject } from '../src/sync/reconcile';
import { extractPartition, planObject } from '../src/sync/partitioned-extract';
import { checkAtomicPublish, publishObjects } from '../src/sync/publish';
import { checkObjectNames, type UnknownObject } from '../src/sync/object-names';
import { listObjects } from '../src/salesforce/describe';
import type { ExtractPlan, PartitionRange } from '../src/sync/partitions';
import type { BulkJobRef } from '../src/salesforce/bulk-reader';
import type { UsageCounts } from '../src/salesforce/budget';
import type {
  CommitSummary,
  ExtractOptions,
  ExtractProgress,
  ExtractResult,
  PrepareObjectInput,
  PreparedObject,
  ReconcileResult,
  StagedObject,
  SyncContext,
} from '../src/sync/types';
import type { WriteModeName } from '../src/sync/objects';
import {
  compact,
  expire,
  recordReport,
  removeOrphanFiles,
  type CompactionReport,
  type ExpiryReport,
  type MaintenanceContext,
  type MaintenanceReport,
  type MaintenanceOverrides,
  type MaintenanceSettings,
  type OrphanReport,
  settingsWith,
} from '../src/maintenance';
import { columnName } from '../src/mapping/schema-mapping';
import { productRunId } from '../src/table-contract';
import { SalesforceObject } from './search-attributes';
import type { SyncDefaults } from '../src/sync/sync-defaults';

/**
 * Every failure leaves as an ApplicationFailure typed by its code (src/errors.ts): those that
 * retrying cannot fix as non-retryable, with a message a person can act on; the rest are retried by
 * Temporal's policy, and the workflow is told why, so its `progress` query shows the reason
 * meanwhile. A cancellation leaves as it came.
 */
async function classify(error: unknown): Promise<never> {
  const activity = Context.current();
  if (activity.cancellationSignal.aborted) throw error;
  const failure = toSyncError(error);
  if (!failure.retryable) throw withStack(ApplicationFailure.nonRetryable(failure.failureMessage, failure.code), error);
  await reportRetry(activity, failure.failureMessage);
  throw withStack(ApplicationFailure.retryable(failure.failureMessage, failure.code), error);
}

/**
 * The failure keeps the frames of the error it reports (where it happened, for whoever debugs it),
 * under its own message: the original stack's header may predate scrubbing, so it is not kept.
 */
function withStack(failure: ApplicationFailure, error: unknown): ApplicationFailure {
  const frames = ((error as Error)?.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  if (frames.length > 0) failure.stack = [`${failure.name}: ${failure.message}`, ...frames].join('\n');
  return failure;
}

/** The activity's Temporal logger in the shape src/ logs through (it adds the workflow and activity ids). */
function activityLog(): Logger {
  return Context.current().log;
}

/** Best effort: a worker without a client (tests) or an unreachable server must not hide the failure. */
async function reportRetry(activity: Context, reason: string): Promise<void> {
  const { workflowExecution, activityType, attempt } = activity.info;
  if (!workflowExecution) return;
  try {
    const handle = activity.client.workflow.getHandle(workflowExecution.workflowId, workflowExecution.runId);
    await Promise.race([handle.signal(activityRetryingSignal, { activity: activityType, attempt, reason }), new Promise((r) => setTimeout(r, 5_000).unref())]);
  } catch {
    // nothing to add: Temporal records the failure itself
  }
}

/** Best effort, as reportRetry: the workflow's `progress` shows why the activity waits (undefined: it goes on). */
async function reportWaiting(activity: Context, reason: string | undefined): Promise<void> {
  const { workflowExecution, activityType } = activity.info;
  if (!workflowExecution) return;
  try {
    const handle = activity.client.workflow.getHandle(workflowExecution.workflowId, workflowExecution.runId);
    await Promise.race([handle.signal(activityWaitingSignal, { activity: activityType, reason }), new Promise((r) => setTimeout(r, 5_000).unref())]);
  } catch {
    // the heartbeat still says it
  }
}

/**
 * Tells the workflow when a wait for the API budget starts and when it ends, one notice after the
 * other (so "goes on" never overtakes the wait it ends); `now` is the wait going on.
 */
function waitNotices(activity: Context): { tell(waiting: string | undefined): void; readonly now: string | undefined } {
  let now: string | undefined;
  let notices = Promise.resolve();
  return {
    tell(waiting) {
      if (waiting === now) return;
      now = waiting;
      notices = notices.then(() => reportWaiting(activity, waiting));
    },
    get now() {
      return now;
    },
  };
}

/** Best effort, as reportRetry: rows and files at a checkpoint, for the workflow's current details. */
async function reportProgress(activity: Context, progress: { rows: number; files: number }): Promise<void> {
  const { workflowExecution } = activity.info;
  if (!workflowExecution) return;
  try {
    const handle = activity.client.workflow.getHandle(workflowExecution.workflowId, workflowExecution.runId);
    await Promise.race([handle.signal(extractProgressSignal, progress), new Promise((r) => setTimeout(r, 5_000).unref())]);
  } catch {
    // the heartbeat still says it
  }
}

/**
 * Least time between two progress signals of one extraction: each adds a few events to the
 * object's history (kept forever), while its heartbeat carries the live figures anyway.
 */
export const PROGRESS_SIGNAL_MS = 5 * 60_000;

/**
 * Runs an activity's work while heartbeating every second (the SDK throttles what it sends), so a
 * worker that dies is noticed within the heartbeat timeout even while one call (a Bulk job being
 * prepared, a commit) takes long. `details` gives what the Web UI shows for the activity.
 */
async function heartbeating<T>(work: (signal: AbortSignal) => Promise<T>, details: () => unknown = () => undefined): Promise<T> {
  const activity = Context.current();
  // A local activity (the cleanup) has no heartbeat: the server knows nothing of it, and the worker
  // would log every beat as failed. Its start-to-close timeout bounds it.
  const beat = activity.info.isLocal ? () => undefined : () => activity.heartbeat(details());
  const timer = setInterval(beat, 1_000);
  try {
    beat();
    return await work(activity.cancellationSignal);
  } catch (error) {
    return classify(error);
  } finally {
    clearInterval(timer);
  }
}

/**
 * Runs an extraction (the whole object, or one partition) as a heartbeating activity: a retry
 * reads on from the last checkpoint the failed attempt reported; the heartbeat carries rows,
 * files and the resume point (readable in the Web UI); waits and checkpoints are told to the workflow.
 */
async function extracting(
  prepared: PreparedObject,
  checkpointMs: number | undefined,
  run: (opts: ExtractOptions) => Promise<ExtractResult>,
  extra: { partition?: number } = {},
): Promise<ExtractResult> {
  const activity = Context.current();
  const before = activity.info.heartbeatDetails as ExtractHeartbeat | undefined;
  // Wait notices go one after the other: "goes on" never overtakes the wait it ends.
  let notices = Promise.resolve();
  let now: ExtractHeartbeat = {
    object: prepared.object,
    ...extra,
    rows: before?.checkpoint?.rows ?? 0,
    files: before?.checkpoint?.files ?? 0,
    checkpoint: before?.checkpoint,
    resumedFrom: before?.checkpoint?.rows,
    usage: before?.usage ?? (extra.partition === undefined ? prepared.usage : undefined),
  };
  // The first checkpoint of this attempt is told at once, later ones at most every PROGRESS_SIGNAL_MS.
  let progressSentAt: number | undefined;
  return heartbeating(
    (signal) =>
      run({
        resume: before?.checkpoint,
        // What the failed attempts spent: the snapshot records the sum.
        usage: before?.usage,
        checkpointMs,
        signal,
        // Readable in the Web UI: rows and files so far, and where the read stands.
        progress: (p) => {
          // A wait for the API budget may last hours: the workflow's progress says why.
          if ('waiting' in p && p.waiting !== now.waiting) notices = notices.then(() => reportWaiting(activity, p.waiting));
          // Partitions do not signal their checkpoints: many at once would fill the object's history.
          if (
            extra.partition === undefined &&
            p.checkpoint &&
            p.checkpoint !== now.checkpoint &&
            (progressSentAt === undefined || Date.now() - progressSentAt >= PROGRESS_SIGNAL_MS)
          ) {
            progressSentAt = Date.now();
            const { rows, files } = p.checkpoint;
            notices = notices.then(() => reportProgress(activity, { rows, files }));
          }
          now = { ...now, ...p };
        },
      }),
    () => now,
  );
}

/**
 * An activity's input with the write mode under its current name. Activities scheduled by an
 * earlier version of the workflows (retried, or scheduled again on replay, by this one after an
 * upgrade) carry it as `mode`, in their input and in the prepared object their prepare returned.
 */
export function withWriteMode<T extends { writeMode?: WriteModeName }>(input: T): T {
  const { mode, ...rest } = input as T & { mode?: WriteModeName };
  return (mode === undefined || rest.writeMode !== undefined ? rest : { ...rest, writeMode: mode }) as T;
}

/** The activities of a sync, bound to one worker's context (clients built from its environment). */
export function createActivities(worker: SyncContext & { checkpointMs?: number; defaults?: SyncDefaults }) {
  /** Why a sync started at `syncStartedAt` waits: a maintenance of its table that started before it still runs. */
  async function maintenanceRunning(namespace: string[], object: string, syncStartedAt: number): Promise<string | undefined> {
    const table = columnName(object, worker.naming ?? 'snake_case');
    const id = maintainTableId(namespace.join('.'), table);
    try {
      const maintenance = await Context.current().client.workflow.getHandle(id).describe();
      return maintenance.status.name === 'RUNNING' && maintenance.startTime.getTime() < syncStartedAt
        ? `waiting for the maintenance of ${namespace.join('.')}.${table} to end (${id})`
        : undefined;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  }
  // Each call logs through its own activity's logger (which names the workflow, run and attempt).
  const context = () => ({ ...worker, log: activityLog() });
  return {
    async prepareObject(given: PrepareObjectInput): Promise<PreparedObject> {
      const input = withWriteMode(given);
      return heartbeating(
        () => prepareObject(context(), input),
        () => ({ object: input.object, stage: 'preparing' }),
      );
    },

    /**
     * `from.reconcileStep`: the workflow reconciles in a step of its own (reconcileObject); without
     * it (a sync that started before that step existed), a reconciling sync compares Ids here.
     */
    async extractObject(given: PreparedObject, from?: { job?: BulkJobRef; usage?: UsageCounts; reconcileStep?: boolean }): Promise<ExtractResult> {
      const prepared = withWriteMode(given);
      return extracting(prepared, worker.checkpointMs, (opts) =>
        // The plan's job (and what the plan spent), unless a checkpoint of an earlier attempt says where to go on.
        extractObject(context(), prepared, { ...opts, job: opts.resume ? undefined : from?.job, usage: opts.usage ?? from?.usage, reconcile: !from?.reconcileStep }),
      );
    },

    async planObject(given: PreparedObject, how?: { reconcileStep?: boolean }): Promise<ExtractPlan> {
      const prepared = withWriteMode(given);
      // A retry reuses the job an earlier attempt created (heartbeated as soon as it exists).
      const activity = Context.current();
      const before = activity.info.heartbeatDetails as { job?: BulkJobRef } | undefined;
      let job = before?.job;
      // As an extraction's: why it waits (the API budget) reaches the heartbeat and the workflow's progress.
      const waits = waitNotices(activity);
      return heartbeating(
        (signal) =>
          planObject(context(), prepared, {
            job,
            signal,
            onJob: (j) => (job = j),
            reconcileStep: how?.reconcileStep,
            progress: (p) => {
              if ('waiting' in p) waits.tell(p.waiting);
            },
          }),
        () => ({ object: prepared.object, stage: 'planning', ...(job ? { job } : {}), ...(waits.now ? { waiting: waits.now } : {}) }),
      );
    },

    /**
     * The reconcile step, between the extraction (whole or partitioned: `staging` is what it
     * staged) and the commit. Its heartbeat says how far it got and what it spent; a retry starts
     * over, counting what the failed attempts spent.
     */
    async reconcileObject(prepared: PreparedObject, staging: string | string[]): Promise<ReconcileResult> {
      const activity = Context.current();
      const before = activity.info.heartbeatDetails as ReconcileHeartbeat | undefined;
      const waits = waitNotices(activity);
      let now: ReconcileHeartbeat = { object: prepared.object, stage: 'reconciling', usage: before?.usage };
      return heartbeating(
        (signal) =>
          reconcileObject(context(), prepared, staging, {
            usage: before?.usage,
            signal,
            progress: (p) => {
              if ('waiting' in p) waits.tell(p.waiting);
              now = { ...now, ...p };
            },
          }),
        () => now,
      );
    },

    async extractPartition(given: PreparedObject, job: BulkJobRef | undefined, part: PartitionRange): Promise<ExtractResult> {
      const prepared = withWriteMode(given);
      return extracting(prepared, worker.checkpointMs, (opts) => extractPartition(context(), prepared, job, part, opts), { partition: part.index });
    },

    async commitObject(given: PreparedObject, staging: string | string[]): Promise<CommitSummary> {
      const prepared = withWriteMode(given);
      return heartbeating(
        () => commitObject(context(), prepared, staging),
        () => ({ object: prepared.object, stage: 'committing' }),
      );
    },

    /** The sync's object names against the org's object list (one describe-global call), before any object starts. */
    async checkObjectNames(objects: string[]): Promise<UnknownObject[]> {
      const ctx = context();
      return heartbeating(async () => checkObjectNames(objects, await listObjects(ctx.salesforce.withLog(ctx.log))).unknown);
    },

    /** An atomic sync's check, before anything is read: the destination can commit every object in one transaction. */
    async checkAtomicPublish(): Promise<void> {
      return heartbeating(() => checkAtomicPublish(context()));
    },

    /** An atomic sync's publish: every extracted object committed in one transaction (idempotent). */
    async publishObjects(staged: StagedObject[], publishId: string): Promise<CommitSummary[]> {
      return heartbeating(
        () => publishObjects(context(), staged, publishId),
        () => ({ objects: staged.map((s) => s.prepared.object), stage: 'publishing' }),
      );
    },

    async cleanupObject(given: PreparedObject, job?: BulkJobRef): Promise<number> {
      const prepared = withWriteMode(given);
      return heartbeating(
        () => cleanupObject(context(), prepared, job),
        () => ({ object: prepared.object, stage: 'cleaning up' }),
      );
    },

    searchAttributeProblems,

    /** The worker's defaults for what a sync's input leaves unsaid (a local activity of salesforceSync). */
    async syncDefaults(): Promise<Partial<SyncDefaults>> {
      return worker.defaults ?? {};
    },

    /**
     * Fails (retryably: the workflow's retry policy is the wait) while a maintenance of the
     * object's table runs that started before this sync did. A maintenance started later waits for
     * this sync instead (see waitForSyncs): whichever started first goes first, so neither waits
     * for the other forever.
     */
    async waitForMaintenance(namespace: string[], object: string, syncStartedAt: number): Promise<void> {
      const running = await maintenanceRunning(namespace, object, syncStartedAt);
      if (running) throw ApplicationFailure.retryable(running, 'MaintenanceRunning');
    },

    /** Why the sync must wait for its table's maintenance, or undefined: one look (a local activity), before waitForMaintenance is scheduled to wait. */
    maintenanceRunning,
  };
}

/** The activities of table maintenance (maintainTable, maintainNamespace); without `maintenance` (a DuckDB worker) each fails for good. */
export function createMaintenanceActivities(worker: { maintenance?: { context: MaintenanceContext; settings: MaintenanceSettings } }) {
  return {
    async listTables(namespace: string): Promise<string[]> {
      return heartbeating(async () => (await maintenanceOf(worker).context.catalog.listTables(namespace.split('.'))).sort());
    },

    waitForSyncs,

    async compactTable(namespace: string, table: string, overrides: MaintenanceOverrides = {}): Promise<CompactionReport> {
      const m = maintenanceOf(worker);
      const { workflowExecution } = Context.current().info;
      // One run id per workflow run: the files every attempt writes are named after it.
      const maintenanceRunId = productRunId(workflowExecution?.workflowId ?? 'maintain', workflowExecution?.runId ?? '');
      return heartbeating(
        (signal) =>
          compact({ ...m.context, log: (msg) => activityLog().info(msg) }, namespace.split('.'), table, {
            runId: maintenanceRunId,
            settings: settingsWith(m.settings, overrides),
            signal,
          }),
        () => ({ table: `${namespace}.${table}`, stage: 'compacting' }),
      );
    },

    async expireTableSnapshots(namespace: string, table: string, overrides: MaintenanceOverrides = {}): Promise<ExpiryReport> {
      const m = maintenanceOf(worker);
      return heartbeating(() => expire(m.context, namespace.split('.'), table, settingsWith(m.settings, overrides)));
    },

    async removeTableOrphans(namespace: string, table: string, overrides: MaintenanceOverrides = {}): Promise<OrphanReport> {
      const m = maintenanceOf(worker);
      return heartbeating(() => removeOrphanFiles(m.context, namespace.split('.'), table, settingsWith(m.settings, overrides)));
    },

    async recordMaintenance(namespace: string, table: string, report: MaintenanceReport): Promise<void> {
      const m = maintenanceOf(worker);
      return heartbeating(() => recordReport(m.context, namespace.split('.'), table, report));
    },
  };
}

function maintenanceOf(worker: { maintenance?: { context: MaintenanceContext; settings: MaintenanceSettings } }) {
  if (!worker.maintenance) throw ApplicationFailure.nonRetryable('This worker maintains no Iceberg tables (it writes to DuckDB: DUMP_TO_DUCKDB=true)', 'NotConfigured');
  return worker.maintenance;
}

/**
 * Fails (retryably: the workflow's retry policy is the wait) while a sync of the table runs that
 * started before this maintenance did: syncs
 * are found by their search attributes (object and namespace). Where the Temporal namespace lacks
 * them, syncs cannot be told apart and maintenance goes on; its commits are safe beside a sync's
 * (a conflicting commit is rebuilt or planned again), only wasted work is at stake.
 */
export async function waitForSyncs(namespace: string, table: string, maintenanceStartedAt: number): Promise<void> {
  const activity = Context.current();
  // Syncs started after this maintenance wait for it (waitForMaintenance): only earlier ones are waited for.
  const query = `WorkflowType = 'syncObject' AND ExecutionStatus = 'Running' AND SalesforceNamespace = '${namespace}' AND StartTime < '${new Date(maintenanceStartedAt).toISOString()}'`;
  const running: string[] = [];
  try {
    for await (const w of activity.client.workflow.list({ query })) {
      const object = w.typedSearchAttributes.get(SalesforceObject);
      if (object && (columnName(object, 'snake_case') === table || columnName(object, 'salesforce') === table)) running.push(w.workflowId);
    }
  } catch (error) {
    activity.log.warn(`Could not look for running syncs of ${namespace}.${table} (${(error as Error).message}); maintaining it anyway`);
    return;
  }
  if (running.length > 0) {
    throw ApplicationFailure.retryable(`waiting for the running sync of ${namespace}.${table} to end (${running.join(', ')})`, 'SyncRunning');
  }
}

/**
 * The sync's search attributes this worker's namespace lacks or has with another type (empty when
 * all are there): the workflows set them only then, since Temporal fails a workflow task that sets
 * an unknown one, again and again. Run as a local activity by the parent.
 */
export async function searchAttributeProblems(): Promise<string[]> {
  const activity = Context.current();
  const { missing, wrongType } = await searchAttributeState(activity.client.connection.operatorService, activity.info.namespace);
  return [...missing.map((k) => `${k.name} is missing`), ...wrongType];
}

/** What an extraction reports in its heartbeats (and reads back from them on retry). */
export interface ExtractHeartbeat extends ExtractProgress {
  object: string;
  /** The partition read (a partitioned extraction). */
  partition?: number;
  resumedFrom?: number;
}

/** What the reconcile step reports in its heartbeats (and reads its earlier attempts' usage back from). */
export interface ReconcileHeartbeat extends Pick<ExtractProgress, 'reconciling' | 'waiting' | 'retrying' | 'usage'> {
  object: string;
  stage: 'reconciling';
}

export type SyncActivities = ReturnType<typeof createActivities>;
export type MaintenanceActivities = ReturnType<typeof createMaintenanceActivities>;

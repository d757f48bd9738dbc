import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  continueAsNew,
  defineQuery,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common';
import type { SyncActivities } from '../activities';
import { activityRetryingSignal, activityWaitingSignal, objectRetryingSignal } from '../activities/signals';
import type { CommitSummary } from '../src/sync/object-sync';
import {
  INPUT_DEFAULTS,
  INVALID_INPUT,
  invalidInputMessage,
  syncInputProblems,
  syncObjectInputProblems,
  type ObjectOutcome,
  type SalesforceSyncInput,
  type SyncObjectInput,
} from './input';

export type { ObjectOutcome, SalesforceSyncInput, SyncObjectInput } from './input';

export const progressQuery = defineQuery<Record<string, string>>('progress');

/**
 * Fails the workflow at once, for good, when its input is not valid: before any child or activity
 * starts, with every problem listed. (Left to fail later, a bad duration fails the workflow task
 * itself, which Temporal retries forever.) Adds no command, so histories replay as before.
 */
function checkInput(problems: string[], what: string): void {
  if (problems.length > 0) throw ApplicationFailure.nonRetryable(invalidInputMessage(problems, what), INVALID_INPUT, problems);
}

function activitiesFor(
  heartbeatTimeout: NonNullable<SyncObjectInput['heartbeatTimeout']> = INPUT_DEFAULTS.heartbeatTimeout,
  retryTimeout: NonNullable<SyncObjectInput['retryTimeout']> = INPUT_DEFAULTS.retryTimeout,
) {
  // A cancelled sync waits until each activity has stopped before its cleanup runs: otherwise an
  // extraction could still write a checkpoint, or a commit land, after cleanup looked.
  const cancellationType = ActivityCancellationType.WAIT_CANCELLATION_COMPLETED;
  // Retries at most 30 s apart: a dead worker (a heartbeat timeout) is not a failing call, and
  // its successor should not wait minutes. Failures that cannot heal are non-retryable anyway.
  const retry = { backoffCoefficient: 2, maximumInterval: '30 seconds' };
  const short = proxyActivities<SyncActivities>({
    scheduleToCloseTimeout: retryTimeout,
    heartbeatTimeout,
    cancellationType,
    retry: { ...retry, initialInterval: '2 seconds' },
  });
  // An extraction may run for hours, so its bound is a number of attempts (each one at least the
  // Salesforce client's own ~15 s of retries plus the wait) rather than a total time.
  const { extractObject } = proxyActivities<SyncActivities>({
    startToCloseTimeout: '24 hours',
    heartbeatTimeout,
    cancellationType,
    retry: { ...retry, initialInterval: '5 seconds', maximumAttempts: Math.max(3, Math.ceil(msToNumber(retryTimeout) / 45_000)) },
  });
  // A proxy has no own keys to spread: name each activity.
  return { prepareObject: short.prepareObject, commitObject: short.commitObject, cleanupObject: short.cleanupObject, extractObject };
}

/**
 * One object: prepare → extract → commit; the run's unreferenced files are cleaned up either way.
 * Its history stays small whatever the object's size: the extraction is one activity whose
 * progress and resume point travel in heartbeats, not in events.
 */
export async function syncObject(input: SyncObjectInput): Promise<CommitSummary> {
  checkInput(syncObjectInputProblems(input), 'syncObject input');
  const info = workflowInfo();
  const { prepareObject, extractObject, commitObject, cleanupObject } = activitiesFor(input.heartbeatTimeout, input.retryTimeout);
  // Stable across worker crashes (the same run is replayed): commits stay idempotent.
  const runId = `${info.workflowId}@${info.runId}`;
  let stage = 'preparing';
  // While Temporal retries a step, why (its activity tells; cleared when the stage moves on).
  let retrying: string | undefined;
  // While an activity waits (for the Salesforce API budget), why.
  let waiting: string | undefined;
  setHandler(progressQuery, () => ({ object: input.object, stage, ...(retrying ? { retrying } : {}), ...(waiting ? { waiting } : {}) }));
  setHandler(activityRetryingSignal, (n) => {
    retrying = `${n.activity} attempt ${n.attempt} failed: ${n.reason}; retrying`;
    waiting = undefined;
    // The parent shows it too (its progress lists every object).
    if (info.parent) void getExternalWorkflowHandle(info.parent.workflowId, info.parent.runId).signal(objectRetryingSignal, { object: input.object, reason: retrying }).catch(() => undefined);
  });
  setHandler(activityWaitingSignal, (n) => {
    waiting = n.reason;
    if (info.parent) void getExternalWorkflowHandle(info.parent.workflowId, info.parent.runId).signal(objectRetryingSignal, { object: input.object, reason: waiting }).catch(() => undefined);
  });
  // The re-read options only when set: a sync without them schedules exactly what it always did.
  const rereadOptions = definedOnly({ backfillNewFields: input.backfillNewFields, refreshFormulas: input.refreshFormulas });
  const prepared = await prepareObject({ object: input.object, namespace: input.namespace, runId, mode: input.mode, full: input.full, reconcile: input.reconcile, ...rereadOptions });
  try {
    stage = 'extracting';
    retrying = undefined;
    const extracted = await extractObject(prepared);
    stage = 'committing';
    retrying = undefined;
    waiting = undefined;
    const committed = await commitObject(prepared, extracted.staging);
    stage = 'done';
    return committed;
  } finally {
    // Runs on cancellation too.
    await CancellationScope.nonCancellable(() => cleanupObject(prepared));
  }
}

/**
 * Fans out one child workflow per object (bounded), and reports per-object results. Once its own
 * history grows long it stops starting children, waits for the running ones and continues as new
 * with the rest.
 */
export async function salesforceSync(input: SalesforceSyncInput = {}): Promise<ObjectOutcome[]> {
  checkInput(syncInputProblems(input), 'sync input');
  const objects = [...new Set(input.objects ?? INPUT_DEFAULTS.objects)];
  const namespace = (input.namespace ?? INPUT_DEFAULTS.namespace).split('.');
  const done = input.done ?? [];
  const status: Record<string, string> = Object.fromEntries([
    ...done.map((o) => [o.object, describeOutcome(o)]),
    ...objects.map((o) => [o, 'waiting']),
  ]);
  setHandler(progressQuery, () => status);
  setHandler(objectRetryingSignal, ({ object, reason }) => {
    if (status[object]?.startsWith('running')) status[object] = reason ? `running (${reason})` : 'running';
  });
  const parentId = workflowInfo().workflowId;
  const queue = [...objects];
  const outcomes: ObjectOutcome[] = [];
  const historyFull = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= (input.maxHistoryEvents ?? INPUT_DEFAULTS.maxHistoryEvents);
  // A cancelled sync starts no further object and ends cancelled, not failed.
  let cancelled: unknown;
  const worker = async () => {
    while (queue.length > 0 && !historyFull() && cancelled === undefined) {
      const object = queue.shift()!;
      status[object] = 'running';
      let outcome: ObjectOutcome;
      try {
        const result = await executeChild(syncObject, {
          workflowId: `${parentId}/${object}`,
          args: [
            {
              object, namespace, mode: input.overrides?.[object]?.mode, full: input.mode === 'full', reconcile: input.overrides?.[object]?.reconcile ?? input.reconcile, heartbeatTimeout: input.heartbeatTimeout, retryTimeout: input.retryTimeout,
              ...definedOnly({ backfillNewFields: input.overrides?.[object]?.backfillNewFields ?? input.backfillNewFields, refreshFormulas: input.overrides?.[object]?.refreshFormulas }),
            },
          ],
        });
        outcome = { object, status: 'succeeded', result };
      } catch (error) {
        if (isCancellation(error)) {
          cancelled = error;
          status[object] = 'cancelled';
          continue;
        }
        outcome = { object, status: 'failed', ...failureOf(error) };
      }
      // Logging adds no command: replay-safe (and silent while replaying).
      if (outcome.status === 'failed') log.warn(`${object} failed: ${outcome.error}`, { object, code: outcome.code });
      else log.info(`${object} synced: ${outcome.result!.rows} rows`, { object, snapshotId: outcome.result!.snapshotId });
      outcomes.push(outcome);
      status[object] = describeOutcome(outcome);
    }
  };
  await Promise.all(Array.from({ length: Math.min(input.concurrency ?? INPUT_DEFAULTS.concurrency, objects.length) }, worker));
  if (cancelled !== undefined) {
    for (const object of queue) status[object] = 'cancelled';
    throw cancelled;
  }
  const finished = [...done, ...objects.flatMap((o) => outcomes.filter((x) => x.object === o))];
  if (queue.length > 0) await continueAsNew<typeof salesforceSync>({ ...input, objects: queue, done: finished });
  const failed = finished.filter((o) => o.status === 'failed');
  if (failed.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `${failed.length} of ${finished.length} objects failed: ${failed.map((f) => `${f.object}: ${f.error}`).join('; ')}`,
      'SyncFailed',
      finished,
    );
  }
  return finished;
}

/**
 * Why a child failed: the reason sits at the end of the cause chain (child → activity → application
 * failure), and its type is the error's code (the last attempt's, when the retry time ran out); a
 * step that only timed out (no heartbeat, no failure of its own) ends in a timeout.
 */
function failureOf(error: unknown): { error: string; code?: string } {
  let root = error as Error & { cause?: unknown };
  while (root.cause instanceof Error) root = root.cause as Error & { cause?: unknown };
  const code = root instanceof ApplicationFailure ? root.type || undefined : root instanceof TimeoutFailure ? 'TIMEOUT' : undefined;
  return { error: root.message, ...(code ? { code } : {}) };
}

/** The keys whose value is set (an input without them stays exactly as before). */
function definedOnly<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function describeOutcome(o: ObjectOutcome): string {
  return o.status === 'succeeded' ? `succeeded: ${o.result!.rows} rows${o.result!.reread ? ` (every row read: ${o.result!.reread})` : ''}` : `failed: ${o.error}`;
}

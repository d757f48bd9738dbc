import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  continueAsNew,
  defineQuery,
  executeChild,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { SyncActivities } from '../activities';
import type { CommitSummary } from '../src/sync/object-sync';
import { DEFAULT_OBJECTS, type WriteModeName } from '../src/sync/objects';

export interface SalesforceSyncInput {
  objects?: string[];
  mode?: 'incremental' | 'full';
  namespace?: string;
  /** Per-object overrides, e.g. { "Account": { "mode": "replace" } }. */
  overrides?: Record<string, { mode?: WriteModeName }>;
  /** Objects synced at the same time (default 4). */
  concurrency?: number;
  /** How long an activity may go without a heartbeat before it is retried elsewhere (default 60 s). */
  heartbeatTimeout?: string;
  /** The parent continues as new once its history holds this many events (default 2,000). */
  maxHistoryEvents?: number;
  /** Carried across continue-as-new: the objects already done. */
  done?: ObjectOutcome[];
}

export interface SyncObjectInput {
  object: string;
  namespace: string[];
  mode?: WriteModeName;
  full: boolean;
  heartbeatTimeout?: string;
}

export interface ObjectOutcome {
  object: string;
  status: 'succeeded' | 'failed';
  result?: CommitSummary & { rows: number };
  error?: string;
}

export const progressQuery = defineQuery<Record<string, string>>('progress');

const DEFAULT_HEARTBEAT_TIMEOUT = '60 seconds';

function activitiesFor(heartbeatTimeout = DEFAULT_HEARTBEAT_TIMEOUT) {
  // A cancelled sync waits until each activity has stopped before its cleanup runs: otherwise an
  // extraction could still write a checkpoint, or a commit land, after cleanup looked.
  const cancellationType = ActivityCancellationType.WAIT_CANCELLATION_COMPLETED;
  const short = proxyActivities<SyncActivities>({
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout,
    cancellationType,
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 10 },
  });
  const { extractObject } = proxyActivities<SyncActivities>({
    startToCloseTimeout: '24 hours',
    heartbeatTimeout,
    cancellationType,
    retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 20 },
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
  const info = workflowInfo();
  const { prepareObject, extractObject, commitObject, cleanupObject } = activitiesFor(input.heartbeatTimeout);
  // Stable across worker crashes (the same run is replayed): commits stay idempotent.
  const runId = `${info.workflowId}@${info.runId}`;
  let stage = 'preparing';
  setHandler(progressQuery, () => ({ object: input.object, stage }));
  const prepared = await prepareObject({ object: input.object, namespace: input.namespace, runId, mode: input.mode, full: input.full });
  try {
    stage = 'extracting';
    const extracted = await extractObject(prepared);
    stage = 'committing';
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
  const objects = [...new Set(input.objects?.length ? input.objects : DEFAULT_OBJECTS)];
  const namespace = (input.namespace ?? 'salesforce').split('.');
  const done = input.done ?? [];
  const status: Record<string, string> = Object.fromEntries([
    ...done.map((o) => [o.object, describeOutcome(o)]),
    ...objects.map((o) => [o, 'waiting']),
  ]);
  setHandler(progressQuery, () => status);
  const parentId = workflowInfo().workflowId;
  const queue = [...objects];
  const outcomes: ObjectOutcome[] = [];
  const historyFull = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= (input.maxHistoryEvents ?? 2_000);
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
          args: [{ object, namespace, mode: input.overrides?.[object]?.mode, full: input.mode === 'full', heartbeatTimeout: input.heartbeatTimeout }],
        });
        outcome = { object, status: 'succeeded', result };
      } catch (error) {
        if (isCancellation(error)) {
          cancelled = error;
          status[object] = 'cancelled';
          continue;
        }
        // The reason sits at the end of the cause chain (child → activity → application failure).
        let root = error as Error & { cause?: unknown };
        while (root.cause instanceof Error) root = root.cause as Error & { cause?: unknown };
        outcome = { object, status: 'failed', error: root.message };
      }
      outcomes.push(outcome);
      status[object] = describeOutcome(outcome);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(input.concurrency ?? 4, objects.length)) }, worker));
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

function describeOutcome(o: ObjectOutcome): string {
  return o.status === 'succeeded' ? `succeeded: ${o.result!.rows} rows` : `failed: ${o.error}`;
}

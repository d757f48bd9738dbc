import { ApplicationFailure, defineQuery, executeChild, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { SyncActivities } from '../activities';
import type { CommitSummary } from '../src/sync/object-sync';
import { DEFAULT_OBJECTS, type WriteModeName } from '../src/sync/objects';

export interface SalesforceSyncInput {
  objects?: string[];
  mode?: 'incremental' | 'full';
  namespace?: string;
  /** Per-object overrides, e.g. { "Account": { "mode": "replace" } }. */
  overrides?: Record<string, { mode?: WriteModeName }>;
  /** Objects synced at the same time. */
  concurrency?: number;
}

export interface SyncObjectInput {
  object: string;
  namespace: string[];
  mode?: WriteModeName;
  full: boolean;
}

export interface ObjectOutcome {
  object: string;
  status: 'succeeded' | 'failed';
  result?: CommitSummary & { rows: number };
  error?: string;
}

export const progressQuery = defineQuery<Record<string, string>>('progress');

const { prepareObject, commitObject, cleanupObject } = proxyActivities<SyncActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 10 },
});
const { extractObject } = proxyActivities<SyncActivities>({
  startToCloseTimeout: '12 hours',
  heartbeatTimeout: '60 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 20 },
});

/** One object: prepare → extract → commit; the run's unreferenced files are cleaned up either way. */
export async function syncObject(input: SyncObjectInput): Promise<CommitSummary> {
  const info = workflowInfo();
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
    await cleanupObject(prepared);
  }
}

/** Fans out one child workflow per object (bounded), and reports per-object results. */
export async function salesforceSync(input: SalesforceSyncInput = {}): Promise<ObjectOutcome[]> {
  const objects = input.objects?.length ? input.objects : DEFAULT_OBJECTS;
  const namespace = (input.namespace ?? 'salesforce').split('.');
  const status: Record<string, string> = Object.fromEntries(objects.map((o) => [o, 'waiting']));
  setHandler(progressQuery, () => status);
  const parentId = workflowInfo().workflowId;
  const queue = [...objects];
  const outcomes: ObjectOutcome[] = [];
  const worker = async () => {
    for (let object = queue.shift(); object !== undefined; object = queue.shift()) {
      status[object] = 'running';
      try {
        const result = await executeChild(syncObject, {
          workflowId: `${parentId}/${object}`,
          args: [{ object, namespace, mode: input.overrides?.[object]?.mode, full: input.mode === 'full' }],
        });
        outcomes.push({ object, status: 'succeeded', result });
        status[object] = `succeeded: ${result.rows} rows`;
      } catch (error) {
        // The reason sits at the end of the cause chain (child → activity → application failure).
        let root = error as Error & { cause?: unknown };
        while (root.cause instanceof Error) root = root.cause as Error & { cause?: unknown };
        const message = root.message;
        outcomes.push({ object, status: 'failed', error: message });
        status[object] = `failed: ${message}`;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(input.concurrency ?? 4, objects.length)) }, worker));
  const failed = outcomes.filter((o) => o.status === 'failed');
  if (failed.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `${failed.length} of ${objects.length} objects failed: ${failed.map((f) => `${f.object}: ${f.error}`).join('; ')}`,
      'SyncFailed',
      outcomes,
    );
  }
  return objects.map((o) => outcomes.find((x) => x.object === o)!);
}

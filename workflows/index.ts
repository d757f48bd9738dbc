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
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  TimeoutFailure,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { msToNumber, type SearchAttributePair } from '@temporalio/common';
import type { SyncActivities } from '../activities';
import { activityRetryingSignal, activityWaitingSignal, extractProgressSignal, objectRetryingSignal } from '../activities/signals';
import { SalesforceNamespace, SalesforceObject, SalesforceRows, SalesforceSyncMode, SalesforceWriteMode, searchAttributeCommands } from '../activities/search-attributes';
import { defaultWriteMode, EVERY_ROW_REASON, partitionTaskQueue } from '../src/sync/objects';
import { productRunId } from '../src/table-contract';
import type { BulkJobRef } from '../src/salesforce/bulk-reader';
import type { CommitSummary, StagedObject } from '../src/sync/types';
import {
  INPUT_DEFAULTS,
  INVALID_INPUT,
  checkSyncInput,
  checkSyncObjectInput,
  invalidInputMessage,
  type CheckedSyncInput,
  type CheckedSyncObjectInput,
  type ObjectOutcome,
  type SalesforceSyncInput,
  type SyncObjectInput,
} from './input';

export type { CheckedSyncObjectInput, ObjectOutcome, SalesforceSyncInput, SyncObjectInput } from './input';
export { maintainNamespace, maintainTable } from './maintenance';
export type { MaintainNamespaceInput, MaintainTableInput, TableOutcome } from './maintenance';

export const progressQuery = defineQuery<Record<string, string>>('progress');

/**
 * Patch ids (kept histories from before them replay without their commands): the parent's check
 * of the search attributes (a local activity) and the child's upsert of the rows it committed.
 */
const SEARCH_ATTRIBUTES_PATCH = 'search-attributes';

/**
 * The child plans its extraction (planObject) and may split it into partitions (extractPartition
 * activities on any worker). Histories from before it extract in one activity, without a plan.
 */
const PARTITIONS_PATCH = 'partitions';
/** Partitions go to their own task queue (partitionTaskQueue), bounded per worker by WORKER_MAX_PARTITIONS. */
const PARTITION_QUEUE_PATCH = 'partition-queue';
/** The sync's object names are checked against the org's object list before any child starts. */
const OBJECT_NAMES_PATCH = 'object-names';

/**
 * A reconciling merge sync compares every Id in a step of its own (reconcileObject), after its
 * extraction, which may then be partitioned. Histories from before it compare them inside
 * extractObject (whose plan never partitions a reconciling sync).
 */
const RECONCILE_STEP_PATCH = 'reconcile-step';

/**
 * A sync whose input lacks the namespace, the objects or the read mode asks its worker for its defaults
 * (SYNC_NAMESPACE or ICEBERG_NAMESPACE, SALESFORCE_RESOURCES, WRITE_DISPOSITION: a local activity,
 * recorded). Histories from before it took the built-in defaults.
 */
const WORKER_DEFAULTS_PATCH = 'worker-defaults';

/**
 * The child first waits while a maintenance of its table runs that started before it (maintenance
 * and a sync of one table never run at once). Histories from before it start with prepare.
 */
const MAINTENANCE_PATCH = 'maintenance-wait';

/**
 * A window prepare chose REST for is read by one extraction: the child schedules no plan (whose
 * answer would be no partitions). Histories from before it plan every extraction.
 */
const REST_WITHOUT_PLAN_PATCH = 'rest-without-plan';

/**
 * The child looks once, in a local activity, whether its table's maintenance runs, and schedules
 * waitForMaintenance only to wait for it; its cleanup is a local activity too (seconds of listing
 * and deleting the run's files, no task of its own). Histories from before it schedule both as
 * activities.
 */
const FEWER_STEPS_PATCH = 'fewer-steps';

/**
 * Prepare writes a window whose rows came back whole with its questions (a few rows since the
 * last sync) and returns the extraction: the child then schedules no extract step. Histories from
 * before it extract in a step of their own.
 */
const EXTRACT_IN_PREPARE_PATCH = 'extract-in-prepare';

/**
 * The input in its current names (an old name's value moved to the new name); fails the workflow
 * at once, for good, when the input is not valid: before any child or activity starts, with every
 * problem listed. (Left to fail later, a bad duration fails the workflow task itself, which
 * Temporal retries forever.) Adds no command, so histories replay as before.
 */
function checked<T>(result: { input: T } | { problems: string[] }, what: string): T {
  if ('problems' in result) throw ApplicationFailure.nonRetryable(invalidInputMessage(result.problems, what), INVALID_INPUT, result.problems);
  return result.input;
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
  // A partition is retried alone, as an extraction is; so is the plan, which waits for the Bulk job
  // Salesforce runs (hours, for a huge object).
  const long = {
    startToCloseTimeout: '24 hours',
    heartbeatTimeout,
    cancellationType,
    retry: { ...retry, initialInterval: '5 seconds', maximumAttempts: Math.max(3, Math.ceil(msToNumber(retryTimeout) / 45_000)) },
  } as const;
  // The reconcile step reads every Id of the object (a Bulk job, hours for a huge one): as long.
  const { extractPartition, planObject, reconcileObject } = proxyActivities<SyncActivities>(long);
  const { extractPartition: extractPartitionQueued } = proxyActivities<SyncActivities>({ ...long, taskQueue: partitionTaskQueue(workflowInfo().taskQueue) });
  // Retried until the table's maintenance has ended (a compaction of a large table may take hours).
  const { waitForMaintenance } = proxyActivities<SyncActivities>({
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: '24 hours',
    cancellationType,
    retry: { ...retry, initialInterval: '10 seconds', maximumInterval: '1 minute' },
  });
  // One look whether the table's maintenance runs, and the cleanup: local activities (no task of their own), retried as the others.
  const local = proxyLocalActivities<SyncActivities>({
    startToCloseTimeout: '10 minutes',
    scheduleToCloseTimeout: retryTimeout,
    retry: { ...retry, initialInterval: '2 seconds' },
  });
  return {
    waitForMaintenance,
    maintenanceRunning: local.maintenanceRunning,
    cleanupLocally: local.cleanupObject,
    prepareObject: short.prepareObject,
    planObject,
    commitObject: short.commitObject,
    cleanupObject: short.cleanupObject,
    checkAtomicPublish: short.checkAtomicPublish,
    checkObjectNames: short.checkObjectNames,
    publishObjects: short.publishObjects,
    extractObject,
    extractPartition,
    extractPartitionQueued,
    reconcileObject,
  };
}

/**
 * One object: prepare → extract (→ reconcile) → commit; the run's unreferenced files are cleaned
 * up either way.
 * Its history stays small whatever the object's size: the extraction is one activity whose
 * progress and resume point travel in heartbeats, not in events. In an atomic sync it stops after
 * the extraction and returns what it staged (names of files, never rows), keeping the staged files:
 * the parent publishes every object together, then cleans up (a failure here still cleans up).
 */
export async function syncObject(given: SyncObjectInput): Promise<CommitSummary | { staged: StagedObject }> {
  const input = checked(checkSyncObjectInput(given), 'syncObject input');
  const info = workflowInfo();
  const {
    waitForMaintenance,
    maintenanceRunning,
    cleanupLocally,
    prepareObject,
    planObject,
    extractObject,
    extractPartition,
    extractPartitionQueued,
    reconcileObject,
    commitObject,
    cleanupObject,
  } = activitiesFor(input.heartbeatTimeout, input.retryTimeout);
  // Stable across worker crashes (the same run is replayed): commits stay idempotent.
  const syncRunId = productRunId(info.workflowId, info.runId);
  let stage = 'preparing';
  // While Temporal retries a step, why (its activity tells; cleared when the stage moves on).
  let retrying: string | undefined;
  // While an activity waits (for the Salesforce API budget), why.
  let waiting: string | undefined;
  // The table, once prepare named it; what the commit wrote, once it did.
  let table: string | undefined;
  let outcome: string | undefined;
  // Rows and files of the extraction's last checkpoint it told (see extractProgressSignal).
  let soFar: { rows: number; files: number } | undefined;
  // The Web UI's "current details" of this workflow (no command: read through a query).
  const showDetails = () =>
    setCurrentDetails(
      [
        `**${input.object}** → ${table ? `\`${table}\`` : input.namespace.join('.')}`,
        `stage: ${stage}`,
        ...(stage.startsWith('extracting')
          ? [
              soFar
                ? `${soFar.rows} rows in ${soFar.files} files at the last checkpoint (the extractObject heartbeat has the live figures)`
                : 'rows and files so far: in the extractObject heartbeat',
            ]
          : []),
        ...(outcome ? [outcome] : []),
        ...(retrying ? [`retrying: ${retrying}`] : []),
        ...(waiting ? [`waiting: ${waiting}`] : []),
      ].join('\n\n'),
    );
  const moveTo = (next: string) => {
    stage = next;
    showDetails();
  };
  showDetails();
  setHandler(progressQuery, () => ({ object: input.object, stage, ...(retrying ? { retrying } : {}), ...(waiting ? { waiting } : {}) }));
  setHandler(activityRetryingSignal, (n) => {
    retrying = `${n.activity} attempt ${n.attempt} failed: ${n.reason}; retrying`;
    waiting = undefined;
    showDetails();
    // The parent shows it too (its progress lists every object).
    if (info.parent)
      void getExternalWorkflowHandle(info.parent.workflowId, info.parent.runId)
        .signal(objectRetryingSignal, { object: input.object, reason: retrying })
        .catch(() => undefined);
  });
  setHandler(extractProgressSignal, (p) => {
    soFar = p;
    showDetails();
  });
  setHandler(activityWaitingSignal, (n) => {
    waiting = n.reason;
    showDetails();
    if (info.parent)
      void getExternalWorkflowHandle(info.parent.workflowId, info.parent.runId)
        .signal(objectRetryingSignal, { object: input.object, reason: waiting })
        .catch(() => undefined);
  });
  // The re-read options only when set: a sync without them schedules exactly what it always did.
  const rereadOptions = definedOnly({ backfillNewFields: input.backfillNewFields, refreshFormulas: input.refreshFormulas });
  // The table's layout likewise (an activity's input is not part of what a replay compares).
  const layoutOptions = definedOnly({ partitionBy: input.partitionBy, sortBy: input.sortBy, syncWideLayout: input.syncWideLayout });
  // Each activity's summary names its object: the child's timeline reads "extract Account".
  const as = (verb: string) => ({ summary: `${verb} ${input.object}` });
  const fewerSteps = patched(MAINTENANCE_PATCH) && patched(FEWER_STEPS_PATCH);
  // Asked before the local activity below, never after it: when a local activity's result comes
  // back in a later workflow task than the one that ran it, a replay sees that result within the
  // first task, where a patch first asked after it is not yet known, and fails as non-deterministic.
  const extractInPrepare = fewerSteps && patched(EXTRACT_IN_PREPARE_PATCH);
  if (patched(MAINTENANCE_PATCH)) {
    const maintenance = [input.namespace, input.object, info.runStartTime.getTime()] as const;
    if (!fewerSteps || (await maintenanceRunning(...maintenance)) !== undefined) {
      moveTo('waiting for the maintenance of the table to end');
      await waitForMaintenance.executeWithOptions(as('wait for the table maintenance of'), [...maintenance]);
      moveTo('preparing');
    }
  }
  // An atomic sync's objects are extracted in prepare too: what it hands over is the same staging.
  const { extracted: extractedInPrepare, ...prepared } = await prepareObject.executeWithOptions(as('prepare'), [
    {
      object: input.object,
      namespace: input.namespace,
      runId: syncRunId,
      writeMode: input.writeMode,
      full: input.full,
      reconcile: input.reconcile,
      ...rereadOptions,
      ...layoutOptions,
      // Only an incremental read can be small (a full read's prepare input stays as it was).
      ...(extractInPrepare && !input.full ? { extractSmallWindow: true } : {}),
    },
  ]);
  table = `${prepared.namespace.join('.')}.${prepared.table}`;
  // Decided before the extraction, which reconciles itself on the old path. Asked only of a
  // reconciling merge sync: any other schedules exactly what it did before.
  const reconcileStep =
    prepared.reconcile === true &&
    // A prepare result recorded before write modes had their own name carries `mode`.
    (prepared.writeMode ?? (prepared as { mode?: string }).mode) === 'merge' &&
    patched(RECONCILE_STEP_PATCH);
  const apart = reconcileStep ? { reconcileStep } : {};
  // The Bulk job a partitioned extraction's partitions read: cleanup deletes it.
  let partitionedJob: BulkJobRef | undefined;
  // An atomic sync's object, once extracted: its staged files are the parent's to publish and clean up.
  let handedOver = false;
  try {
    retrying = undefined;
    const reading = prepared.reread ? `extracting (every row: ${prepared.reread})` : 'extracting';
    let extracted: { staging: string | string[]; rows: number; files: number; deleted: number };
    if (extractedInPrepare) {
      extracted = extractedInPrepare;
    } else if (patched(PARTITIONS_PATCH)) {
      // The plan is the extraction's first step (it creates the Bulk job): the stage says extracting.
      moveTo(reading);
      const plan =
        prepared.readApi?.api === 'rest' && patched(REST_WITHOUT_PLAN_PATCH)
          ? undefined
          : await planObject.executeWithOptions(as('plan'), reconcileStep ? [prepared, apart] : [prepared]);
      retrying = undefined;
      // Partitions read runs of the plan's job's result pages, or CreatedDate ranges with jobs of their own.
      if (plan && plan.partitions.length > 0 && plan.staging && (plan.job || plan.partitions.every((part) => part.range))) {
        partitionedJob = plan.job;
        const n = plan.partitions.length;
        moveTo(`${reading} in ${n} partitions, ${plan.inFlight} at once`);
        const extract = patched(PARTITION_QUEUE_PATCH) ? extractPartitionQueued : extractPartition;
        const parts = await inLanes(plan.partitions, plan.inFlight, (part) =>
          extract.executeWithOptions({ summary: `extract ${input.object} partition ${part.index + 1}/${n}` }, [prepared, plan.job, part]),
        );
        extracted = {
          staging: [plan.staging, ...parts.map((x) => x.staging)],
          rows: parts.reduce((sum, x) => sum + x.rows, 0),
          files: parts.reduce((sum, x) => sum + x.files, 0),
          deleted: plan.deleted ?? 0,
        };
      } else {
        moveTo(reading);
        extracted = await extractObject.executeWithOptions(as('extract'), [prepared, plan ? { job: plan.job, usage: plan.usage, ...apart } : apart]);
      }
    } else {
      moveTo(reading);
      extracted = await extractObject.executeWithOptions(as('extract'), reconcileStep ? [prepared, apart] : [prepared]);
    }
    retrying = undefined;
    waiting = undefined;
    outcome = `read ${extracted.rows} rows into ${extracted.files} files${extracted.deleted ? `, ${extracted.deleted} deleted` : ''}`;
    let staging = extracted.staging;
    if (reconcileStep) {
      // Asked for, or because Salesforce's delete log could not cover the window (its reason).
      const why = prepared.reconcileReason ? `: ${prepared.reconcileReason}` : '';
      moveTo(`reconciling (comparing every Id with Salesforce${why})`);
      const reconciled = await reconcileObject.executeWithOptions(as('reconcile'), [prepared, staging]);
      retrying = undefined;
      waiting = undefined;
      staging = [staging, reconciled.staging].flat();
      outcome += `; ${reconciled.reconciled ?? 0} rows gone from Salesforce`;
    }
    if (input.atomic) {
      moveTo('extracted: the sync publishes every object in one transaction once all are extracted');
      handedOver = true;
      const { rows, files, deleted } = extracted;
      return { staged: { prepared, staging, ...(partitionedJob ? { job: partitionedJob } : {}), rows, files, deleted } };
    }
    moveTo('committing');
    const committed = await commitObject.executeWithOptions(as('commit'), [prepared, staging]);
    outcome = committed.unchanged
      ? `no changes: the cursor moved to ${committed.cursor} without a new snapshot`
      : `committed ${committed.rows} rows${committed.deleted ? `, ${committed.deleted} deleted` : ''} in snapshot ${committed.snapshotId}`;
    if (committed.writeMode && committed.writeMode !== defaultWriteMode(input.object)) outcome += ` (${committed.writeMode}: ${committed.writeModeReason})`;
    if (committed.deletesFrom) outcome += `; deletes from ${committed.deletesFrom}`;
    moveTo('done');
    // Only when the parent set this child's search attributes (so the namespace has them): an
    // unknown one would fail the workflow task again and again.
    if (patched(SEARCH_ATTRIBUTES_PATCH) && info.typedSearchAttributes.get(SalesforceObject) !== undefined) {
      // The parent named the write mode by the object's name; describe may have chosen another (append for a history object).
      const mode =
        committed.writeMode && committed.writeMode !== info.typedSearchAttributes.get(SalesforceWriteMode) ? [{ key: SalesforceWriteMode, value: committed.writeMode }] : [];
      upsertSearchAttributes([{ key: SalesforceRows, value: committed.rows }, ...mode]);
    }
    return committed;
  } catch (error) {
    moveTo(isCancellation(error) ? 'cancelled' : `failed: ${failureOf(error).error}`);
    throw error;
  } finally {
    // Runs on cancellation too.
    if (!handedOver) {
      const cleanup = fewerSteps ? cleanupLocally : cleanupObject;
      await CancellationScope.nonCancellable(() => cleanup.executeWithOptions(as('clean up after'), partitionedJob ? [prepared, partitionedJob] : [prepared]));
    }
  }
}

/**
 * Runs `run` over every item, at most `inFlight` at once. The first failure cancels the runs still
 * going and waits for them to stop (their activities wait for their cancellation to complete), so
 * nothing writes after the cleanup that follows; then it is thrown. A cancelled workflow cancels them all.
 */
async function inLanes<T, R>(items: readonly T[], inFlight: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  const queue = items.map((_, i) => i);
  let failure: { error: unknown } | undefined;
  const scope = new CancellationScope();
  const lane = async () => {
    while (queue.length > 0 && failure === undefined) {
      const i = queue.shift()!;
      try {
        results[i] = await run(items[i]!);
      } catch (error) {
        if (failure === undefined) {
          failure = { error };
          scope.cancel();
        }
      }
    }
  };
  await scope.run(() => Promise.all(Array.from({ length: Math.max(1, Math.min(inFlight, items.length)) }, lane)));
  if (failure) throw failure.error;
  return results;
}

/**
 * Fans out one child workflow per object (bounded), and reports per-object results. Once its own
 * history grows long it stops starting children, waits for the running ones and continues as new
 * with the rest.
 */
export async function salesforceSync(given: SalesforceSyncInput = {}): Promise<ObjectOutcome[]> {
  // What the input leaves unsaid, as the worker's settings say it (carried across continue-as-new).
  const { input, added } = await withWorkerDefaults(checked(checkSyncInput(given), 'sync input'));
  const objects = [...new Set(input.objects ?? INPUT_DEFAULTS.objects)];
  const namespace = (input.namespace ?? INPUT_DEFAULTS.namespace).split('.');
  const done = input.done ?? [];
  const status: Record<string, string> = Object.fromEntries([...done.map((o) => [o.object, describeOutcome(o)]), ...objects.map((o) => [o, 'waiting'])]);
  // The Web UI's "current details": each object and where it stands (no command: read through a query).
  const showStatus = () =>
    setCurrentDetails(
      Object.entries(status)
        .map(([o, s]) => `- **${o}**: ${s}`)
        .join('\n'),
    );
  const setStatus = (object: string, value: string) => {
    status[object] = value;
    showStatus();
  };
  showStatus();
  setHandler(progressQuery, () => status);
  setHandler(objectRetryingSignal, ({ object, reason }) => {
    if (status[object]?.startsWith('running')) setStatus(object, reason ? `running (${reason})` : 'running');
  });
  const parentId = workflowInfo().workflowId;
  const full = input.readMode === 'full';
  const atomic = input.atomic === true;
  const { checkAtomicPublish, checkObjectNames, publishObjects, cleanupObject } = activitiesFor(input.heartbeatTimeout, input.retryTimeout);
  // An atomic sync on a catalog that cannot commit tables together is refused before anything is
  // read (once: a run continued as new has checked).
  if (atomic && input.done === undefined) {
    try {
      await checkAtomicPublish.executeWithOptions({ summary: 'check that the catalog commits transactions' }, []);
    } catch (error) {
      if (isCancellation(error)) throw error;
      const { error: message, code } = failureOf(error);
      throw ApplicationFailure.nonRetryable(message, code ?? 'ATOMIC_PUBLISH_UNSUPPORTED');
    }
  }
  // Histories from before the patch replay without the check (and without attributes).
  const withSearchAttributes = patched(SEARCH_ATTRIBUTES_PATCH) && (await searchAttributesAvailable());
  const queue = [...objects];
  const outcomes: ObjectOutcome[] = [];
  // Every name against the org's object list before any object starts (once: a run continued as
  // new has checked): the unknown fail at once, each with the closest names; the others go on.
  // A check that cannot be made (Salesforce refusing the login, say) is not the sync's failure:
  // each object's own prepare then says what is wrong, as without the check.
  if (input.done === undefined && patched(OBJECT_NAMES_PATCH)) {
    let unknown: { object: string; error: string }[] = [];
    try {
      unknown = await checkObjectNames.executeWithOptions({ summary: `check ${objects.length} object names against the org` }, [objects]);
    } catch (error) {
      if (isCancellation(error)) throw error;
      log.warn(`The object names could not be checked against the org (${failureOf(error).error}); each object's sync checks its own`);
    }
    for (const { object, error } of unknown) {
      queue.splice(queue.indexOf(object), 1);
      outcomes.push({ object, status: 'failed', code: 'UNKNOWN_OBJECT', error });
      setStatus(object, `failed: ${error}`);
      log.warn(`${object} failed: ${error}`, { object, code: 'UNKNOWN_OBJECT' });
    }
  }
  const historyFull = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= (input.maxHistoryEvents ?? INPUT_DEFAULTS.maxHistoryEvents);
  // A cancelled sync starts no further object and ends cancelled, not failed.
  let cancelled: unknown;
  // One of `concurrency` lanes: takes the next object from the queue until none is left.
  const lane = async () => {
    // An atomic sync with a failed object will publish nothing: it starts no further object.
    while (queue.length > 0 && !historyFull() && cancelled === undefined && !(atomic && outcomes.some((o) => o.status === 'failed'))) {
      const object = queue.shift()!;
      setStatus(object, 'running');
      let outcome: ObjectOutcome;
      const childInput: CheckedSyncObjectInput = {
        object,
        namespace,
        writeMode: input.overrides?.[object]?.writeMode,
        full,
        reconcile: input.overrides?.[object]?.reconcile ?? input.reconcile,
        heartbeatTimeout: input.heartbeatTimeout,
        retryTimeout: input.retryTimeout,
        ...(atomic ? { atomic: true } : {}),
        ...definedOnly({ backfillNewFields: input.overrides?.[object]?.backfillNewFields ?? input.backfillNewFields, refreshFormulas: input.overrides?.[object]?.refreshFormulas }),
        ...layoutFor(input, object),
      };
      const writeMode = childInput.writeMode ?? defaultWriteMode(object);
      try {
        const result = await executeChild(syncObject, {
          workflowId: `${parentId}/${object}`,
          args: [childInput],
          // The Web UI names each child by its object (the parent's timeline and User Metadata, the child's page).
          staticSummary: `${object}: ${full ? 'full' : 'incremental'} ${writeMode} into ${namespace.join('.')}`,
          staticDetails: childDetails(childInput, writeMode),
          ...(withSearchAttributes
            ? {
                typedSearchAttributes: [
                  { key: SalesforceObject, value: object },
                  { key: SalesforceSyncMode, value: full ? 'full' : 'incremental' },
                  { key: SalesforceWriteMode, value: writeMode },
                  { key: SalesforceNamespace, value: namespace.join('.') },
                ] satisfies SearchAttributePair[],
              }
            : {}),
        });
        outcome = 'staged' in result ? { object, status: 'succeeded', staged: result.staged } : { object, status: 'succeeded', result };
      } catch (error) {
        if (isCancellation(error)) {
          cancelled = error;
          setStatus(object, 'cancelled');
          continue;
        }
        outcome = { object, status: 'failed', ...failureOf(error) };
      }
      // Logging adds no command: replay-safe (and silent while replaying).
      if (outcome.status === 'failed') log.warn(`${object} failed: ${outcome.error}`, { object, code: outcome.code });
      else if (outcome.staged) log.info(`${object} extracted: ${outcome.staged.rows} rows, published with the others`, { object });
      else log.info(`${object} synced: ${outcome.result!.rows} rows`, { object, snapshotId: outcome.result!.snapshotId });
      outcomes.push(outcome);
      setStatus(object, describeOutcome(outcome));
    }
  };
  await Promise.all(Array.from({ length: Math.min(input.concurrency ?? INPUT_DEFAULTS.concurrency, objects.length) }, lane));
  if (cancelled !== undefined) {
    for (const object of queue) setStatus(object, 'cancelled');
    // What objects of an atomic sync staged is never published now.
    if (atomic) await cleanUpStaged([...done, ...outcomes], cleanupObject);
    throw cancelled;
  }
  if (atomic && outcomes.some((o) => o.status === 'failed')) {
    const why = `${outcomes
      .filter((o) => o.status === 'failed')
      .map((o) => o.object)
      .join(', ')} failed, and an atomic sync publishes all its objects or none`;
    for (const object of queue.splice(0)) outcomes.push({ object, status: 'failed', code: NOT_PUBLISHED, error: `not synced: ${why}` });
  }
  let finished = [...done, ...objects.flatMap((o) => outcomes.filter((x) => x.object === o))];
  // The next run gets the input in the names it was given in (old ones stay old: the same command as ever).
  // An atomic sync carries what it staged across continue-as-new (in `done`), and publishes at the end.
  if (queue.length > 0) await continueAsNew<typeof salesforceSync>({ ...given, ...added, objects: queue, done: finished });
  if (atomic) finished = await publishAll(finished, { publishObjects, cleanupObject }, setStatus);
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

type AtomicActivities = Pick<ReturnType<typeof activitiesFor>, 'publishObjects' | 'cleanupObject'>;

/** The code of an atomic sync's object that was extracted but not published (another failed). */
const NOT_PUBLISHED = 'NOT_PUBLISHED';

/**
 * An atomic sync's end: when every object was extracted, one transaction publishes them all (an
 * idempotent activity: a worker that dies in it is followed by one that finds what landed); when
 * any failed, nothing is published. Either way the staged files no snapshot uses are cleaned up
 * after (cleanup keeps what a snapshot references).
 */
async function publishAll(finished: ObjectOutcome[], activities: AtomicActivities, setStatus: (object: string, value: string) => void): Promise<ObjectOutcome[]> {
  const staged = finished.filter((o) => o.staged);
  if (staged.length === 0) return finished;
  // The objects that failed on their own (not those left unsynced because of them).
  const failed = finished.filter((o) => o.status === 'failed' && o.code !== NOT_PUBLISHED).map((o) => o.object);
  let published: Map<string, ObjectOutcome>;
  if (failed.length > 0) {
    const why = `${failed.join(', ')} failed, and an atomic sync publishes all its objects or none`;
    published = new Map(
      staged.map((o) => [o.object, { object: o.object, status: 'failed', code: NOT_PUBLISHED, error: `extracted ${o.staged!.rows} rows but not published: ${why}` }]),
    );
    await cleanUpStaged(staged, activities.cleanupObject);
  } else {
    for (const o of staged) setStatus(o.object, 'publishing');
    const publishId = `${workflowInfo().workflowId}@${workflowInfo().firstExecutionRunId}`;
    try {
      const results = await activities.publishObjects.executeWithOptions({ summary: `publish ${staged.map((o) => o.object).join(', ')} in one transaction` }, [
        staged.map((o) => o.staged!),
        publishId,
      ]);
      published = new Map(staged.map((o, i) => [o.object, { object: o.object, status: 'succeeded', result: results[i]! }]));
      log.info(`Published ${staged.length} objects in one transaction`, { publishId, snapshots: results.map((r) => r.snapshotId) });
    } catch (error) {
      if (isCancellation(error)) {
        await cleanUpStaged(staged, activities.cleanupObject);
        throw error;
      }
      const failure = failureOf(error);
      log.warn(`The publish failed: ${failure.error}`, { code: failure.code });
      published = new Map(staged.map((o) => [o.object, { object: o.object, status: 'failed', ...failure }]));
    }
    await cleanUpStaged(staged, activities.cleanupObject);
  }
  const outcomes = finished.map((o) => published.get(o.object) ?? o);
  for (const o of outcomes) setStatus(o.object, describeOutcome(o));
  return outcomes;
}

/** Cleans up after every staged object of an atomic sync (also when cancelled), one cleanup each. */
async function cleanUpStaged(outcomes: ObjectOutcome[], cleanupObject: AtomicActivities['cleanupObject']): Promise<void> {
  const staged = outcomes.flatMap((o) => (o.staged ? [o.staged] : []));
  await CancellationScope.nonCancellable(() =>
    Promise.all(
      staged.map((s) =>
        cleanupObject.executeWithOptions({ summary: `clean up after ${s.prepared.object}` }, s.job ? [s.prepared, s.job] : [s.prepared]).catch((error: unknown) => {
          // What stays is named by the run: the next cleanup of the table (or maintenance's orphan removal) finds it.
          log.warn(`Cleanup after ${s.prepared.object} failed: ${failureOf(error).error}`);
        }),
      ),
    ),
  );
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

/**
 * The input with the worker's defaults in place of what it leaves unsaid: the namespace, the
 * objects, and (WRITE_DISPOSITION=force_replace, when the input names no mode) a full read that
 * replaces every object's table unless the input gives the object a mode of its own. An input
 * that says all of it is returned as it is.
 */
async function withWorkerDefaults(input: CheckedSyncInput): Promise<{ input: CheckedSyncInput; added: Partial<CheckedSyncInput> }> {
  if ((input.namespace !== undefined && input.objects !== undefined && input.readMode !== undefined) || !patched(WORKER_DEFAULTS_PATCH)) return { input, added: {} };
  const { syncDefaults } = proxyLocalActivities<SyncActivities>({ startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 3 } });
  let defaults: Awaited<ReturnType<SyncActivities['syncDefaults']>>;
  try {
    defaults = await syncDefaults();
  } catch (error) {
    log.warn(`Could not read the worker's sync defaults (${failureOf(error).error}); using ${INPUT_DEFAULTS.namespace} and the default objects`);
    return { input, added: {} };
  }
  const objects = input.objects ?? defaults.objects;
  const forceReplace = input.readMode === undefined && defaults.forceReplace === true;
  const overrides = forceReplace
    ? Object.fromEntries((objects ?? INPUT_DEFAULTS.objects).map((o) => [o, { ...input.overrides?.[o], writeMode: input.overrides?.[o]?.writeMode ?? ('replace' as const) }]))
    : undefined;
  // What the worker's defaults add: the next run (continue-as-new) gets it too, so it asks no more.
  const added: Partial<CheckedSyncInput> = {
    ...definedOnly({ namespace: input.namespace === undefined ? defaults.namespace : undefined, objects: input.objects === undefined ? defaults.objects : undefined, overrides }),
    ...(forceReplace ? { readMode: 'full' as const } : {}),
  };
  const resolved: CheckedSyncInput = { ...input, ...added };
  // The worker's values are checked by its settings; a bad one still fails here, named.
  checked(checkSyncInput(resolved), "sync input with the worker's defaults (SYNC_NAMESPACE, SALESFORCE_RESOURCES)");
  return { input: resolved, added };
}

/**
 * Whether this workflow may set the sync's search attributes: asks the worker (a local activity)
 * which the namespace lacks. Without them the sync runs as before, and says what to create.
 */
async function searchAttributesAvailable(): Promise<boolean> {
  const { searchAttributeProblems } = proxyLocalActivities<SyncActivities>({ startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 2 } });
  let problems: string[];
  try {
    problems = await searchAttributeProblems();
  } catch (error) {
    // A worker without the activity, or a server that refuses to list them: run without.
    log.warn(`Could not check the search attributes (${failureOf(error).error}); syncing without them`);
    return false;
  }
  if (problems.length === 0) return true;
  const { namespace } = workflowInfo();
  log.warn(
    `Syncing without search attributes: ${problems.join('; ')}. To list syncs by object, read and write mode and rows, create them: ${searchAttributeCommands(namespace).join(' && ')}`,
  );
  return false;
}

/** The keys whose value is set (an input without them stays exactly as before). */
function definedOnly<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * An object's partitionBy and sortBy: its override's, else the sync's (then marked as the sync's,
 * which an object without their columns does not take). Nothing when neither is set.
 */
function layoutFor(input: CheckedSyncInput, object: string): Pick<CheckedSyncObjectInput, 'partitionBy' | 'sortBy' | 'syncWideLayout'> {
  const own = input.overrides?.[object];
  const syncWide = (['partitionBy', 'sortBy'] as const).filter((k) => own?.[k] === undefined && input[k] !== undefined);
  return {
    ...definedOnly({ partitionBy: own?.partitionBy ?? input.partitionBy, sortBy: own?.sortBy ?? input.sortBy }),
    ...(syncWide.length > 0 ? { syncWideLayout: syncWide } : {}),
  };
}

/** A child's static details: what it was asked to do (markdown, shown by the Web UI). */
function childDetails(input: CheckedSyncObjectInput, writeMode: string): string {
  const options = [
    input.reconcile ? 'reconcile (remove rows Salesforce no longer has)' : undefined,
    input.refreshFormulas ? 'refresh formula fields (read every row)' : undefined,
    input.backfillNewFields === false ? 'no backfill of new fields' : undefined,
    input.partitionBy ? `partition by ${input.partitionBy.join(', ') || 'nothing (unpartitioned)'}` : undefined,
    input.sortBy ? `sort by ${input.sortBy.join(', ') || 'nothing (unsorted)'}` : undefined,
  ].filter((o) => o !== undefined);
  return [
    `Salesforce object **${input.object}** into Iceberg namespace \`${input.namespace.join('.')}\``,
    `- read: ${input.full ? 'full (every row, stored cursor ignored)' : 'incremental (since the cursor stored in the table)'}`,
    `- write: ${writeMode}`,
    ...options.map((o) => `- ${o}`),
  ].join('\n');
}

function describeOutcome(o: ObjectOutcome): string {
  if (o.staged) return `extracted: ${o.staged.rows} rows, to be published with the others`;
  if (o.status !== 'succeeded') return `failed: ${o.error}`;
  const counted = o.result!.countCheck;
  const count =
    counted?.salesforce !== undefined && counted.table !== undefined && counted.salesforce !== counted.table
      ? `; count check: ${counted.salesforce} in Salesforce, ${counted.table} in the table`
      : '';
  // How the object was written and read, when that is not what its name alone would say.
  const { writeMode, writeModeReason, readApi } = o.result!;
  const written = writeMode && writeModeReason && writeMode !== defaultWriteMode(o.object) ? `; ${writeMode}: ${writeModeReason}` : '';
  // Which API read it and why: said unless it is Bulk for a read of every row, as anyone expects.
  const read = readApi?.reason && readApi.reason !== EVERY_ROW_REASON ? `; read through ${readApi.api === 'rest' ? 'REST' : 'Bulk API 2.0'}: ${readApi.reason}` : '';
  if (o.result!.unchanged) return `succeeded: no changes${count}${written}${read}`;
  return `succeeded: ${o.result!.rows} rows${o.result!.reread ? ` (every row read: ${o.result!.reread})` : ''}${count}${written}${read}`;
}

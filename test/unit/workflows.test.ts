import { historySteps, stepAt } from '../helpers/history-steps';
import path from 'node:path';
import { WorkerLogger } from '../../worker/logger';
import { partitionTaskQueue } from '../../src/sync/objects';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchAttributeProblems, type SyncActivities } from '../../activities';
import { extractProgressSignal } from '../../activities/signals';
import { SEARCH_ATTRIBUTES, SalesforceNamespace, SalesforceObject, SalesforceRows, SalesforceSyncMode, SalesforceWriteMode } from '../../activities/search-attributes';
import type { ObjectOutcome, SalesforceSyncInput, SyncObjectInput, salesforceSync, syncObject } from '../../workflows';
import type { PrepareObjectInput } from '../../src/sync/types';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporalCliPath } from '../helpers/temporal-cli';
import { until } from '../helpers/stack';
import { salesforceSearchAttributes } from '../helpers/search-attributes';

// The workflows against an in-memory dev server of their own, activities replaced by stubs.
// The failures tests provoke are logged at WARN: left out, so other warnings (a failing workflow task) stand out.
// Shown through the worker's logger: the partition queue's worker (no workflows) does not warn.
const shown = new WorkerLogger('WARN');
const provoked = /^(Activity|Workflow) failed$/;
Runtime.install({ logger: new DefaultLogger('WARN', (e) => provoked.test(e.message) || shown.log(e.level, e.message, e.meta)) });

type Activity = keyof SyncActivities;
type Gate = { promise: Promise<void>; open: () => void };

const ROWS: Record<string, number> = { Account: 300, Contact: 120, Opportunity: 50, Lead: 40, Case: 10 };

function gate(): Gate {
  let open!: () => void;
  return { promise: new Promise<void>((resolve) => (open = resolve)), open };
}

/** Waits for a gate, or for the activity's cancellation (so a failed test's worker still shuts down). */
function hold(g: Gate): Promise<void> {
  return Promise.race([g.promise, Context.current().cancelled]);
}

/** What the stubs saw; `until` resolves once a condition on it holds (checked on every change). */
class Recorder {
  calls: { activity: Activity; object: string; workflowId?: string; runId?: string }[] = [];
  cleanedJobs: string[] = [];
  stagings: (string | string[])[] = [];
  /** The object lists checkObjectNames was given. */
  checkedNames: string[][] = [];
  /** What each plan, extraction and reconcile step was asked (their second argument). */
  asked: { activity: Activity; object: string; how?: unknown; staging?: string | string[] }[] = [];
  active = new Set<string>();
  maxActive = 0;
  private waiters: { check: () => boolean; resolve: () => void }[] = [];
  changed = () => (this.waiters = this.waiters.filter((w) => !(w.check() && (w.resolve(), true))));
  until = (check: () => boolean) => new Promise<void>((resolve) => (this.waiters.push({ check, resolve }), this.changed()));
  /** An object is active from the start of its prepare to the end of its extract; the peak is kept. */
  enter = (o: string) => void (this.active.add(o), (this.maxActive = Math.max(this.maxActive, this.active.size)));
  leave = (o: string) => void (this.active.delete(o), this.changed());
  objects = (activity: Activity) => this.calls.filter((c) => c.activity === activity).map((c) => c.object);
}

type Hooks = Partial<Record<Activity, (object: string) => Promise<void> | void>> & {
  /** Partitions planObject gives each object (none by default: one extraction). */
  partitions?: Record<string, number>;
  /** Runs in extractPartition after record, with the partition's index. */
  partition?: (object: string, index: number) => Promise<void> | void;
  /** Names checkObjectNames says the org lacks. */
  unknownObjects?: string[];
  /** What syncDefaults answers (the worker's SYNC_NAMESPACE, SALESFORCE_RESOURCES, WRITE_DISPOSITION); none by default. */
  defaults?: Awaited<ReturnType<SyncActivities['syncDefaults']>>;
};

/** A hook failing one object's activity for good, as the activities do: typed by the error's code. */
const failFor =
  (object: string, message: string, code = 'SALESFORCE_REFUSED') =>
  (o: string) => {
    if (o === object) throw ApplicationFailure.nonRetryable(message, code);
  };

/** Activities shaped like the real ones; each records its call, then runs the test's hook. */
function stubActivities(rec: Recorder, hooks: Hooks = {}): SyncActivities {
  const record = async (activity: Activity, object: string, runId?: string) => {
    rec.calls.push({ activity, object, workflowId: Context.current().info.workflowExecution?.workflowId, runId });
    rec.changed();
    await hooks[activity]?.(object);
  };
  return {
    async prepareObject(input) {
      await record('prepareObject', input.object, input.runId);
      return { ...input, table: input.object.toLowerCase(), writeMode: input.writeMode ?? 'merge', upTo: '2024-01-01T00:00:00.000Z', idColumn: 'id' };
    },
    async extractObject(p, from) {
      rec.asked.push({ activity: 'extractObject', object: p.object, how: from });
      await record('extractObject', p.object);
      return { staging: `staging/${p.object}`, rows: ROWS[p.object]!, files: 1, bytes: 1, deleted: 0, timings: { readS: 0, readCpuS: 0, buildS: 0, encodeS: 0, uploadS: 0 } };
    },
    async commitObject(p, staging) {
      await record('commitObject', p.object);
      rec.stagings.push(staging);
      return { snapshotId: `${staging}#1`, rows: ROWS[p.object]!, deleted: 0, alreadyCommitted: false };
    },
    async cleanupObject(p, job) {
      await record('cleanupObject', p.object);
      if (job) rec.cleanedJobs.push(job.jobId);
      return 0;
    },
    async planObject(p, how) {
      rec.asked.push({ activity: 'planObject', object: p.object, how });
      const n = hooks.partitions?.[p.object] ?? 0;
      if (n === 0) return { partitions: [], inFlight: 1 };
      await record('planObject', p.object);
      const partitions = Array.from({ length: n }, (_, index) => ({ index, from: { skip: index }, pages: 1 }));
      return { job: { jobId: `job-${p.object}`, apiVersion: '62.0' }, partitions, inFlight: 2, staging: `staging/${p.object}.plan`, pages: n, deleted: 1 };
    },
    async extractPartition(p, _job, part) {
      await record('extractPartition', p.object);
      rec.enter(`${p.object}#${part.index}`);
      try {
        await hooks.partition?.(p.object, part.index);
      } finally {
        rec.leave(`${p.object}#${part.index}`);
      }
      return { staging: `staging/${p.object}.part-${part.index}`, rows: 10, files: 1, bytes: 1, deleted: 0, timings: { readS: 0, readCpuS: 0, buildS: 0, encodeS: 0, uploadS: 0 } };
    },
    async reconcileObject(p, staging) {
      rec.asked.push({ activity: 'reconcileObject', object: p.object, staging });
      await record('reconcileObject', p.object);
      return { staging: `staging/${p.object}.reconcile`, reconciled: 2, usage: { apiCalls: 3, bulkJobs: 1, resultBytes: 10 } };
    },
    // The real check, against the test server (which has the attributes).
    searchAttributeProblems,
    // No maintenance runs here (the real one is tested against Temporal in table-maintenance.test.ts).
    async waitForMaintenance() {},
    async maintenanceRunning() {
      return undefined;
    },
    async syncDefaults() {
      return hooks.defaults ?? {};
    },
    // An atomic sync's (test/unit/atomic-publish.test.ts).
    async checkAtomicPublish() {},
    async checkObjectNames(objects) {
      rec.checkedNames.push(objects);
      return objects.filter((o) => hooks.unknownObjects?.includes(o)).map((object) => ({ object, error: `Salesforce has no object named ${object}` }));
    },
    async publishObjects() {
      return [];
    },
  };
}

let env: TestWorkflowEnvironment;
let code: string;
let queues = 0;

beforeAll(async () => {
  // Bundled once for the file: each worker reuses it instead of running webpack again.
  const workflowsPath = path.join(__dirname, '..', '..', 'workflows', 'index.ts');
  [env, { code }] = await Promise.all([
    TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: temporalCliPath() }, searchAttributes: [...SEARCH_ATTRIBUTES] } }),
    bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') }),
  ]);
});

afterAll(() => env?.teardown());

/** Runs `fn` while a worker with these activities polls a task queue of the test's own (and its partition queue, as the real worker does). */
async function withWorker<T>(activities: SyncActivities, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `unit-${++queues}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: { code }, activities });
  const partitions = await Worker.create({ connection: env.nativeConnection, taskQueue: partitionTaskQueue(taskQueue), activities });
  return partitions.runUntil(worker.runUntil(fn(taskQueue)));
}

function start(taskQueue: string, workflowId: string, input: SalesforceSyncInput) {
  return env.client.workflow.start<typeof salesforceSync>('salesforceSync', { taskQueue, workflowId, args: [input] });
}

async function events(workflowId: string, runId?: string) {
  return (await env.client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
}

/** The ApplicationFailure a failed parent ended with. */
async function failureOf(handle: { result: () => Promise<unknown> }): Promise<ApplicationFailure> {
  const error = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  expect((error as WorkflowFailedError).cause).toBeInstanceOf(ApplicationFailure);
  return (error as WorkflowFailedError).cause as ApplicationFailure;
}

const progress = (id: string) => env.client.workflow.getHandle(id).query<Record<string, string>>('progress');
/** What the Web UI shows as the workflow's current details (Temporal's built-in metadata query). */
const currentDetails = async (id: string) => (await env.client.workflow.getHandle(id).query<{ currentDetails?: string }>('__temporal_workflow_metadata')).currentDetails;
const searchAttributes = (id: string) => salesforceSearchAttributes(env.client, id);
const succeeded = (object: string): ObjectOutcome => ({
  object,
  status: 'succeeded',
  result: { snapshotId: `staging/${object}#1`, rows: ROWS[object]!, deleted: 0, alreadyCommitted: false },
});

describe('salesforceSync with stubbed activities', () => {
  it('refuses a bad input at once and for good, listing every problem: no child, no activity, no workflow task retried', async () => {
    const rec = new Recorder();
    // Each of these alone failed late or never: a bad duration failed the workflow task, retried forever.
    const input = { objcts: ['Account'], objects: [], mode: 'banana', heartbeatTimeout: 'banana', concurrency: 'x', namespace: '../x', overrides: { Account: { mode: 'upsert' } } };
    const problems = [
      'objects: must be a non-empty list of Salesforce object names (it is [])',
      'mode: must be incremental or full (it is "banana")',
      'namespace: must be an Iceberg namespace: identifiers (letters, digits and underscores, not starting with a digit) joined by dots (it is "../x")',
      'overrides.Account.mode: must be replace, merge or append (it is "upsert")',
      'concurrency: must be a whole number from 1 to 100 (it is "x")',
      'heartbeatTimeout: must be a duration from 2 seconds to 30 minutes, such as "30 seconds", "1m" or a number of milliseconds (it is "banana")',
      'objcts: unknown key (did you mean objects?)',
    ];
    const failure = await withWorker(stubActivities(rec), async (taskQueue) =>
      // The timeout only bounds a regression (a workflow task failing for ever, or continuing as new for ever, ends TIMED_OUT, not FAILED).
      failureOf(
        await env.client.workflow.start('salesforceSync', {
          taskQueue,
          workflowId: 'bad-input',
          args: [input as unknown as SalesforceSyncInput],
          workflowExecutionTimeout: '1 minute',
        }),
      ),
    );
    expect(failure.message).toBe(`Invalid sync input: ${problems.join('; ')}`);
    expect(failure.type).toBe('InvalidInput');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.details).toEqual([problems]);
    expect((await env.client.workflow.getHandle('bad-input').describe()).status.name).toBe('FAILED');
    const history = (await events('bad-input')).map((e) => Object.keys(e).find((k) => k.endsWith('EventAttributes')));
    // One workflow task, completed with the failure: no command before it, no task failed and retried.
    expect(history).toEqual([
      'workflowExecutionStartedEventAttributes',
      'workflowTaskScheduledEventAttributes',
      'workflowTaskStartedEventAttributes',
      'workflowTaskCompletedEventAttributes',
      'workflowExecutionFailedEventAttributes',
    ]);
    expect(rec.calls).toEqual([]);
  });

  it('a heartbeat timeout that is no duration fails the sync at once instead of its workflow task for ever', async () => {
    const rec = new Recorder();
    const failure = await withWorker(stubActivities(rec), async (taskQueue) =>
      failureOf(
        await env.client.workflow.start('salesforceSync', {
          taskQueue,
          workflowId: 'bad-heartbeat',
          args: [{ objects: ['Account'], heartbeatTimeout: 'banana' }],
          workflowExecutionTimeout: '1 minute',
        }),
      ),
    );
    expect(failure.message).toBe(
      'Invalid sync input: heartbeatTimeout: must be a duration from 2 seconds to 30 minutes, such as "30 seconds", "1m" or a number of milliseconds (it is "banana")',
    );
    expect(failure.nonRetryable).toBe(true);
    const history = await events('bad-heartbeat');
    expect(history.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes || e.workflowTaskFailedEventAttributes)).toEqual([]);
    expect(history.at(-1)?.workflowExecutionFailedEventAttributes).toBeTruthy();
    expect(rec.calls).toEqual([]);
  });

  it('syncObject refuses a bad input before its first activity', async () => {
    const rec = new Recorder();
    const input = { object: 'Account; DROP', namespace: ['a/b'], full: 'yes' };
    const failure = await withWorker(stubActivities(rec), async (taskQueue) =>
      failureOf(
        await env.client.workflow.start<typeof syncObject>('syncObject', {
          taskQueue,
          workflowId: 'bad-object-input',
          args: [input as unknown as SyncObjectInput],
          workflowExecutionTimeout: '1 minute',
        }),
      ),
    );
    expect(failure.message).toBe(
      'Invalid syncObject input: object: must be a Salesforce object name: letters, digits and underscores, starting with a letter (it is "Account; DROP"); ' +
        'namespace[0]: must be an identifier: letters, digits and underscores, not starting with a digit (it is "a/b"); full: must be true or false (it is "yes")',
    );
    expect([failure.type, failure.nonRetryable]).toEqual(['InvalidInput', true]);
    expect((await events('bad-object-input')).filter((e) => e.activityTaskScheduledEventAttributes || e.workflowTaskFailedEventAttributes)).toEqual([]);
    expect(rec.calls).toEqual([]);
  });

  it('runs one child per object, at most `concurrency` at once, and reports in input order', async () => {
    const objects = ['Account', 'Contact', 'Opportunity', 'Lead', 'Case'];
    const gates = Object.fromEntries(objects.map((o) => [o, gate()]));
    const rec = new Recorder();
    const hooks: Hooks = {
      prepareObject: rec.enter,
      extractObject: async (o) => {
        await hold(gates[o]!);
        rec.leave(o);
      },
    };
    const result = await withWorker(stubActivities(rec, hooks), async (taskQueue) => {
      const handle = await start(taskQueue, 'fan-out', { objects, concurrency: 2 });
      const runningInParent = async () =>
        Object.entries(await progress('fan-out'))
          .filter(([, s]) => s === 'running')
          .map(([o]) => o)
          .sort();
      // Released out of input order: the result's order must come from the input, not completion.
      const steps: [release: string | undefined, thenActive: string[]][] = [
        [undefined, ['Account', 'Contact']],
        ['Contact', ['Account', 'Opportunity']],
        ['Account', ['Lead', 'Opportunity']],
        ['Lead', ['Case', 'Opportunity']],
        ['Opportunity', ['Case']],
        ['Case', []],
      ];
      let before: string[] = [];
      for (const [release, expected] of steps) {
        if (release) gates[release]!.open();
        await rec.until(() => !rec.active.has(release ?? '') && rec.active.size === expected.length);
        expect([...rec.active].sort()).toEqual(expected);
        // Once a new child runs, the parent has handled the task that started it: a third child
        // started in that same task would show here at once. (Without one its view may lag.)
        if (expected.some((o) => !before.includes(o))) expect(await runningInParent()).toEqual(expected);
        before = expected;
      }
      return handle.result();
    });
    expect(rec.maxActive).toBe(2);
    expect(result).toEqual(objects.map(succeeded));
    expect(rec.objects('prepareObject').sort()).toEqual([...objects].sort());
    const children = (await events('fan-out')).flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? []);
    expect(children.sort()).toEqual(objects.map((o) => `fan-out/${o}`).sort());
  });

  it('names each child <parent id>/<object>, and gives prepare that child run as its run id', async () => {
    const rec = new Recorder();
    await withWorker(stubActivities(rec), async (taskQueue) => (await start(taskQueue, 'nightly', { objects: ['Account', 'Contact'] })).result());
    const history = await events('nightly');
    const initiated = history.flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes ?? []);
    expect(initiated.map((a) => [a.workflowId, a.workflowType?.name])).toEqual([
      ['nightly/Account', 'syncObject'],
      ['nightly/Contact', 'syncObject'],
    ]);
    const runIds = Object.fromEntries(history.flatMap((e) => e.childWorkflowExecutionStartedEventAttributes?.workflowExecution ?? []).map((x) => [x.workflowId, x.runId]));
    for (const o of ['Account', 'Contact']) {
      const calls = rec.calls.filter((c) => c.object === o);
      expect(new Set(calls.map((c) => c.workflowId))).toEqual(new Set([`nightly/${o}`]));
      // The run id prepare gets (idempotent commits) is the child's id and run.
      expect(calls.find((c) => c.activity === 'prepareObject')?.runId).toBe(`nightly/${o}@${runIds[`nightly/${o}`]}`);
    }
  });

  it('passes reconcile to each object: the sync-wide value, unless its override says otherwise', async () => {
    const asked: Record<string, boolean | undefined> = {};
    const stubs = stubActivities(new Recorder());
    const activities: SyncActivities = { ...stubs, prepareObject: async (input) => ((asked[input.object] = input.reconcile), stubs.prepareObject(input)) };
    const objects = ['Account', 'Opportunity', 'Case'];
    await withWorker(activities, async (taskQueue) => (await start(taskQueue, 'weekly', { objects, reconcile: true, overrides: { Opportunity: { reconcile: false } } })).result());
    expect(asked).toEqual({ Account: true, Opportunity: false, Case: true });
    await withWorker(activities, async (taskQueue) => (await start(taskQueue, 'hourly', { objects, overrides: { Case: { reconcile: true } } })).result());
    expect(asked).toEqual({ Account: undefined, Opportunity: undefined, Case: true });
  });

  it("passes each object's re-read options to its prepare: the override over the sync's setting, and nothing when none is set", async () => {
    const rec = new Recorder();
    const stubs = stubActivities(rec);
    const seen: Record<string, object> = {};
    const activities: SyncActivities = { ...stubs, prepareObject: async (input) => ((seen[input.object] = input), stubs.prepareObject(input)) };
    const input: SalesforceSyncInput = {
      objects: ['Account', 'Contact', 'Opportunity'],
      backfillNewFields: false,
      overrides: { Account: { refreshFormulas: true, backfillNewFields: true }, Contact: { writeMode: 'replace' } },
    };
    await withWorker(activities, async (taskQueue) => (await start(taskQueue, 'rereads', input)).result());
    expect(seen.Account).toMatchObject({ backfillNewFields: true, refreshFormulas: true });
    expect(seen.Contact).toMatchObject({ backfillNewFields: false, writeMode: 'replace' });
    expect(seen.Contact).not.toHaveProperty('refreshFormulas');
    expect(seen.Opportunity).toMatchObject({ backfillNewFields: false });
    // Without the options, prepare's input is what it always was (kept histories replay).
    await withWorker(activities, async (taskQueue) => (await start(taskQueue, 'no-rereads', { objects: ['Lead'] })).result());
    expect(Object.keys(seen.Lead!).sort()).toEqual(['extractSmallWindow', 'full', 'namespace', 'object', 'runId']);
  });

  it("partitioned tables: passes each object's partitionBy and sortBy to its prepare, the override's over the sync's, marking the sync's as such", async () => {
    const rec = new Recorder();
    const stubs = stubActivities(rec);
    const seen: Record<string, object> = {};
    const activities: SyncActivities = { ...stubs, prepareObject: async (input) => ((seen[input.object] = input), stubs.prepareObject(input)) };
    const input: SalesforceSyncInput = {
      objects: ['Account', 'Contact', 'Opportunity'],
      partitionBy: ['month(CreatedDate)'],
      sortBy: ['AccountId'],
      overrides: { Account: { partitionBy: ['bucket(16, Id)'] }, Contact: { partitionBy: [], sortBy: ['LastName desc'] } },
    };
    await withWorker(activities, async (taskQueue) => (await start(taskQueue, 'layouts', input)).result());
    expect(seen.Account).toMatchObject({ partitionBy: ['bucket(16, Id)'], sortBy: ['AccountId'], syncWideLayout: ['sortBy'] });
    expect(seen.Contact).toMatchObject({ partitionBy: [], sortBy: ['LastName desc'] });
    expect(seen.Contact).not.toHaveProperty('syncWideLayout');
    expect(seen.Opportunity).toMatchObject({ partitionBy: ['month(CreatedDate)'], sortBy: ['AccountId'], syncWideLayout: ['partitionBy', 'sortBy'] });
  });

  it('reads the old key names (`mode` for readMode and for writeMode) as the new ones: the same children, activities and search attributes', async () => {
    // What each object's prepare was asked, by the sync's workflow id (the first part of the product's run id).
    const asked: Record<string, Record<string, PrepareObjectInput>> = {};
    const stubs = stubActivities(new Recorder());
    const activities: SyncActivities = {
      ...stubs,
      prepareObject: async (input) => (((asked[input.runId.split('/')[0]!] ??= {})[input.object] = input), stubs.prepareObject(input)),
    };
    const objects = ['Account', 'Contact'];
    const runs = {
      old: { objects, mode: 'full', overrides: { Account: { mode: 'append' } } },
      current: { objects, readMode: 'full', overrides: { Account: { writeMode: 'append' } } },
      both: { objects, mode: 'full', readMode: 'full', overrides: { Account: { mode: 'append', writeMode: 'append' } } },
    } satisfies Record<string, SalesforceSyncInput>;
    await withWorker(activities, async (taskQueue) => {
      for (const [id, input] of Object.entries(runs)) await (await start(taskQueue, id, input)).result();
    });
    // The run ids differ; everything else is the same.
    const withoutRunId = (id: string) => Object.fromEntries(Object.entries(asked[id]!).map(([o, input]) => [o, { ...input, runId: undefined }]));
    expect(withoutRunId('old')).toEqual({
      Account: { object: 'Account', namespace: ['salesforce'], writeMode: 'append', full: true },
      Contact: { object: 'Contact', namespace: ['salesforce'], full: true },
    });
    expect(withoutRunId('current')).toEqual(withoutRunId('old'));
    expect(withoutRunId('both')).toEqual(withoutRunId('old'));
    for (const id of Object.keys(runs)) {
      const children = (await events(id)).filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
      expect(children.map((e) => e.userMetadata?.summary && defaultPayloadConverter.fromPayload(e.userMetadata.summary))).toEqual([
        'Account: full append into salesforce',
        'Contact: full replace into salesforce',
      ]);
      expect(await searchAttributes(`${id}/Account`)).toMatchObject({ SalesforceSyncMode: 'full', SalesforceWriteMode: 'append' });
    }
  });

  it('refuses an input whose old and new key names disagree, naming both', async () => {
    const rec = new Recorder();
    const input = { objects: ['Account'], mode: 'full', readMode: 'incremental', overrides: { Account: { mode: 'replace', writeMode: 'merge' } } };
    const failure = await withWorker(stubActivities(rec), async (taskQueue) => failureOf(await start(taskQueue, 'old-and-new', input as unknown as SalesforceSyncInput)));
    expect(failure.message).toBe(
      'Invalid sync input: mode: is the old name of readMode, and the two differ (mode "full", readMode "incremental"): give readMode only; ' +
        'overrides.Account.mode: is the old name of writeMode, and the two differ (mode "replace", writeMode "merge"): give writeMode only',
    );
    expect([failure.type, failure.nonRetryable]).toEqual(['InvalidInput', true]);
    expect(rec.calls).toEqual([]);
  });

  it('a child started with the write mode under its old name (by an earlier parent) writes in that mode', async () => {
    const seen: PrepareObjectInput[] = [];
    const stubs = stubActivities(new Recorder());
    const activities: SyncActivities = { ...stubs, prepareObject: async (input) => (seen.push(input), stubs.prepareObject(input)) };
    const input: SyncObjectInput = { object: 'Account', namespace: ['salesforce'], mode: 'append', full: false };
    await withWorker(activities, (taskQueue) => env.client.workflow.execute<typeof syncObject>('syncObject', { taskQueue, workflowId: 'old-child', args: [input] }));
    expect(seen).toMatchObject([{ object: 'Account', writeMode: 'append', full: false }]);
    expect(seen[0]).not.toHaveProperty('mode');
  });

  it('one failing object does not stop the ones after it; the parent fails naming it', async () => {
    const rec = new Recorder();
    const failure = await withWorker(stubActivities(rec, { extractObject: failFor('Lead', 'Lead is not readable') }), async (taskQueue) =>
      failureOf(await start(taskQueue, 'one-fails', { objects: ['Account', 'Lead', 'Contact'], concurrency: 1 })),
    );
    expect(failure.message).toBe('1 of 3 objects failed: Lead: Lead is not readable');
    expect(failure.type).toBe('SyncFailed');
    expect(rec.objects('commitObject')).toEqual(['Account', 'Contact']);
    expect(rec.objects('cleanupObject')).toEqual(['Account', 'Lead', 'Contact']);
    expect(failure.details?.[0]).toEqual([
      succeeded('Account'),
      { object: 'Lead', status: 'failed', error: 'Lead is not readable', code: 'SALESFORCE_REFUSED' },
      succeeded('Contact'),
    ]);
  });

  it('checks every object name against the org before any child starts: the unknown fail at once, no child for them; the others go on', async () => {
    const rec = new Recorder();
    const failure = await withWorker(stubActivities(rec, { unknownObjects: ['Acount', 'Nothing__c'] }), async (taskQueue) =>
      failureOf(await start(taskQueue, 'unknown-names', { objects: ['Acount', 'Contact', 'Nothing__c'], concurrency: 1 })),
    );
    expect(rec.checkedNames).toEqual([['Acount', 'Contact', 'Nothing__c']]);
    expect(failure.message).toBe('2 of 3 objects failed: Acount: Salesforce has no object named Acount; Nothing__c: Salesforce has no object named Nothing__c');
    // Only Contact ran: no activity, so no child, for the unknown names.
    expect([...new Set(rec.calls.map((c) => c.object))]).toEqual(['Contact']);
    expect(failure.details?.[0]).toEqual([
      { object: 'Acount', status: 'failed', error: 'Salesforce has no object named Acount', code: 'UNKNOWN_OBJECT' },
      succeeded('Contact'),
      { object: 'Nothing__c', status: 'failed', error: 'Salesforce has no object named Nothing__c', code: 'UNKNOWN_OBJECT' },
    ]);
  });

  it('two failing objects are both named, in input order, each result with its code', async () => {
    const rec = new Recorder();
    const hooks = {
      prepareObject: failFor('Opportunity', 'Opportunity has no Id', 'SCHEMA_INCOMPATIBLE'),
      extractObject: failFor('Lead', 'Lead is not readable', 'UNKNOWN_OBJECT'),
    };
    const failure = await withWorker(stubActivities(rec, hooks), async (taskQueue) =>
      failureOf(await start(taskQueue, 'two-fail', { objects: ['Account', 'Lead', 'Contact', 'Opportunity'], concurrency: 2 })),
    );
    expect(failure.message).toBe('2 of 4 objects failed: Lead: Lead is not readable; Opportunity: Opportunity has no Id');
    expect(failure.details?.[0]).toEqual([
      succeeded('Account'),
      { object: 'Lead', status: 'failed', error: 'Lead is not readable', code: 'UNKNOWN_OBJECT' },
      succeeded('Contact'),
      { object: 'Opportunity', status: 'failed', error: 'Opportunity has no Id', code: 'SCHEMA_INCOMPATIBLE' },
    ]);
    expect(rec.objects('commitObject').sort()).toEqual(['Account', 'Contact']);
    // A failed prepare leaves nothing to clean up.
    expect(rec.objects('cleanupObject').sort()).toEqual(['Account', 'Contact', 'Lead']);
  });

  it('an object whose step keeps failing until its retry time is up keeps the code of the last failure', async () => {
    const rec = new Recorder();
    const busy = (o: string) => {
      if (o === 'Lead') throw ApplicationFailure.retryable('The catalog answered 503', 'CATALOG_UNAVAILABLE');
    };
    const failure = await withWorker(stubActivities(rec, { prepareObject: busy }), async (taskQueue) =>
      failureOf(await start(taskQueue, 'retry-time-up', { objects: ['Lead'], retryTimeout: '10 seconds' })),
    );
    expect(rec.objects('prepareObject').length).toBeGreaterThan(1);
    expect(failure.details?.[0]).toEqual([{ object: 'Lead', status: 'failed', error: 'The catalog answered 503', code: 'CATALOG_UNAVAILABLE' }]);
  });

  it("takes what its input leaves unsaid from the worker's defaults (the original pipeline's ICEBERG_NAMESPACE, SALESFORCE_RESOURCES, WRITE_DISPOSITION)", async () => {
    const seen: Record<string, object> = {};
    const run = async (id: string, input: SalesforceSyncInput, defaults: Hooks['defaults']) => {
      const stubs = stubActivities(new Recorder(), { defaults });
      const activities: SyncActivities = { ...stubs, prepareObject: async (p) => ((seen[`${id}:${p.object}`] = p), stubs.prepareObject(p)) };
      return withWorker(activities, async (taskQueue) => (await start(taskQueue, id, input)).result());
    };
    // An input without namespace and objects: the worker's.
    const outcomes = await run('defaults', {}, { namespace: 'crm.sf', objects: ['Account', 'Lead'] });
    expect(outcomes.map((o) => o.object)).toEqual(['Account', 'Lead']);
    expect(seen['defaults:Account']).toMatchObject({ namespace: ['crm', 'sf'], full: false });
    expect(seen['defaults:Account']).not.toHaveProperty('writeMode');
    // The input's own values win.
    await run('own', { objects: ['Lead'], namespace: 'mine' }, { namespace: 'crm.sf', objects: ['Account'] });
    expect(Object.keys(seen).filter((k) => k.startsWith('own:'))).toEqual(['own:Lead']);
    expect(seen['own:Lead']).toMatchObject({ namespace: ['mine'] });
    // force_replace: a full read that replaces each table, unless the input names a mode.
    await run('forced', { objects: ['Account', 'Lead'], overrides: { Lead: { mode: 'append' } } }, { namespace: 'salesforce', forceReplace: true });
    expect(seen['forced:Account']).toMatchObject({ full: true, writeMode: 'replace', namespace: ['salesforce'] });
    expect(seen['forced:Lead']).toMatchObject({ full: true, writeMode: 'append' });
    await run('incremental', { objects: ['Account'], mode: 'incremental' }, { namespace: 'salesforce', forceReplace: true });
    expect(seen['incremental:Account']).toMatchObject({ full: false });
    expect(seen['incremental:Account']).not.toHaveProperty('writeMode');
    // A worker whose namespace is not one is named, not used.
    const failure = await withWorker(stubActivities(new Recorder(), { defaults: { namespace: '1bad' } }), async (taskQueue) =>
      failureOf(await start(taskQueue, 'bad-default', {})),
    );
    expect(failure.message).toMatch(/SYNC_NAMESPACE/);
    expect(failure.message).toMatch(/namespace: must be an Iceberg namespace/);
  });

  it('continues as new once its history is long, carrying what is done (and the input in the names it was given in)', async () => {
    const rec = new Recorder();
    const objects = ['Contact', 'Lead', 'Account'];
    const { failure, firstRunId } = await withWorker(stubActivities(rec, { extractObject: failFor('Lead', 'Lead is not readable') }), async (taskQueue) => {
      // `mode`: the read mode's old name, as a Schedule may hold it.
      const handle = await start(taskQueue, 'long', { objects, concurrency: 1, maxHistoryEvents: 10, mode: 'full' });
      return { failure: await failureOf(handle), firstRunId: handle.firstExecutionRunId };
    });
    // Every run of the chain; each starts children only for what earlier runs left.
    const children: string[] = [];
    let runs = 0;
    for (let runId: string | undefined = firstRunId; runId; runs++) {
      const history = await events('long', runId);
      const started = history[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      expect(started && defaultPayloadConverter.fromPayload(started)).toMatchObject({ mode: 'full' });
      expect(started && defaultPayloadConverter.fromPayload(started)).not.toHaveProperty('readMode');
      for (const e of history) {
        const child = e.startChildWorkflowExecutionInitiatedEventAttributes?.input?.payloads?.[0];
        if (child) expect(defaultPayloadConverter.fromPayload(child)).toMatchObject({ full: true });
      }
      children.push(...history.flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? []));
      if (runs === 0) expect(history.at(-1)?.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
      runId = history.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    expect(runs).toBeGreaterThan(1);
    expect(children).toEqual(objects.map((o) => `long/${o}`));
    expect(failure.message).toBe('1 of 3 objects failed: Lead: Lead is not readable');
    expect(failure.details?.[0]).toEqual([
      succeeded('Contact'),
      { object: 'Lead', status: 'failed', error: 'Lead is not readable', code: 'SALESFORCE_REFUSED' },
      succeeded('Account'),
    ]);
  });

  it('a cancelled sync waits for the extraction to stop before cleaning up', async () => {
    const rec = new Recorder();
    const extracting = gate();
    let observedCancel = false;
    // Ends only by observing its cancellation, which reaches it in a heartbeat's response.
    const extractObject = async () => {
      const ctx = Context.current();
      const beat = setInterval(() => ctx.heartbeat(), 100);
      extracting.open();
      try {
        await ctx.cancelled; // never resolves: it rejects once the cancellation arrives
      } finally {
        observedCancel = true;
        clearInterval(beat);
      }
    };
    const failure = await withWorker(stubActivities(rec, { extractObject }), async (taskQueue) => {
      const handle = await start(taskQueue, 'cancelled', { objects: ['Account', 'Contact'], concurrency: 1, heartbeatTimeout: '2 seconds' });
      await extracting.promise;
      await handle.cancel();
      const error = await handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(WorkflowFailedError);
      return (error as WorkflowFailedError).cause;
    });
    expect(observedCancel).toBe(true);
    const child = await events('cancelled/Account');
    const canceledAt = child.findIndex((e) => e.activityTaskCanceledEventAttributes);
    const cleanupAt = stepAt(child, 'cleanupObject');
    expect(canceledAt).toBeGreaterThan(0);
    expect(cleanupAt).toBeGreaterThan(canceledAt);
    expect(rec.objects('cleanupObject')).toEqual(['Account']);
    expect(rec.objects('commitObject')).toEqual([]);
    expect((await env.client.workflow.getHandle('cancelled/Account').describe()).status.name).toBe('CANCELLED');
    // The parent ends cancelled, not failed, and starts no object after the cancellation.
    expect((await env.client.workflow.getHandle('cancelled').describe()).status.name).toBe('CANCELLED');
    expect(failure).toBeInstanceOf(CancelledFailure);
    expect(rec.objects('prepareObject')).toEqual(['Account']);
    expect((await events('cancelled')).filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toHaveLength(1);
  });

  it('the progress query reports each object while a child is in an activity', async () => {
    const rec = new Recorder();
    const [extracting, extract, committing, commit] = [gate(), gate(), gate(), gate()];
    // Account's child waits in extract, then Contact's in commit.
    const hooks: Hooks = {
      extractObject: (o) => (o === 'Account' ? (extracting.open(), hold(extract)) : undefined),
      commitObject: (o) => (o === 'Contact' ? (committing.open(), hold(commit)) : undefined),
    };
    await withWorker(stubActivities(rec, hooks), async (taskQueue) => {
      const handle = await start(taskQueue, 'watched', { objects: ['Account', 'Contact'], concurrency: 1 });
      await extracting.promise;
      expect(await progress('watched')).toEqual({ Account: 'running', Contact: 'waiting' });
      expect(await progress('watched/Account')).toEqual({ object: 'Account', stage: 'extracting' });
      extract.open();
      await committing.promise;
      expect(await progress('watched')).toEqual({ Account: 'succeeded: 300 rows', Contact: 'running' });
      expect(await progress('watched/Contact')).toEqual({ object: 'Contact', stage: 'committing' });
      commit.open();
      await handle.result();
      expect(await progress('watched')).toEqual({ Account: 'succeeded: 300 rows', Contact: 'succeeded: 120 rows' });
    });
  });

  it("names each child and its activities by object in the Web UI, and sets the child's search attributes (rows once committed)", async () => {
    const rec = new Recorder();
    const failure = await withWorker(stubActivities(rec, { extractObject: failFor('Lead', 'Lead is not readable') }), async (taskQueue) => {
      const failed = await failureOf(await start(taskQueue, 'named', { objects: ['Account', 'Lead'], namespace: 'crm.raw', overrides: { Account: { reconcile: true } } }));
      // Queried while a worker polls: a query runs the workflow code.
      // A reconciling sync commits what its extraction and its reconcile step staged (the stub names the snapshot by them).
      expect(await currentDetails('named/Account')).toBe(
        '**Account** → `crm.raw.account`\n\nstage: done\n\ncommitted 300 rows in snapshot staging/Account,staging/Account.reconcile#1',
      );
      expect(await currentDetails('named/Lead')).toBe('**Lead** → `crm.raw.lead`\n\nstage: failed: Lead is not readable');
      expect(await currentDetails('named')).toBe('- **Account**: succeeded: 300 rows\n- **Lead**: failed: Lead is not readable');
      return failed;
    });
    expect(failure.message).toBe('1 of 2 objects failed: Lead: Lead is not readable');
    const account = env.client.workflow.getHandle('named/Account');
    expect(await (await account.describe()).staticSummary()).toBe('Account: incremental merge into crm.raw');
    expect(await (await account.describe()).staticDetails()).toBe(
      'Salesforce object **Account** into Iceberg namespace `crm.raw`\n- read: incremental (since the cursor stored in the table)\n- write: merge\n- reconcile (remove rows Salesforce no longer has)',
    );
    expect(await (await env.client.workflow.getHandle('named/Lead').describe()).staticSummary()).toBe('Lead: incremental replace into crm.raw');
    const summaries = (await events('named/Account')).flatMap((e) =>
      e.activityTaskScheduledEventAttributes && e.userMetadata?.summary ? [defaultPayloadConverter.fromPayload(e.userMetadata.summary)] : [],
    );
    expect(summaries).toEqual(['prepare Account', 'plan Account', 'extract Account', 'reconcile Account', 'commit Account']);
    // The look at the table's maintenance (none runs: no wait scheduled) and the cleanup are local activities.
    expect(historySteps(await events('named/Account')).filter((s) => s.local)).toMatchObject([{ activity: 'maintenanceRunning' }, { activity: 'cleanupObject' }]);
    expect(await searchAttributes('named/Account')).toEqual({
      SalesforceObject: 'Account',
      SalesforceSyncMode: 'incremental',
      SalesforceWriteMode: 'merge',
      SalesforceNamespace: 'crm.raw',
      SalesforceRows: 300,
    });
    // A failed object has no rows.
    expect(await searchAttributes('named/Lead')).toEqual({
      SalesforceObject: 'Lead',
      SalesforceSyncMode: 'incremental',
      SalesforceWriteMode: 'replace',
      SalesforceNamespace: 'crm.raw',
    });
    // Listed by them (visibility is written after the fact: polled).
    const failedLeads = await until('the failed Lead sync to be listed', async () => {
      const ids: string[] = [];
      for await (const w of env.client.workflow.list({ query: "SalesforceObject='Lead' AND SalesforceNamespace='crm.raw' AND ExecutionStatus='Failed'" })) ids.push(w.workflowId);
      return ids.length > 0 ? ids : undefined;
    });
    expect(failedLeads).toEqual(['named/Lead']);
  });

  it('an object whose prepare wrote its few rows itself has no plan or extract step: the commit takes what prepare staged', async () => {
    const rec = new Recorder();
    const stubs = stubActivities(rec);
    const asked: Record<string, boolean | undefined> = {};
    const committed: Record<string, unknown> = {};
    const timings = { readS: 0, readCpuS: 0, buildS: 0, encodeS: 0, uploadS: 0 };
    const activities: SyncActivities = {
      ...stubs,
      async prepareObject(input) {
        asked[input.object] = input.extractSmallWindow;
        const p = await stubs.prepareObject(input);
        if (input.object !== 'Account') return p;
        return { ...p, readApi: { api: 'rest', reason: 'few rows' }, extracted: { staging: 'staging/Account.by-prepare', rows: 3, files: 1, bytes: 1, deleted: 0, timings } };
      },
      async commitObject(p, staging) {
        committed[p.object] = p.extracted;
        return stubs.commitObject(p, staging);
      },
    };
    await withWorker(activities, async (taskQueue) => {
      await (await start(taskQueue, 'few-rows', { objects: ['Account', 'Contact'] })).result();
      // Queried while a worker polls: a query runs the workflow code.
      expect(await currentDetails('few-rows/Account')).toMatch(/stage: done\n\ncommitted 300 rows/);
    });
    // Every prepare is asked to; only Account's did (the stub's Contact read stays an extract step).
    expect(asked).toEqual({ Account: true, Contact: true });
    expect(rec.objects('extractObject')).toEqual(['Contact']);
    expect(rec.stagings).toContain('staging/Account.by-prepare');
    const summaries = (await events('few-rows/Account')).flatMap((e) =>
      e.activityTaskScheduledEventAttributes && e.userMetadata?.summary ? [defaultPayloadConverter.fromPayload(e.userMetadata.summary)] : [],
    );
    expect(summaries).toEqual(['prepare Account', 'commit Account']);
    // The extraction's result is not carried into the later steps' input.
    expect(committed).toEqual({ Account: undefined, Contact: undefined });
  });

  it('runs without search attributes when the namespace lacks them or the worker cannot tell', async () => {
    const stubs = stubActivities(new Recorder());
    const lacking: SyncActivities = { ...stubs, searchAttributeProblems: async () => ['SalesforceRows is missing'] };
    const unknown: SyncActivities = { ...stubs, searchAttributeProblems: async () => Promise.reject(ApplicationFailure.nonRetryable('no operator service')) };
    for (const [id, activities] of [
      ['lacking', lacking],
      ['unknown', unknown],
    ] as const) {
      const result = await withWorker(activities, async (taskQueue) => (await start(taskQueue, id, { objects: ['Account'] })).result());
      expect(result).toEqual([succeeded('Account')]);
      expect(await searchAttributes(`${id}/Account`)).toEqual({});
      // Still named by its object.
      expect(await (await env.client.workflow.getHandle(`${id}/Account`).describe()).staticSummary()).toBe('Account: incremental merge into salesforce');
    }
  });

  it("shows each object's stage as the workflows' current details while it runs", async () => {
    const rec = new Recorder();
    const [extracting, extract] = [gate(), gate()];
    const hooks: Hooks = { extractObject: () => (extracting.open(), hold(extract)) };
    await withWorker(stubActivities(rec, hooks), async (taskQueue) => {
      const handle = await start(taskQueue, 'detailed', { objects: ['Account', 'Contact'], concurrency: 1 });
      await extracting.promise;
      expect(await currentDetails('detailed')).toBe('- **Account**: running\n- **Contact**: waiting');
      expect(await currentDetails('detailed/Account')).toBe('**Account** → `salesforce.account`\n\nstage: extracting\n\nrows and files so far: in the extractObject heartbeat');
      // What an extraction tells at a checkpoint (the activity's signal, sent here by the test).
      await env.client.workflow.getHandle('detailed/Account').signal(extractProgressSignal, { rows: 120, files: 2 });
      expect(
        await until('the checkpoint to show', async () => ((await currentDetails('detailed/Account'))?.includes('120 rows') ? currentDetails('detailed/Account') : undefined)),
      ).toBe('**Account** → `salesforce.account`\n\nstage: extracting\n\n120 rows in 2 files at the last checkpoint (the extractObject heartbeat has the live figures)');
      extract.open();
      await handle.result();
      expect(await currentDetails('detailed')).toBe('- **Account**: succeeded: 300 rows\n- **Contact**: succeeded: 120 rows');
    });
  });
});

describe('syncObject with a partitioned extraction (stubbed activities)', () => {
  it('runs the planned partitions at most `inFlight` at once and commits the plan and every partition as one', async () => {
    const rec = new Recorder();
    const gates = Array.from({ length: 5 }, () => gate());
    let running = 0;
    let most = 0;
    const hooks: Hooks = {
      partitions: { Account: 5 },
      partition: async (_o, i) => {
        most = Math.max(most, ++running);
        try {
          await hold(gates[i]!);
        } finally {
          running--;
        }
      },
    };
    let queue = '';
    const result = await withWorker(stubActivities(rec, hooks), async (taskQueue) => {
      queue = taskQueue;
      const handle = await start(taskQueue, 'partitioned', { objects: ['Account'] });
      // Partition i is let go once i + 2 have started: never more than two at once.
      for (let i = 0; i < 5; i++) {
        await rec.until(() => rec.objects('extractPartition').length >= Math.min(5, i + 2));
        gates[i]!.open();
      }
      return handle.result();
    });
    expect(most).toBe(2);
    expect(rec.objects('extractPartition')).toHaveLength(5);
    expect(rec.objects('extractObject')).toEqual([]);
    expect(rec.stagings).toEqual([['staging/Account.plan', ...[0, 1, 2, 3, 4].map((i) => `staging/Account.part-${i}`)]]);
    expect(rec.cleanedJobs).toEqual(['job-Account']);
    expect(result[0]).toMatchObject({ object: 'Account', status: 'succeeded' });
    // Each partition is its own activity in the child's history, named by its object and number.
    const scheduled = (await events('partitioned/Account')).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'extractPartition');
    expect(scheduled.map((e) => e.userMetadata?.summary?.data && Buffer.from(e.userMetadata.summary.data).toString())).toEqual(
      [1, 2, 3, 4, 5].map((n) => `"extract Account partition ${n}/5"`),
    );
    // On the partition queue, where each worker takes at most WORKER_MAX_PARTITIONS.
    expect(new Set(scheduled.map((e) => e.activityTaskScheduledEventAttributes?.taskQueue?.name))).toEqual(new Set([`${queue}-partitions`]));
  });

  it('a partition that fails for good stops the others, waits for them, then cleans up; the object fails, nothing is committed', async () => {
    const rec = new Recorder();
    const started = gate();
    let stopped = 0;
    const hooks: Hooks = {
      partitions: { Account: 4 },
      partition: async (_o, i) => {
        if (i === 1) {
          await started.promise;
          throw ApplicationFailure.nonRetryable('partition 1 cannot be read', 'SALESFORCE_REFUSED');
        }
        // Ends only by observing its cancellation (reaching it in a heartbeat's response).
        const ctx = Context.current();
        const beat = setInterval(() => ctx.heartbeat(), 100);
        started.open();
        try {
          await ctx.cancelled;
        } finally {
          clearInterval(beat);
          stopped++;
        }
      },
    };
    const failure = await withWorker(stubActivities(rec, hooks), async (taskQueue) =>
      failureOf(await start(taskQueue, 'partition-fails', { objects: ['Account'], heartbeatTimeout: '2 seconds' })),
    );
    expect(failure.message).toBe('1 of 1 objects failed: Account: partition 1 cannot be read');
    expect(stopped).toBe(1);
    // Partitions 2 and 3 never started: the failure came first.
    expect(rec.objects('extractPartition')).toHaveLength(2);
    expect(rec.objects('commitObject')).toEqual([]);
    const history = await events('partition-fails/Account');
    const cancelledAt = history.findIndex((e) => e.activityTaskCanceledEventAttributes);
    const cleanupAt = stepAt(history, 'cleanupObject');
    expect(cancelledAt).toBeGreaterThan(0);
    expect(cleanupAt).toBeGreaterThan(cancelledAt);
    expect(rec.cleanedJobs).toEqual(['job-Account']);
  });

  it('a reconciling merge sync is partitioned too: its reconcile step takes the plan and every partition, and the commit takes what it staged with them', async () => {
    const rec = new Recorder();
    const hooks: Hooks = { partitions: { Account: 3, Opportunity: 2 } };
    const overrides = { Opportunity: { reconcile: false }, Lead: { mode: 'merge' as const } };
    const result = await withWorker(stubActivities(rec, hooks), async (taskQueue) =>
      (await start(taskQueue, 'reconcile-partitioned', { objects: ['Account', 'Opportunity', 'Lead'], reconcile: true, overrides })).result(),
    );
    expect(result.map((o) => o.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const parts = (o: string, n: number) => [`staging/${o}.plan`, ...Array.from({ length: n }, (_, i) => `staging/${o}.part-${i}`)];
    // Account: planned as a reconciling sync, partitioned, then reconciled over all it staged.
    expect(rec.asked.filter((a) => a.object === 'Account')).toEqual([
      { activity: 'planObject', object: 'Account', how: { reconcileStep: true } },
      { activity: 'reconcileObject', object: 'Account', staging: parts('Account', 3) },
    ]);
    // Lead (not partitioned): one extraction that leaves the reconciliation to the step.
    expect(rec.asked.filter((a) => a.object === 'Lead')).toEqual([
      { activity: 'planObject', object: 'Lead', how: { reconcileStep: true } },
      { activity: 'extractObject', object: 'Lead', how: { reconcileStep: true } },
      { activity: 'reconcileObject', object: 'Lead', staging: 'staging/Lead' },
    ]);
    // Opportunity does not reconcile: asked exactly what it was asked before the step existed.
    expect(rec.asked.filter((a) => a.object === 'Opportunity')).toEqual([{ activity: 'planObject', object: 'Opportunity', how: undefined }]);
    expect(rec.objects('reconcileObject').sort()).toEqual(['Account', 'Lead']);
    expect(new Set(rec.stagings.map((s) => JSON.stringify(s)))).toEqual(
      new Set([[...parts('Account', 3), 'staging/Account.reconcile'], ['staging/Lead', 'staging/Lead.reconcile'], parts('Opportunity', 2)].map((s) => JSON.stringify(s))),
    );
    // In the child's history: reconcile after the last partition, before the commit; a marker
    // tells replays of the sync which way it went.
    const history = await events('reconcile-partitioned/Account');
    const types = historySteps(history).map((s) => s.activity);
    expect(types.slice(-3)).toEqual(['reconcileObject', 'commitObject', 'cleanupObject']);
    expect(types.filter((t) => t === 'extractPartition')).toHaveLength(3);
    const patches = (h: typeof history) =>
      h.flatMap((e) => Object.values(e.markerRecordedEventAttributes?.details ?? {}).flatMap((p) => (p.payloads ?? []).map((x) => Buffer.from(x.data ?? []).toString())));
    expect(patches(history).some((p) => p.includes('reconcile-step'))).toBe(true);
    expect(patches(await events('reconcile-partitioned/Opportunity')).some((p) => p.includes('reconcile-step'))).toBe(false);
  });
});

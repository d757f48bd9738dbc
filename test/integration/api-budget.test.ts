import { WorkflowFailedError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { beforeEach, describe, expect, it } from 'vitest';
import { connectIceberg } from '../../src/iceberg/connect';
import { inspectTables } from '../../src/destinations/iceberg-inspect';
import { loadTable } from '../../src/iceberg/table';
import { BUDGET_ENV } from '../../src/salesforce/budget';
import type { ObjectOutcome } from '../../workflows';
import { uniqueName, until } from '../helpers/stack';
import { syncHarness } from '../helpers/sync-harness';
import { SalesforceSimulator, type SimUsage } from '../../src/salesforce-sim/server';

/*
 * The Salesforce API budget through Temporal, against the real stack: a sync over budget waits and
 * says why (then goes on once the org's usage falls), or stops at once; a sync records in its
 * snapshot what it spent, as the simulator counted it. The simulator's limits are changed by the
 * test when it has seen what it waits for, never on a timer.
 */
const sim = new SalesforceSimulator({ rowCounts: { Account: 3_000, Contact: 20 } });
// Re-reads /limits every second while waiting, so the test need not wait the default 5 minutes;
// a second worker stops instead of waiting.
const harness = syncHarness({ name: 'budget', sim, env: { [BUDGET_ENV.checkSeconds]: '1' }, workers: { stop: { [BUDGET_ENV.action]: 'stop' } } });
const { settings, taskQueue } = harness;
const { catalog, storeFor } = connectIceberg(settings);
const freshNamespace = () => harness.namespace();

// Each test starts with an org far from its limits.
beforeEach(() =>
  sim.setLimits({
    DailyApiRequests: { Max: 15000, Remaining: 15000 },
    DailyBulkV2QueryJobs: { Max: 10000, Remaining: 10000 },
    DailyBulkV2QueryFileStorageMB: { Max: 1048576, Remaining: 1048576 },
  }),
);

const spent = (before: SimUsage) => {
  const after = sim.usage;
  return { apiCalls: after.apiRequests - before.apiRequests, bulkJobs: after.bulkJobs - before.bulkJobs, resultBytes: after.resultBytes - before.resultBytes };
};

/** What a one-object sync spent on its object: all but the sync's check of its object names (one describe-global call). */
const objectSpent = (before: SimUsage) => {
  const all = spent(before);
  return { ...all, apiCalls: all.apiCalls - 1 };
};

async function snapshotSummary(namespace: string, table: string): Promise<Record<string, string>> {
  const loaded = await loadTable({ catalog, namespace: [namespace], name: table, storeFor });
  return loaded.currentSnapshot()!.summary as Record<string, string>;
}

describe('the Salesforce API budget (real stack)', () => {
  it('wait: an org over budget holds the extraction, the heartbeat and both progress queries say why, and it finishes once usage falls', async () => {
    const namespace = freshNamespace();
    // 13,000 of 15,000 requests used by the org's other clients: over the default 80 %.
    sim.setLimits({ DailyApiRequests: { Remaining: 2000 } });
    const before = sim.usage;
    const workflowId = uniqueName('waiting');
    const handle = await harness.client.workflow.start('salesforceSync', { taskQueue, workflowId, args: [{ objects: ['Contact'], namespace }] });
    const child = harness.client.workflow.getHandle(`${workflowId}/Contact`);
    const progress = await until('the child to say it waits for the budget', async () => {
      const p = await child.query<Record<string, string>>('progress').catch(() => undefined);
      return p?.waiting ? p : undefined;
    });
    expect(progress).toMatchObject({
      object: 'Contact',
      stage: 'extracting',
      waiting: expect.stringMatching(
        /^waiting for the Salesforce API budget: DailyApiRequests 13,0\d\d of 15,000 used \(budget 80 %\), a rolling 24-hour limit; checking again at \d\d:\d\d:\d\dZ$/,
      ),
    });
    const parent = await until('the parent to say the object waits', async () => {
      const p = await handle.query<Record<string, string>>('progress');
      return p.Contact?.startsWith('running (waiting') ? p : undefined;
    });
    expect(parent.Contact).toMatch(/^running \(waiting for the Salesforce API budget: DailyApiRequests .* a rolling 24-hour limit; checking again at .*\)$/);
    const beat = await until('a heartbeat saying the extraction waits', async () => {
      const payload = (await child.describe()).raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0];
      return payload ? defaultPayloadConverter.fromPayload<{ waiting?: string }>(payload).waiting : undefined;
    });
    expect(beat).toMatch(/^waiting for the Salesforce API budget: DailyApiRequests/);
    // Nothing was read meanwhile.
    expect(spent(before).bulkJobs).toBe(0);
    // The rolling window moves on: the org's usage falls under the budget.
    sim.setLimits({ DailyApiRequests: { Remaining: 14000 } });
    const outcomes = (await handle.result()) as ObjectOutcome[];
    expect(outcomes).toMatchObject([{ object: 'Contact', status: 'succeeded', result: { rows: 20 } }]);
    expect(await child.query('progress')).toEqual({ object: 'Contact', stage: 'done' });
    expect(await handle.query('progress')).toEqual({ Contact: 'succeeded: 20 rows' });
  });

  it('stop: the object fails at once, non-retryably, naming the limit, its usage, the budget and the setting; nothing is committed', async () => {
    const namespace = freshNamespace();
    sim.setLimits({ DailyBulkV2QueryJobs: { Remaining: 500 } });
    const before = sim.usage;
    const workflowId = uniqueName('stopping');
    const error = await harness.client.workflow.execute('salesforceSync', { taskQueue: `${taskQueue}-stop`, workflowId, args: [{ objects: ['Account'], namespace }] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause?.message).toMatch(
      /^1 of 1 objects failed: Account: The Salesforce API budget is used up: DailyBulkV2QueryJobs 9,500 of 10,000 jobs used \(budget 80 %\), a rolling 24-hour limit\. .*SOURCES__SALESFORCE__API_BUDGET_ACTION=stop.*SOURCES__SALESFORCE__API_BUDGET_PERCENT/,
    );
    const history = await harness.client.workflow.getHandle(`${workflowId}/Account`).fetchHistory();
    const attempts = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt);
    expect(attempts.every((a) => a === 1)).toBe(true);
    expect(spent(before).bulkJobs).toBe(0);
    // The table prepare created is taken back: the catalog is as it was.
    expect(await catalog.tableExists([namespace], 'account')).toBe(false);
  });

  it("a sync's snapshot records the API calls, Bulk jobs and result bytes it spent, as the simulator counted them; npm run tables shows them", async () => {
    const namespace = freshNamespace();
    const before = sim.usage;
    const outcomes = (await harness.client.workflow.execute('salesforceSync', {
      taskQueue,
      workflowId: uniqueName('counted'),
      args: [{ objects: ['Account'], namespace }],
    })) as ObjectOutcome[];
    expect(outcomes).toMatchObject([{ object: 'Account', status: 'succeeded', result: { rows: 3_000 } }]);
    // The object's own calls: the sync's one check of its object names (describe global) is the sync's, not the object's.
    const counted = objectSpent(before);
    expect(counted.bulkJobs).toBe(1);
    expect(counted.resultBytes).toBeGreaterThan(3_000 * 100);
    const summary = await snapshotSummary(namespace, 'account');
    expect({ apiCalls: summary['salesforce.api-calls'], bulkJobs: summary['salesforce.bulk-jobs'], resultBytes: summary['salesforce.result-bytes'] }).toEqual({
      apiCalls: String(counted.apiCalls),
      bulkJobs: '1',
      resultBytes: String(counted.resultBytes),
    });
    const [report] = await inspectTables({ catalog, namespace: [namespace], storeFor });
    expect(report?.salesforceUsage).toEqual(counted);
  });

  it('the counts of a failed extraction attempt are added to those of the retry that succeeds', async () => {
    const namespace = freshNamespace();
    // The first attempt's result page fails more often than the client retries: Temporal retries
    // the extraction, which reads the plan's Bulk job again (it still lives): one job.
    sim.addFault({ kind: 'unavailable', path: '/results', count: 6 });
    const before = sim.usage;
    const workflowId = uniqueName('retried');
    const outcomes = (await harness.client.workflow.execute('salesforceSync', { taskQueue, workflowId, args: [{ objects: ['Contact'], namespace }] })) as ObjectOutcome[];
    expect(outcomes).toMatchObject([{ object: 'Contact', status: 'succeeded', result: { rows: 20 } }]);
    const history = await harness.client.workflow.getHandle(`${workflowId}/Contact`).fetchHistory();
    expect((history.events ?? []).some((e) => e.activityTaskStartedEventAttributes?.attempt === 2)).toBe(true);
    const counted = objectSpent(before);
    expect(counted.bulkJobs).toBe(1);
    const summary = await snapshotSummary(namespace, 'contact');
    expect([summary['salesforce.api-calls'], summary['salesforce.bulk-jobs'], summary['salesforce.result-bytes']]).toEqual([
      String(counted.apiCalls),
      '1',
      String(counted.resultBytes),
    ]);
  });
});

import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { ExtractHeartbeat } from '../../activities';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectIceberg } from '../../src/iceberg/connect';
import { loadTable } from '../../src/iceberg/table';
import type { ObjectOutcome } from '../../workflows';
import { temporalConnection } from '../../worker/temporal-connection';
import { WorkerProcess } from '../../scripts/lib/worker-process';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';
import { catalogTargets } from '../helpers/catalogs';
import { readersAt, type ReadResult } from '../helpers/readers';
import { stackSettings, uniqueName, until } from '../helpers/stack';
import { leftBehind, NOTHING_LEFT, runLeftovers } from '../helpers/table-files';

/*
 * One large object across three worker processes: its Bulk job's 20 result pages (1,000 rows each)
 * are split into 10 partitions of two pages, 6 in flight for the object, at most 2 partitions per
 * worker (WORKER_MAX_PARTITIONS, on the partition task queue). The second page of the first six partitions is held by the simulator, so all six slots of
 * the three workers are taken, each partition checkpointed after its first page, before anything
 * moves: each worker holds two partitions (an event, not a race). Then one worker is killed
 * (SIGKILL); its two partitions are retried alone on the other two, read on from their
 * checkpoints, and the two finish the object.
 */
const ROWS = 20_000;
const settings = stackSettings();
const nessie = catalogTargets().find((t) => t.name === 'nessie')!;
const sim = new SalesforceSimulator({ rowCounts: { Account: ROWS }, resultPageRecords: 1_000 });
const namespace = uniqueName('parts');
const taskQueue = uniqueName('parts');
const { catalog, storeFor } = connectIceberg(settings);
let client: Client;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  await sim.start();
  client = new Client({ connection: await Connection.connect(temporalConnection(settings).options) });
});

afterAll(async () => {
  sim.clearFaults();
  await Promise.all(workers.splice(0).map((w) => w.kill('SIGTERM')));
  await sim.stop();
  await readersAt({ ICEBERG_CATALOG_URI: nessie.settings.ICEBERG_CATALOG_URI }, 'drop', namespace).catch(() => undefined);
});

function startWorker(): WorkerProcess {
  const w = new WorkerProcess({
    ...settings,
    ...sim.settingsEnv(),
    TEMPORAL_TASK_QUEUE: taskQueue,
    SYNC_LAG_MS: '0',
    SYNC_CHECKPOINT_SECONDS: '0',
    SALESFORCE_READ_API: 'bulk',
    // One page at a time per partition: a held page stops its partition, and only it.
    SALESFORCE_BULK_PAGES_IN_FLIGHT: '1',
    SYNC_PARTITION_MIN_PAGES: '4',
    SYNC_PARTITION_PAGES: '2',
    SYNC_PARTITIONS_IN_FLIGHT: '6',
    WORKER_MAX_PARTITIONS: '2',
    WORKER_PREFLIGHT: 'false',
  });
  workers.push(w);
  return w;
}

/** A worker's Temporal identity (the SDK's default: pid@host). */
const identityOf = (w: WorkerProcess) => `${w.child.pid}@`;
const workerName = (identity: string | null | undefined, all: WorkerProcess[]) => {
  const i = all.findIndex((w) => identity?.startsWith(identityOf(w)));
  return i >= 0 ? `worker ${i + 1}` : `other (${identity})`;
};

/** A result page's locator in the simulator (its first row's offset, base64url). */
const pageLocator = (page: number) => Buffer.from(String(page * 1_000)).toString('base64url');

/** The child's running partitions: worker, attempt and last heartbeat. */
async function pendingPartitions(child: string) {
  const pending = (await client.workflow.getHandle(child).describe()).raw.pendingActivities ?? [];
  return pending
    .filter((a) => a.activityType?.name === 'extractPartition')
    .map((a) => {
      const payload = a.heartbeatDetails?.payloads?.[0];
      return {
        activityId: a.activityId ?? '',
        attempt: a.attempt ?? 0,
        worker: a.lastWorkerIdentity || undefined,
        details: payload ? defaultPayloadConverter.fromPayload<ExtractHeartbeat>(payload) : undefined,
      };
    });
}

function sourceIds(): string[] {
  return [...sim.org.records(sim.org.object('Account')!, false)].map((r) => String(r.Id)).sort();
}

describe('one object across many workers (partitioned Bulk extraction)', () => {
  it('three workers each extract partitions of one object; one is killed; the other two finish; one snapshot, nothing doubled, nothing left', async () => {
    const three = [startWorker(), startWorker(), startWorker()];
    await Promise.all(three.map((w) => w.ready()));
    // The second page of each of the first six partitions is held: each has read (and checkpointed) its first.
    const secondPage = (partition: number) => ({ path: '/results', object: 'Account', search: `locator=${pageLocator(2 * partition + 1)}&` });
    const held = [0, 1, 2, 3, 4, 5].map((i) => sim.hold(secondPage(i)));
    const jobsBefore = sim.stats().bulkJobs;
    const workflowId = uniqueName('parts-sync');
    const handle = await client.workflow.start('salesforceSync', {
      taskQueue,
      workflowId,
      args: [{ objects: ['Account'], namespace, readMode: 'full', heartbeatTimeout: '5 seconds' }],
    });
    const child = `${workflowId}/Account`;
    await Promise.all(held.map((h) => h.arrived));

    // Six partitions running, two on each worker, each with its first page checkpointed.
    const running = await until('six partitions running, each checkpointed after its first page', async () => {
      const parts = (await pendingPartitions(child)).filter((a) => a.worker && a.details?.checkpoint?.pages === 1);
      return parts.length === 6 ? parts : undefined;
    });
    const runningPer = new Map<string, number>();
    for (const a of running) runningPer.set(workerName(a.worker, three), (runningPer.get(workerName(a.worker, three)) ?? 0) + 1);
    console.log(`extractPartition activities running per worker before the kill: ${JSON.stringify(Object.fromEntries([...runningPer].sort()))}`);
    expect(Object.fromEntries(runningPer)).toEqual({ 'worker 1': 2, 'worker 2': 2, 'worker 3': 2 });
    const killed = running.filter((a) => a.worker?.startsWith(identityOf(three[0]!)));
    const killedIds = new Set(killed.map((a) => a.activityId));

    // Worker 1 dies mid-sync; its held requests are dropped with it. Its partitions' retries are
    // held at the same page, so their first heartbeat can be read before they finish.
    const retries = killed.map((a) => sim.hold(secondPage(a.details!.partition!)));
    await three[0]!.kill('SIGKILL');
    for (const h of held) h.release();
    await Promise.all(retries.map((h) => h.arrived));
    const resumed = await until('the retried partitions to report where they resumed', async () => {
      const parts = (await pendingPartitions(child)).filter((a) => killedIds.has(a.activityId) && a.attempt >= 2 && a.details?.resumedFrom !== undefined);
      return parts.length === killed.length ? parts : undefined;
    });
    // Each read on after its checkpoint (its first page, 1,000 rows), on another worker.
    expect(resumed.map((a) => a.details!.resumedFrom)).toEqual(killed.map(() => 1_000));
    expect(resumed.every((a) => !a.worker?.startsWith(identityOf(three[0]!)))).toBe(true);
    for (const h of retries) h.release();

    const outcomes = (await handle.result()) as ObjectOutcome[];
    expect(outcomes[0]).toMatchObject({ object: 'Account', status: 'succeeded', result: { rows: ROWS, alreadyCommitted: false } });

    // Who did what: every activity attempt that ended, by the worker that ran it (history), and
    // the attempts worker 1 was running when it died.
    const events = (await client.workflow.getHandle(child).fetchHistory()).events ?? [];
    const scheduled = new Map(events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes!]));
    const started = events
      .filter((e) => e.activityTaskStartedEventAttributes)
      .map((e) => ({ ...e.activityTaskStartedEventAttributes!, of: scheduled.get(String(e.activityTaskStartedEventAttributes!.scheduledEventId))! }));
    const counts: Record<string, Record<string, number>> = {};
    for (const s of started) {
      const who = workerName(s.identity, three);
      const type = s.of.activityType!.name!;
      counts[who] = { ...counts[who], [type]: (counts[who]?.[type] ?? 0) + 1 };
    }
    counts['worker 1 (killed)'] = { extractPartition: killedIds.size };
    console.log(`activities completed per worker (history), and those worker 1 was running when killed:\n${JSON.stringify(counts, null, 2)}`);
    const partitions = started.filter((s) => s.of.activityType?.name === 'extractPartition');
    expect(partitions).toHaveLength(10);
    // Only the killed worker's partitions were retried, each alone; the rest ran once.
    const retried = partitions.filter((s) => (s.attempt ?? 1) > 1).map((s) => s.of.activityId);
    expect(new Set(retried)).toEqual(killedIds);
    expect(partitions.filter((s) => workerName(s.identity, three) === 'worker 1')).toEqual([]);
    expect(Object.keys(counts).filter((w) => counts[w]!.extractPartition)).toEqual(expect.arrayContaining(['worker 2', 'worker 3', 'worker 1 (killed)']));
    // One Bulk job for the whole object.
    expect(sim.stats().bulkJobs - jobsBefore).toBe(1);

    // The table equals the source: every Id once.
    const read = await readersAt<ReadResult>({ ICEBERG_CATALOG_URI: nessie.settings.ICEBERG_CATALOG_URI }, 'read', '--reader', 'pyiceberg', namespace, 'account');
    const ids = read.rows.map((row) => String(row.id)).sort();
    expect(ids).toHaveLength(ROWS);
    expect(new Set(ids).size).toBe(ROWS);
    expect(ids).toEqual(sourceIds());

    // One snapshot of the run, and nothing of it left behind.
    const t = await loadTable({ catalog, namespace: [namespace], name: 'account', storeFor });
    const { runId } = await client.workflow.getHandle(child).describe();
    const left = await runLeftovers(t, nessie, `${child}@${runId}`);
    expect(leftBehind(left)).toEqual(NOTHING_LEFT);
    expect(left.commitsOfRun).toBe(1);
    expect(left.snapshotsOfRun).toBe(1);
    // Every partition's files are in the snapshot (at least one per partition).
    expect(left.dataFiles).toBeGreaterThanOrEqual(10);
    // The job was deleted by cleanup.
    expect(sim.jobs.size).toBe(0);
    // Three worker processes, a heartbeat timeout and a retry: more than the default limit on a busy machine.
  }, 300_000);
});

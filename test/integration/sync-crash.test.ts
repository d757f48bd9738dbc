import { stepAt } from '../helpers/history-steps';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { temporalConnection } from '../../worker/temporal-connection';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectIceberg } from '../../src/iceberg/connect';
import { loadTable } from '../../src/iceberg/table';
import { salesforceEnv as E } from '../../src/salesforce/settings';
import { splitS3Uri } from '../../src/storage/object-store';
import type { ExtractHeartbeat } from '../../activities';
import type { ObjectOutcome, SalesforceSyncInput } from '../../workflows';
import { startCatalogProxy, type ProxiedRequest } from '../helpers/catalog-proxy';
import { ReaderSession, readersAt, type ReadResult } from '../helpers/readers';
import { catalogTargets, type CatalogTarget } from '../helpers/catalogs';
import type { S3ObjectStore } from '../../src/storage/s3';
import { stackObjectStore, stackSettings, uniqueName, until } from '../helpers/stack';
import { runLeftovers } from '../helpers/table-files';
import { WorkerProcess } from '../../scripts/lib/worker-process';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';

const settings = stackSettings();
const ACCOUNTS = 20_000;
const sim = new SalesforceSimulator({ rowCounts: { Account: ACCOUNTS, Contact: 3_000, Opportunity: 20_000 } });
const namespace = uniqueName('crash');
const taskQueue = uniqueName('crash');
const { catalog, storeFor } = connectIceberg(settings);

/** A catalog the tests sync into (Nessie by default; a commit crash also on the reference catalog), through its proxy. */
interface Lake {
  target: CatalogTarget;
  catalog: typeof catalog;
  storeFor: typeof storeFor;
  proxyUri: string;
}
const lakes = new Map<CatalogTarget['name'], Lake>();
/**
 * Where the crash tests sync unless they name a lake: Nessie's vended-credentials warehouse, so the
 * killed and the retrying workers hold no S3 key (what they write, they write with the catalog's
 * short-lived credentials). The tests' own look at the files uses the stack's keys.
 */
const nessie = () => lakes.get('nessie-vended')!;
/** The stack's own view of storage (its keys), for listing what a run left. */
const adminStore = stackObjectStore(settings);
let client: Client;
let workerEnv: Record<string, string>;
const workers: WorkerProcess[] = [];

/**
 * A pass-through in front of the catalog that can hold a data commit (one carrying a sync run id)
 * and run a hook before forwarding it: the worker is killed while its commit is in flight, and
 * the commit still lands, as when a process dies between sending a request and reading the answer.
 */
let onCommit: (() => Promise<void>) | undefined;
/** Catalog status of the held commit, once forwarded. */
let commitForwarded: number | undefined;
const proxies: Awaited<ReturnType<typeof startCatalogProxy>>[] = [];
/** pyiceberg, DuckDB and Spark in one process (Spark's JVM starts once for the file). */
const readerSession = new ReaderSession();

function startWorker(extra: Record<string, string> = { ...nessie().target.overrides, ICEBERG_CATALOG_URI: nessie().proxyUri }): WorkerProcess {
  const w = new WorkerProcess({ ...workerEnv, ...extra });
  workers.push(w);
  return w;
}

beforeAll(async () => {
  await sim.start();
  let held: ProxiedRequest | undefined;
  for (const target of catalogTargets({ credentialModes: true }).filter((t) => t.credentials !== 'signed')) {
    const proxy = await startCatalogProxy(target.settings.ICEBERG_CATALOG_URI, {
      before: async (req) => {
        if (!req.isDataCommit || !onCommit) return undefined;
        const hook = onCommit;
        onCommit = undefined;
        held = req;
        await hook();
        return undefined;
      },
      after: (req, status) => {
        if (req === held) commitForwarded = status;
      },
    });
    proxies.push(proxy);
    const lake = connectIceberg(target.settings);
    lakes.set(target.name, { target, catalog: lake.catalog, storeFor: target.credentials === 'vended' ? () => adminStore : lake.storeFor, proxyUri: proxy.uri });
  }
  workerEnv = {
    ...settings,
    ...sim.settingsEnv(),
    TEMPORAL_TASK_QUEUE: taskQueue,
    SYNC_LAG_MS: '0',
    // A checkpoint after every page: the tests hold a page and know which rows are checkpointed.
    SYNC_CHECKPOINT_SECONDS: '0',
    SALESFORCE_READ_API: 'rest',
  };
  client = new Client({ connection: await Connection.connect(temporalConnection(settings).options) });
});

// Each test starts its own workers: none may pick up the next test's tasks.
afterEach(async () => {
  sim.clearFaults();
  await Promise.all(workers.splice(0).map((w) => w.kill('SIGTERM')));
});

afterAll(async () => {
  await readerSession.close();
  for (const proxy of proxies) await proxy.close();
  await sim.stop();
  for (const lake of lakes.values()) await readersAt(lake.target.overrides, 'drop', namespace).catch(() => undefined);
});

function start(objects: string[], extra: Partial<SalesforceSyncInput> = {}) {
  const workflowId = uniqueName('crash-sync');
  // A short heartbeat timeout: a killed worker's activity is retried after 5 s, not 60.
  return client.workflow.start('salesforceSync', { taskQueue, workflowId, args: [{ objects, namespace, heartbeatTimeout: '5 seconds', ...extra }] });
}

/** The pending activity of a child workflow, with its last heartbeat decoded. */
async function pendingActivity(workflowId: string): Promise<{ type: string; attempt: number; details?: ExtractHeartbeat } | undefined> {
  const described = await client.workflow
    .getHandle(workflowId)
    .describe()
    .catch(() => undefined);
  const a = described?.raw.pendingActivities?.[0];
  if (!a) return undefined;
  const payload = a.heartbeatDetails?.payloads?.[0];
  return { type: a.activityType?.name ?? '', attempt: a.attempt ?? 0, details: payload ? defaultPayloadConverter.fromPayload<ExtractHeartbeat>(payload) : undefined };
}

/** Waits until the child's extraction reports a checkpoint that passes `ok`; returns its heartbeat. */
async function untilCheckpoint(child: string, what: string, ok: (c: NonNullable<ExtractHeartbeat['checkpoint']>) => boolean): Promise<ExtractHeartbeat> {
  return until(what, async () => {
    const a = await pendingActivity(child);
    return a?.type === 'extractObject' && a.details?.checkpoint && ok(a.details.checkpoint) ? a.details : undefined;
  });
}

function sourceIds(object: string): string[] {
  return [...sim.org.records(sim.org.object(object)!, false)].map((r) => String(r.Id)).sort();
}

async function tableIds(table: string, lake = nessie()): Promise<string[]> {
  const r = await readersAt<ReadResult>(lake.target.overrides, 'read', '--reader', 'pyiceberg', namespace, table);
  return r.rows.map((row) => String(row.id)).sort();
}

/** What the run left in the table's folder (see runLeftovers). */
async function leftovers(table: string, childWorkflowId: string, lake = nessie()) {
  const t = await loadTable({ catalog: lake.catalog, namespace: [namespace], name: table, storeFor: lake.storeFor });
  const { runId } = await client.workflow.getHandle(childWorkflowId).describe();
  return runLeftovers(t, lake.target, `${childWorkflowId}@${runId}`);
}

describe('a sync survives its worker being killed (SIGKILL), worker in its own process (holding no S3 key: vended credentials, unless a catalog is named)', () => {
  it('during extraction: the retry reads on from the last checkpoint; nothing lost, nothing doubled', async () => {
    // The third page (rows 4,001-6,000) is held: the worker dies with two pages checkpointed.
    const third = sim.hold({ path: '/query/', object: 'Account', skip: 1 });
    const first = startWorker();
    await first.ready();
    const handle = await start(['Account']);
    const child = `${handle.workflowId}/Account`;
    await third.arrived;
    const before = await untilCheckpoint(child, 'a checkpoint at 4,000 rows', (c) => c.rows >= 4_000);
    await first.kill('SIGKILL');
    expect(before.checkpoint!.rows).toBe(4_000);

    // The retry's first query is held too, so its first heartbeat can be read before it finishes.
    const retried = sim.hold({ path: '/query', object: 'Account' });
    third.release();
    const second = startWorker();
    await second.ready();
    await retried.arrived;
    const resumed = await until('the retried extraction to report where it resumed', async () => {
      const a = await pendingActivity(child);
      return a?.type === 'extractObject' && a.attempt >= 2 && a.details?.resumedFrom !== undefined ? a : undefined;
    });
    retried.release();
    expect(resumed.details!.resumedFrom).toBe(4_000);

    const outcomes = (await handle.result()) as ObjectOutcome[];
    expect(outcomes[0]).toMatchObject({ object: 'Account', status: 'succeeded', result: { rows: ACCOUNTS, alreadyCommitted: false } });
    expect(await tableIds('account')).toEqual(sourceIds('Account'));
    const left = await leftovers('account', child);
    expect(left).toMatchObject({ unused: [], staging: [], unreferenced: [], missing: [], openUploads: 0, commitsOfRun: 1 });
    // Files of the first attempt up to its checkpoint were kept, not written again.
    expect(left.dataFiles).toBeGreaterThan(1);
  });

  it.each(['nessie', 'rest'] as const)('during commit (%s): the commit lands while the worker is dead; the retry finds it and does not commit again', async (name) => {
    const lake = lakes.get(name)!;
    commitForwarded = undefined;
    const first = startWorker({ ICEBERG_CATALOG_URI: lake.proxyUri });
    await first.ready();
    let killedAt: string | undefined;
    onCommit = async () => {
      killedAt = new Date().toISOString();
      await first.kill('SIGKILL');
    };
    const handle = await start(['Contact']);
    const child = `${handle.workflowId}/Contact`;
    await until('the worker to be killed mid-commit', async () => killedAt);
    expect(await until('the held commit to reach the catalog', async () => commitForwarded)).toBe(200);
    startWorker({ ICEBERG_CATALOG_URI: lake.proxyUri });
    const outcomes = (await handle.result()) as ObjectOutcome[];
    expect(outcomes[0]).toMatchObject({ object: 'Contact', status: 'succeeded', result: { rows: 3_000, alreadyCommitted: true } });
    expect(await tableIds('contact', lake)).toEqual(sourceIds('Contact'));
    // The three independent readers agree on what the commit left.
    const env = lake.target.overrides;
    const [py, duck, spark] = await Promise.all(['pyiceberg', 'duckdb', 'spark'].map((r) => readerSession.must(['read', '--reader', r, namespace, 'contact'], env)));
    const byId = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => String(a.id).localeCompare(String(b.id)));
    expect(byId(duck!.rows)).toEqual(byId(py!.rows));
    expect(byId(spark!.rows)).toEqual(byId(py!.rows));
    const left = await leftovers('contact', child, lake);
    expect(left).toMatchObject({ unused: [], staging: [], unreferenced: [], missing: [], openUploads: 0, commitsOfRun: 1 });
    // Where the catalog keeps the snapshot log, the retry found its snapshot there by run id.
    expect(left.snapshotsOfRun).toBe(1);
  });

  it('cancelling a sync stops its extraction at once and removes what it wrote', async () => {
    // The second page is held: the extraction is waiting for Salesforce when the cancellation comes.
    const second = sim.hold({ path: '/query/', object: 'Opportunity' });
    const w = startWorker();
    await w.ready();
    const handle = await start(['Opportunity']);
    const child = `${handle.workflowId}/Opportunity`;
    await second.arrived;
    await untilCheckpoint(child, 'a checkpoint', (c) => c.files >= 1);
    const { location, store } = await loadTable({ catalog, namespace: [namespace], name: 'opportunity', storeFor });
    await handle.cancel();
    // The request in flight is abandoned: cancellation does not wait for Salesforce to answer.
    await second.dropped;
    const error = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    second.release();
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((await client.workflow.getHandle(child).describe()).status.name).toBe('CANCELLED');
    // Cleanup is scheduled only once the extraction has stopped (else it could still write after cleanup looked).
    const events = (await client.workflow.getHandle(child).fetchHistory()).events ?? [];
    const canceledAt = events.findIndex((e) => e.activityTaskCanceledEventAttributes);
    // The cleanup is a local activity: a marker naming it, recorded once it ran.
    const cleanupAt = events.findIndex((e) =>
      (e.markerRecordedEventAttributes?.details?.data?.payloads ?? []).some((p) =>
        Buffer.from(p.data ?? [])
          .toString('utf8')
          .includes('"cleanupObject"'),
      ),
    );
    expect(canceledAt).toBeGreaterThan(0);
    expect(cleanupAt).toBeGreaterThan(canceledAt);
    // The sync created the table and committed nothing: the table is gone, and so is what it wrote.
    expect(await catalog.tableExists([namespace], 'opportunity')).toBe(false);
    const written: string[] = [];
    for (const prefix of ['data/', 'staging/']) for await (const o of store.list(`${location}/${prefix}`)) written.push(o.uri);
    expect(written).toEqual([]);
    const { bucket, key } = splitS3Uri(`${location}/data/`);
    expect((await (store as S3ObjectStore).client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }))).Uploads ?? []).toEqual([]);
  });

  it('bad Salesforce credentials fail fast and non-retryably, with a clear message, and commit nothing', async () => {
    // Credentials that go bad after the worker started (its preflight would refuse them at start:
    // test/integration/preflight.test.ts), so the activity meets them.
    const wrong = startWorker({ [E.password]: 'not-the-password', TEMPORAL_TASK_QUEUE: `${taskQueue}-bad`, WORKER_PREFLIGHT: 'false' });
    await wrong.ready();
    const workflowId = uniqueName('bad-credentials');
    const handle = await client.workflow.start('salesforceSync', { taskQueue: `${taskQueue}-bad`, workflowId, args: [{ objects: ['Lead'], namespace }] });
    const error = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const message = (error as WorkflowFailedError).cause?.message ?? '';
    expect(message).toMatch(/1 of 1 objects failed: Lead: .*INVALID_LOGIN/);
    expect(message).not.toContain('not-the-password');
    // One attempt of prepare, no retries (after the wait for a maintenance of the table, which has none to wait for).
    const history = await client.workflow.getHandle(`${workflowId}/Lead`).fetchHistory();
    const prepare = history.events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'prepareObject');
    const started = history.events!.filter(
      (e) => e.activityTaskStartedEventAttributes && String(e.activityTaskStartedEventAttributes.scheduledEventId) === String(prepare?.eventId),
    );
    expect(started).toHaveLength(1);
    expect(started[0]!.activityTaskStartedEventAttributes!.attempt).toBe(1);
    const tables = await catalog.listTables([namespace]).catch(() => []);
    expect(tables).not.toContain('lead');
  });
});

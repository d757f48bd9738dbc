import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { temporalConnection } from '../../worker/temporal-connection';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectIceberg } from '../../src/iceberg/connect';
import { runPaths } from '../../src/iceberg/run-paths';
import { loadTable } from '../../src/iceberg/table';
import { splitS3Uri } from '../../src/storage/object-store';
import type { S3ObjectStore } from '../../src/storage/s3';
import type { ObjectOutcome } from '../../workflows';
import { WorkerProcess } from '../../scripts/lib/worker-process';
import { startCatalogProxy, type ProxiedRequest } from '../helpers/catalog-proxy';
import { readersAt, type ReadResult } from '../helpers/readers';
import { catalogTargets } from '../helpers/catalogs';
import { stackObjectStore, stackSettings, uniqueName } from '../helpers/stack';
import { auditTableLocation, nessieMetadataLog } from '../helpers/table-files';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';
import { SYNC_RUNS_PROPERTY } from '../../src/table-contract';

/*
 * Nothing is left behind when a worker dies inside a commit. A proxy in front of the catalog holds
 * the sync's data commit (the one carrying its run id) and kills the worker (SIGKILL) either before
 * the catalog has seen the request (which is then dropped, never forwarded) or after the catalog
 * accepted it (forwarded and answered, the answer never reaching the dead worker). A new worker
 * finishes the sync; then the table's whole location in S3 is listed and every object must be
 * referenced by the table (see auditTableLocation for which metadata JSON files count), and the
 * table must equal the source. Both syncs are merges with updates and deletes, so position delete
 * files and delete manifests are written by the killed attempt and by the retry. The worker holds
 * no S3 key: the table lives in the stack's Nessie warehouse that vends storage credentials, as
 * production catalogs do; only the audit lists the location with the stack's own keys.
 */

const settings = stackSettings();
/** Nessie's vended-credentials warehouse, and the settings that reach it without a key. */
const vended = catalogTargets({ credentialModes: true }).find((t) => t.credentials === 'vended')!.overrides;
const sim = new SalesforceSimulator({ rowCounts: { Account: 6_000, Opportunity: 4_000 } });
const namespace = uniqueName('leftovers');
const taskQueue = uniqueName('leftovers');
// The audit's view: the catalog's metadata, and the stack's own S3 keys (a vended session may not
// list multipart uploads), which see everything under the location.
const { catalog } = connectIceberg({ ...settings, ...vended });
const adminStore = stackObjectStore(settings);
const storeFor = () => adminStore;
let client: Client;
let workerEnv: Record<string, string>;
const workers: WorkerProcess[] = [];
let proxy: Awaited<ReturnType<typeof startCatalogProxy>>;

/** What the proxy does with the next data commit: the worker dies before or after the catalog took it. */
type KillPlan = { when: 'before-catalog' | 'after-catalog'; worker: WorkerProcess; done: (status: number | undefined) => void };
let plan: KillPlan | undefined;
let heldPlan: KillPlan | undefined;

function startWorker(): WorkerProcess {
  const w = new WorkerProcess(workerEnv);
  workers.push(w);
  return w;
}

beforeAll(async () => {
  await sim.start();
  let held: ProxiedRequest | undefined;
  proxy = await startCatalogProxy(settings.ICEBERG_CATALOG_URI, {
    before: async (req) => {
      if (!req.isDataCommit || !plan) return undefined;
      const p = plan;
      plan = undefined;
      if (p.when === 'after-catalog') {
        held = req;
        heldPlan = p;
        return undefined;
      }
      // The worker dies with its commit in flight; the request never reaches the catalog (the
      // answer goes to a closed connection).
      await p.worker.kill('SIGKILL');
      p.done(undefined);
      return { status: 503, body: { error: { message: 'dropped by the test' } } };
    },
    after: async (req, status) => {
      if (req !== held || !heldPlan) return;
      // The catalog accepted the commit; the worker dies before the answer reaches it.
      const p = heldPlan;
      held = heldPlan = undefined;
      await p.worker.kill('SIGKILL');
      p.done(status);
    },
  });
  workerEnv = {
    ...settings,
    ...vended,
    ICEBERG_CATALOG_URI: proxy.uri,
    ...sim.settingsEnv(),
    TEMPORAL_TASK_QUEUE: taskQueue,
    SYNC_LAG_MS: '0',
    SALESFORCE_READ_API: 'rest',
  };
  client = new Client({ connection: await Connection.connect(temporalConnection(settings).options) });
});

afterEach(async () => {
  plan = undefined;
  await Promise.all(workers.splice(0).map((w) => w.kill('SIGTERM')));
});

afterAll(async () => {
  await proxy?.close();
  await sim.stop();
  await readersAt(vended, 'drop', namespace).catch(() => undefined);
});

async function sync(object: string): Promise<{ workflowId: string; result: Promise<ObjectOutcome[]> }> {
  const workflowId = uniqueName('leftovers-sync');
  // A short heartbeat timeout: a killed worker's commit is retried after 5 s, not 60.
  const handle = await client.workflow.start('salesforceSync', { taskQueue, workflowId, args: [{ objects: [object], namespace, heartbeatTimeout: '5 seconds' }] });
  return { workflowId, result: handle.result() as Promise<ObjectOutcome[]> };
}

/** The run id the child workflow of `object` gives its files (workflow id @ run id). */
async function runIdOf(workflowId: string, object: string): Promise<string> {
  const child = `${workflowId}/${object}`;
  const { runId } = await client.workflow.getHandle(child).describe();
  return `${child}@${runId}`;
}

/** The table's whole location, audited against every metadata the catalog accepted for it. */
async function audit(table: string) {
  const t = await loadTable({ catalog, namespace: [namespace], name: table, storeFor });
  const accepted = await nessieMetadataLog(settings.ICEBERG_CATALOG_URI, [namespace], table);
  const { bucket, key } = splitS3Uri(`${t.location}/`);
  const uploads = await (t.store as S3ObjectStore).client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
  const live = await t.liveEntries();
  return { table: t, accepted, ...(await auditTableLocation(t, accepted)), openUploads: uploads.Uploads?.length ?? 0, deleteFiles: live.deletes.length };
}

/** Id and Name of every row, as pyiceberg and DuckDB read the table, and as the simulator holds them. */
async function tableRows(table: string, reader: 'pyiceberg' | 'duckdb'): Promise<string[]> {
  const r = await readersAt<ReadResult>(vended, 'read', '--reader', reader, namespace, table);
  return r.rows.map((row) => `${row.id}|${row.name}`).sort();
}
function sourceRows(object: string): string[] {
  return [...sim.org.records(sim.org.object(object)!, false)].map((r) => `${r.Id}|${r.Name}`).sort();
}

/** Changes some rows and deletes others in Salesforce: the next merge writes position deletes. */
function changeSource(object: string, tag: string): void {
  const ids = [...sim.org.records(sim.org.object(object)!, false)].map((r) => String(r.Id));
  for (const i of [3, 1_500, 2_999]) sim.org.update(object, ids[i]!, { Name: `${tag} ${i}` });
  for (const i of [7, 2_000]) sim.org.delete(object, ids[i]!);
}

function commitsOfRun(t: { metadata: { properties?: Record<string, string> } }, runId: string): number {
  return (JSON.parse(t.metadata.properties?.[SYNC_RUNS_PROPERTY] ?? '[]') as { run: string }[]).filter((r) => r.run === runId).length;
}

describe('a worker killed inside a commit leaves no file that the table does not reference (vended credentials: the worker holds no S3 key)', () => {
  it("killed before the catalog saw the commit: the lost attempt's manifests, list and delete file are removed", async () => {
    const first = startWorker();
    await first.ready();
    const initial = await sync('Account');
    expect((await initial.result)[0]).toMatchObject({ status: 'succeeded', result: { rows: 6_000 } });

    changeSource('Account', 'Renamed before the kill');
    const killed = new Promise<number | undefined>((done) => (plan = { when: 'before-catalog', worker: first, done }));
    const second = await sync('Account');
    expect(await killed).toBeUndefined();
    // What the killed attempt wrote and no snapshot references: a data manifest, a delete file and
    // its manifest, and a manifest list, all under the run's prefixes.
    const runId = await runIdOf(second.workflowId, 'Account');
    const before = await audit('account');
    const paths = runPaths(before.table.location, runId);
    const lost = before.unreferenced.map((f) => paths.classify(f)?.kind).filter((k) => k && k !== 'staging' && k !== 'data');
    expect(lost.sort()).toEqual(['deletes', 'manifest', 'manifest', 'manifest-list']);

    startWorker();
    const outcomes = await second.result;
    expect(outcomes[0]).toMatchObject({ object: 'Account', status: 'succeeded', result: { rows: 3, deleted: 2, alreadyCommitted: false } });
    const after = await audit('account');
    console.log(
      `killed before the catalog: ${after.files.length} objects listed (${after.accepted.length} accepted metadata JSON, ${after.referencedByCurrent} referenced by the current metadata); unreferenced before cleanup ${before.unreferenced.length}, after ${after.unreferenced.length}`,
    );
    expect(after).toMatchObject({ unreferenced: [], missing: [], openUploads: 0 });
    expect(after.deleteFiles).toBeGreaterThan(0);
    expect(commitsOfRun(after.table, runId)).toBe(1);
    for (const reader of ['pyiceberg', 'duckdb'] as const) expect(await tableRows('account', reader), reader).toEqual(sourceRows('Account'));
  });

  it('killed after the catalog accepted the commit: the retry finds it, and nothing is left either', async () => {
    const first = startWorker();
    await first.ready();
    const initial = await sync('Opportunity');
    expect((await initial.result)[0]).toMatchObject({ status: 'succeeded', result: { rows: 4_000 } });

    changeSource('Opportunity', 'Renamed before the kill');
    const killed = new Promise<number | undefined>((done) => (plan = { when: 'after-catalog', worker: first, done }));
    const second = await sync('Opportunity');
    expect(await killed).toBe(200);
    const before = await audit('opportunity');

    startWorker();
    const outcomes = await second.result;
    expect(outcomes[0]).toMatchObject({ object: 'Opportunity', status: 'succeeded', result: { rows: 3, deleted: 2, alreadyCommitted: true } });
    const after = await audit('opportunity');
    console.log(
      `killed after the catalog accepted: ${after.files.length} objects listed (${after.accepted.length} accepted metadata JSON, ${after.referencedByCurrent} referenced by the current metadata); unreferenced before cleanup ${before.unreferenced.length}, after ${after.unreferenced.length}`,
    );
    expect(after).toMatchObject({ unreferenced: [], missing: [], openUploads: 0 });
    expect(after.deleteFiles).toBeGreaterThan(0);
    expect(commitsOfRun(after.table, await runIdOf(second.workflowId, 'Opportunity'))).toBe(1);
    for (const reader of ['pyiceberg', 'duckdb'] as const) expect(await tableRows('opportunity', reader), reader).toEqual(sourceRows('Opportunity'));
  });
});

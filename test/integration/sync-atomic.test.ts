import { Client, Connection, WorkflowFailedError, ApplicationFailure } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectIceberg } from '../../src/iceberg/connect';
import { SYNC_RUN_ID_PROPERTY } from '../../src/table-contract';
import { loadTable } from '../../src/iceberg/table';
import { PUBLISH_ID_PROPERTY } from '../../src/table-contract';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';
import { temporalConnection } from '../../worker/temporal-connection';
import { WorkerProcess } from '../../scripts/lib/worker-process';
import type { ObjectOutcome, SalesforceSyncInput } from '../../workflows';
import { startCatalogProxy, type ProxiedRequest } from '../helpers/catalog-proxy';
import { catalogTargets, type CatalogTarget } from '../helpers/catalogs';
import { readersAt, type ReadResult } from '../helpers/readers';
import { stackSettings, uniqueName, until } from '../helpers/stack';
import { runLeftovers } from '../helpers/table-files';

/*
 * An atomic sync (`atomic: true`) against the real stack: its objects published in one
 * transactions/commit (Nessie: one commit for all tables), a catalog that cannot do that refused
 * before anything is read, and a worker killed between the extractions and the publish.
 */

const settings = stackSettings();
const sim = new SalesforceSimulator({ rowCounts: { Account: 3_000, Contact: 2_000 } });
const namespace = uniqueName('atomic');
const taskQueue = uniqueName('atomic');
const targets = new Map(catalogTargets().map((t) => [t.name, t]));
let client: Client;
let workerEnv: Record<string, string>;
const workers: WorkerProcess[] = [];
const proxies: Awaited<ReturnType<typeof startCatalogProxy>>[] = [];
/** Runs when the Nessie proxy sees a transactions/commit (once); its answer, if any, is sent instead of forwarding. */
let onTransaction: ((req: ProxiedRequest) => Promise<{ status: number; body: unknown } | undefined>) | undefined;
/** The Nessie catalog's status for each forwarded transaction. */
const transactions: number[] = [];
let nessieProxy: string;
/** The reference catalog behind a proxy whose configuration leaves out transactions/commit (as a catalog without it). */
let withoutTransactions: string;

/** A transaction of tables (not the empty one that asks a catalog without an endpoints list whether it serves the route). */
const isTransaction = (req: ProxiedRequest) => req.method === 'POST' && req.url.endsWith('/transactions/commit') && req.body.includes('"identifier"');

beforeAll(async () => {
  await sim.start();
  const nessie = targets.get('nessie')!;
  const n = await startCatalogProxy(nessie.settings.ICEBERG_CATALOG_URI, {
    before: async (req) => {
      if (!isTransaction(req) || !onTransaction) return undefined;
      const hook = onTransaction;
      onTransaction = undefined;
      return hook(req);
    },
    after: (req, status) => void (isTransaction(req) && transactions.push(status)),
  });
  const rest = targets.get('rest')!;
  const r = await startCatalogProxy(rest.settings.ICEBERG_CATALOG_URI, {
    before: async (req) => {
      if (!req.url.includes('/v1/config')) return undefined;
      const config = (await (await fetch(`${rest.settings.ICEBERG_CATALOG_URI.replace(/\/$/, '')}/v1/config`)).json()) as { endpoints: string[] };
      return { status: 200, body: { ...config, endpoints: config.endpoints.filter((e) => !e.includes('transactions')) } };
    },
  });
  proxies.push(n, r);
  nessieProxy = n.uri;
  withoutTransactions = r.uri;
  workerEnv = { ...settings, ICEBERG_CATALOG_URI: nessieProxy, ...sim.settingsEnv(), TEMPORAL_TASK_QUEUE: taskQueue, SYNC_LAG_MS: '0' };
  client = new Client({ connection: await Connection.connect(temporalConnection(settings).options) });
});

afterEach(async () => {
  onTransaction = undefined;
  await Promise.all(workers.splice(0).map((w) => w.kill('SIGTERM')));
});

afterAll(async () => {
  for (const p of proxies) await p.close();
  await sim.stop();
  for (const t of targets.values()) await readersAt({ ICEBERG_CATALOG_URI: t.settings.ICEBERG_CATALOG_URI }, 'drop', namespace).catch(() => undefined);
});

async function startWorker(extra: Record<string, string> = {}): Promise<WorkerProcess> {
  const w = new WorkerProcess({ ...workerEnv, ...extra });
  workers.push(w);
  await w.ready();
  return w;
}

function start(input: SalesforceSyncInput, queue = taskQueue) {
  return client.workflow.start('salesforceSync', {
    taskQueue: queue,
    workflowId: uniqueName('atomic-sync'),
    // A short heartbeat timeout: a killed worker's activity is retried after 5 s, not 60.
    args: [{ namespace, heartbeatTimeout: '5 seconds', atomic: true, ...input }],
  });
}

function sourceIds(object: string): string[] {
  return [...sim.org.records(sim.org.object(object)!, false)].map((r) => String(r.Id)).sort();
}

async function tableIds(table: string, target: CatalogTarget): Promise<string[]> {
  const r = await readersAt<ReadResult>({ ICEBERG_CATALOG_URI: target.settings.ICEBERG_CATALOG_URI }, 'read', '--reader', 'pyiceberg', namespace, table);
  return r.rows.map((row) => String(row.id)).sort();
}

/** The current snapshot's summary of a table, read straight from the catalog. */
async function currentSummary(table: string, target: CatalogTarget): Promise<Record<string, string>> {
  const { catalog, storeFor } = connectIceberg(target.settings);
  const t = await loadTable({ catalog, namespace: [namespace], name: table, storeFor });
  return t.currentSnapshot()!.summary;
}

/** Nessie's commits (newest first) that changed any of these tables, each with the tables it changed. */
async function nessieCommits(tables: string[]): Promise<string[][]> {
  const api = targets.get('nessie')!.settings.ICEBERG_CATALOG_URI.replace(/\/iceberg\/?$/, '/api/v2');
  const response = await fetch(`${api}/trees/main/history?fetch=ALL&max-records=100`);
  const page = (await response.json()) as { logEntries: { operations?: { type: string; key: { elements: string[] } }[] }[] };
  const keys = new Set(tables.map((t) => `${namespace}.${t}`));
  return page.logEntries
    .map((e) => (e.operations ?? []).filter((op) => op.type === 'PUT' && keys.has(op.key.elements.join('.'))).map((op) => op.key.elements.at(-1)!))
    .filter((changed) => changed.length > 0)
    .map((changed) => changed.sort());
}

/** Account's and Contact's tables hold one commit of the sync's run each, and nothing the run left unreferenced. */
async function expectNothingLeft(workflowId: string): Promise<void> {
  const nessie = targets.get('nessie')!;
  const { catalog, storeFor } = connectIceberg(nessie.settings);
  for (const [table, object] of [
    ['account', 'Account'],
    ['contact', 'Contact'],
  ] as const) {
    const t = await loadTable({ catalog, namespace: [namespace], name: table, storeFor });
    const { runId } = await client.workflow.getHandle(`${workflowId}/${object}`).describe();
    const left = await runLeftovers(t, nessie, `${workflowId}/${object}@${runId}`);
    expect(left).toMatchObject({ unused: [], staging: [], unreferenced: [], missing: [], openUploads: 0, commitsOfRun: 1 });
  }
}

describe('an atomic sync (atomic: true)', () => {
  it('publishes Account and Contact in one Nessie commit: both snapshots carry the same publish id, nothing left over', async () => {
    await startWorker();
    const handle = await start({ objects: ['Account', 'Contact'] });
    const outcomes = (await handle.result()) as ObjectOutcome[];
    expect(outcomes.map((o) => [o.object, o.status, o.result?.rows])).toEqual([
      ['Account', 'succeeded', 3_000],
      ['Contact', 'succeeded', 2_000],
    ]);
    const nessie = targets.get('nessie')!;
    const [account, contact] = await Promise.all([currentSummary('account', nessie), currentSummary('contact', nessie)]);
    expect(account[PUBLISH_ID_PROPERTY]).toMatch(new RegExp(`^${handle.workflowId}@`));
    expect(contact[PUBLISH_ID_PROPERTY]).toBe(account[PUBLISH_ID_PROPERTY]);
    expect(account[SYNC_RUN_ID_PROPERTY]).toMatch(new RegExp(`^${handle.workflowId}/Account@`));
    // Counted like any sync: Salesforce's count before the transaction, the table's after it (Contact is replaced: every row).
    expect(outcomes.map((o) => o.result?.countCheck)).toEqual([
      { salesforce: 3_000, table: 3_000 },
      { salesforce: 2_000, table: 2_000 },
    ]);
    expect([account['salesforce.count'], contact['salesforce.count']]).toEqual(['3000', '2000']);
    // The newest commit that changed either table changed both: a reader never sees one without the other.
    expect((await nessieCommits(['account', 'contact']))[0]).toEqual(['account', 'contact']);
    expect(transactions).toEqual([204]);
    expect(await tableIds('account', nessie)).toEqual(sourceIds('Account'));
    expect(await tableIds('contact', nessie)).toEqual(sourceIds('Contact'));
    await expectNothingLeft(handle.workflowId);
  });

  it('a catalog that does not serve transactions/commit is refused at once, naming it: no object is read, no table made', async () => {
    const queue = `${taskQueue}-refused`;
    await startWorker({ ICEBERG_CATALOG_URI: withoutTransactions, TEMPORAL_TASK_QUEUE: queue });
    const handle = await start({ objects: ['Account', 'Contact'], namespace: `${namespace}_refused` }, queue);
    const error = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('ATOMIC_PUBLISH_UNSUPPORTED');
    expect(cause.message).toContain(`The Iceberg catalog at ${withoutTransactions.replace(/\/$/, '')}`);
    expect(cause.message).toContain('POST /v1/{prefix}/transactions/commit');
    // Nothing started: no child workflow, no activity but the check.
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toEqual([]);
    expect(events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? [])).toEqual(['checkAtomicPublish']);
    const { catalog } = connectIceberg(targets.get('rest')!.settings);
    expect(await catalog.namespaceExists([`${namespace}_refused`])).toBe(false);
  });

  it.each([
    ['never sent', false],
    ['landed while the worker was dead', true],
  ] as const)('a worker killed as the publish reaches the catalog (%s): the next worker publishes once; nothing lost, nothing doubled', async (_, lands) => {
    // Changes since the first test, so this sync commits new rows to both tables.
    sim.org.update('Account', sourceIds('Account')[5]!, { Name: `Changed ${String(lands)}` });
    sim.org.update('Contact', sourceIds('Contact')[7]!, { LastName: `Changed ${String(lands)}` });
    const first = await startWorker();
    let killed = false;
    onTransaction = async () => {
      await first.kill('SIGKILL');
      killed = true;
      // Never sent: the catalog does not hear of it (the worker died before it went out).
      return lands ? undefined : { status: 503, body: { error: { message: 'not forwarded', type: 'Test', code: 503 } } };
    };
    const before = transactions.length;
    const handle = await start({ objects: ['Account', 'Contact'] });
    await until('the worker to be killed as its publish reached the catalog', async () => killed || undefined);
    if (lands) expect(await until('the held transaction to reach Nessie', async () => transactions[before])).toBe(204);
    await startWorker();
    const outcomes = (await handle.result()) as ObjectOutcome[];
    expect(outcomes.map((o) => [o.object, o.status, o.result?.alreadyCommitted])).toEqual([
      ['Account', 'succeeded', lands],
      ['Contact', 'succeeded', lands],
    ]);
    const nessie = targets.get('nessie')!;
    expect(await tableIds('account', nessie)).toEqual(sourceIds('Account'));
    expect(await tableIds('contact', nessie)).toEqual(sourceIds('Contact'));
    // Exactly one transaction of this sync reached Nessie, as one commit of both tables.
    expect(transactions.slice(before)).toEqual([204]);
    expect((await nessieCommits(['account', 'contact']))[0]).toEqual(['account', 'contact']);
    const [account, contact] = await Promise.all([currentSummary('account', nessie), currentSummary('contact', nessie)]);
    expect(account[PUBLISH_ID_PROPERTY]).toMatch(new RegExp(`^${handle.workflowId}@`));
    expect(contact[PUBLISH_ID_PROPERTY]).toBe(account[PUBLISH_ID_PROPERTY]);
    await expectNothingLeft(handle.workflowId);
  });

  it('the reference catalog lists transactions/commit and serves it (without its guarantee of atomicity): an atomic sync there publishes both tables', async () => {
    const rest = targets.get('rest')!;
    const queue = `${taskQueue}-rest`;
    await startWorker({ ICEBERG_CATALOG_URI: rest.settings.ICEBERG_CATALOG_URI, TEMPORAL_TASK_QUEUE: queue });
    const handle = await start({ objects: ['Account', 'Contact'] }, queue);
    const outcomes = (await handle.result()) as ObjectOutcome[];
    expect(outcomes.map((o) => o.status)).toEqual(['succeeded', 'succeeded']);
    const [account, contact] = await Promise.all([currentSummary('account', rest), currentSummary('contact', rest)]);
    expect(contact[PUBLISH_ID_PROPERTY]).toBe(account[PUBLISH_ID_PROPERTY]);
    expect(await tableIds('contact', rest)).toEqual(sourceIds('Contact'));
  });
});

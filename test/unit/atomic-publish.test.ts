import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchAttributeProblems, type SyncActivities } from '../../activities';
import { RestCatalog, type TableRequirement, type TableUpdate } from '../../src/iceberg/catalog';
import { CommitConflictError, CommitStateUnknownError } from '../../src/iceberg/errors';
import { SYNC_RUN_ID_PROPERTY, SYNC_RUN_KEYS } from '../../src/table-contract';
import { runPaths } from '../../src/iceberg/run-paths';
import { commitFiles, producerFor } from '../../src/iceberg/snapshot-producer';
import type { DataFile, NestedField } from '../../src/iceberg/spec';
import { IcebergTable } from '../../src/iceberg/table';
import { AtomicPublishUnsupportedError, PartialTransactionError, TRANSACTION_ENDPOINT, checkTransactionSupport, commitTransaction } from '../../src/iceberg/transaction';
import { DataFileWriter } from '../../src/parquet/writer';
import { LocalObjectStore } from '../../src/storage/local-fs';
import { partitionTaskQueue } from '../../src/sync/objects';
import { checkAtomicPublish } from '../../src/sync/publish';
import type { ObjectOutcome, SalesforceSyncInput } from '../../workflows';
import { MemoryCatalog } from '../helpers/memory-catalog';
import { temporalCliPath } from '../helpers/temporal-cli';

/*
 * Atomic publish: the transaction client (src/iceberg/transaction.ts) against catalogs kept in
 * memory, and the atomic sync's workflows against a dev server of their own with stub activities.
 */

const provoked = /^(Activity|Workflow) failed$/;
Runtime.install({ logger: new DefaultLogger('WARN', (e) => provoked.test(e.message) || console.warn(e.message)) });

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atomic-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const store = new LocalObjectStore();
const fields: NestedField[] = [
  { id: 1, name: 'id', required: true, type: 'string' },
  { id: 2, name: 'name', required: false, type: 'string' },
];

/**
 * Two or more tables in memory behind one transactions/commit that is all or none: every table's
 * requirements are checked before any is changed. `fail` throws from the next transaction, before
 * applying it or (`applied`) after (the answer lost).
 */
class MemoryTransactions {
  transactions = 0;
  fail?: { error: Error; applied?: boolean };
  readonly address = 'memory';
  constructor(readonly tables: Map<string, MemoryCatalog>) {}

  async commitTransaction(changes: { identifier: { namespace: string[]; name: string }; requirements: TableRequirement[]; updates: TableUpdate[] }[]): Promise<void> {
    this.transactions++;
    const fail = this.fail;
    this.fail = undefined;
    if (fail && !fail.applied) throw fail.error;
    for (const c of changes) {
      const current = this.tables.get(c.identifier.name)!.metadata;
      for (const r of c.requirements) {
        if (r.type === 'assert-ref-snapshot-id' && (current.refs?.main?.['snapshot-id'] ?? null) !== r['snapshot-id'])
          throw new CommitConflictError(`${c.identifier.name}: main moved`);
      }
    }
    for (const c of changes) await this.tables.get(c.identifier.name)!.commitTable(c.identifier.namespace, c.identifier.name, c.requirements, c.updates);
    if (fail) throw fail.error;
  }
}

async function newTable(name: string) {
  const location = pathToFileURL(fs.mkdtempSync(path.join(dir, `${name}-`))).href;
  const catalog = new MemoryCatalog(location, fields);
  const table = new IcebergTable(catalog as unknown as RestCatalog, ['ns'], name, await catalog.loadTable(), store);
  // A first snapshot, as prepare gives every table.
  await commitFiles({ table, keys: SYNC_RUN_KEYS, runId: `base-${name}`, files: await write(location, `base-${name}`, ['a']), mode: { kind: 'append' } });
  await table.refresh();
  return { location, catalog, table };
}

async function write(location: string, runId: string, ids: string[]): Promise<DataFile[]> {
  const paths = runPaths(location, runId);
  const writer = new DataFileWriter({ fields, store, location: paths.dataFolder, namePrefix: paths.segment, maxRowsPerFile: 50, rowGroupRows: 50 });
  await writer.write(ids.map((id) => [id, `row ${id}`]));
  return writer.close();
}

/** Account and Contact tables, and a producer for each of run `sync/<name>` adding rows b, c. */
async function twoTables() {
  const account = await newTable('account');
  const contact = await newTable('contact');
  const tx = new MemoryTransactions(
    new Map([
      ['account', account.catalog],
      ['contact', contact.catalog],
    ]),
  );
  const producers = await Promise.all(
    [account, contact].map(async (t) =>
      producerFor({
        table: t.table,
        keys: SYNC_RUN_KEYS,
        runId: `sync/${t.table.name}@1`,
        files: await write(t.location, `sync/${t.table.name}@1`, ['b', 'c']),
        mode: { kind: 'append' },
        properties: { 'salesforce.publish-id': 'sync@1' },
      }),
    ),
  );
  return { account, contact, tx, producers };
}

const catalogOf = (tx: MemoryTransactions) => tx as unknown as RestCatalog;
const runOf = (c: MemoryCatalog) => c.metadata.snapshots!.find((s) => s['snapshot-id'] === c.metadata['current-snapshot-id'])!.summary;

describe('the transaction client', () => {
  it('commits every table in one transaction; each snapshot carries its own run id and the shared publish id', async () => {
    const { account, contact, tx, producers } = await twoTables();
    const results = await commitTransaction(catalogOf(tx), producers);
    expect(tx.transactions).toBe(1);
    expect(results.map((r) => r.alreadyCommitted)).toEqual([false, false]);
    for (const [c, name] of [
      [account.catalog, 'account'],
      [contact.catalog, 'contact'],
    ] as const) {
      expect(runOf(c)[SYNC_RUN_ID_PROPERTY]).toBe(`sync/${name}@1`);
      expect(runOf(c)['salesforce.publish-id']).toBe('sync@1');
      expect(runOf(c)['total-records']).toBe('3');
    }
  });

  it('a conflict on one table builds every snapshot again on the new parents and commits them together', async () => {
    const { account, contact, tx, producers } = await twoTables();
    // Another writer commits to Contact after the tables were loaded: the first transaction conflicts.
    const retries: string[] = [];
    let raced = false;
    await commitTransaction(catalogOf(tx), producers, {
      beforeCommit: async () => {
        if (raced) return;
        raced = true;
        await commitFiles({ table: contact.table, keys: SYNC_RUN_KEYS, runId: 'other', files: await write(contact.location, 'other', ['z']), mode: { kind: 'append' } });
      },
      onRetry: (_, reason) => retries.push(reason),
    });
    expect(retries).toEqual([expect.stringContaining('contact: main moved')]);
    expect(tx.transactions).toBe(2);
    expect(runOf(account.catalog)['total-records']).toBe('3');
    // On top of the other writer's row: nothing of it lost.
    expect(runOf(contact.catalog)['total-records']).toBe('4');
    // Account changed once only (one snapshot of the run), though its first build was sent too.
    expect(account.catalog.metadata.snapshots!.filter((s) => s.summary[SYNC_RUN_ID_PROPERTY] === 'sync/account@1')).toHaveLength(1);
  });

  it('an answer lost after the catalog applied the transaction: the retry finds both snapshots and adds none', async () => {
    const { account, contact, tx, producers } = await twoTables();
    tx.fail = { error: new CommitStateUnknownError('HTTP 504'), applied: true };
    const results = await commitTransaction(catalogOf(tx), producers);
    expect(tx.transactions).toBe(1);
    expect(results.map((r) => r.snapshotId)).toEqual(producers.map((p) => p.snapshotId));
    expect(account.catalog.metadata.snapshots).toHaveLength(3); // initial, base, this run
    expect(contact.catalog.metadata.snapshots).toHaveLength(3);
    // And a later call (a retried activity) reports them as already committed.
    expect((await commitTransaction(catalogOf(tx), producers)).map((r) => r.alreadyCommitted)).toEqual([true, true]);
    expect(tx.transactions).toBe(1);
  });

  it('a transaction that landed on some tables only is reported, never completed by committing the rest', async () => {
    const { account, contact, tx, producers } = await twoTables();
    // Account alone holds the run's snapshot (a catalog that committed table by table and stopped).
    await commitFiles({ table: account.table, keys: SYNC_RUN_KEYS, runId: 'sync/account@1', files: [], mode: { kind: 'append' } });
    await expect(commitTransaction(catalogOf(tx), producers)).rejects.toThrow(PartialTransactionError);
    expect(tx.transactions).toBe(0);
    expect(runOf(contact.catalog)[SYNC_RUN_ID_PROPERTY]).toBe('base-contact');
  });
});

/** A RestCatalog whose server answers GET /v1/config with `config`, and transactions/commit with `status`. */
function catalogAnswering(config: object, status = 204) {
  const seen: string[] = [];
  const fetchImpl = (async (url: string | URL, init?: RequestInit) => {
    seen.push(`${init?.method ?? 'GET'} ${new URL(String(url)).pathname}`);
    if (String(url).includes('/v1/config')) return new Response(JSON.stringify(config), { status: 200 });
    return new Response(status === 204 ? null : JSON.stringify({ error: { message: 'no', type: 'X', code: status } }), { status });
  }) as typeof fetch;
  return { catalog: new RestCatalog({ uri: 'http://catalog.test/api', fetch: fetchImpl }), seen };
}

describe('whether a catalog commits transactions', () => {
  it('accepts a catalog whose endpoints list the route, without asking it anything else', async () => {
    const { catalog, seen } = catalogAnswering({ defaults: {}, overrides: {}, endpoints: ['GET /v1/{prefix}/namespaces', TRANSACTION_ENDPOINT] });
    await expect(checkTransactionSupport(catalog)).resolves.toBe('listed');
    expect(seen).toEqual(['GET /api/v1/config']);
  });

  it('refuses a catalog whose endpoints leave it out, naming the catalog and the route', async () => {
    const { catalog, seen } = catalogAnswering({ endpoints: ['GET /v1/{prefix}/namespaces', 'POST /v1/{prefix}/namespaces/{namespace}/tables/{table}'] });
    const refused = await checkTransactionSupport(catalog).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AtomicPublishUnsupportedError);
    expect(refused).toMatchObject({ code: 'ATOMIC_PUBLISH_UNSUPPORTED', retryable: false });
    expect((refused as Error).message).toContain('http://catalog.test/api');
    expect((refused as Error).message).toContain(TRANSACTION_ENDPOINT);
    expect(seen).toEqual(['GET /api/v1/config']);
  });

  it.each([404, 405, 501])('without endpoints, asks with an empty transaction: HTTP %i refuses it', async (status) => {
    const { catalog, seen } = catalogAnswering({}, status);
    await expect(checkTransactionSupport(catalog)).rejects.toThrow(AtomicPublishUnsupportedError);
    expect(seen).toEqual(['GET /api/v1/config', 'POST /api/v1/transactions/commit']);
  });

  it.each([204, 400, 422])('without endpoints, an empty transaction answered with HTTP %i shows the route is there', async (status) => {
    const { catalog } = catalogAnswering({}, status);
    await expect(checkTransactionSupport(catalog)).resolves.toBe('probed');
  });
});

describe('the atomic publish of a sync', () => {
  it('a worker writing to DuckDB is refused, not retried, before anything is read', async () => {
    const ctx = { destination: {}, salesforce: {} } as unknown as Parameters<typeof checkAtomicPublish>[0];
    const refused = await checkAtomicPublish(ctx).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AtomicPublishUnsupportedError);
    expect(refused).toMatchObject({ code: 'ATOMIC_PUBLISH_UNSUPPORTED', retryable: false, message: expect.stringContaining('DuckDB') });
  });
});

// ---- The workflows -------------------------------------------------------------------------

type Activity = keyof SyncActivities;
const ROWS: Record<string, number> = { Account: 300, Contact: 120, Opportunity: 50 };

let env: TestWorkflowEnvironment;
let code: string;
let queues = 0;

beforeAll(async () => {
  [env, { code }] = await Promise.all([
    TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: temporalCliPath() } } }),
    bundleWorkflowCode({ workflowsPath: path.join(__dirname, '..', '..', 'workflows', 'index.ts'), logger: new DefaultLogger('WARN') }),
  ]);
}, 120_000);

afterAll(() => env?.teardown());

interface Seen {
  calls: { activity: Activity; object: string }[];
  published: { objects: string[]; staging: (string | string[])[]; publishId: string }[];
}

/** Stub activities recording each call; `fail` makes one object's extraction (or the check, or the publish) fail for good. */
function stubs(seen: Seen, fail: { extract?: string; check?: boolean; publish?: boolean } = {}): SyncActivities {
  const record = (activity: Activity, object: string) => seen.calls.push({ activity, object });
  return {
    async prepareObject(input) {
      record('prepareObject', input.object);
      return { ...input, table: input.object.toLowerCase(), writeMode: 'merge', upTo: '2024-01-01T00:00:00.000Z', idColumn: 'id' };
    },
    async planObject() {
      return { partitions: [], inFlight: 1 };
    },
    async extractObject(p) {
      record('extractObject', p.object);
      if (fail.extract === p.object) throw ApplicationFailure.nonRetryable(`${p.object} is not readable`, 'SALESFORCE_REFUSED');
      return { staging: `staging/${p.object}`, rows: ROWS[p.object]!, files: 1, bytes: 1, deleted: 0, timings: { readS: 0, readCpuS: 0, buildS: 0, encodeS: 0, uploadS: 0 } };
    },
    async extractPartition() {
      throw ApplicationFailure.nonRetryable('not partitioned', 'INTERNAL');
    },
    async commitObject(p) {
      record('commitObject', p.object);
      return { snapshotId: 'never', rows: 0, deleted: 0, alreadyCommitted: false };
    },
    async cleanupObject(p) {
      record('cleanupObject', p.object);
      return 0;
    },
    searchAttributeProblems,
    async waitForMaintenance() {},
    async maintenanceRunning() {
      return undefined;
    },
    async reconcileObject() {
      throw new Error('an atomic sync of this test reconciles nothing');
    },
    async syncDefaults() {
      return {};
    },
    async checkObjectNames() {
      return [];
    },
    async checkAtomicPublish() {
      record('checkAtomicPublish', '');
      if (fail.check) throw ApplicationFailure.nonRetryable('The Iceberg catalog at http://catalog cannot commit several tables in one transaction', 'ATOMIC_PUBLISH_UNSUPPORTED');
    },
    async publishObjects(staged, publishId) {
      record('publishObjects', staged.map((s) => s.prepared.object).join(','));
      seen.published.push({ objects: staged.map((s) => s.prepared.object), staging: staged.map((s) => s.staging), publishId });
      expect(Context.current().info.activityType).toBe('publishObjects');
      if (fail.publish) throw ApplicationFailure.nonRetryable('the catalog refused the transaction', 'CATALOG_REFUSED');
      return staged.map((s, i) => ({ snapshotId: `snap-${i}`, rows: s.rows, deleted: 0, alreadyCommitted: false }));
    },
  };
}

/** The objects whose staged files were cleaned up, sorted. */
function cleanedUp(seen: Seen): string[] {
  return seen.calls
    .filter((c) => c.activity === 'cleanupObject')
    .map((c) => c.object)
    .sort();
}
async function run(
  input: SalesforceSyncInput,
  fail?: Parameters<typeof stubs>[1],
): Promise<{ seen: Seen; result?: ObjectOutcome[]; error?: WorkflowFailedError; workflowId: string }> {
  const seen: Seen = { calls: [], published: [] };
  const taskQueue = `atomic-${++queues}`;
  const activities = stubs(seen, fail);
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: { code }, activities });
  const partitions = await Worker.create({ connection: env.nativeConnection, taskQueue: partitionTaskQueue(taskQueue), activities });
  const workflowId = `atomic-sync-${queues}`;
  return partitions.runUntil(
    worker.runUntil(async () => {
      try {
        const result = await env.client.workflow.execute('salesforceSync', { taskQueue, workflowId, args: [input] });
        return { seen, result: result as ObjectOutcome[], workflowId };
      } catch (error) {
        if (!(error instanceof WorkflowFailedError)) throw error;
        return { seen, error, workflowId };
      }
    }),
  );
}

const order = (seen: Seen) => seen.calls.map((c) => `${c.activity}${c.object ? ` ${c.object}` : ''}`);

describe('an atomic sync (stubbed activities)', () => {
  it('checks the catalog first, extracts every object without committing it, publishes all in one activity, then cleans up each', async () => {
    const { seen, result, workflowId } = await run({ objects: ['Account', 'Contact'], atomic: true, concurrency: 1 });
    expect(order(seen).slice(0, 6)).toEqual([
      'checkAtomicPublish',
      'prepareObject Account',
      'extractObject Account',
      'prepareObject Contact',
      'extractObject Contact',
      'publishObjects Account,Contact',
    ]);
    // The cleanups after the publish (side by side).
    expect(order(seen).slice(6).sort()).toEqual(['cleanupObject Account', 'cleanupObject Contact']);
    expect(seen.published).toEqual([
      { objects: ['Account', 'Contact'], staging: ['staging/Account', 'staging/Contact'], publishId: expect.stringMatching(new RegExp(`^${workflowId}@`)) },
    ]);
    expect(result).toEqual([
      { object: 'Account', status: 'succeeded', result: { snapshotId: 'snap-0', rows: 300, deleted: 0, alreadyCommitted: false } },
      { object: 'Contact', status: 'succeeded', result: { snapshotId: 'snap-1', rows: 120, deleted: 0, alreadyCommitted: false } },
    ]);
  });

  it('a catalog that cannot commit transactions is refused before anything is read', async () => {
    const { seen, error } = await run({ objects: ['Account', 'Contact'], atomic: true }, { check: true });
    expect(order(seen)).toEqual(['checkAtomicPublish']);
    const cause = error!.cause as ApplicationFailure;
    expect(cause.type).toBe('ATOMIC_PUBLISH_UNSUPPORTED');
    expect(cause.message).toContain('cannot commit several tables in one transaction');
    expect(cause.nonRetryable).toBe(true);
  });

  it('one failed object publishes nothing: the extracted ones are cleaned up, the rest never start, each says why', async () => {
    const { seen, error } = await run({ objects: ['Account', 'Contact', 'Opportunity'], atomic: true, concurrency: 1 }, { extract: 'Contact' });
    expect(seen.published).toEqual([]);
    expect(seen.calls.filter((c) => c.activity === 'commitObject')).toEqual([]);
    expect(seen.calls.filter((c) => c.object === 'Opportunity')).toEqual([]);
    // Contact's own child cleaned up after its failure; Account's staged files, the parent.
    expect(cleanedUp(seen)).toEqual(['Account', 'Contact']);
    const outcomes = (error!.cause as ApplicationFailure).details![0] as ObjectOutcome[];
    expect(outcomes).toEqual([
      {
        object: 'Account',
        status: 'failed',
        code: 'NOT_PUBLISHED',
        error: 'extracted 300 rows but not published: Contact failed, and an atomic sync publishes all its objects or none',
      },
      { object: 'Contact', status: 'failed', code: 'SALESFORCE_REFUSED', error: 'Contact is not readable' },
      { object: 'Opportunity', status: 'failed', code: 'NOT_PUBLISHED', error: 'not synced: Contact failed, and an atomic sync publishes all its objects or none' },
    ]);
  });

  it('a publish that fails for good fails every object and still cleans up each', async () => {
    const { seen, error } = await run({ objects: ['Account', 'Contact'], atomic: true }, { publish: true });
    expect(cleanedUp(seen)).toEqual(['Account', 'Contact']);
    const outcomes = (error!.cause as ApplicationFailure).details![0] as ObjectOutcome[];
    expect(outcomes.map((o) => [o.object, o.status, o.code])).toEqual([
      ['Account', 'failed', 'CATALOG_REFUSED'],
      ['Contact', 'failed', 'CATALOG_REFUSED'],
    ]);
  });

  it('carries what it staged across continue-as-new and publishes all objects once, in the last run', async () => {
    const { seen, result } = await run({ objects: ['Account', 'Contact', 'Opportunity'], atomic: true, concurrency: 1, maxHistoryEvents: 10 });
    // The check ran once (the first run); every object was extracted once and published together.
    expect(order(seen).filter((c) => c === 'checkAtomicPublish')).toHaveLength(1);
    expect(seen.published.map((p) => p.objects)).toEqual([['Account', 'Contact', 'Opportunity']]);
    expect(result!.map((o) => [o.object, o.status, o.result?.rows])).toEqual([
      ['Account', 'succeeded', 300],
      ['Contact', 'succeeded', 120],
      ['Opportunity', 'succeeded', 50],
    ]);
  });

  it('a sync without atomic commits each object itself, as before', async () => {
    const { seen } = await run({ objects: ['Account'] });
    expect(order(seen)).toEqual(['prepareObject Account', 'extractObject Account', 'commitObject Account', 'cleanupObject Account']);
  });
});

import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { connectIceberg } from '../../src/iceberg/connect';
import { inspectTables } from '../../src/destinations/iceberg-inspect';
import type { ObjectOutcome } from '../../workflows';
import { readers, type ReadResult } from '../helpers/readers';
import { uniqueName } from '../helpers/stack';
import { syncHarness } from '../helpers/sync-harness';
import { SIM_DEFAULTS, SalesforceSimulator } from '../../src/salesforce-sim/server';
import { readerForm } from '../helpers/source-rows';
import { TIME_TEXT_DOC, columnName } from '../../src/mapping/schema-mapping';
import { loadTable } from '../../src/iceberg/table';

// Small PK chunks and result pages: Bulk reads here come back in several parallel pages, not in
// Id order, and an ORDER BY on any object would be counted.
const sim = new SalesforceSimulator({ rowCounts: { Account: 300, Contact: 120 }, bulkChunkRows: 100, resultPageRecords: 100 });
// A second worker keeps Salesforce times as Iceberg time columns (SYNC_TIME_TYPE=time).
const harness = syncHarness({ name: 'e2e', sim, workers: { time: { SYNC_TIME_TYPE: 'time' } } });
const { settings, taskQueue } = harness;
/** Each test syncs into a namespace of its own: none depends on what another left behind. */
const freshNamespace = () => harness.namespace();

/** Runs a sync to its end; `ids` collects the parent's and children's workflow ids. */
async function sync(objects: string[], into: string, ids: string[] = [], queue?: string): Promise<ObjectOutcome[]> {
  const workflowId = uniqueName('sync');
  ids.push(workflowId, ...objects.map((o) => `${workflowId}/${o}`));
  return harness.sync({ objects, namespace: into }, { queue, workflowId });
}

async function tableIds(namespace: string, table: string): Promise<string[]> {
  const r = await readers<ReadResult>('read', '--reader', 'pyiceberg', namespace, table);
  return r.rows.map((row) => String(row.id)).sort();
}

function sourceIds(object: string): string[] {
  return [...sim.org.records(sim.org.object(object)!, false)].map((r) => String(r.Id)).sort();
}

describe('salesforceSync end to end (Temporal dev server, worker, simulator, Nessie, MinIO)', () => {
  it('a full sync, then incremental ones with updates, deletes and a new field: the tables equal the source each time', async () => {
    const namespace = freshNamespace();
    const first = await sync(['Account', 'Contact'], namespace);
    expect(first.map((o) => [o.object, o.status, o.result?.rows])).toEqual([
      ['Account', 'succeeded', 300],
      ['Contact', 'succeeded', 120],
    ]);
    expect(await tableIds(namespace, 'account')).toEqual(sourceIds('Account'));
    expect(await tableIds(namespace, 'contact')).toEqual(sourceIds('Contact'));
    expect(sim.stats()).toMatchObject({ orderedBulkJobs: 0, bulkJobs: 2 });
    expect(sim.stats().resultPagesCalls).toBeGreaterThanOrEqual(2);

    // What `npm run tables` reports after the first sync.
    const { catalog, storeFor } = connectIceberg(settings);
    const [account] = await inspectTables({ catalog, namespace: [namespace], storeFor, sample: 2, only: ['account'] });
    expect(account).toMatchObject({ table: `${namespace}.account`, rows: 300, dataFiles: 1, deleteFiles: 0, partitioning: { current: 'unpartitioned', specs: 1 } });
    expect(account!.sortOrder).toBeUndefined();
    expect(account!.cursor).toMatch(/Z$/);
    expect(account!.schema[0]).toEqual({ id: 1, name: 'id', type: 'string', required: true });
    expect(account!.sample![0]!.system_modstamp).toMatch(/^\d{4}-\d{2}-\d{2}T.*Z$/);

    const accounts = sourceIds('Account');
    sim.org.update('Account', accounts[5]!, { Name: 'Renamed in Salesforce' });
    sim.org.delete('Account', accounts[9]!);
    const second = await sync(['Account'], namespace);
    expect(second[0]!.result).toMatchObject({ rows: 1, deleted: 1 });
    const table = await readers<ReadResult>('read', '--reader', 'pyiceberg', namespace, 'account');
    expect(table.rows.map((r) => String(r.id)).sort()).toEqual(sourceIds('Account'));
    expect(table.rows.find((r) => r.id === accounts[5])?.name).toBe('Renamed in Salesforce');
    expect(table.summary?.['salesforce.cursor']).toMatch(/Z$/);
    const [after] = await inspectTables({ catalog, namespace: [namespace], storeFor, only: ['account'] });
    expect(after).toMatchObject({ rows: 299, deleteFiles: 1 }); // one row deleted, one rewritten

    // A field added in Salesforce, set on two rows, another row deleted: a new column, the rows equal.
    sim.org.addField('Account', { name: 'Tier__c', type: 'picklist', label: 'Tier', nillable: true, custom: true, compoundFieldName: null, gen: () => null });
    sim.org.update('Account', accounts[7]!, { Tier__c: 'Gold' });
    sim.org.update('Account', accounts[8]!, { Tier__c: 'Silver', Name: 'Second rename' });
    sim.org.delete('Account', accounts[11]!);
    const third = await sync(['Account'], namespace);
    // A new column: every row is read again, so old rows get the field's value too (here null but on two).
    expect(third[0]!.result).toMatchObject({ rows: sourceIds('Account').length, deleted: 1, reread: 'new-fields' });
    const read = await readers<ReadResult>('read', '--reader', 'pyiceberg', namespace, 'account');
    const tableRows = read.rows.map((r) => [r.id, r.name, r.tier_c ?? null]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    const sourceRows = [...sim.org.records(sim.org.object('Account')!, false)]
      .map((r) => [r.Id, r.Name, r.Tier__c ?? null])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(tableRows).toEqual(sourceRows);
    expect(tableRows.filter((r) => r[2] !== null)).toHaveLength(2);
  });

  it('every column of every Salesforce type the simulator has lands as Salesforce holds it, for pyiceberg and DuckDB alike', async () => {
    // Datetimes, dates, times (as text), decimals, doubles, percents, ints, longs, booleans, ids,
    // picklists, comboboxes, encrypted strings and text with quotes, commas, line breaks and
    // non-ASCII: each decoded from the Bulk CSV bytes by the worker's fast path.
    const into = freshNamespace();
    const objects = ['Account', 'User', 'Lead', 'Product2'];
    const outcomes = await sync(objects, into);
    expect(outcomes.map((o) => [o.object, o.status, o.result?.rows])).toEqual(objects.map((o) => [o, 'succeeded', sourceIds(o).length]));
    const types = new Set<string>();
    for (const object of objects) {
      const o = sim.org.object(object)!;
      const expected = [...sim.org.records(o, false)].sort((a, b) => String(a.Id).localeCompare(String(b.Id)));
      for (const reader of ['pyiceberg', 'duckdb']) {
        const read = await readers<ReadResult>('read', '--reader', reader, into, columnName(object, 'snake_case'));
        const rows = [...read.rows].sort((a, b) => String(a.id).localeCompare(String(b.id)));
        const columns = read.columns.map((c) => c.name);
        const fields = columns.map((c) => o.fields.find((f) => columnName(f.name, 'snake_case') === c)!);
        for (const f of fields) types.add(f.type);
        expect(
          rows.map((r) => columns.map((c) => r[c])),
          `${object} read by ${reader}`,
        ).toEqual(expected.map((r) => fields.map((f) => readerForm(f, r[f.name]))));
      }
    }
    // Every type but the compound ones (synced as their components) and base64 (off by default).
    expect([...types].sort()).toEqual([
      'boolean',
      'combobox',
      'currency',
      'date',
      'datetime',
      'double',
      'email',
      'encryptedstring',
      'id',
      'int',
      'long',
      'multipicklist',
      'percent',
      'phone',
      'picklist',
      'reference',
      'string',
      'textarea',
      'time',
      'url',
    ]);
  });

  it('a table whose Salesforce time column is an Iceberg time keeps it: later syncs under the text default change no type', async () => {
    const namespace = freshNamespace();
    const { catalog, storeFor } = connectIceberg(settings);
    const column = () => loadTable({ catalog, namespace: [namespace], name: 'account', storeFor }).then((t) => t.schema().fields.find((f) => f.name === 'preferred_call_time_c'));
    await sync(['Account'], namespace, [], 'time');
    expect((await column())?.type).toBe('time');
    const id = sourceIds('Account')[3]!;
    sim.org.update('Account', id, { PreferredCallTime__c: '23:59:58.000Z' });
    const [outcome] = await sync(['Account'], namespace);
    expect(outcome).toMatchObject({ status: 'succeeded', result: { rows: 1 } });
    expect((await column())?.type).toBe('time');
    for (const reader of ['pyiceberg', 'duckdb']) {
      const read = await readers<ReadResult>('read', '--reader', reader, namespace, 'account');
      expect(read.rows.find((r) => r.id === id)?.preferred_call_time_c, reader).toBe('23:59:58');
    }
    // A new table under the default holds the text, documented as a Salesforce time.
    const fresh = freshNamespace();
    await sync(['Account'], fresh);
    const text = await loadTable({ catalog, namespace: [fresh], name: 'account', storeFor }).then((t) => t.schema().fields.find((f) => f.name === 'preferred_call_time_c'));
    expect(text).toMatchObject({ type: 'string', doc: `Preferred Call Time — ${TIME_TEXT_DOC}` });
    const read = await readers<ReadResult>('read', '--reader', 'duckdb', fresh, 'account');
    expect(read.rows.find((r) => r.id === id)?.preferred_call_time_c).toBe('23:59:58.000');
  });

  it('no secret appears anywhere in the workflow histories', async () => {
    const ids: string[] = [];
    await sync(['Account', 'Contact'], freshNamespace(), ids);
    const U = SIM_DEFAULTS.user;
    const secrets = [U.password, U.securityToken, settings.S3_SECRET_ACCESS_KEY, SIM_DEFAULTS.client.clientSecret];
    let scanned = 0;
    for (const id of ids) {
      const history = JSON.stringify(await harness.client.workflow.getHandle(id).fetchHistory());
      scanned += history.length;
      for (const secret of secrets) expect(history.includes(secret), `${id} holds a secret`).toBe(false);
      // Session tokens of the simulator start with its org id.
      expect(history).not.toContain(`${SIM_DEFAULTS.orgId.slice(0, 15)}!AQ`);
    }
    expect(scanned).toBeGreaterThan(10_000);
  });

  it("a sync's fresh histories (parent and child) replay without non-determinism errors", async () => {
    // The kept histories of test/histories are replayed by the unit layer (test/unit/replay.test.ts).
    const ids: string[] = [];
    await sync(['Contact'], freshNamespace(), ids);
    const workflowsPath = path.join(__dirname, '..', '..', 'workflows', 'index.ts');
    for (const id of ids) await Worker.runReplayHistory({ workflowsPath }, await harness.client.workflow.getHandle(id).fetchHistory(), id);
  });

  it('the parent continues as new once its history is long, and still reports every object', async () => {
    const namespace = freshNamespace();
    const workflowId = uniqueName('sync');
    const handle = await harness.client.workflow.start('salesforceSync', {
      taskQueue,
      workflowId,
      args: [{ objects: ['Contact', 'Account', 'Opportunity'], namespace, concurrency: 1, maxHistoryEvents: 20 }],
    });
    const outcomes = (await handle.result()) as ObjectOutcome[];
    expect(outcomes.map((o) => [o.object, o.status])).toEqual([
      ['Contact', 'succeeded'],
      ['Account', 'succeeded'],
      ['Opportunity', 'succeeded'],
    ]);
    const first = await harness.client.workflow.getHandle(workflowId, handle.firstExecutionRunId).fetchHistory();
    const last = first.events!.at(-1)!;
    expect(last.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
    // The first run (which also checked the object names) started a child, but not all three, before its history passed the limit.
    const children = first.events!.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).length;
    expect(children).toBeGreaterThanOrEqual(1);
    expect(children).toBeLessThan(3);
    expect(await tableIds(namespace, 'opportunity')).toEqual(sourceIds('Opportunity'));
  });

  it('an unknown object fails visibly after the others finished', async () => {
    const namespace = freshNamespace();
    const error = await sync(['Contact', 'NoSuchObject__c'], namespace).then(
      () => new Error('succeeded'),
      (e: Error) => e,
    );
    const message = (error as { cause?: { message?: string } }).cause?.message ?? error.message;
    expect(message).toMatch(/1 of 2 objects failed: NoSuchObject__c: Salesforce has no object named NoSuchObject__c/);
    expect(await tableIds(namespace, 'contact')).toEqual(sourceIds('Contact'));
  });
});

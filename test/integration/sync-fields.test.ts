import { describe, expect, it } from 'vitest';
import { connectIceberg } from '../../src/iceberg/connect';
import { FORMULA_DOC, TIME_TEXT_DOC } from '../../src/mapping/schema-mapping';
import { LABEL_PROPERTY } from '../../src/table-contract';
import { loadTable } from '../../src/iceberg/table';
import type { ObjectOutcome, SalesforceSyncInput } from '../../workflows';
import { readers, type ReadResult } from '../helpers/readers';
import { uniqueName } from '../helpers/stack';
import { syncHarness } from '../helpers/sync-harness';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';

/*
 * New fields arrive complete, formula fields can be refreshed, and columns carry Salesforce's
 * labels: through Temporal, the worker, the simulator, Nessie and MinIO, read back by pyiceberg
 * and DuckDB.
 */

const ROWS = 150;
const sim = new SalesforceSimulator({ rowCounts: { Account: ROWS } });
const harness = syncHarness({ name: 'fields', sim });
const { settings, taskQueue } = harness;
const freshNamespace = () => harness.namespace();

/** Runs salesforceSync over Account to its end; returns Account's outcome. */
async function syncAccount(namespace: string, options: Omit<SalesforceSyncInput, 'objects' | 'namespace'> = {}): Promise<ObjectOutcome> {
  const [outcome] = await harness.sync({ objects: ['Account'], namespace, ...options });
  expect(outcome).toMatchObject({ object: 'Account', status: 'succeeded' });
  return outcome as ObjectOutcome;
}

/** The simulator's control API, as a test or an operator calls it. */
async function control(path: string, body: unknown): Promise<void> {
  const res = await fetch(`${sim.url}/__sim/${path}`, { method: 'POST', body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
}

const byId = (rows: Record<string, unknown>[]) => new Map(rows.map((r) => [String(r.id), r]));
const account = () => sim.org.object('Account')!;
const sourceRows = () => [...sim.org.records(account(), false)];

/** The table as both readers see it: rows by Id (equal for both, checked), and pyiceberg's metadata. */
async function readBoth(namespace: string): Promise<{ rows: Map<string, Record<string, unknown>>; py: ReadResult }> {
  const py = await readers<ReadResult>('read', '--reader', 'pyiceberg', namespace, 'account');
  const duck = await readers<ReadResult>('read', '--reader', 'duckdb', namespace, 'account');
  const sorted = (r: ReadResult) => [...r.rows].sort((a, b) => String(a.id).localeCompare(String(b.id)));
  expect(sorted(duck), 'DuckDB reads what pyiceberg reads').toEqual(sorted(py));
  return { rows: byId(py.rows), py };
}

describe('fields added in Salesforce, formula fields and labels (Temporal, worker, simulator, Nessie, MinIO)', () => {
  it('a new field with values on existing rows: an incremental sync fills it on every row, in one snapshot, and still removes deleted rows', async () => {
    const namespace = freshNamespace();
    expect((await syncAccount(namespace)).result).toMatchObject({ rows: ROWS });
    const before = await readBoth(namespace);

    // An admin adds a field with a default every existing row takes; meanwhile a row changes and one is deleted.
    await control('add-field', { object: 'Account', field: { name: 'Segment__c', type: 'picklist', label: 'Segment', value: 'Enterprise' } });
    const ids = sourceRows().map((r) => String(r.Id));
    sim.org.update('Account', ids[4]!, { Name: 'Renamed with the new field' });
    sim.org.delete('Account', ids[6]!);

    const outcome = await syncAccount(namespace);
    expect(outcome.result).toMatchObject({ rows: ROWS - 1, deleted: 1, reread: 'new-fields' });
    const after = await readBoth(namespace);
    expect([...after.rows.keys()].sort()).toEqual(
      sourceRows()
        .map((r) => String(r.Id))
        .sort(),
    );
    expect([...after.rows.values()].filter((r) => r.segment_c === null)).toHaveLength(0);
    expect([...after.rows.values()].every((r) => r.segment_c === 'Enterprise')).toBe(true);
    expect(after.rows.get(ids[4]!)?.name).toBe('Renamed with the new field');
    expect(after.rows.has(ids[6]!)).toBe(false);
    // Exactly one snapshot on top of the last one, whose summary carries the new cursor and why every row was read.
    expect(after.py.sequence_number).toBe(before.py.sequence_number! + 1);
    expect(after.py.summary).toMatchObject({ 'salesforce.reread': 'new-fields', 'salesforce.cursor': outcome.result!.cursor });
    expect(Date.parse(outcome.result!.cursor!)).toBeGreaterThan(Date.parse(before.py.summary!['salesforce.cursor']!));

    // The cursor covers it all: the next sync reads nothing and re-reads nothing.
    const next = await syncAccount(namespace);
    expect(next.result).toMatchObject({ rows: 0, deleted: 0 });
    expect(next.result!.reread).toBeUndefined();

    // Told to skip the full read, a sync adds the column and leaves old rows null, as before.
    await control('add-field', { object: 'Account', field: { name: 'Region__c', type: 'string', label: 'Region', value: 'EMEA' } });
    sim.org.update('Account', ids[8]!, { Name: 'Changed with the region' });
    const skipped = await syncAccount(namespace, { backfillNewFields: false });
    expect(skipped.result).toMatchObject({ rows: 1 });
    expect(skipped.result!.reread).toBeUndefined();
    const partial = await readBoth(namespace);
    expect([...partial.rows.values()].filter((r) => r.region_c === null)).toHaveLength(ROWS - 2);
    expect(partial.rows.get(ids[8]!)?.region_c).toBe('EMEA');
    // Per object, the override wins over the sync's setting (here: nothing new to fill, so no re-read).
    const overridden = await syncAccount(namespace, { backfillNewFields: false, overrides: { Account: { backfillNewFields: true } } });
    expect(overridden.result).toMatchObject({ rows: 0 });
  });

  it('a sync that added a column but committed nothing leaves it to the next sync, which fills it', async () => {
    const namespace = freshNamespace();
    await syncAccount(namespace);
    await control('add-field', { object: 'Account', field: { name: 'Tier__c', type: 'picklist', label: 'Tier', value: 'Gold' } });
    // A sync prepares (adds the column), then is cancelled while its extraction waits for Salesforce
    // (the creation of its Bulk job, which reads every row to fill the column, is held).
    const held = sim.hold({ path: '/jobs/query' });
    const handle = await harness.client.workflow.start('salesforceSync', { taskQueue, workflowId: uniqueName('sync'), args: [{ objects: ['Account'], namespace }] });
    await held.arrived;
    const { catalog, storeFor } = connectIceberg(settings);
    const table = await loadTable({ catalog, namespace: [namespace], name: 'account', storeFor });
    expect(table.schema().fields.some((f) => f.name === 'tier_c')).toBe(true);
    await handle.cancel();
    await held.dropped;
    held.release();
    expect(
      await handle.result().then(
        () => 'succeeded',
        () => 'failed',
      ),
    ).toBe('failed');
    expect((await loadTable({ catalog, namespace: [namespace], name: 'account', storeFor })).currentSnapshot()?.['snapshot-id']).toEqual(table.currentSnapshot()?.['snapshot-id']);
    // The next sync finds the column the table's rows lack, and fills it.
    const outcome = await syncAccount(namespace);
    expect(outcome.result).toMatchObject({ rows: sourceRows().length, reread: 'new-fields' });
    const { rows } = await readBoth(namespace);
    expect([...rows.values()].filter((r) => r.tier_c !== 'Gold')).toHaveLength(0);
  });

  it('a formula value that changes without SystemModstamp moving: kept by a plain incremental sync, current after refreshFormulas', async () => {
    const namespace = freshNamespace();
    await syncAccount(namespace);
    const ids = sourceRows().map((r) => String(r.Id));
    await control('set-formula', { object: 'Account', field: 'RatingScore__c', value: 1.5 });
    await control('set-formula', { object: 'Account', field: 'RatingScore__c', id: ids[2], value: 999.5 });

    const plain = await syncAccount(namespace);
    expect(plain.result).toMatchObject({ rows: 0 });
    const stale = await readBoth(namespace);
    expect([...stale.rows.values()].filter((r) => r.rating_score_c === 1.5)).toHaveLength(0);
    expect(stale.rows.get(ids[2]!)?.rating_score_c).not.toBe(999.5);

    const refreshed = await syncAccount(namespace, { overrides: { Account: { refreshFormulas: true } } });
    expect(refreshed.result).toMatchObject({ rows: sourceRows().length, reread: 'formulas' });
    const current = await readBoth(namespace);
    expect(current.rows.get(ids[2]!)?.rating_score_c).toBe(999.5);
    expect([...current.rows.values()].filter((r) => r.id !== ids[2] && r.rating_score_c !== 1.5)).toHaveLength(0);
    expect(current.py.sequence_number).toBe(stale.py.sequence_number! + 1);
  });

  it("columns carry Salesforce's labels and mark formula fields; the object's label is a table property; a renamed label reaches an existing table", async () => {
    const namespace = freshNamespace();
    await syncAccount(namespace);
    const { py } = await readBoth(namespace);
    const doc = (name: string) => py.columns.find((c) => c.name === name)?.doc;
    expect(doc('rating_score_c')).toBe(`Account Rating Score — ${FORMULA_DOC}`);
    expect(doc('rating_score_c')).toBe('Account Rating Score — formula field (calculated by Salesforce; its changes do not move SystemModstamp)');
    expect(doc('preferred_call_time_c')).toBe(`Preferred Call Time — ${TIME_TEXT_DOC}`);
    expect(doc('annual_revenue')).toBe('Annual Revenue');
    expect(py.properties?.[LABEL_PROPERTY]).toBe('Account');

    // A label renamed in Salesforce: a doc-only schema change, same field id and type, no snapshot (no row changed).
    const { catalog, storeFor } = connectIceberg(settings);
    const column = async () => (await loadTable({ catalog, namespace: [namespace], name: 'account', storeFor })).schema().fields.find((f) => f.name === 'annual_revenue')!;
    const was = await column();
    sim.org.field(account(), 'AnnualRevenue')!.label = 'Yearly Revenue';
    try {
      await syncAccount(namespace);
      const now = await column();
      expect(now).toEqual({ ...was, doc: 'Yearly Revenue' });
      const again = await readBoth(namespace);
      expect(again.py.columns.find((c) => c.name === 'annual_revenue')?.doc).toBe('Yearly Revenue');
      expect(again.py.sequence_number).toBe(py.sequence_number!);
    } finally {
      sim.org.field(account(), 'AnnualRevenue')!.label = 'Annual Revenue';
    }
  });
});

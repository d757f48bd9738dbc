import { describe, expect, it } from 'vitest';
import { connectIceberg } from '../../src/iceberg/connect';
import { inspectTables } from '../../src/destinations/iceberg-inspect';
import { loadTable } from '../../src/iceberg/table';
import type { ObjectOutcome, SalesforceSyncInput } from '../../workflows';
import { readers, type ReadResult } from '../helpers/readers';
import { syncHarness } from '../helpers/sync-harness';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';

/*
 * Hard deletes on the real stack: Temporal dev server, an in-process worker, the simulator, Nessie
 * and MinIO; what the table holds is read by pyiceberg and DuckDB.
 */
const sim = new SalesforceSimulator({ rowCounts: { Account: 400 } });
const harness = syncHarness({ name: 'reconcile', sim });
const { settings } = harness;
const namespace = harness.namespace();

const sync = (input: SalesforceSyncInput): Promise<ObjectOutcome[]> => harness.sync({ objects: ['Account'], namespace, ...input });

/** Through the simulator's control API, as a person driving it would. */
async function control(what: string, body: Record<string, unknown>): Promise<unknown> {
  const response = await fetch(`${sim.url}/__sim/${what}`, { method: 'POST', body: JSON.stringify(body) });
  expect(response.status, what).toBe(200);
  return response.json();
}

const sourceIds = () => [...sim.org.records(sim.org.object('Account')!, false)].map((r) => String(r.Id)).sort();

async function read(reader: 'pyiceberg' | 'duckdb'): Promise<ReadResult & { ids: string[] }> {
  const r = await readers<ReadResult>('read', '--reader', reader, namespace, 'account');
  return { ...r, ids: r.rows.map((row) => String(row.id)).sort() };
}

describe('reconciling syncs (Temporal, worker, simulator, Nessie, MinIO; read by pyiceberg and DuckDB)', () => {
  it('an incremental sync keeps hard-deleted and purged rows; a reconciling one removes exactly them, in one snapshot with its other changes', async () => {
    const [first] = await sync({});
    expect(first).toMatchObject({ status: 'succeeded', result: { rows: 400, deleted: 0 } });
    const ids = sourceIds();
    expect((await read('pyiceberg')).ids).toEqual(ids);

    const hard = ids[3]!;
    const purged = ids[4]!;
    const binned = ids[5]!;
    expect(await control('hard-delete', { object: 'Account', id: hard })).toEqual({ hardDeleted: hard });
    await control('delete', { object: 'Account', id: purged });
    expect(await control('empty-recycle-bin', { object: 'Account' })).toEqual({ purged: 1 });
    await control('delete', { object: 'Account', id: binned }); // still in the Recycle Bin: queryAll reports it
    await control('update', { object: 'Account', id: ids[6], values: { Name: 'Renamed before the incremental sync' } });

    // The incremental sync sees the update and the delete still in the bin, never the other two.
    const [incremental] = await sync({});
    expect(incremental).toMatchObject({ status: 'succeeded', result: { rows: 1, deleted: 1 } });
    expect(incremental!.result!.reconciled).toBeUndefined();
    const kept = await read('pyiceberg');
    expect(kept.ids).toEqual([...sourceIds(), hard, purged].sort());
    expect(kept.summary?.['salesforce.reconciled-deletes']).toBeUndefined();

    // The reconciling sync: one more update (its own change) and the two rows Salesforce lost.
    await control('update', { object: 'Account', id: ids[7], values: { Name: 'Renamed before the reconciling sync' } });
    const { catalog, storeFor } = connectIceberg(settings);
    const before = (await loadTable({ catalog, namespace: [namespace], name: 'account', storeFor })).currentSnapshot()!;
    const [reconciling] = await sync({ reconcile: true });
    expect(reconciling).toMatchObject({ status: 'succeeded', result: { rows: 1, deleted: 0, reconciled: 2 } });

    const expected = sourceIds();
    expect(expected).toEqual(ids.filter((id) => ![hard, purged, binned].includes(id)));
    for (const reader of ['pyiceberg', 'duckdb'] as const) {
      const table = await read(reader);
      expect(table.ids, reader).toEqual(expected);
      expect(table.rows.find((r) => r.id === ids[7])?.name, reader).toBe('Renamed before the reconciling sync');
      expect(table.rows.find((r) => r.id === ids[6])?.name, reader).toBe('Renamed before the incremental sync');
    }
    // One snapshot for the sync, right after the one before it (Nessie keeps only the current
    // snapshot, so its sequence number tells): the update's old row and the two lost rows are its
    // three position deletes.
    const after = await read('pyiceberg');
    expect(after.sequence_number).toBe(Number(before['sequence-number']) + 1);
    expect(after.summary).toMatchObject({ 'salesforce.reconciled-deletes': '2', 'added-position-deletes': '3', 'added-records': '1' });
    // What `npm run tables` shows of it.
    const [report] = await inspectTables({ catalog, namespace: [namespace], storeFor, only: ['account'] });
    expect(report?.reconciledDeletes).toBe(2);

    // Nothing left to remove: the next reconciliation removes nothing and changes no row.
    const [again] = await sync({ reconcile: true });
    expect(again).toMatchObject({ status: 'succeeded', result: { rows: 0, reconciled: 0 } });
    expect((await read('duckdb')).ids).toEqual(expected);
  });
});

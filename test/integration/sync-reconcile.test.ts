import { historySteps } from '../helpers/history-steps';
import { describe, expect, it } from 'vitest';
import { connectIceberg } from '../../src/iceberg/connect';
import { inspectTables } from '../../src/destinations/iceberg-inspect';
import { loadTable } from '../../src/iceberg/table';
import type { ObjectOutcome, SalesforceSyncInput } from '../../workflows';
import { readers, type ReadResult } from '../helpers/readers';
import { syncHarness } from '../helpers/sync-harness';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';
import { catalogTargets } from '../helpers/catalogs';
import { uniqueName } from '../helpers/stack';
import { leftBehind, NOTHING_LEFT, runLeftovers } from '../helpers/table-files';

/*
 * Hard deletes on the real stack: Temporal dev server, in-process workers, the simulator, Nessie
 * and MinIO; what the table holds is read by pyiceberg and DuckDB. Bulk result pages hold 50 rows:
 * the main worker extracts the object in one activity (fewer pages than SYNC_PARTITION_MIN_PAGES),
 * the `parts` worker in partitions of two pages.
 */
const sim = new SalesforceSimulator({ rowCounts: { Account: 400 }, resultPageRecords: 50 });
const harness = syncHarness({
  name: 'reconcile',
  sim,
  // Deletes from queryAll, as before Salesforce's delete log was read: hard deletes only by reconciling (test/integration/deleted-log.test.ts reads the log).
  env: { SYNC_GET_DELETED: 'false' },
  workers: { parts: { SALESFORCE_READ_API: 'bulk', SYNC_PARTITION_MIN_PAGES: '4', SYNC_PARTITION_PAGES: '2' } },
});
const { settings } = harness;
const namespace = harness.namespace();
const nessie = catalogTargets().find((t) => t.name === 'nessie')!;

const sync = (input: SalesforceSyncInput): Promise<ObjectOutcome[]> => harness.sync({ objects: ['Account'], namespace, ...input });

/** Through the simulator's control API, as a person driving it would. */
async function control(what: string, body: Record<string, unknown>): Promise<unknown> {
  const response = await fetch(`${sim.url}/__sim/${what}`, { method: 'POST', body: JSON.stringify(body) });
  expect(response.status, what).toBe(200);
  return response.json();
}

const sourceIds = () => [...sim.org.records(sim.org.object('Account')!, false)].map((r) => String(r.Id)).sort();

async function read(reader: 'pyiceberg' | 'duckdb', ns = namespace): Promise<ReadResult & { ids: string[] }> {
  const r = await readers<ReadResult>('read', '--reader', reader, ns, 'account');
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

    // Over a tenth of the rows gone at once (what a lost sharing rule looks like): the reconciliation
    // removes none of them, fails the object with both counts and the setting, and changes nothing.
    const vanished = expected.slice(100, 150);
    for (const id of vanished) await control('hard-delete', { object: 'Account', id });
    const unchanged = (await loadTable({ catalog, namespace: [namespace], name: 'account', storeFor })).currentSnapshot()!;
    const [refused] = await harness.outcomes({ objects: ['Account'], namespace, reconcile: true });
    expect(refused).toMatchObject({ status: 'failed', code: 'RECONCILE_REFUSED' });
    expect(refused!.error).toContain(`found ${vanished.length} of the table's ${expected.length} rows`);
    expect(refused!.error).toContain('SYNC_RECONCILE_MAX_PERCENT=13');
    expect((await loadTable({ catalog, namespace: [namespace], name: 'account', storeFor })).currentSnapshot()!['snapshot-id']).toBe(unchanged['snapshot-id']);
    expect((await read('duckdb')).ids).toEqual(expected);
  });

  it('a reconciling sync whose extraction is partitioned removes exactly the rows Salesforce lost, with its other changes; no row lost or doubled', async () => {
    const ns = harness.namespace();
    const scheduled = async (workflowId: string) => {
      const events = (await harness.client.workflow.getHandle(`${workflowId}/Account`).fetchHistory()).events ?? [];
      // Scheduled activities and local ones (the cleanup).
      const types = historySteps(events).map((s) => s.activity);
      return types.reduce<Record<string, number>>((n, t) => ({ ...n, [t]: (n[t] ?? 0) + 1 }), {});
    };
    const firstId = uniqueName('reconcile-parts');
    const [first] = await harness.sync({ objects: ['Account'], namespace: ns }, { queue: 'parts', workflowId: firstId });
    const ids = sourceIds();
    expect(first).toMatchObject({ status: 'succeeded', result: { rows: ids.length, deleted: 0 } });
    // Eight result pages of 50 rows: four partitions of two.
    expect(await scheduled(firstId)).toMatchObject({ planObject: 1, extractPartition: 4, commitObject: 1 });

    const [hard, purged, binned, renamed] = [ids[13]!, ids[14]!, ids[15]!, ids[16]!];
    await control('hard-delete', { object: 'Account', id: hard });
    await control('delete', { object: 'Account', id: purged });
    // (The bin may still hold a row the test above deleted: this namespace's table never had it.)
    await control('empty-recycle-bin', { object: 'Account' });
    await control('delete', { object: 'Account', id: binned });
    await control('update', { object: 'Account', id: renamed, values: { Name: 'Renamed before the partitioned reconciliation' } });

    // An incremental sync that reads every row again (formula fields), so there are pages to
    // partition; it still removes what was deleted since its cursor (the plan reads those Ids).
    const workflowId = uniqueName('reconcile-parts');
    const [reconciling] = await harness.sync(
      { objects: ['Account'], namespace: ns, reconcile: true, overrides: { Account: { refreshFormulas: true } } },
      { queue: 'parts', workflowId },
    );
    const expected = sourceIds();
    expect(expected).toEqual(ids.filter((id) => ![hard, purged, binned].includes(id)));
    expect(reconciling).toMatchObject({ status: 'succeeded', result: { rows: expected.length, deleted: 1, reconciled: 2, reread: 'formulas' } });
    // Partitioned, reconciled once over what every partition staged, committed once.
    const steps = await scheduled(workflowId);
    expect(steps).toMatchObject({ planObject: 1, reconcileObject: 1, commitObject: 1, cleanupObject: 1 });
    expect(steps.extractPartition).toBeGreaterThanOrEqual(3);
    expect(steps.extractObject).toBeUndefined();

    for (const reader of ['pyiceberg', 'duckdb'] as const) {
      const table = await read(reader, ns);
      // Every Id Salesforce has, once; none it lost.
      expect(table.ids, reader).toEqual(expected);
      expect(new Set(table.ids).size, reader).toBe(table.ids.length);
      expect(table.rows.find((r) => r.id === renamed)?.name, reader).toBe('Renamed before the partitioned reconciliation');
    }
    expect((await read('pyiceberg', ns)).summary).toMatchObject({ 'salesforce.reconciled-deletes': '2' });

    // One snapshot of the run, and nothing of it left behind (the reconcile step's manifest included).
    const { catalog, storeFor } = connectIceberg(settings);
    const t = await loadTable({ catalog, namespace: [ns], name: 'account', storeFor });
    const { runId } = await harness.client.workflow.getHandle(`${workflowId}/Account`).describe();
    const left = await runLeftovers(t, nessie, `${workflowId}/Account@${runId}`);
    expect(leftBehind(left)).toEqual(NOTHING_LEFT);
    expect(left.commitsOfRun).toBe(1);
    expect(left.snapshotsOfRun).toBe(1);
    // The partitioned job and the reconcile step's Id job: both gone.
    expect(sim.jobs.size).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { readers, type ReadResult } from '../helpers/readers';
import { syncHarness } from '../helpers/sync-harness';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';
import { connectIceberg } from '../../src/iceberg/connect';
import { inspectTables } from '../../src/destinations/iceberg-inspect';
import { loadTable } from '../../src/iceberg/table';

/*
 * The count check on the real stack (Temporal, workers, the simulator, Nessie, MinIO; the tables
 * read by pyiceberg and DuckDB): every sync compares Salesforce's COUNT() of what the table should
 * hold with the table's live rows. A row the incremental read cannot see — added with a
 * SystemModstamp older than the table's cursor, as a restored or migrated record can be — makes
 * them differ: a warning with both numbers by default, a failed object (after the commit) on a
 * worker with SYNC_COUNT_CHECK=fail.
 */
const sim = new SalesforceSimulator({ rowCounts: { Account: 300 } });
const harness = syncHarness({
  name: 'counts',
  sim,
  // `repair` reads deletes from queryAll only, so a hard delete gets past it and only its count check tells.
  workers: { strict: { SYNC_COUNT_CHECK: 'fail' }, repair: { SYNC_COUNT_CHECK: 'reconcile', SYNC_GET_DELETED: 'false' } },
});

const sourceCount = () => [...sim.org.records(sim.org.object('Account')!, false)].length;

async function tableIds(reader: 'pyiceberg' | 'duckdb', namespace: string): Promise<{ ids: string[]; summary: Record<string, string> }> {
  const r = await readers<ReadResult>('read', '--reader', reader, namespace, 'account');
  return { ids: r.rows.map((row) => String(row.id)), summary: r.summary ?? {} };
}

describe('count check: every sync compares Salesforce with the table', () => {
  it('count check: equal after a full and an incremental sync; a row the sync could not see is a warning with both numbers, or a failure where the worker asks; a sync with no change adds no snapshot', async () => {
    const namespace = harness.namespace();
    const [full] = await harness.sync({ objects: ['Account'], namespace });
    expect(full).toMatchObject({ status: 'succeeded', result: { rows: 300, countCheck: { salesforce: 300, table: 300 } } });
    const read = await tableIds('pyiceberg', namespace);
    expect(read.ids).toHaveLength(300);
    expect(read.summary['salesforce.count']).toBe('300');

    // An update and a delete: the incremental sync sees both, and the counts still agree.
    const ids = [...sim.org.records(sim.org.object('Account')!, false)].map((r) => String(r.Id));
    sim.org.update('Account', ids[1]!, { Name: 'Counted' });
    sim.org.delete('Account', ids[2]!);
    const [merged] = await harness.sync({ objects: ['Account'], namespace });
    expect(merged).toMatchObject({ status: 'succeeded', result: { rows: 1, deleted: 1, countCheck: { salesforce: 299, table: 299 } } });

    // A record that arrives with an old SystemModstamp: the incremental read (after the cursor) never sees it.
    sim.org.setCount('Account', 301);
    expect(sourceCount()).toBe(300);
    // The sync sees no change: no snapshot is added, the cursor still moves (the table's recorded runs carry it).
    const { catalog, storeFor } = connectIceberg(harness.settings);
    const before = (await loadTable({ catalog, namespace: [namespace], name: 'account', storeFor })).currentSnapshot()!;
    const [warned] = await harness.sync({ objects: ['Account'], namespace });
    expect(warned).toMatchObject({
      status: 'succeeded',
      result: { rows: 0, unchanged: true, snapshotId: String(before['snapshot-id']), countCheck: { salesforce: 300, table: 299 } },
    });
    for (const reader of ['pyiceberg', 'duckdb'] as const) expect((await tableIds(reader, namespace)).ids, reader).toHaveLength(299);
    const [report] = await inspectTables({ catalog, namespace: [namespace], storeFor, only: ['account'] });
    expect(report).toMatchObject({ salesforceCount: 300, cursor: warned!.result!.cursor });
    expect(Date.parse(report!.cursor!)).toBeGreaterThan(Date.parse(merged!.result!.cursor!));
    const after = await loadTable({ catalog, namespace: [namespace], name: 'account', storeFor });
    expect(after.currentSnapshot()!['snapshot-id']).toBe(before['snapshot-id']);
    expect(after.metadata['last-sequence-number']).toBe(before['sequence-number']);

    // The same on a worker that fails the object for it: the commit stands, the object fails, saying both numbers.
    const [failed] = await harness.outcomes({ objects: ['Account'], namespace }, { queue: 'strict' });
    expect(failed).toMatchObject({ status: 'failed', code: 'COUNT_MISMATCH' });
    expect(failed!.error).toContain('Salesforce has 300 rows for what the table holds, the table 299');
    expect(failed!.error).toContain('a full sync');

    // A full sync reads the row the incremental ones missed: the counts agree again.
    const [repaired] = await harness.sync({ objects: ['Account'], namespace, readMode: 'full' });
    expect(repaired).toMatchObject({ status: 'succeeded', result: { countCheck: { salesforce: 300, table: 300 } } });
    expect((await tableIds('duckdb', namespace)).ids).toHaveLength(300);
  });

  it('count check: with SYNC_COUNT_CHECK=reconcile, a table holding more rows than Salesforce is reconciled by the next sync, which says why', async () => {
    const namespace = harness.namespace();
    const repair = { queue: 'repair' };
    const [first] = await harness.sync({ objects: ['Account'], namespace }, repair);
    expect(first).toMatchObject({ status: 'succeeded', result: { countCheck: { salesforce: 300, table: 300 } } });
    // A hard delete that queryAll never reports: the table keeps the row, the count check sees one too many.
    const gone = [...sim.org.records(sim.org.object('Account')!, false)].map((r) => String(r.Id))[20]!;
    sim.org.hardDelete('Account', gone);
    const [missed] = await harness.sync({ objects: ['Account'], namespace }, repair);
    expect(missed).toMatchObject({ status: 'succeeded', result: { countCheck: { salesforce: 299, table: 300 } } });
    expect(missed!.result!.reconciled).toBeUndefined();
    // The next sync compares every Id on its own and removes the row.
    const [repaired] = await harness.sync({ objects: ['Account'], namespace }, repair);
    expect(repaired).toMatchObject({ status: 'succeeded', result: { reconciled: 1, countCheck: { salesforce: 299, table: 299 } } });
    expect(repaired!.result!.reconcileReason).toContain("the last sync's count check found 300 rows in the table and 299 in Salesforce");
    for (const reader of ['pyiceberg', 'duckdb'] as const) expect((await tableIds(reader, namespace)).ids, reader).not.toContain(gone);
    // Counts agree again: the sync after reconciles no more.
    const [calm] = await harness.sync({ objects: ['Account'], namespace }, repair);
    expect(calm!.result!.reconciled).toBeUndefined();
  });
});

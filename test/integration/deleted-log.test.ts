import { describe, expect, it } from 'vitest';
import { readers, type ReadResult } from '../helpers/readers';
import { syncHarness } from '../helpers/sync-harness';
import { uniqueName } from '../helpers/stack';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';

/*
 * Salesforce's delete log on the real stack (Temporal, workers, the simulator, Nessie, MinIO; the
 * tables read by pyiceberg and DuckDB): an incremental merge sync removes soft and hard deletes
 * through getDeleted, with no reconciliation; when the log was purged since the last sync (an
 * emptied Recycle Bin), the sync compares every Id instead, on its own, and says why.
 */
const sim = new SalesforceSimulator({ rowCounts: { Account: 250 } });
const harness = syncHarness({ name: 'deletelog', sim });

const sourceIds = () => [...sim.org.records(sim.org.object('Account')!, false)].map((r) => String(r.Id)).sort();

async function tableIds(reader: 'pyiceberg' | 'duckdb', namespace: string): Promise<string[]> {
  const r = await readers<ReadResult>('read', '--reader', reader, namespace, 'account');
  return r.rows.map((row) => String(row.id)).sort();
}

/** The activities a sync's Account child scheduled, by type. */
async function steps(workflowId: string): Promise<Record<string, number>> {
  const events = (await harness.client.workflow.getHandle(`${workflowId}/Account`).fetchHistory()).events ?? [];
  const types = events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType!.name!] : []));
  return types.reduce<Record<string, number>>((n, t) => ({ ...n, [t]: (n[t] ?? 0) + 1 }), {});
}

describe('getDeleted: hard deletes from Salesforce’s delete log', () => {
  it('getDeleted: a hard delete and a soft one are removed with no reconciliation read; a purged delete log falls back to one, and says why', async () => {
    const namespace = harness.namespace();
    const [first] = await harness.sync({ objects: ['Account'], namespace });
    expect(first).toMatchObject({ status: 'succeeded', result: { rows: 250 } });
    const ids = sourceIds();

    sim.org.hardDelete('Account', ids[3]!);
    sim.org.delete('Account', ids[4]!);
    sim.org.update('Account', ids[5]!, { Name: 'Changed with the deletes' });
    const logged = uniqueName('deletelog');
    const [second] = await harness.sync({ objects: ['Account'], namespace }, { workflowId: logged });
    expect(second).toMatchObject({
      status: 'succeeded',
      result: { rows: 1, deleted: 2, deletesFrom: expect.stringContaining('getDeleted'), countCheck: { salesforce: 248, table: 248 } },
    });
    expect(second!.result!.reconciled).toBeUndefined();
    expect((await steps(logged)).reconcileObject).toBeUndefined();
    for (const reader of ['pyiceberg', 'duckdb'] as const) expect(await tableIds(reader, namespace), reader).toEqual(sourceIds());

    // The Recycle Bin emptied since: Salesforce purged the log, so it cannot say what the window deleted.
    sim.org.hardDelete('Account', ids[6]!);
    sim.org.emptyRecycleBin('Account');
    const fallback = uniqueName('deletelog');
    const [third] = await harness.sync({ objects: ['Account'], namespace }, { workflowId: fallback });
    expect(third).toMatchObject({ status: 'succeeded', result: { reconciled: 1, deletesFrom: expect.stringContaining('a reconciliation') } });
    expect(third!.result!.deletesFrom).toContain('earliest date available');
    expect((await steps(fallback)).reconcileObject).toBe(1);
    for (const reader of ['pyiceberg', 'duckdb'] as const) expect(await tableIds(reader, namespace), reader).toEqual(sourceIds());
    expect(sourceIds()).toHaveLength(247);
  });
});

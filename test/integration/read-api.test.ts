import { describe, expect, it } from 'vitest';
import { syncHarness } from '../helpers/sync-harness';
import { uniqueName } from '../helpers/stack';
import { connectIceberg } from '../../src/iceberg/connect';
import { loadTable } from '../../src/iceberg/table';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';

/*
 * Which API reads each sync on the real stack: a read of every row through Bulk, a small
 * incremental window through REST (no Bulk job, the window's questions in one Composite call),
 * a window over SALESFORCE_REST_WINDOW_ROWS through Bulk; the reason in the result, the Web UI's
 * details and the snapshot's counted calls, as the simulator counted them.
 */
const sim = new SalesforceSimulator({ rowCounts: { Account: 300 } });
const harness = syncHarness({ name: 'readapi', sim, workers: { tiny: { SALESFORCE_REST_WINDOW_ROWS: '2' } } });

const changeRows = (n: number, to: string) => {
  const ids = [...sim.org.records(sim.org.object('Account')!, false)].map((r) => String(r.Id));
  for (const id of ids.slice(0, n)) sim.org.update('Account', id, { Name: to });
};

async function details(workflowId: string): Promise<string | undefined> {
  return (await harness.client.workflow.getHandle(workflowId).query<{ currentDetails?: string }>('__temporal_workflow_metadata')).currentDetails;
}

describe('read API per window (real stack)', () => {
  it('read API: every row through Bulk, a small incremental window through REST with no Bulk job, a window over SALESFORCE_REST_WINDOW_ROWS through Bulk; each says why', async () => {
    const namespace = harness.namespace();
    const [first] = await harness.sync({ objects: ['Account'], namespace });
    expect(first).toMatchObject({ status: 'succeeded', result: { rows: 300, readApi: { api: 'bulk', reason: 'a read of every row' } } });

    changeRows(3, 'Changed by the REST window');
    const before = sim.usage;
    const small = uniqueName('readapi');
    const [second] = await harness.sync({ objects: ['Account'], namespace }, { workflowId: small });
    expect(second).toMatchObject({
      status: 'succeeded',
      result: { rows: 3, readApi: { api: 'rest', reason: 'the window holds 3 rows, at most SALESFORCE_REST_WINDOW_ROWS (10000)' }, countCheck: { salesforce: 300, table: 300 } },
    });
    expect(sim.usage.bulkJobs - before.bulkJobs).toBe(0);
    expect(await details(small)).toContain('- **Account**: succeeded: 3 rows; read through REST: the window holds 3 rows, at most SALESFORCE_REST_WINDOW_ROWS (10000)');
    // The snapshot counts the calls as the org does: the Composite request is one (the sync's one check of its object names aside).
    const { catalog, storeFor } = connectIceberg(harness.settings);
    const summary = (await loadTable({ catalog, namespace: [namespace], name: 'account', storeFor })).currentSnapshot()!.summary as Record<string, string>;
    expect(summary['salesforce.bulk-jobs']).toBe('0');
    expect(Number(summary['salesforce.api-calls'])).toBe(sim.usage.apiRequests - before.apiRequests - 1);

    changeRows(3, 'Changed by the Bulk window');
    const jobs = sim.usage.bulkJobs;
    const large = uniqueName('readapi');
    const [third] = await harness.sync({ objects: ['Account'], namespace }, { queue: 'tiny', workflowId: large });
    expect(third).toMatchObject({
      status: 'succeeded',
      result: { rows: 3, readApi: { api: 'bulk', reason: 'the window holds 3 rows, more than SALESFORCE_REST_WINDOW_ROWS (2)' } },
    });
    expect(sim.usage.bulkJobs - jobs).toBe(1);
    expect(await details(large)).toContain('read through Bulk API 2.0: the window holds 3 rows, more than SALESFORCE_REST_WINDOW_ROWS (2)');
  });
});

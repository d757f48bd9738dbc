import { describe, expect, it } from 'vitest';
import { readers, type ReadResult } from '../helpers/readers';
import { syncHarness } from '../helpers/sync-harness';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';
import { BASE64_SKIPPED } from '../../src/salesforce/describe';

/*
 * Fields the integration user cannot see (field-level security) on the real stack (Temporal,
 * workers, the simulator, Nessie, MinIO; the tables read by pyiceberg and DuckDB): describe lists
 * them, every query naming one fails. The sync leaves them out instead of failing and lists them
 * in the object's result: a new table has no column for them, an existing column stays and holds
 * null on the rows written while the field is hidden.
 */
const sim = new SalesforceSimulator({ rowCounts: { Account: 200 } });
const harness = syncHarness({ name: 'hidden', sim });

const read = (reader: 'pyiceberg' | 'duckdb', namespace: string) => readers<ReadResult>('read', '--reader', reader, namespace, 'account');
const accounts = () => [...sim.org.records(sim.org.object('Account')!, false)];

describe('hidden fields: fields the integration user cannot see are listed, not fatal', () => {
  it('hidden field before the first sync: the sync succeeds, the table has no such column, the result lists it (and the base64 field skipped)', async () => {
    const namespace = harness.namespace();
    sim.org.hideField('Account', 'Industry');
    try {
      const [outcome] = await harness.sync({ objects: ['Account'], namespace });
      expect(outcome).toMatchObject({
        status: 'succeeded',
        result: { rows: 200, hiddenFields: ['Industry'], skippedFields: [{ field: 'Logo__c', reason: BASE64_SKIPPED }] },
      });
      for (const reader of ['pyiceberg', 'duckdb'] as const) {
        const r = await read(reader, namespace);
        expect(r.rows, reader).toHaveLength(200);
        const columns = r.columns.map((c) => c.name);
        expect(columns, reader).toContain('name');
        expect(columns, reader).not.toContain('industry');
        expect(columns, reader).not.toContain('logo__c');
      }
    } finally {
      sim.org.unhideField('Account', 'Industry');
    }
  });

  it('hidden field after the first sync: the incremental sync succeeds, the column stays, new and changed rows hold null in it, the result lists it', async () => {
    const namespace = harness.namespace();
    const [first] = await harness.sync({ objects: ['Account'], namespace });
    expect(first).toMatchObject({ status: 'succeeded', result: { rows: 200 } });
    expect(first!.result).not.toHaveProperty('hiddenFields');
    const withRevenue = accounts().filter((r) => r.AnnualRevenue !== null && r.AnnualRevenue !== undefined);
    const [changed, untouched] = [String(withRevenue[0]!.Id), String(withRevenue[1]!.Id)];
    const untouchedRevenue = Number(withRevenue[1]!.AnnualRevenue);

    sim.org.hideField('Account', 'AnnualRevenue');
    try {
      sim.org.update('Account', changed, { Name: 'Changed while hidden' });
      const added = sim.org.addRecords('Account', 2);
      const [second] = await harness.sync({ objects: ['Account'], namespace });
      expect(second).toMatchObject({ status: 'succeeded', result: { rows: 3, hiddenFields: ['AnnualRevenue'] } });
      for (const reader of ['pyiceberg', 'duckdb'] as const) {
        const r = await read(reader, namespace);
        expect(
          r.columns.map((c) => c.name),
          reader,
        ).toContain('annual_revenue');
        expect(r.rows, reader).toHaveLength(202);
        const byId = new Map(r.rows.map((row) => [String(row.id), row]));
        expect(byId.get(changed), reader).toMatchObject({ name: 'Changed while hidden', annual_revenue: null });
        for (const id of added) expect(byId.get(id)?.annual_revenue, reader).toBeNull();
        expect(Number(byId.get(untouched)?.annual_revenue), reader).toBe(untouchedRevenue);
      }
    } finally {
      sim.org.unhideField('Account', 'AnnualRevenue');
    }
  });
});

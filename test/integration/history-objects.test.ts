import { describe, expect, it } from 'vitest';
import { readers, type ReadResult } from '../helpers/readers';
import { syncHarness } from '../helpers/sync-harness';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';

/*
 * Objects that differ on the real stack (Temporal, workers, the simulator, Nessie, MinIO; the tables
 * read by pyiceberg and DuckDB): a history object (AccountHistory: CreatedDate but no
 * SystemModstamp nor LastModifiedDate) is appended on its CreatedDate cursor without being asked,
 * each sync adding only the rows created since the last; an object Bulk API 2.0 refuses
 * (AccountFeed) is read through REST, its result saying which API read it and why.
 */
const sim = new SalesforceSimulator({ rowCounts: { AccountHistory: 400, AccountFeed: 120 } });
const harness = syncHarness({ name: 'history', sim });

async function table(reader: 'pyiceberg' | 'duckdb', namespace: string, name: string): Promise<{ ids: string[]; result: ReadResult }> {
  const result = await readers<ReadResult>('read', '--reader', reader, namespace, name);
  return { ids: result.rows.map((row) => String(row.id)), result };
}

describe('objects that differ: history objects and objects Bulk refuses', () => {
  it('history object: AccountHistory is appended on its CreatedDate cursor by default; a second sync appends only the rows created since, read alike by pyiceberg and DuckDB', async () => {
    const namespace = harness.namespace();
    const [first] = await harness.sync({ objects: ['AccountHistory'], namespace });
    expect(first).toMatchObject({
      status: 'succeeded',
      result: {
        rows: 400,
        writeMode: 'append',
        writeModeReason: expect.stringContaining('no SystemModstamp or LastModifiedDate'),
        readApi: { api: 'bulk' },
        cursor: expect.any(String),
        // Rows that never change are appended once each: counted as a merge table is.
        countCheck: { salesforce: 400, table: 400 },
      },
    });
    const read = await table('pyiceberg', namespace, 'account_history');
    expect(new Set(read.ids).size).toBe(400);
    expect(read.result.summary?.['salesforce.cursor']).toBe(first!.result!.cursor);
    expect(read.result.summary?.operation).toBe('append');
    // OldValue and NewValue (anyType) are text columns; a 'created' row has neither.
    const types = Object.fromEntries(read.result.columns.map((c) => [c.name, c.type]));
    expect(types).toMatchObject({ old_value: 'string', new_value: 'string', field: 'string', created_date: expect.stringMatching(/timestamptz|timestamp/) });
    expect(types).not.toHaveProperty('system_modstamp');
    const created = read.result.rows.filter((r) => r.field === 'created');
    expect(created.length).toBeGreaterThan(0);
    expect(created.every((r) => r.old_value === null && r.new_value === null)).toBe(true);
    expect(read.result.rows.some((r) => r.field !== 'created' && typeof r.new_value === 'string')).toBe(true);

    // New history rows are created now, after the table's cursor: the next sync appends them and nothing else.
    const added = sim.org.addRecords('AccountHistory', 7);
    const [second] = await harness.sync({ objects: ['AccountHistory'], namespace });
    expect(second).toMatchObject({ status: 'succeeded', result: { rows: 7, writeMode: 'append', countCheck: { salesforce: 407, table: 407 } } });
    expect(second!.result!.cursor! > first!.result!.cursor!).toBe(true);
    for (const reader of ['pyiceberg', 'duckdb'] as const) {
      const { ids } = await table(reader, namespace, 'account_history');
      expect(ids, reader).toHaveLength(407);
      expect(new Set(ids).size, reader).toBe(407);
      expect(ids, reader).toEqual(expect.arrayContaining(added));
      expect(
        ids.filter((id) => read.ids.includes(id)),
        reader,
      ).toHaveLength(400);
    }
    // A sync the sync asks to merge still may (by Id, on the same CreatedDate cursor).
    const [merged] = await harness.sync({ objects: ['AccountHistory'], namespace: harness.namespace(), overrides: { AccountHistory: { writeMode: 'merge' } } });
    expect(merged).toMatchObject({ status: 'succeeded', result: { rows: 407, writeMode: 'merge', writeModeReason: 'asked for by the sync' } });
  });

  it('Bulk-refused object: AccountFeed is read through REST, its result naming the API and Salesforce’s refusal', async () => {
    const namespace = harness.namespace();
    const [feed] = await harness.sync({ objects: ['AccountFeed'], namespace });
    expect(feed).toMatchObject({
      status: 'succeeded',
      result: { rows: 120, writeMode: 'merge', readApi: { api: 'rest', reason: expect.stringContaining("Entity 'AccountFeed' is not supported by the Bulk API.") } },
    });
    for (const reader of ['pyiceberg', 'duckdb'] as const) {
      const { ids } = await table(reader, namespace, 'account_feed');
      expect(new Set(ids).size, reader).toBe(120);
    }
  });

  it('object needing a filter: ContentDocumentLink fails at once with OBJECT_NEEDS_FILTER, named and what to do; the other objects sync', async () => {
    const namespace = harness.namespace();
    const outcomes = await harness.outcomes({ objects: ['AccountFeed', 'ContentDocumentLink'], namespace });
    expect(outcomes.find((o) => o.object === 'AccountFeed')).toMatchObject({ status: 'succeeded', result: { rows: 120 } });
    const link = outcomes.find((o) => o.object === 'ContentDocumentLink');
    expect(link).toMatchObject({ status: 'failed', code: 'OBJECT_NEEDS_FILTER' });
    expect(link!.error).toContain('ContentDocumentLink requires a filter by a single Id on ContentDocumentId or LinkedEntityId');
    expect(link!.error).toContain("remove it from the sync's objects");
  });
});

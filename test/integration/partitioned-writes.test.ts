import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { connectIceberg } from '../../src/iceberg/connect';
import { readParquetFile } from '../../src/iceberg/reader';
import { loadTable } from '../../src/iceberg/table';
import { applyTransform } from '../../src/iceberg/spec/partition';
import { planSchema } from '../../src/mapping/schema-mapping';
import { SalesforceClient } from '../../src/salesforce/client';
import { describeObject, syncableFields } from '../../src/salesforce/describe';
import { parseSalesforceSettings } from '../../src/salesforce/settings';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';
import { readers, type ReadResult } from '../helpers/readers';
import { stackSettings } from '../helpers/stack';
import { syncHarness } from '../helpers/sync-harness';

/*
 * Syncs into a table partitioned by month(close_date) and sorted by name, made directly through
 * the catalog as another engine would: the data files are written per partition of the table's
 * spec and sorted, pyiceberg and DuckDB read the source's rows, a one-month filter plans fewer files,
 * and rows whose CloseDate changes move partitions in an incremental merge without loss or double.
 */

// Small PK chunks and result pages: rows arrive in several pages, CloseDate spread over 400 days.
const sim = new SalesforceSimulator({ rowCounts: { Opportunity: 600 }, bulkChunkRows: 200, resultPageRecords: 200 });
// Few open partitions: the least recently used are closed during the sync, as with many partitions;
// a checkpoint after every page closes every open partition and stages the files with their tuples.
const harness = syncHarness({ name: 'ptw', sim, env: { PARQUET_MAX_OPEN_PARTITIONS: '4', SYNC_CHECKPOINT_SECONDS: '0' } });

const run = promisify(execFile);

/** pyiceberg's plan_files for the whole table and for one CloseDate range: each planned file's path and partition. */
async function planFiles(namespace: string, table: string, from: string, to: string) {
  const code = `
import json, sys
sys.path.insert(0, ${JSON.stringify(path.join(__dirname, '..', 'readers'))})
import iceberg_readers as r
from pyiceberg.expressions import And, GreaterThanOrEqual, LessThan
tbl = r.load_table(r.catalog(), (sys.argv[1], sys.argv[2]))
def files(scan):
    return [{"path": t.file.file_path, "partition": [v if v is None or isinstance(v, str) else int(v) for v in t.file.partition], "rows": t.file.record_count} for t in scan.plan_files()]
print(json.dumps({"all": files(tbl.scan()), "month": files(tbl.scan(row_filter=And(GreaterThanOrEqual("close_date", sys.argv[3]), LessThan("close_date", sys.argv[4]))))}))
`;
  const settings = stackSettings();
  const { stdout } = await run(settings.READERS_PYTHON, ['-c', code, namespace, table, from, to], { env: { ...process.env, ...settings }, maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as Record<'all' | 'month', { path: string; partition: (number | string | null)[]; rows: number }[]>;
}

const monthOf = (date: string) => applyTransform({ kind: 'month' }, 'date', Date.parse(`${date}T00:00:00Z`) / 86_400_000) as number;

const sourceCount = () => source().length;

function source(): { id: string; name: string; closeDate: string }[] {
  return [...sim.org.records(sim.org.object('Opportunity')!, false)]
    .map((r) => ({ id: String(r.Id), name: String(r.Name), closeDate: String(r.CloseDate) }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

async function tableRows(reader: 'pyiceberg' | 'duckdb', namespace: string) {
  const read = await readers<ReadResult>('read', '--reader', reader, namespace, 'opportunity');
  return read.rows.map((r) => ({ id: String(r.id), name: String(r.name), closeDate: String(r.close_date).slice(0, 10) })).sort((a, b) => a.id.localeCompare(b.id));
}

describe('partitioned tables: syncs write data files per partition of the table spec, sorted by its sort order', () => {
  it('a full sync and an incremental merge that moves rows across partitions: readers see the source, files hold one partition each, sorted; a month filter prunes', async () => {
    const { settings } = harness;
    const namespace = harness.namespace();
    // The table, made as another engine would: partitioned by month(close_date), sorted by name.
    const salesforce = new SalesforceClient(parseSalesforceSettings(sim.settingsEnv()));
    const fields = syncableFields(await describeObject(salesforce, 'Opportunity'));
    const { schema } = planSchema(fields, { naming: 'snake_case' });
    const column = (name: string) => schema.fields.find((f) => f.name === name)!.id;
    const { catalog, storeFor } = connectIceberg(settings);
    await catalog.ensureNamespace([namespace]);
    await catalog.createTable([namespace], {
      name: 'opportunity',
      schema,
      'partition-spec': { 'spec-id': 0, fields: [{ 'source-id': column('close_date'), 'field-id': 1000, name: 'close_date_month', transform: 'month' }] },
      'write-order': { 'order-id': 1, fields: [{ transform: 'identity', 'source-id': column('name'), direction: 'asc', 'null-order': 'nulls-first' }] },
      properties: { 'format-version': '2' },
    });

    const first = await harness.sync({ objects: ['Opportunity'], namespace });
    expect(first.map((o) => [o.status, o.result?.rows])).toEqual([['succeeded', 600]]);
    expect(await tableRows('pyiceberg', namespace)).toEqual(source());
    expect(await tableRows('duckdb', namespace)).toEqual(source());

    /** Every live data file: one partition, its rows' month, sorted by name. Returns how many there are. */
    async function checkFiles(): Promise<number> {
      const table = await loadTable({ catalog, namespace: [namespace], name: 'opportunity', storeFor });
      const { data } = await table.liveEntries();
      const order = table.metadata['default-sort-order-id'];
      for (const entry of data) {
        const file = entry.dataFile;
        expect(file.specId).toBe(table.metadata['default-spec-id']);
        expect(file.sortOrderId).toBe(order);
        const rows = (await readParquetFile(table.store, file.filePath, ['id', 'name', 'close_date']))
          .toArray()
          .map((r) => r.toJSON() as { id: string; name: string; close_date: number });
        // DateDay as read by Arrow: milliseconds since the epoch.
        for (const r of rows) expect([monthOf(new Date(r.close_date).toISOString().slice(0, 10))]).toEqual(file.partition);
        const names = rows.map((r) => r.name);
        expect(names).toEqual([...names].sort());
      }
      return data.length;
    }
    const files = await checkFiles();
    const months = new Set(source().map((r) => monthOf(r.closeDate)));
    expect(files).toBeGreaterThanOrEqual(months.size);

    // pyiceberg's planning: partitions as the rows say, and a one-month filter plans that month's files only.
    const plan = await planFiles(namespace, 'opportunity', '2025-12-01', '2026-01-01');
    const december = monthOf('2025-12-01');
    expect(plan.all).toHaveLength(files);
    expect(plan.month.length).toBeGreaterThan(0);
    expect(plan.month.length).toBeLessThan(plan.all.length / 4);
    expect(plan.month.every((f) => f.partition[0] === december)).toBe(true);
    expect(plan.month.reduce((n, f) => n + f.rows, 0)).toBe(source().filter((r) => monthOf(r.closeDate) === december).length);

    // Rows whose CloseDate moves them to another partition, a rename, a delete: an incremental merge.
    const ids = source().map((r) => r.id);
    const moved = ids.slice(10, 20);
    for (const id of moved) sim.org.update('Opportunity', id, { CloseDate: '2027-03-15' });
    sim.org.update('Opportunity', ids[30]!, { Name: 'Renamed deal' });
    sim.org.delete('Opportunity', ids[40]!);
    const second = await harness.sync({ objects: ['Opportunity'], namespace });
    expect(second[0]).toMatchObject({ status: 'succeeded', result: { rows: 11, deleted: 1 } });
    const after = await tableRows('pyiceberg', namespace);
    expect(after).toEqual(source());
    expect(new Set(after.map((r) => r.id)).size).toBe(after.length);
    expect(await tableRows('duckdb', namespace)).toEqual(source());
    expect(after.filter((r) => r.closeDate === '2027-03-15').map((r) => r.id)).toEqual(moved);
    await checkFiles();
    const march = (await planFiles(namespace, 'opportunity', '2027-03-01', '2027-04-01')).month;
    expect(march.map((f) => f.partition)).toEqual([[monthOf('2027-03-15')]]);
    expect(march[0]!.rows).toBe(moved.length);
  });

  it('an unsorted table partitioned by bucket[4](account_id) and identity(stage_name): each file holds one partition, every row once', async () => {
    const { settings } = harness;
    const namespace = harness.namespace();
    const salesforce = new SalesforceClient(parseSalesforceSettings(sim.settingsEnv()));
    const { schema } = planSchema(syncableFields(await describeObject(salesforce, 'Opportunity')), { naming: 'snake_case' });
    const column = (name: string) => schema.fields.find((f) => f.name === name)!.id;
    const { catalog, storeFor } = connectIceberg(settings);
    await catalog.ensureNamespace([namespace]);
    await catalog.createTable([namespace], {
      name: 'opportunity',
      schema,
      'partition-spec': {
        'spec-id': 0,
        fields: [
          { 'source-id': column('account_id'), 'field-id': 1000, name: 'account_id_bucket', transform: 'bucket[4]' },
          { 'source-id': column('stage_name'), 'field-id': 1001, name: 'stage_name', transform: 'identity' },
        ],
      },
      properties: { 'format-version': '2' },
    });
    const outcome = await harness.sync({ objects: ['Opportunity'], namespace });
    expect(outcome.map((o) => [o.status, o.result?.rows])).toEqual([['succeeded', sourceCount()]]);
    expect(await tableRows('pyiceberg', namespace)).toEqual(source());
    const table = await loadTable({ catalog, namespace: [namespace], name: 'opportunity', storeFor });
    const { data } = await table.liveEntries();
    const seen: string[] = [];
    for (const { dataFile: file } of data) {
      expect(file.sortOrderId).toBeUndefined();
      const rows = (await readParquetFile(table.store, file.filePath, ['id', 'account_id', 'stage_name']))
        .toArray()
        .map((r) => r.toJSON() as { id: string; account_id: string | null; stage_name: string });
      for (const r of rows) expect([applyTransform({ kind: 'bucket', n: 4 }, 'string', r.account_id), r.stage_name]).toEqual(file.partition);
      seen.push(...rows.map((r) => r.id));
    }
    expect(seen.sort((a, b) => a.localeCompare(b))).toEqual(source().map((r) => r.id));
    // pyiceberg reads the same tuples from the manifests.
    const planned = (await planFiles(namespace, 'opportunity', '2000-01-01', '2100-01-01')).all;
    expect(planned.map((f) => f.rows).reduce((a, b) => a + b, 0)).toBe(sourceCount());
    expect(new Set(planned.map((f) => JSON.stringify(f.partition[0]))).size).toBeGreaterThan(1);
  });
});

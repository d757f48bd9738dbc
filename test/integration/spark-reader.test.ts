import { describe, expect, it } from 'vitest';
import { readers, readersBatch, type ReadResult } from '../helpers/readers';
import { syncHarness } from '../helpers/sync-harness';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';
import { columnName } from '../../src/mapping/schema-mapping';
import { icebergType } from '../helpers/source-rows';

// Spark (Java iceberg-core, Iceberg's Spark runtime) as a third reader of the tables a sync
// writes. Each test starts one Spark (one JVM) for all its reads: see readersBatch.
const sim = new SalesforceSimulator({ rowCounts: { Account: 150, User: 40, Lead: 60, Product2: 30 } });
// A second worker keeps Salesforce times as Iceberg time columns (SYNC_TIME_TYPE=time).
const harness = syncHarness({ name: 'spark', sim, workers: { time: { SYNC_TIME_TYPE: 'time' } } });

const byId = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => String(a.id).localeCompare(String(b.id)));

const read = (namespace: string, table: string, ...extra: string[]) => ['read', ...extra, namespace, table];

describe('Spark reads the tables a sync writes (Iceberg 1.10 Spark runtime, REST catalog, S3FileIO)', () => {
  it('every column of every Salesforce type the simulator has: the same rows and types as pyiceberg and DuckDB', async () => {
    const namespace = harness.namespace();
    const objects = ['Account', 'User', 'Lead', 'Product2'];
    const outcomes = await harness.sync({ objects, namespace });
    expect(outcomes.map((o) => [o.object, o.status])).toEqual(objects.map((o) => [o, 'succeeded']));
    const timed = harness.namespace();
    await harness.sync({ objects: ['Account'], namespace: timed }, { queue: 'time' });
    const tables = objects.map((o) => columnName(o, 'snake_case'));
    const answers = await readersBatch([
      ...tables.flatMap((t) => ['spark', 'pyiceberg', 'duckdb'].map((r) => read(namespace, t, '--reader', r))),
      read(timed, 'account', '--reader', 'spark'),
    ]);
    // Why Salesforce times are text by default: Spark loads no table with an Iceberg time column.
    expect(answers.at(-1)!.error).toBe('UnsupportedOperationException: Spark does not support time fields');
    for (const [i, table] of tables.entries()) {
      const [spark, py, duck] = answers.slice(i * 3, i * 3 + 3) as ReadResult[] & { error?: string }[];
      expect(spark!.error, `Spark reading ${table}`).toBeUndefined();
      expect(spark!.rows.length, table).toBeGreaterThan(0);
      expect(byId(spark!.rows), `${table}: Spark and pyiceberg`).toEqual(byId(py!.rows));
      expect(byId(spark!.rows), `${table}: Spark and DuckDB`).toEqual(byId(duck!.rows));
      const types = (r: ReadResult) => r.columns.map((c) => [c.name, icebergType(r.reader, c.type)]);
      expect(types(spark!), `${table}: Spark's types`).toEqual(types(py!));
      expect(types(duck!), `${table}: DuckDB's types`).toEqual(types(py!));
      // Required and docs (Salesforce labels) as pyiceberg sees them.
      expect(spark!.columns.map((c) => [c.required, c.doc])).toEqual(py!.columns.map((c) => [c.required, c.doc]));
    }
  });

  it("Spark's snapshots table shows the sync's snapshot with its cursor and run id; time travel to an earlier sync's rows through Nessie's commit log", async () => {
    const namespace = harness.namespace();
    const ids = () => [...sim.org.records(sim.org.object('Account')!, false)].map((r) => String(r.Id)).sort();
    const pyiceberg = () => readers<ReadResult>('read', '--reader', 'pyiceberg', namespace, 'account');
    await harness.sync({ objects: ['Account'], namespace });
    const first = await pyiceberg();
    const accounts = ids();
    sim.org.update('Account', accounts[3]!, { Name: 'Renamed for Spark' });
    sim.org.delete('Account', accounts[4]!);
    await harness.sync({ objects: ['Account'], namespace });
    const second = await pyiceberg();
    // Nessie keeps only a table's current snapshot in its metadata; its own commit log holds the
    // earlier states, which Spark reads as `table@main#<commit hash>`.
    const commit = await nessieHead();
    sim.org.update('Account', accounts[5]!, { Name: 'Renamed again' });
    await harness.sync({ objects: ['Account'], namespace });
    const third = await pyiceberg();

    const [current, then, asOf, byVersion] = await readersBatch([
      read(namespace, 'account', '--reader', 'spark', '--metadata'),
      read(namespace, `account@main#${commit}`, '--reader', 'spark', '--metadata'),
      read(namespace, `account@main#${commit}`, '--reader', 'spark', '--snapshot-id', second.snapshot_id!),
      read(namespace, 'account', '--reader', 'spark', '--snapshot-id', second.snapshot_id!),
    ]);
    expect(current!.error).toBeUndefined();
    expect(byId(current!.rows)).toEqual(byId(third.rows));
    const [head] = current!.metadata!.snapshots;
    expect(current!.metadata!.snapshots).toHaveLength(1);
    // Nessie drops the parent's id with the parent.
    expect(head).toMatchObject({ snapshot_id: third.snapshot_id, parent_id: null, operation: third.summary!.operation });
    expect(head!.summary).toEqual(
      expect.objectContaining({ 'salesforce.cursor': third.summary!['salesforce.cursor'], 'salesforce.sync-run-id': third.summary!['salesforce.sync-run-id'] }),
    );
    expect(current!.metadata!.history.map((h) => h.snapshot_id)).toEqual([third.snapshot_id]);
    expect(current!.metadata!.files.length).toBeGreaterThan(0);
    expect(current!.metadata!.manifests.length).toBeGreaterThan(0);

    // The second sync's table: one row renamed, one deleted, the third sync's rename not there yet.
    expect(then!.error).toBeUndefined();
    expect(byId(then!.rows)).toEqual(byId(second.rows));
    expect(then!.rows.find((r) => r.id === accounts[3])?.name).toBe('Renamed for Spark');
    expect(then!.rows).toHaveLength(first.rows.length - 1);
    expect(then!.metadata!.snapshots.map((s) => [s.snapshot_id, s.summary['salesforce.sync-run-id'], s.summary['salesforce.cursor']])).toEqual([
      [second.snapshot_id, second.summary!['salesforce.sync-run-id'], second.summary!['salesforce.cursor']],
    ]);
    expect(new Set([first, second, third].map((r) => r.summary!['salesforce.sync-run-id'])).size).toBe(3);
    // VERSION AS OF works on the snapshot a table state holds, and not on one Nessie no longer lists.
    expect(asOf!.error).toBeUndefined();
    expect(byId(asOf!.rows)).toEqual(byId(second.rows));
    expect(byVersion!.error).toBe(`IllegalArgumentException: Cannot find snapshot with ID ${second.snapshot_id}`);
  });
});

/** The hash of the newest commit on Nessie's main branch (Nessie's own API, beside its Iceberg REST one). */
async function nessieHead(): Promise<string> {
  const api = harness.settings.ICEBERG_CATALOG_URI.replace(/\/iceberg\/?$/, '/api/v2');
  const response = await fetch(`${api}/trees/main`);
  expect(response.ok).toBe(true);
  return ((await response.json()) as { reference: { hash: string } }).reference.hash;
}

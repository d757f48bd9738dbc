import { afterAll, describe, expect, it } from 'vitest';
import { ReaderSession, type ReadResult } from '../helpers/readers';
import { syncHarness } from '../helpers/sync-harness';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';
import { columnName } from '../../src/mapping/schema-mapping';
import { icebergType } from '../helpers/source-rows';

// Spark (Java iceberg-core, Iceberg's Spark runtime) as a third reader of the tables a sync
// writes. One reader process (one Spark JVM) serves every read of the file: see ReaderSession.
const sim = new SalesforceSimulator({ rowCounts: { Account: 150, User: 40, Lead: 60, Product2: 30 } });
// A second worker keeps Salesforce times as Iceberg time columns (SYNC_TIME_TYPE=time).
const harness = syncHarness({ name: 'spark', sim, workers: { time: { SYNC_TIME_TYPE: 'time' } } });

const session = new ReaderSession();
afterAll(() => session.close());

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
    const answers = await Promise.all(
      [...tables.flatMap((t) => ['spark', 'pyiceberg', 'duckdb'].map((r) => read(namespace, t, '--reader', r))), read(timed, 'account', '--reader', 'spark')].map((argv) =>
        session.command(argv),
      ),
    );
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
  // Snapshots, history, time travel and Spark as a writer, on both catalogs: catalogs-engines.test.ts.
});

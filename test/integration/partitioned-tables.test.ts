import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { IcebergDestination } from '../../src/destinations/iceberg';
import { connectIceberg } from '../../src/iceberg/connect';
import type { PartitionSpec, TableMetadata } from '../../src/iceberg/spec';
import { loadTable } from '../../src/iceberg/table';
import { SalesforceClient } from '../../src/salesforce/client';
import { parseSalesforceSettings } from '../../src/salesforce/settings';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';
import { prepareObject } from '../../src/sync/object-sync';
import type { PrepareObjectInput } from '../../src/sync/types';
import type { ObjectOutcome } from '../../workflows';
import { catalogTargets, type CatalogTarget } from '../helpers/catalogs';
import { ReaderSession, readersAt, type ReadResult } from '../helpers/readers';
import { syncHarness } from '../helpers/sync-harness';

// Partition specs and sort orders asked in the sync's input, on both catalogs of the stack (Nessie,
// and Apache's reference catalog, which validates every update with Java iceberg-core): a new table
// gets them, an existing one evolves to them without a rewrite (its old manifests keep their spec),
// a table Spark partitioned (and evolved) is prepared as it is, and an input that does not fit the
// object fails before anything is created. The metadata is asserted here; rows by the readers.
const sim = new SalesforceSimulator({ rowCounts: { Account: 30 }, bulkChunkRows: 100, resultPageRecords: 100 });
const targets = catalogTargets();
vi.setConfig({ testTimeout: 300_000 });
const harness = syncHarness({ name: 'layout', sim, workers: Object.fromEntries(targets.map((t) => [t.name, t.overrides])) });
const session = new ReaderSession();
afterAll(() => session.close());

/** Prepare on its own (no extraction), as the sync's first step runs it, against the target's catalog. */
function preparer(target: CatalogTarget) {
  const { catalog, storeFor } = connectIceberg(target.settings);
  const ctx = () => ({
    salesforce: new SalesforceClient(parseSalesforceSettings({ ...harness.settings, ...sim.settingsEnv() })),
    destination: new IcebergDestination(catalog, storeFor),
  });
  let runs = 0;
  return {
    catalog,
    prepare: (namespace: string, layout: Pick<PrepareObjectInput, 'partitionBy' | 'sortBy' | 'syncWideLayout'> = {}) =>
      prepareObject(ctx(), { object: 'Account', namespace: [namespace], runId: `layout-${++runs}-${Date.now()}`, ...layout }),
    metadata: async (namespace: string): Promise<TableMetadata & { location: string; metadataLocation?: string }> => {
      const loaded = await catalog.loadTable([namespace], 'account');
      return { ...loaded.metadata, metadataLocation: loaded['metadata-location'] };
    },
    manifests: async (namespace: string) => (await loadTable({ catalog, namespace: [namespace], name: 'account', storeFor })).manifests(),
  };
}

const defaultSpec = (m: TableMetadata): PartitionSpec => m['partition-specs'].find((s) => s['spec-id'] === m['default-spec-id'])!;
const columnId = (m: TableMetadata, name: string) => m.schemas.find((s) => s['schema-id'] === m['current-schema-id'])!.fields.find((f) => f.name === name)!.id;
/** A spec's fields as [name, transform, column name]: what a reader of the metadata sees. */
const specFields = (m: TableMetadata, spec: PartitionSpec) =>
  spec.fields.map((f) => [f.name, f.transform, m.schemas.flatMap((s) => s.fields).find((c) => c.id === f['source-id'])?.name]);

for (const target of targets) {
  describe(`partitioned tables: ${target.title}`, () => {
    const p = preparer(target);

    it('a new table gets the partition spec and sort order asked for (field ids from 1000, the names Iceberg gives)', async () => {
      const namespace = harness.namespace(target.overrides);
      const prepared = await p.prepare(namespace, { partitionBy: ['month(CreatedDate)', 'bucket(8, id)'], sortBy: ['Name', 'CreatedDate desc'] });
      expect(prepared.created).toEqual({ table: true, namespace: true });
      const m = await p.metadata(namespace);
      expect(m['partition-specs']).toHaveLength(1);
      expect(defaultSpec(m).fields).toEqual([
        { 'source-id': columnId(m, 'created_date'), 'field-id': 1000, name: 'created_date_month', transform: 'month' },
        { 'source-id': columnId(m, 'id'), 'field-id': 1001, name: 'id_bucket', transform: 'bucket[8]' },
      ]);
      expect(m['last-partition-id']).toBe(1001);
      const order = m['sort-orders']!.find((o) => o['order-id'] === m['default-sort-order-id'])!;
      expect(m['default-sort-order-id']).not.toBe(0);
      expect(order.fields).toEqual([
        { transform: 'identity', 'source-id': columnId(m, 'name'), direction: 'asc', 'null-order': 'nulls-first' },
        { transform: 'identity', 'source-id': columnId(m, 'created_date'), direction: 'desc', 'null-order': 'nulls-last' },
      ]);
      // Asked again: nothing to change (planned against what the catalog stored).
      await p.prepare(namespace, { partitionBy: ['month(created_date)', 'bucket(8, Id)'], sortBy: ['name', 'created_date desc'] });
      expect((await p.metadata(namespace)).metadataLocation).toBe(m.metadataLocation);
    });

    it('an existing table evolves to another spec: its old manifests keep spec 0, nothing is rewritten, the readers read every row', async () => {
      const namespace = harness.namespace(target.overrides);
      const [synced] = await harness.sync({ objects: ['Account'], namespace }, { queue: target.name });
      expect(synced?.status).toBe('succeeded');
      const before = await p.metadata(namespace);
      expect(defaultSpec(before)).toEqual({ 'spec-id': 0, fields: [] });
      const oldManifests = await p.manifests(namespace);
      expect(oldManifests.length).toBeGreaterThan(0);

      await p.prepare(namespace, { partitionBy: ['day(CreatedDate)'], sortBy: ['Name'] });
      const after = await p.metadata(namespace);
      expect(after['default-spec-id']).not.toBe(0);
      expect(specFields(after, defaultSpec(after))).toEqual([['created_date_day', 'day', 'created_date']]);
      expect(after['partition-specs'].find((s) => s['spec-id'] === 0)).toEqual({ 'spec-id': 0, fields: [] });
      // No snapshot: the data files and their manifests are the ones written under spec 0.
      expect(after['current-snapshot-id']).toBe(before['current-snapshot-id']);
      const manifests = await p.manifests(namespace);
      expect(manifests.map((m) => [m.manifestPath, m.partitionSpecId])).toEqual(oldManifests.map((m) => [m.manifestPath, 0]));
      const read = await readersAt<ReadResult>(target.overrides, 'read', '--reader', 'pyiceberg', namespace, 'account');
      expect(read.rows).toHaveLength(30);

      // The same again changes nothing; no partitionBy keeps the spec; [] makes spec 0 default again (not added twice).
      await p.prepare(namespace, { partitionBy: ['day(CreatedDate)'] });
      await p.prepare(namespace);
      expect((await p.metadata(namespace)).metadataLocation).toBe(after.metadataLocation);
      await p.prepare(namespace, { partitionBy: [] });
      const back = await p.metadata(namespace);
      expect(back['default-spec-id']).toBe(0);
      expect(back['partition-specs']).toHaveLength(after['partition-specs'].length);
    });

    it('a table Spark partitioned and evolved (REPLACE and ADD PARTITION FIELD) is prepared without refusal and keeps its spec', async () => {
      const namespace = harness.namespace(target.overrides);
      await session.must(
        [
          'sql',
          namespace,
          'account',
          'CREATE NAMESPACE IF NOT EXISTS {namespace}',
          'CREATE TABLE {table} (id string, name string, created_date timestamp) USING iceberg PARTITIONED BY (days(created_date))',
          "INSERT INTO {table} VALUES ('001SPARK000000001', 'day', TIMESTAMP '2026-01-02 03:04:05')",
          'ALTER TABLE {table} REPLACE PARTITION FIELD created_date_day WITH months(created_date)',
          'ALTER TABLE {table} ADD PARTITION FIELD bucket(4, id)',
          "INSERT INTO {table} VALUES ('001SPARK000000002', 'month', TIMESTAMP '2026-02-03 04:05:06')",
        ],
        target.overrides,
      );
      const before = await p.metadata(namespace);
      expect(before['partition-specs'].length).toBeGreaterThanOrEqual(2);
      // (Spark names the bucket field id_bucket_4.)
      expect(specFields(before, defaultSpec(before)).map(([, transform, column]) => [transform, column])).toEqual([
        ['month', 'created_date'],
        ['bucket[4]', 'id'],
      ]);
      const prepared = await p.prepare(namespace);
      expect(prepared.created).toEqual({ table: false, namespace: false });
      const after = await p.metadata(namespace);
      // The schema grew by the object's other fields; the specs are Spark's, untouched.
      expect(after['current-schema-id']).not.toBe(before['current-schema-id']);
      expect(after['partition-specs']).toEqual(before['partition-specs']);
      expect(after['default-spec-id']).toBe(before['default-spec-id']);
      expect(after['last-partition-id']).toBe(before['last-partition-id']);
      // Asked for the spec it has (by Salesforce names): nothing changes. Asked for Spark's first one again
      // (day): that spec becomes the default again, with its field id and Spark's name, not added twice.
      await p.prepare(namespace, { partitionBy: ['month(CreatedDate)', 'bucket(4, Id)'] });
      expect((await p.metadata(namespace)).metadataLocation).toBe(after.metadataLocation);
      await p.prepare(namespace, { partitionBy: ['day(CreatedDate)'] });
      const again = await p.metadata(namespace);
      expect(again['partition-specs']).toEqual(before['partition-specs']);
      expect(again['default-spec-id']).toBe(0);
      // A spec it never had reuses the field ids of the same column and transform (month, from Spark's spec).
      await p.prepare(namespace, { partitionBy: ['month(CreatedDate)', 'identity(Name)'] });
      const added = await p.metadata(namespace);
      expect(added['partition-specs']).toHaveLength(before['partition-specs'].length + 1);
      const monthField = defaultSpec(before).fields[0]!;
      expect(defaultSpec(added).fields).toEqual([monthField, expect.objectContaining({ 'field-id': before['last-partition-id']! + 1, name: 'name', transform: 'identity' })]);
      // Spark still reads its rows.
      const read = await session.must(['read', '--reader', 'spark', namespace, 'account'], target.overrides);
      expect(read.rows.map((r) => r.id).sort()).toEqual(['001SPARK000000001', '001SPARK000000002']);
    });

    it('an input that does not fit the object fails it at once, not retried, and creates nothing', async () => {
      const namespace = harness.namespace(target.overrides);
      const started = Date.now();
      const error = await harness
        .sync({ objects: ['Account'], namespace, overrides: { Account: { partitionBy: ['month(CreatedDate)', 'hour(Nmae)'] } } }, { queue: target.name })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(WorkflowFailedError);
      const cause = (error as WorkflowFailedError).cause as Error & { details?: unknown[] };
      const [outcome] = cause.details?.[0] as ObjectOutcome[];
      expect(outcome?.code).toBe('INPUT_INVALID');
      expect(outcome?.error).toContain('overrides.Account.partitionBy: Account has no field or column "Nmae" (did you mean Name?)');
      expect(Date.now() - started).toBeLessThan(60_000);
      expect(await p.catalog.tableExists([namespace], 'account')).toBe(false);
      expect((await p.catalog.listNamespaces()).map((n) => n.join('.'))).not.toContain(namespace);
    });

    it('the sync-wide partitionBy passes over an object without its columns: the table keeps its spec and the result says why', async () => {
      const namespace = harness.namespace(target.overrides);
      const [outcome] = await harness.sync({ objects: ['Account'], namespace, partitionBy: ['day(ActivityDate)'] }, { queue: target.name });
      expect(outcome?.status).toBe('succeeded');
      expect(outcome?.result?.layoutKept).toEqual([
        `the sync's partitionBy ["day(ActivityDate)"] does not apply to Account (Account has no field or column "ActivityDate"): its table keeps its partition spec`,
      ]);
      expect(defaultSpec(await p.metadata(namespace)).fields).toEqual([]);
    });
  });
}

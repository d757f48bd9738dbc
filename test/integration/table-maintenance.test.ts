import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectIceberg } from '../../src/iceberg/connect';
import { loadTable, type IcebergTable } from '../../src/iceberg/table';
import { runPaths } from '../../src/iceberg/run-paths';
import { inspectTables } from '../../src/destinations/iceberg-inspect';
import { compactTable } from '../../src/maintenance/compact';
import { referencedFiles, removeOrphans } from '../../src/maintenance/orphans';
import type { MaintenanceReport } from '../../src/maintenance';
import { columnName } from '../../src/mapping/schema-mapping';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';
import { maintainTableId } from '../../workflows/maintenance';
import { catalogTargets, type CatalogTarget } from '../helpers/catalogs';
import { ReaderSession, type ReadResult } from '../helpers/readers';
import { readerForm } from '../helpers/source-rows';
import { syncHarness } from '../helpers/sync-harness';
import { startCatalogProxy } from '../helpers/catalog-proxy';
import { until } from '../helpers/stack';
import { MAINTENANCE_RUN_PROPERTY } from '../../src/table-contract';

// Table maintenance on the real stack, on both catalogs: after many incremental merges with
// updates and deletes, maintainTable (through Temporal) leaves the rows pyiceberg, DuckDB and Spark
// read identical, in far fewer files and no delete files; expiry keeps N snapshots where table
// metadata keeps history; orphan removal takes planted and left-over files but never a live or a
// young one; a sync that commits while compaction's commit is held loses nothing.
const sim = new SalesforceSimulator({ rowCounts: { Account: 400 }, bulkChunkRows: 100, resultPageRecords: 100 });
// Also on Nessie's warehouses that give no S3 key: vended credentials and remote signing.
const targets = catalogTargets({ credentialModes: true });
const workers: Record<string, Record<string, string>> = Object.fromEntries(targets.map((t) => [t.name, { ...t.overrides }]));

/**
 * A worker (queue `gated`) reaches the first catalog through a pass-through proxy that can hold a
 * sync's or a maintenance's data commit in flight: the gate the coordination test drives.
 */
type Gate = { held: () => void; release: Promise<void> };
const gates: { sync?: Gate; maintenance?: Gate } = {};
let proxy: Awaited<ReturnType<typeof startCatalogProxy>> | undefined;
beforeAll(async () => {
  proxy = await startCatalogProxy(targets[0]!.settings.ICEBERG_CATALOG_URI, {
    before: async (req) => {
      const kind = req.body.includes('salesforce.maintenance-run-id') ? 'maintenance' : req.isDataCommit ? 'sync' : undefined;
      const gate = kind && gates[kind];
      if (!gate || !req.body.includes('add-snapshot')) return undefined;
      gates[kind] = undefined;
      gate.held();
      await gate.release;
      return undefined;
    },
  });
  workers.gated = { ICEBERG_CATALOG_URI: proxy.uri };
});
afterAll(() => proxy?.close());
const harness = syncHarness({ name: 'maint', sim, workers });

/** Holds the next data commit of `kind`: resolves `held` once it is in flight; `release` lets it through. */
function gate(kind: 'sync' | 'maintenance'): { held: Promise<void>; release: () => void } {
  let held!: () => void;
  let release!: () => void;
  const heldP = new Promise<void>((r) => (held = r));
  gates[kind] = { held, release: new Promise<void>((r) => (release = r)) };
  return { held: heldP, release };
}
const session = new ReaderSession();
afterAll(() => session.close());

const byId = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => String(a.id).localeCompare(String(b.id)));
const ids = () => [...sim.org.records(sim.org.object('Account')!, false)].map((r) => String(r.Id)).sort();

/** The source's Account rows in the readers' form, over the columns the table has. */
function sourceRows(columns: string[]): Record<string, unknown>[] {
  const o = sim.org.object('Account')!;
  const fields = columns.map((c) => o.fields.find((f) => columnName(f.name, 'snake_case') === c));
  return byId([...sim.org.records(o, false)].map((r) => Object.fromEntries(columns.map((c, i) => [c, fields[i] ? readerForm(fields[i]!, r[fields[i]!.name]) : null]))));
}

/** Reads the table with pyiceberg, DuckDB and Spark; all three must agree with each other and with the source. */
async function expectSourceInAllReaders(target: CatalogTarget, namespace: string, what: string): Promise<ReadResult> {
  const env = target.overrides;
  const py = await session.must(['read', '--reader', 'pyiceberg', namespace, 'account'], env);
  const spark = await session.must(['read', '--reader', 'spark', namespace, 'account'], env);
  // DuckDB's iceberg extension cannot sign requests through a catalog (catalogs-engines.test.ts shows it refuses).
  if (target.credentials !== 'signed') {
    const duck = await session.must(['read', '--reader', 'duckdb', namespace, 'account'], env);
    expect(byId(duck.rows), `${what}: DuckDB and pyiceberg`).toEqual(byId(py.rows));
  }
  expect(byId(spark.rows), `${what}: Spark and pyiceberg`).toEqual(byId(py.rows));
  expect(byId(py.rows), `${what}: pyiceberg and the source`).toEqual(sourceRows(py.columns.map((c) => c.name)));
  return py;
}

function open(target: CatalogTarget, namespace: string): Promise<IcebergTable> {
  const { catalog, storeFor } = connectIceberg({ ...target.settings });
  return loadTable({ catalog, namespace: [namespace], name: 'account', storeFor });
}

async function fileCounts(t: IcebergTable) {
  await t.refresh();
  const { data, deletes } = await t.liveEntries();
  return { data: data.length, deletes: deletes.length, manifests: (await t.manifests()).length };
}

describe.each(targets)('on $title', (target) => {
  const sync = async (namespace: string) => {
    const outcomes = await harness.sync({ objects: ['Account'], namespace }, { queue: target.name });
    expect(outcomes.map((o) => [o.object, o.status, o.error])).toEqual([['Account', 'succeeded', undefined]]);
  };
  /** One incremental sync's worth of changes: a few updates and one delete, spread over the table. */
  const change = (round: number) => {
    const all = ids();
    for (let k = 0; k < 4; k++) sim.org.update('Account', all[(round * 37 + k * 91) % all.length]!, { Name: `round ${round} change ${k}` });
    sim.org.delete('Account', all[(round * 41 + 200) % all.length]!);
  };

  it('maintainTable after many incremental merges: the same rows in every reader, far fewer files, no delete files; snapshots expired where metadata keeps them; syncs go on after', async () => {
    const namespace = harness.namespace(target.overrides);
    await sync(namespace);
    const syncs = 8;
    for (let round = 1; round <= syncs; round++) {
      change(round);
      await sync(namespace);
    }
    const table = await open(target, namespace);
    const before = await fileCounts(table);
    expect(before.deletes).toBe(syncs);
    expect(before.data).toBeGreaterThan(syncs);
    await expectSourceInAllReaders(target, namespace, 'before maintenance');

    const report: MaintenanceReport = await harness.client.workflow.execute('maintainTable', {
      taskQueue: `${harness.taskQueue}-${target.name}`,
      workflowId: maintainTableId(namespace, 'account'),
      args: [{ namespace, table: 'account', keepSnapshots: 2, keepSnapshotHours: 0, orphanAgeHours: 0 }],
    });
    const after = await fileCounts(table);
    expect(after).toMatchObject({ data: 1, deletes: 0 });
    expect(after.manifests).toBeLessThanOrEqual(2);
    expect(report.compaction).toMatchObject({ filesBefore: before.data, deleteFilesBefore: syncs, filesAfter: 1, deleteFilesAfter: 0, filesRewritten: before.data });
    // Each round replaced four rows and deleted one.
    expect(report.compaction!.deletesApplied).toBe(syncs * 5);
    const read = await expectSourceInAllReaders(target, namespace, 'after maintenance');
    expect(read.summary?.operation).toBe('replace');

    if (target.keepsHistory) {
      // 1 empty + 1 full + 8 merges + the compaction: all but the last two go, with the files only they held.
      expect(report.expiry).toMatchObject({ snapshotsBefore: syncs + 3, snapshotsExpired: syncs + 1, snapshotsKept: 2 });
      expect(report.expiry!.filesDeleted).toBeGreaterThan(syncs);
      expect(table.snapshots()).toHaveLength(2);
      // The rewritten files went with the expired snapshots; the metadata files beyond the log are orphans.
      expect(report.orphans!.note).toBeUndefined();
      for (const uri of await referencedFiles(table)) expect(await table.store.exists(uri), uri).toBe(true);
    } else {
      expect(report.expiry).toMatchObject({ snapshotsExpired: 0 });
      expect(report.expiry!.note).toMatch(/commit log/);
      expect(report.orphans).toMatchObject({ removed: 0 });
      expect(report.orphans!.note).toMatch(/garbage collection/);
    }
    // npm run tables shows the report kept on the table.
    const { catalog, storeFor } = connectIceberg({ ...target.settings });
    const [inspected] = await inspectTables({ catalog, namespace: [namespace], storeFor });
    expect(inspected!.maintenance?.compaction).toEqual(report.compaction);
    expect(inspected).toMatchObject({ dataFiles: 1, deleteFiles: 0 });

    // The sync's cursor survived the maintenance snapshot: the next incremental sync reads only what changed.
    change(syncs + 1);
    const next = await harness.sync({ objects: ['Account'], namespace }, { queue: target.name });
    expect(next[0]!.result).toMatchObject({ rows: 4, deleted: 1 });
    await expectSourceInAllReaders(target, namespace, 'a sync after maintenance');
  }, 600_000);

  it('a sync that commits while compaction holds its commit: compaction plans again on it, nothing lost, nothing resurrected', async () => {
    const namespace = harness.namespace(target.overrides);
    await sync(namespace);
    for (let round = 1; round <= 3; round++) {
      change(round);
      await sync(namespace);
    }
    const table = await open(target, namespace);
    let held = 0;
    const report = await compactTable(table, {
      runIdKey: MAINTENANCE_RUN_PROPERTY,
      runId: `compaction-during-sync-${target.name}`,
      targetFileBytes: 64 * 1024 * 1024,
      maxManifests: 4,
      // The gate: compaction's first commit waits until a whole sync (updates and a delete of rows in
      // files being rewritten) has committed.
      beforeCommit: async () => {
        if (held++ > 0) return;
        change(20);
        await sync(namespace);
      },
    });
    expect(held).toBe(2);
    expect(report.replans).toBe(1);
    expect(report.deleteFilesAfter).toBe(0);
    await expectSourceInAllReaders(target, namespace, 'compaction after a concurrent sync');
  });
});

describe('orphan removal (reference catalog: table metadata holds the whole history)', () => {
  const target = targets.find((t) => t.keepsHistory)!;

  it('removes an old planted orphan and what a killed run left, never a live file or one younger than the cutoff', async () => {
    const namespace = harness.namespace(target.overrides);
    const outcomes = await harness.sync({ objects: ['Account'], namespace }, { queue: target.name });
    expect(outcomes[0]!.status).toBe('succeeded');
    const table = await open(target, namespace);
    const store = table.store;
    // What a killed sync leaves: data files, a manifest and a staging manifest under its run's prefixes.
    const killed = runPaths(table.location, 'salesforce-sync-killed/Account@run');
    const leftovers = [`${killed.prefixes.data}00000-lost.parquet`, `${killed.prefixes.metadata}123-lost-m0.avro`, killed.staging()];
    const planted = `${table.location}/data/planted-orphan.parquet`;
    for (const uri of [...leftovers, planted]) await store.put(uri, new TextEncoder().encode('left behind'));
    // The cutoff is the newest of those: everything written after it is young.
    const listed = new Map<string, Date>();
    for await (const o of store.list(`${table.location}/`)) listed.set(o.uri, o.lastModified!);
    const cutoff = new Date(Math.max(...[...leftovers, planted].map((u) => listed.get(u)!.getTime())) + 1);
    const young = `${table.location}/data/in-flight.parquet`;
    let youngAt: Date | undefined;
    // A file written after the cutoff (written again until the store's clock shows it after: no sleep).
    while (!youngAt || youngAt <= cutoff) {
      await store.put(young, new TextEncoder().encode('being written'));
      for await (const o of store.list(young)) youngAt = o.lastModified;
    }
    const live = await referencedFiles(table);
    const rowsBefore = await expectSourceInAllReaders(target, namespace, 'before orphan removal');

    const report = await removeOrphans(table, { olderThan: cutoff });
    expect(report.removed).toBe(leftovers.length + 1);
    for (const uri of [...leftovers, planted]) expect(await store.exists(uri), uri).toBe(false);
    expect(await store.exists(young)).toBe(true);
    for (const uri of live) expect(await store.exists(uri), `live file ${uri}`).toBe(true);
    const rowsAfter = await expectSourceInAllReaders(target, namespace, 'after orphan removal');
    expect(rowsAfter.rows).toHaveLength(rowsBefore.rows.length);
    await store.delete([young]);
  });
});

describe(`a sync and a maintenance of one table never run at once (on ${targets[0]!.name})`, () => {
  const target = targets[0]!;
  const sync = (namespace: string, workflowId?: string) => harness.sync({ objects: ['Account'], namespace }, { queue: 'gated', workflowId });
  const maintain = (namespace: string) =>
    harness.client.workflow.start('maintainTable', {
      taskQueue: `${harness.taskQueue}-gated`,
      workflowId: maintainTableId(namespace, 'account'),
      args: [{ namespace, table: 'account', steps: ['compact'] }],
    });
  const change = (n: number) => {
    const all = ids();
    sim.org.update('Account', all[n]!, { Name: `coordination ${n}` });
    sim.org.delete('Account', all[n + 1]!);
  };

  it('a sync started while maintenance runs waits for it; a maintenance started while a sync runs waits for that: neither commit has to be retried', async () => {
    const namespace = harness.namespace(target.overrides);
    expect((await sync(namespace))[0]!.status).toBe('succeeded');
    change(3);
    expect((await sync(namespace))[0]!.status).toBe('succeeded');
    const table = await open(target, namespace);

    // Maintenance first: its commit is held; a sync started meanwhile waits before it prepares anything.
    const heldMaintenance = gate('maintenance');
    const maintenance = await maintain(namespace);
    await heldMaintenance.held;
    change(7);
    const syncId = `coordination-${Date.now()}`;
    const syncing = sync(namespace, syncId);
    const child = harness.client.workflow.getHandle(`${syncId}/Account`);
    await until('the sync to wait for the maintenance', async () => {
      const p = await child.query<Record<string, string>>('progress').catch(() => undefined);
      return p?.stage?.startsWith('waiting for the maintenance') ? p : undefined;
    });
    // Nothing of the sync reached the table while it waited.
    expect(await fileCounts(table)).toMatchObject({ deletes: 1 });
    heldMaintenance.release();
    const report = (await maintenance.result()) as MaintenanceReport;
    // One attempt: no sync commit came between the maintenance's plan and its commit.
    expect(report.compaction).toMatchObject({ replans: 0, commitAttempts: 1, deleteFilesAfter: 0 });
    expect((await syncing)[0]!.status).toBe('succeeded');
    // The sync then merged into the compacted table.
    expect(await fileCounts(table)).toMatchObject({ deletes: 1 });

    // A sync first: its commit is held; a maintenance started meanwhile waits (its wait fails and is retried) until the sync has ended.
    change(11);
    const heldSync = gate('sync');
    const syncing2 = sync(namespace);
    await heldSync.held;
    const second = await harness.client.workflow.start('maintainTable', {
      taskQueue: `${harness.taskQueue}-gated`,
      workflowId: maintainTableId(namespace, 'account'),
      args: [{ namespace, table: 'account', steps: ['compact'] }],
    });
    await until('the maintenance to wait for the sync', async () => {
      const pending = (await second.describe()).raw.pendingActivities ?? [];
      const waiting = pending.find((a) => a.activityType?.name === 'waitForSyncs' && (a.attempt ?? 0) >= 2);
      return waiting?.lastFailure?.message?.includes('waiting for the running sync') ? waiting : undefined;
    });
    heldSync.release();
    expect((await syncing2)[0]!.status).toBe('succeeded');
    const report2 = (await second.result()) as MaintenanceReport;
    expect(report2.compaction).toMatchObject({ replans: 0, commitAttempts: 1, deleteFilesAfter: 0 });
    await expectSourceInAllReaders(target, namespace, 'after syncs and maintenance in turn');
  }, 300_000);
});

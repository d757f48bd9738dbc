import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { RestCatalog } from '../../src/iceberg/catalog';
import { dictionaryEncodedColumns, readParquetFile, readRows } from '../../src/iceberg/reader';
import { applyTransform } from '../../src/iceberg/spec/partition';
import { rowsSource } from '../../src/parquet/columns';
import { openTableWriter } from '../../src/parquet/partitioned-writer';
import { runPaths } from '../../src/iceberg/run-paths';
import { commitFiles } from '../../src/iceberg/snapshot-producer';
import { EntryStatus, FileContent, type DataFile, type ManifestEntry, type NestedField, type TableMetadata } from '../../src/iceberg/spec';
import { IcebergTable } from '../../src/iceberg/table';
import { compactTable } from '../../src/maintenance/compact';
import { expireSnapshots, selectExpired } from '../../src/maintenance/expire';
import { removeOrphans } from '../../src/maintenance/orphans';
import { binPack, planCompaction } from '../../src/maintenance/plan';
import { DataFileWriter } from '../../src/parquet/writer';
import { LocalObjectStore } from '../../src/storage/local-fs';
import { MemoryCatalog } from '../helpers/memory-catalog';
import { maintainNamespaceInput, maintainTableInput } from '../../workflows/maintenance';
import { MAINTENANCE_RUN_PROPERTY, SYNC_RUN_KEYS } from '../../src/table-contract';

/*
 * Table maintenance (src/maintenance/) against a catalog kept in memory and a table folder on the
 * local disk: planning, compaction with deletes applied and its commit against concurrent writers,
 * snapshot expiry, orphan removal.
 */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'maintenance-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const store = new LocalObjectStore();
const fields: NestedField[] = [
  { id: 1, name: 'id', required: true, type: 'string' },
  { id: 2, name: 'name', required: false, type: 'string' },
  { id: 3, name: 'modified', required: false, type: 'timestamptz' },
  { id: 4, name: 'amount', required: false, type: 'decimal(18, 2)' },
  { id: 5, name: 'day', required: false, type: 'date' },
  { id: 6, name: 'count', required: false, type: 'long' },
  { id: 7, name: 'active', required: false, type: 'boolean' },
  { id: 8, name: 'ratio', required: false, type: 'double' },
  { id: 9, name: 'employees', required: false, type: 'int' },
  { id: 10, name: 'opens', required: false, type: 'time' },
  { id: 11, name: 'logo', required: false, type: 'binary' },
  { id: 12, name: 'score', required: false, type: 'float' },
];

const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `001${String(from + i).padStart(15, '0')}`);
const row = (id: string, v: string) => [
  id,
  `${v} ${id}`,
  1_700_000_000_123_456 + id.length,
  `${id.length}.25`,
  19_000,
  2n ** 40n,
  v.length % 2 === 0,
  0.5,
  v.length % 3 === 0 ? null : 42,
  45_296_000_123,
  new Uint8Array([1, 2, v.length]),
  1.5,
];

async function newTable() {
  const location = pathToFileURL(fs.mkdtempSync(path.join(dir, 'table-'))).href;
  const catalog = new MemoryCatalog(location, fields);
  const table = new IcebergTable(catalog as unknown as RestCatalog, ['ns'], 't', await catalog.loadTable(), store);
  return { location, catalog, table };
}

/** Data files of a run holding these ids (`perFile` rows a file). */
async function write(location: string, runId: string, keys: string[], v: string, perFile = 50, dictionaryColumns?: ReadonlySet<string>): Promise<DataFile[]> {
  const paths = runPaths(location, runId);
  const writer = new DataFileWriter({ fields, store, location: paths.dataFolder, namePrefix: paths.segment, maxRowsPerFile: perFile, rowGroupRows: 20, dictionaryColumns });
  await writer.write(keys.map((id) => row(id, v)));
  return writer.close();
}

/** Upserts `keys` with value `v` and deletes `deleteKeys`, as an incremental merge sync does. */
async function merge(t: Awaited<ReturnType<typeof newTable>>, runId: string, keys: string[], v: string, deleteKeys: string[] = []) {
  const files = keys.length > 0 ? await write(t.location, runId, keys, v) : [];
  await commitFiles({ keys: SYNC_RUN_KEYS, table: t.table, runId, files, mode: { kind: 'merge', keyColumn: 'id', keys, deleteKeys } });
}

/** A table after a full load of 200 rows and `syncs` merges of a few rows each (updates and deletes). */
async function syncedTable(syncs: number) {
  const t = await newTable();
  await merge(t, 'full', ids(0, 200), 'v0');
  for (let s = 1; s <= syncs; s++) await merge(t, `sync-${s}`, [...ids(s * 3, s * 3 + 3), ...ids(300 + s, 301 + s)], `v${s}`, ids(100 + s, 101 + s));
  await t.table.refresh();
  return t;
}

const sorted = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => String(a.id).localeCompare(String(b.id)));
const entry = (p: string, size: number, content = FileContent.Data): ManifestEntry => ({
  status: EntryStatus.Existing,
  snapshotId: 1n,
  sequenceNumber: 1n,
  fileSequenceNumber: 1n,
  dataFile: { content, filePath: p, fileFormat: 'PARQUET', recordCount: 10n, fileSizeInBytes: BigInt(size) },
});

describe('planning', () => {
  it('bin-packs by size, first fit decreasing; a file over the capacity gets a bin of its own', () => {
    const bins = binPack([entry('a', 60), entry('b', 50), entry('c', 40), entry('d', 30), entry('e', 150)], 100);
    expect(bins.map((b) => b.map((e) => e.dataFile.filePath))).toEqual([['e'], ['a', 'c'], ['b', 'd']]);
  });

  it('rewrites small files and files with deletes; removes the delete files that name only rewritten files', () => {
    const data = [entry('small1', 10), entry('small2', 20), entry('big', 1000), entry('bigWithDeletes', 1000)];
    const deletes = [entry('del1', 5, FileContent.PositionDeletes)];
    const plan = planCompaction(data, deletes, new Map([['del1', new Set(['bigWithDeletes', 'small1', 'goneAlready'])]]), { targetFileBytes: 1000 });
    expect(
      plan.bins
        .flat()
        .map((e) => e.dataFile.filePath)
        .sort(),
    ).toEqual(['bigWithDeletes', 'small1', 'small2']);
    expect(plan.deleteFiles.map((e) => e.dataFile.filePath)).toEqual(['del1']);
    expect(plan.deletesApplied).toBe(10n);
  });

  it('partitioned tables: bins hold files of one spec and partition; a partition with one small file is left alone', () => {
    const at = (p: string, size: number, specId: number, partition: (number | null)[]) => {
      const e = entry(p, size);
      return { ...e, dataFile: { ...e.dataFile, specId, partition } };
    };
    const data = [at('a1', 10, 1, [5]), at('a2', 20, 1, [5]), at('b1', 10, 1, [6]), at('b2', 10, 1, [6]), at('c1', 10, 1, [7]), at('old1', 10, 0, []), at('old2', 10, 0, [])];
    const plan = planCompaction(data, [], new Map(), { targetFileBytes: 1000 });
    expect(plan.bins.map((b) => b.map((e) => e.dataFile.filePath).sort())).toEqual([
      ['a1', 'a2'],
      ['b1', 'b2'],
      ['old1', 'old2'],
    ]);
  });

  it('leaves a single small file without deletes alone', () => {
    const plan = planCompaction([entry('small', 10), entry('big', 1000)], [], new Map(), { targetFileBytes: 1000 });
    expect(plan.bins).toEqual([]);
    expect(planCompaction([entry('small', 10), entry('small2', 10)], [], new Map(), { targetFileBytes: 1000 }).bins).toHaveLength(1);
  });
});

describe('compaction', () => {
  it('rewrites many small files and their deletes into few files: the same rows, no delete files, one replace snapshot, one manifest per content (the delete manifest records the removed delete files)', async () => {
    const t = await syncedTable(8);
    const before = sorted(await readRows(t.table));
    const live = await t.table.liveEntries();
    expect(live.deletes.length).toBe(8);
    const report = await compactTable(t.table, { runIdKey: MAINTENANCE_RUN_PROPERTY, runId: 'maintain-1', targetFileBytes: 8 * 1024 * 1024, maxManifests: 4 });
    expect(sorted(await readRows(t.table))).toEqual(before);
    expect(report).toMatchObject({ filesBefore: live.data.length, deleteFilesBefore: 8, deleteFilesAfter: 0, filesAfter: 1, manifestsAfter: 2, replans: 0, commitAttempts: 1 });
    // Each sync replaced three rows and deleted one: four position deletes each.
    expect(report.deletesApplied).toBe(8 * 4);
    expect(report.rowsRewritten).toBe(before.length);
    const current = t.table.currentSnapshot()!;
    expect(current.summary).toMatchObject({ operation: 'replace', 'total-delete-files': '0', 'total-data-files': '1', [MAINTENANCE_RUN_PROPERTY]: 'maintain-1' });
    // Values survive the rewrite exactly (micros of timestamps, decimals, 64-bit longs).
    expect(before[0]).toMatchObject({ amount: '18.25', count: 2n ** 40n, opens: '12:34:56.000123', score: 1.5 });
    // The old files are marked deleted in the new manifests; nothing else changed.
    const again = await compactTable(t.table, { runIdKey: MAINTENANCE_RUN_PROPERTY, runId: 'maintain-2', targetFileBytes: 8 * 1024 * 1024, maxManifests: 4 });
    expect(again.skipped).toMatch(/nothing to compact/);
  });

  it("keeps the input files' dictionary choice (a sync's: only columns of few values), not a dictionary on every column", async () => {
    const t = await newTable();
    const chosen = new Set(['day', 'employees']);
    const files = await write(t.location, 'full', ids(0, 200), 'v0', 50, chosen);
    await commitFiles({ keys: SYNC_RUN_KEYS, table: t.table, runId: 'full', files, mode: { kind: 'append' } });
    await t.table.refresh();
    const inputs = await Promise.all(files.map((f) => dictionaryEncodedColumns(store, f.filePath, Number(f.fileSizeInBytes))));
    expect(inputs.map((c) => c.sort())).toEqual(files.map(() => [...chosen].sort()));
    const report = await compactTable(t.table, { runIdKey: MAINTENANCE_RUN_PROPERTY, runId: 'maintain-dict', targetFileBytes: 8 * 1024 * 1024, maxManifests: 4 });
    expect(report).toMatchObject({ filesBefore: files.length, filesAfter: 1 });
    const [out] = (await t.table.liveEntries()).data;
    expect(out!.dataFile.filePath.startsWith(runPaths(t.location, 'maintain-dict').prefixes.data)).toBe(true);
    expect((await dictionaryEncodedColumns(store, out!.dataFile.filePath, Number(out!.dataFile.fileSizeInBytes))).sort()).toEqual([...chosen].sort());
  });

  it('a sync that commits while the rewrite is in flight: added files are kept (rebuilt on), deletes of rewritten rows make it plan again; nothing lost, nothing resurrected', async () => {
    const t = await syncedTable(3);
    const victim = ids(50, 51)[0]!;
    let syncs = 0;
    const report = await compactTable(t.table, {
      runIdKey: MAINTENANCE_RUN_PROPERTY,
      runId: 'maintain-conflict',
      targetFileBytes: 8 * 1024 * 1024,
      maxManifests: 4,
      beforeCommit: async () => {
        // First attempt: a sync updates a row of a rewritten file and adds one (a delete file against the old files).
        // Second: a sync only adds a new row (rebuilt on without planning again).
        syncs++;
        if (syncs === 1) await merge(t, 'sync-during-1', [victim, 'new-1'], 'during');
        if (syncs === 2) await merge(t, 'sync-during-2', ['new-2'], 'during');
      },
    });
    expect(report.replans).toBe(1);
    expect(report.commitAttempts).toBe(2);
    const rows = sorted(await readRows(t.table));
    expect(rows.filter((r) => r.id === victim).map((r) => r.name)).toEqual([`during ${victim}`]);
    expect(rows.map((r) => r.id)).toEqual(expect.arrayContaining(['new-1', 'new-2']));
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    expect((await t.table.liveEntries()).deletes).toHaveLength(0);
  });
});

describe('compaction of partitioned tables', () => {
  it('partitioned tables: compacts partition by partition into the current spec and sort order, with deletes applied and every row kept', async () => {
    const t = await newTable();
    // A first load before the table was partitioned (spec 0), then a spec and a sort order, as another engine evolves them.
    await merge(t, 'full', ids(0, 120), 'v0');
    const m = t.catalog.metadata;
    const spec = { 'spec-id': 1, fields: [{ 'source-id': 1, 'field-id': 1000, name: 'id_bucket', transform: 'bucket[4]' }] };
    const order = { 'order-id': 1, fields: [{ transform: 'identity', 'source-id': 2, direction: 'desc' as const, 'null-order': 'nulls-last' as const }] };
    m['partition-specs'] = [...m['partition-specs'], spec];
    m['default-spec-id'] = 1;
    m['last-partition-id'] = 1000;
    m['sort-orders'] = [{ 'order-id': 0, fields: [] }, order];
    m['default-sort-order-id'] = 1;
    await t.table.refresh();
    for (let s = 1; s <= 3; s++) {
      const keys = [...ids(s * 10, s * 10 + 15), ...ids(200 + s * 10, 205 + s * 10)];
      const paths = runPaths(t.location, `sync-${s}`);
      const writer = openTableWriter({ fields, store, location: paths.dataFolder, namePrefix: paths.segment, maxRowsPerFile: 4, spec, sortOrder: order });
      for (const id of keys) await writer.writeColumns(rowsSource([row(id, `v${s}`)]));
      const files = await writer.close();
      expect(new Set(files.map((f) => f.specId))).toEqual(new Set([1]));
      await commitFiles({ keys: SYNC_RUN_KEYS, table: t.table, runId: `sync-${s}`, files, mode: { kind: 'merge', keyColumn: 'id', keys, deleteKeys: ids(100 + s, 101 + s) } });
    }
    await t.table.refresh();
    const before = sorted(await readRows(t.table));
    const report = await compactTable(t.table, { runIdKey: MAINTENANCE_RUN_PROPERTY, runId: 'maintain-p', targetFileBytes: 8 * 1024 * 1024, maxManifests: 4 });
    expect(report.skipped).toBeUndefined();
    expect(report.filesRewritten).toBeGreaterThan(8);
    expect(report.deleteFilesAfter).toBe(0);
    expect(sorted(await readRows(t.table))).toEqual(before);
    const { data } = await t.table.liveEntries();
    // One file per bucket, each holding only its bucket's rows, sorted by name descending.
    expect(data.map((e) => e.dataFile.partition![0]).sort()).toEqual([0, 1, 2, 3]);
    for (const e of data) {
      expect(e.dataFile.specId).toBe(1);
      expect(e.dataFile.sortOrderId).toBe(1);
      const rows = (await readParquetFile(store, e.dataFile.filePath)).toArray().map((r) => r.toJSON() as { id: string; name: string });
      for (const r of rows) expect(applyTransform({ kind: 'bucket', n: 4 }, 'string', r.id)).toBe(e.dataFile.partition![0]);
      expect(rows.map((r) => r.name)).toEqual([...rows.map((r) => r.name)].sort().reverse());
    }
  });
});

describe('snapshot expiry', () => {
  const snap = (id: number, parent: number | null, ts: number) => ({
    'snapshot-id': BigInt(id),
    'parent-snapshot-id': parent === null ? null : BigInt(parent),
    'sequence-number': BigInt(id),
    'timestamp-ms': ts,
    'manifest-list': `l${id}`,
    summary: { operation: 'append' as const },
  });

  it('keeps the last N of each branch, the young ones, and every ref; never the current one', () => {
    const metadata = {
      snapshots: [snap(1, null, 100), snap(2, 1, 200), snap(3, 2, 300), snap(4, 3, 400), snap(5, 4, 900), snap(6, 2, 250)],
      refs: { main: { 'snapshot-id': 5n, type: 'branch' }, audit: { 'snapshot-id': 1n, type: 'tag' }, dev: { 'snapshot-id': 6n, type: 'branch' } },
      'current-snapshot-id': 5n,
    } as unknown as TableMetadata;
    expect(selectExpired(metadata, { keepLast: 2, keepAgeMs: 100, now: 1000 }).expire).toEqual([3n]);
    expect(selectExpired(metadata, { keepLast: 0, keepAgeMs: 0, now: 10_000 }).expire).toEqual([2n, 3n, 4n]);
    expect(selectExpired(metadata, { keepLast: 1, keepAgeMs: 10_000, now: 1000 }).expire).toEqual([]);
  });

  it('removes snapshots and the files only they referenced; the table reads the same', async () => {
    const t = await syncedTable(4);
    await compactTable(t.table, { runIdKey: MAINTENANCE_RUN_PROPERTY, runId: 'maintain-e', targetFileBytes: 8 * 1024 * 1024, maxManifests: 4 });
    const before = sorted(await readRows(t.table));
    const report = await expireSnapshots(t.table, { keepLast: 1, keepAgeMs: 0, now: Date.now() + 1 });
    expect(report).toMatchObject({ snapshotsBefore: 7, snapshotsExpired: 6, snapshotsKept: 1 });
    expect(report.filesDeleted).toBeGreaterThan(10);
    expect(sorted(await readRows(t.table))).toEqual(before);
  });
});

describe('orphan removal', () => {
  it('removes unreferenced files older than the age, never a referenced or a younger one', async () => {
    const t = await syncedTable(2);
    const dataDir = path.join(fileURLToPath(t.location), 'data');
    const old = path.join(dataDir, 'killed-run-00000.parquet');
    const young = path.join(dataDir, 'in-flight-00000.parquet');
    fs.writeFileSync(old, 'x');
    fs.writeFileSync(young, 'y');
    const past = new Date(Date.now() - 10 * 86_400_000);
    fs.utimesSync(old, past, past);
    const before = sorted(await readRows(t.table));
    const report = await removeOrphans(t.table, { olderThan: new Date(Date.now() - 86_400_000) });
    expect(report).toMatchObject({ removed: 1, tooYoung: 1 });
    expect(fs.existsSync(old)).toBe(false);
    expect(fs.existsSync(young)).toBe(true);
    expect(sorted(await readRows(t.table))).toEqual(before);
    // A catalog keeping history in its own log (Nessie): nothing removed, the report says why.
    expect((await removeOrphans(t.table, { olderThan: new Date(), historyInCatalog: true })).note).toMatch(/commit/);
    expect(fs.existsSync(young)).toBe(true);
  });
});

describe("the workflows' input", () => {
  it('accepts what the README shows and what the kept histories hold, refuses a bad table name or step', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const shown = [...readme.matchAll(/--type (maintainTable|maintainNamespace)[^']*--input '([^']*)'/g)].map((m) => [m[1]!, m[2]!] as const);
    expect(shown.map(([type]) => type)).toEqual(['maintainTable', 'maintainNamespace']);
    for (const [type, json] of shown) expect((type === 'maintainTable' ? maintainTableInput : maintainNamespaceInput).safeParse(JSON.parse(json)).success, json).toBe(true);
    // The kept histories' inputs (they must still replay).
    const dir = path.join(__dirname, '..', 'histories');
    const kept = fs
      .readdirSync(dir)
      .filter((f) => f.startsWith('maintainTable'))
      .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).events[0].workflowExecutionStartedEventAttributes.input.payloads[0].data as string);
    expect(kept.length).toBeGreaterThan(0);
    for (const data of kept) expect(maintainTableInput.safeParse(JSON.parse(Buffer.from(data, 'base64').toString('utf8'))).success).toBe(true);
    expect(maintainTableInput.safeParse({ namespace: 'salesforce', table: 'a-b' }).success).toBe(false);
    expect(maintainTableInput.safeParse({ namespace: 'salesforce', table: 'account', steps: ['vacuum'] }).success).toBe(false);
    expect(maintainTableInput.safeParse({ namespace: 'salesforce', table: 'account', keepSnapshot: 3 }).success).toBe(false);
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { RestCatalog } from '../../src/iceberg/catalog';
import { CommitConflictError, CommitStateUnknownError, RewriteConflictError } from '../../src/iceberg/errors';
import { decodeManifest, decodeManifestList } from '../../src/iceberg/manifest';
import { AppendProducer } from '../../src/iceberg/producers/append';
import { commitWithRetries } from '../../src/iceberg/producers/commit-retries';
import { lastRunSummary } from '../../src/iceberg/producers/committed-runs';
import { MergeProducer } from '../../src/iceberg/producers/merge';
import { OverwriteProducer } from '../../src/iceberg/producers/overwrite';
import { anyInRange } from '../../src/iceberg/producers/position-deletes';
import { RewriteProducer } from '../../src/iceberg/producers/rewrite';
import { readParquetFile } from '../../src/iceberg/reader';
import { runPaths } from '../../src/iceberg/run-paths';
import { commitFiles, producerFor } from '../../src/iceberg/snapshot-producer';
import { EntryStatus, FileContent, ManifestContent, type DataFile, type NestedField } from '../../src/iceberg/spec';
import { IcebergTable } from '../../src/iceberg/table';
import { DataFileWriter } from '../../src/parquet/writer';
import { LocalObjectStore } from '../../src/storage/local-fs';
import { MemoryCatalog } from '../helpers/memory-catalog';
import { INITIAL_SNAPSHOT_PROPERTY, SYNC_RUNS_PROPERTY, SYNC_RUN_ID_PROPERTY, SYNC_RUN_KEYS } from '../../src/table-contract';

/*
 * The snapshot producers (one per write mode, src/iceberg/producers/) and the one commit loop,
 * against a catalog kept in memory and a table folder on the local disk.
 */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'producers-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const store = new LocalObjectStore();
const fields: NestedField[] = [
  { id: 1, name: 'id', required: true, type: 'string' },
  { id: 2, name: 'name', required: false, type: 'string' },
];

async function newTable(keepOnlyCurrent = false) {
  const location = pathToFileURL(fs.mkdtempSync(path.join(dir, 'table-'))).href;
  const catalog = new MemoryCatalog(location, fields, keepOnlyCurrent);
  const table = new IcebergTable(catalog as unknown as RestCatalog, ['ns'], 't', await catalog.loadTable(), store);
  return { location, catalog, table };
}

/** Data files of a run holding these ids (50 rows a file). */
async function write(location: string, runId: string, ids: string[], name = 'v1'): Promise<DataFile[]> {
  const paths = runPaths(location, runId);
  const writer = new DataFileWriter({ fields, store, location: paths.dataFolder, namePrefix: paths.segment, maxRowsPerFile: 50, rowGroupRows: 50 });
  await writer.write(ids.map((id) => [id, `${name} ${id}`]));
  return writer.close();
}

const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `001${String(from + i).padStart(15, '0')}`);

/** A table whose current snapshot holds ids 0..100 (two data files), committed by run `base`. */
async function tableWithRows() {
  const t = await newTable();
  const files = await write(t.location, 'base', ids(0, 100));
  await commitFiles({ keys: SYNC_RUN_KEYS, table: t.table, runId: 'base', files, mode: { kind: 'append' } });
  await t.table.refresh();
  return { ...t, baseFiles: files };
}

async function manifestsOf(listPath: string) {
  const list = decodeManifestList(await store.get(listPath));
  return Promise.all(list.map(async (m) => ({ m, entries: decodeManifest(await store.get(m.manifestPath), m) })));
}

describe('snapshot producers', () => {
  it('append: a manifest of the new files first (sequence numbers left to the list), then every manifest of the parent', async () => {
    const t = await tableWithRows();
    const parent = t.table.currentSnapshot()!;
    const files = await write(t.location, 'run-a', ids(100, 130));
    const producer = new AppendProducer(t.table, 'run-a', SYNC_RUN_KEYS, files, { 'salesforce.cursor': 'c1' });
    const built = await producer.build(parent, 1);

    expect(built.sequenceNumber).toBe(parent['sequence-number'] + 1n);
    const manifests = await manifestsOf(built.snapshot['manifest-list']);
    expect(manifests).toHaveLength(2);
    const [added, kept] = manifests;
    expect(added!.m).toMatchObject({
      content: ManifestContent.Data,
      sequenceNumber: built.sequenceNumber,
      minSequenceNumber: built.sequenceNumber,
      addedSnapshotId: producer.snapshotId,
      addedFilesCount: 1,
      addedRowsCount: 30n,
    });
    expect(added!.m.manifestPath.startsWith(runPaths(t.location, 'run-a').prefixes.metadata)).toBe(true);
    expect(added!.entries.map((e) => [e.status, e.dataFile.filePath, e.sequenceNumber])).toEqual(files.map((f) => [EntryStatus.Added, f.filePath, built.sequenceNumber]));
    expect(kept!.entries.map((e) => e.dataFile.filePath)).toEqual(t.baseFiles.map((f) => f.filePath));

    expect(built.snapshot).toMatchObject({ 'snapshot-id': producer.snapshotId, 'parent-snapshot-id': parent['snapshot-id'], 'schema-id': 0 });
    const size = (fs: DataFile[]) => fs.reduce((s, f) => s + f.fileSizeInBytes, 0n);
    expect(built.snapshot.summary).toEqual({
      operation: 'append',
      'added-data-files': '1',
      'added-records': '30',
      'added-files-size': String(size(files)),
      'total-data-files': '3',
      'total-records': '130',
      'total-delete-files': '0',
      'total-position-deletes': '0',
      'total-equality-deletes': '0',
      'total-files-size': String(size(t.baseFiles) + size(files)),
      'salesforce.cursor': 'c1',
      [SYNC_RUN_ID_PROPERTY]: 'run-a',
    });
    expect(built.attemptFiles).toEqual([built.snapshot['manifest-list']]);
  });

  it('overwrite: the new files only; the summary says what of the parent went', async () => {
    const t = await tableWithRows();
    const parent = t.table.currentSnapshot()!;
    const files = await write(t.location, 'run-o', ids(0, 10));
    const built = await new OverwriteProducer(t.table, 'run-o', SYNC_RUN_KEYS, files).build(parent, 1);
    const manifests = await manifestsOf(built.snapshot['manifest-list']);
    expect(manifests.flatMap((x) => x.entries.map((e) => e.dataFile.filePath))).toEqual(files.map((f) => f.filePath));
    expect(built.snapshot.summary).toMatchObject({
      operation: 'overwrite',
      'total-data-files': '1',
      'total-records': '10',
      'deleted-data-files': '2',
      'deleted-records': '100',
      'removed-files-size': parent.summary['total-files-size'],
      'total-files-size': String(files[0]!.fileSizeInBytes),
    });
  });

  it('merge: an append plus one position delete file for the parent’s rows whose key is replaced or deleted', async () => {
    const t = await tableWithRows();
    const parent = t.table.currentSnapshot()!;
    const files = await write(t.location, 'run-m', ['001000000000000003', '001000000000000099', '001000000000000200'], 'v2');
    const producer = new MergeProducer(
      t.table,
      'run-m',
      SYNC_RUN_KEYS,
      files,
      {},
      { keyColumn: 'id', keys: async () => ['001000000000000003', '001000000000000099', '001000000000000200'], deleteKeys: ['001000000000000060'] },
    );
    const built = await producer.build(parent, 2);

    const manifests = await manifestsOf(built.snapshot['manifest-list']);
    expect(manifests.map((x) => x.m.content)).toEqual([ManifestContent.Data, ManifestContent.Deletes, ManifestContent.Data]);
    const deletes = manifests[1]!;
    expect(deletes.m).toMatchObject({ sequenceNumber: built.sequenceNumber, addedFilesCount: 1, addedRowsCount: 3n });
    const deleteFile = deletes.entries[0]!.dataFile;
    expect(deleteFile.content).toBe(FileContent.PositionDeletes);
    expect(deleteFile.filePath).toBe(runPaths(t.location, 'run-m').deleteFile(producer.snapshotId, 2));
    // Positions in the parent's files (ids 0..49 in the first, 50..99 in the second), sorted.
    const positions = await readParquetFile(store, deleteFile.filePath, ['file_path', 'pos']);
    const rows = Array.from({ length: positions.numRows }, (_, i) => [positions.getChild('file_path')!.get(i), positions.getChild('pos')!.get(i)]);
    const [first, second] = [...t.baseFiles].map((f) => f.filePath).sort();
    expect(rows).toEqual([
      [first, 3n],
      [second, 10n],
      [second, 49n],
    ]);

    expect(built.snapshot.summary).toMatchObject({
      operation: 'overwrite',
      'added-delete-files': '1',
      'added-position-delete-files': '1',
      'added-position-deletes': '3',
      'total-delete-files': '1',
      'total-position-deletes': '3',
      'total-records': '103',
    });
    // A refused attempt takes its list, delete file and delete manifest with it.
    expect(built.attemptFiles).toEqual([built.snapshot['manifest-list'], deleteFile.filePath, deletes.m.manifestPath]);
  });

  it('merge into a table without rows writes no delete file and reads no keys', async () => {
    const t = await newTable();
    await commitFiles({ keys: SYNC_RUN_KEYS, table: t.table, runId: 'empty', files: [], mode: { kind: 'append' } });
    await t.table.refresh();
    const files = await write(t.location, 'run-first', ids(0, 5));
    let asked = false;
    const built = await new MergeProducer(t.table, 'run-first', SYNC_RUN_KEYS, files, {}, { keyColumn: 'id', keys: async () => ((asked = true), ids(0, 5)), deleteKeys: [] }).build(
      t.table.currentSnapshot()!,
      1,
    );
    expect(asked).toBe(false);
    expect((await manifestsOf(built.snapshot['manifest-list'])).map((x) => x.m.content)).toEqual([ManifestContent.Data]);
    expect(built.snapshot.summary['added-delete-files']).toBeUndefined();
  });

  it('the added files’ manifest is written once; each attempt writes its own manifest list', async () => {
    const t = await tableWithRows();
    const files = await write(t.location, 'run-twice', ids(200, 210));
    const producer = new AppendProducer(t.table, 'run-twice', SYNC_RUN_KEYS, files);
    const one = await producer.build(t.table.currentSnapshot()!, 1);
    const manifestPath = (await manifestsOf(one.snapshot['manifest-list']))[0]!.m.manifestPath;
    const written = fs.statSync(new URL(manifestPath)).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    const two = await producer.build(t.table.currentSnapshot()!, 2);
    expect((await manifestsOf(two.snapshot['manifest-list']))[0]!.m.manifestPath).toBe(manifestPath);
    expect(fs.statSync(new URL(manifestPath)).mtimeMs).toBe(written);
    expect(two.snapshot['manifest-list']).not.toBe(one.snapshot['manifest-list']);
    expect(two.snapshot['snapshot-id']).toBe(one.snapshot['snapshot-id']);
  });

  it('producerFor picks the producer of each write mode', () => {
    const table = { location: 'file:///t' } as IcebergTable;
    expect(producerFor({ table, runId: 'r', keys: SYNC_RUN_KEYS, files: [], mode: { kind: 'append' } })).toBeInstanceOf(AppendProducer);
    expect(producerFor({ table, runId: 'r', keys: SYNC_RUN_KEYS, files: [], mode: { kind: 'overwrite' } })).toBeInstanceOf(OverwriteProducer);
    expect(producerFor({ table, runId: 'r', keys: SYNC_RUN_KEYS, files: [], mode: { kind: 'merge', keyColumn: 'id', keys: [], deleteKeys: [] } })).toBeInstanceOf(MergeProducer);
  });

  it('anyInRange: is any sorted key within the bounds', () => {
    expect(anyInRange(['b', 'd', 'f'], 'c', 'e')).toBe(true);
    expect(anyInRange(['b', 'd', 'f'], 'd', 'd')).toBe(true);
    expect(anyInRange(['b', 'd', 'f'], 'g', 'z')).toBe(false);
    expect(anyInRange(['b', 'd', 'f'], 'a', 'a')).toBe(false);
    expect(anyInRange([], 'a', 'z')).toBe(false);
  });
});

describe('the commit loop', () => {
  it('a conflict removes what the attempt wrote and builds again on the new parent; the run is recorded with its snapshot', async () => {
    const t = await tableWithRows();
    const files = await write(t.location, 'run-c', ids(300, 310));
    const producer = new AppendProducer(t.table, 'run-c', SYNC_RUN_KEYS, files);
    const retries: string[] = [];
    let firstList: string | undefined;
    const result = await commitWithRetries(producer, {
      onRetry: (_attempt, reason) => retries.push(reason),
      beforeCommit: async (attempt) => {
        if (attempt !== 1) return;
        firstList = runPaths(t.location, 'run-c').manifestList(producer.snapshotId, 1);
        // Another writer commits first.
        const other = await write(t.location, 'other', ids(400, 401));
        const otherTable = new IcebergTable(t.catalog as unknown as RestCatalog, ['ns'], 't', await t.catalog.loadTable(), store);
        await commitFiles({ keys: SYNC_RUN_KEYS, table: otherTable, runId: 'other', files: other, mode: { kind: 'append' } });
      },
    });
    expect(retries).toEqual(['main moved']);
    expect(result).toMatchObject({ snapshotId: producer.snapshotId, alreadyCommitted: false, attempts: 2 });
    expect(fs.existsSync(new URL(firstList!))).toBe(false);
    const current = t.catalog.metadata;
    expect(current['current-snapshot-id']).toBe(producer.snapshotId);
    const parentRun = current.snapshots!.find((s) => s['snapshot-id'] === current.snapshots!.at(-1)!['parent-snapshot-id'])!.summary[SYNC_RUN_ID_PROPERTY];
    expect(parentRun).toBe('other');
    expect(JSON.parse(current.properties![SYNC_RUNS_PROPERTY]!)[0]).toEqual({
      run: 'run-c',
      snapshot: producer.snapshotId.toString(),
      sequence: result.sequenceNumber.toString(),
      state: { [SYNC_RUN_ID_PROPERTY]: 'run-c' },
    });
  });

  it('state unknown: the next pass finds the snapshot that landed and commits nothing again', async () => {
    const t = await tableWithRows();
    const files = await write(t.location, 'run-u', ids(500, 505));
    t.catalog.fail = { error: new CommitStateUnknownError('502 from the gateway'), applied: true };
    const before = t.catalog.commits;
    const result = await commitWithRetries(new AppendProducer(t.table, 'run-u', SYNC_RUN_KEYS, files));
    // The second pass found the snapshot: the run's answer, though it never saw the catalog's.
    expect(result).toMatchObject({ alreadyCommitted: false, attempts: 2 });
    expect(t.catalog.commits - before).toBe(1);
    expect(t.catalog.metadata.snapshots!.filter((s) => s.summary[SYNC_RUN_ID_PROPERTY] === 'run-u')).toHaveLength(1);
    // A retried commit of the same run (another activity attempt) returns the snapshot.
    const again = await commitWithRetries(new AppendProducer(t.table, 'run-u', SYNC_RUN_KEYS, files));
    expect(again).toMatchObject({ snapshotId: result.snapshotId, alreadyCommitted: true, attempts: 1 });
  });

  it('a table just loaded (justLoaded) is committed on as loaded; when it was stale, the refused attempt reloads and commits on the new parent', async () => {
    const t = await tableWithRows();
    const loads = t.catalog.loads;
    const fresh = await commitWithRetries(new AppendProducer(t.table, 'run-j', SYNC_RUN_KEYS, await write(t.location, 'run-j', ids(600, 605))), { justLoaded: true });
    expect(fresh).toMatchObject({ alreadyCommitted: false, attempts: 1 });
    expect(t.catalog.loads - loads).toBe(0);
    // Another writer commits after this table object was loaded: its parent is stale.
    const other = new IcebergTable(t.catalog as unknown as RestCatalog, ['ns'], 't', await t.catalog.loadTable(), store);
    await commitFiles({ keys: SYNC_RUN_KEYS, table: other, runId: 'run-other', files: await write(t.location, 'run-other', ids(700, 705)), mode: { kind: 'append' } });
    const stale = await commitWithRetries(new AppendProducer(t.table, 'run-k', SYNC_RUN_KEYS, await write(t.location, 'run-k', ids(800, 805))), { justLoaded: true });
    expect(stale).toMatchObject({ alreadyCommitted: false, attempts: 2 });
    const current = t.catalog.metadata.snapshots!.find((s) => s['snapshot-id'] === t.catalog.metadata['current-snapshot-id'])!;
    expect(current.summary[SYNC_RUN_ID_PROPERTY]).toBe('run-k');
    expect(current.summary['total-records']).toBe('115');
  });

  it('errors that are not conflicts or unknown states are thrown at once; retries stop at maxAttempts', async () => {
    const t = await tableWithRows();
    t.catalog.fail = { error: new Error('400 bad request') };
    await expect(commitWithRetries(new AppendProducer(t.table, 'run-e', SYNC_RUN_KEYS, []))).rejects.toThrow('400 bad request');
    t.catalog.fail = { error: new CommitConflictError('main moved') };
    await expect(commitWithRetries(new AppendProducer(t.table, 'run-e', SYNC_RUN_KEYS, []), { maxAttempts: 1 })).rejects.toBeInstanceOf(CommitConflictError);
  });

  it("a rewrite (Iceberg's replace) goes through the same loop: state unknown finds its snapshot by id; the summary says what left and what came", async () => {
    const t = await tableWithRows();
    const files = await write(t.location, 'compact', ids(0, 100));
    const size = (fs: DataFile[]) => fs.reduce((s, f) => s + f.fileSizeInBytes, 0n);
    const producer = new RewriteProducer(
      t.table,
      { id: 'compact', idKey: 'test.maintenance-run' },
      { removeData: new Set(t.baseFiles.map((f) => f.filePath)), removeDeletes: new Set(), plannedDeletes: new Set(), added: files },
    );
    t.catalog.fail = { error: new CommitStateUnknownError('504 from the gateway'), applied: true };
    const before = t.catalog.commits;
    const result = await commitWithRetries(producer);
    expect(result).toMatchObject({ snapshotId: producer.snapshotId, alreadyCommitted: false, attempts: 2 });
    expect(t.catalog.commits - before).toBe(1);
    expect(t.catalog.metadata.snapshots!.filter((s) => s.summary.operation === 'replace')).toHaveLength(1);
    expect(result.summary).toEqual({
      operation: 'replace',
      'added-data-files': '2',
      'added-records': '100',
      'added-files-size': String(size(files)),
      'deleted-data-files': '2',
      'deleted-records': '100',
      'removed-delete-files': '0',
      'removed-position-delete-files': '0',
      'removed-position-deletes': '0',
      'removed-files-size': String(size(t.baseFiles)),
      'total-data-files': '2',
      'total-records': '100',
      'total-delete-files': '0',
      'total-position-deletes': '0',
      'total-equality-deletes': '0',
      'total-files-size': String(size(files)),
      'test.maintenance-run': 'compact',
    });
    // A file it removes that another commit removed first: refused, nothing sent.
    const again = new RewriteProducer(
      t.table,
      { id: 'compact-2', idKey: 'test.maintenance-run' },
      { removeData: new Set([t.baseFiles[0]!.filePath]), removeDeletes: new Set(), plannedDeletes: new Set(), added: [] },
    );
    await expect(commitWithRetries(again)).rejects.toBeInstanceOf(RewriteConflictError);
    expect(t.catalog.commits - before).toBe(1);
  });

  it('a table without a snapshot gets its empty first snapshot before the data commit', async () => {
    const t = await newTable();
    const files = await write(t.location, 'run-0', ids(0, 3));
    const result = await commitWithRetries(new AppendProducer(t.table, 'run-0', SYNC_RUN_KEYS, files));
    expect(result.attempts).toBe(1);
    expect(t.catalog.metadata.snapshots!.map((s) => s.summary[INITIAL_SNAPSHOT_PROPERTY] ?? s.summary[SYNC_RUN_ID_PROPERTY])).toEqual(['true', 'run-0']);
  });

  it.each([
    ['keeps every snapshot', false],
    ['keeps only the current snapshot (Nessie)', true],
  ])("the last sync's summary is found after another engine committed, on a catalog that %s", async (_, keepOnlyCurrent) => {
    const t = await newTable(keepOnlyCurrent);
    await commitFiles({
      keys: SYNC_RUN_KEYS,
      table: t.table,
      runId: 'run-a',
      files: await write(t.location, 'run-a', ids(0, 10)),
      mode: { kind: 'append' },
      properties: { 'salesforce.cursor': 'c1' },
    });
    await commitFiles({
      keys: SYNC_RUN_KEYS,
      table: t.table,
      runId: 'run-b',
      files: await write(t.location, 'run-b', ids(10, 20)),
      mode: { kind: 'append' },
      properties: { 'salesforce.cursor': 'c2' },
    });
    await t.table.refresh();
    expect(lastRunSummary(t.table, SYNC_RUN_KEYS)).toMatchObject({ 'salesforce.cursor': 'c2', [SYNC_RUN_ID_PROPERTY]: 'run-b' });

    // Another engine's two snapshots on top: no run id, no cursor.
    for (const n of [1n, 2n]) {
      const parent = t.table.currentSnapshot()!;
      const snapshot = {
        ...parent,
        'snapshot-id': 9000n + n,
        'parent-snapshot-id': parent['snapshot-id'],
        'sequence-number': parent['sequence-number'] + 1n,
        summary: { operation: 'append' as const },
      };
      await t.catalog.commitTable(
        [],
        't',
        [],
        [
          { action: 'add-snapshot', snapshot },
          { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': snapshot['snapshot-id'] },
        ],
      );
    }
    await t.table.refresh();
    expect(t.table.currentSnapshot()!.summary[SYNC_RUN_ID_PROPERTY]).toBeUndefined();
    expect(t.table.snapshots().length).toBe(keepOnlyCurrent ? 1 : 5);
    expect(lastRunSummary(t.table, SYNC_RUN_KEYS)).toMatchObject({ 'salesforce.cursor': 'c2', [SYNC_RUN_ID_PROPERTY]: 'run-b' });
    // Only the newest run keeps its state in the table property.
    const recorded = JSON.parse(t.table.metadata.properties![SYNC_RUNS_PROPERTY]!) as { run: string; state?: Record<string, string> }[];
    expect(recorded.map((r) => [r.run, r.state?.['salesforce.cursor']])).toEqual([
      ['run-b', 'c2'],
      ['run-a', undefined],
    ]);
  });
});

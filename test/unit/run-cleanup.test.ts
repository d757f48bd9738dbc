import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { RestCatalog } from '../../src/iceberg/catalog';
import { decodeManifest, decodeManifestList } from '../../src/iceberg/manifest';
import { deletedPositions, isDeleted, readParquetFile } from '../../src/iceberg/reader';
import { planRunCleanup } from '../../src/iceberg/run-cleanup';
import { runPaths } from '../../src/iceberg/run-paths';
import { commitFiles, ensureInitialSnapshot, type WriteMode } from '../../src/iceberg/snapshot-producer';
import type { NestedField, TableMetadata } from '../../src/iceberg/spec';
import { IcebergTable } from '../../src/iceberg/table';
import { DataFileWriter } from '../../src/parquet/writer';
import { LocalObjectStore } from '../../src/storage/local-fs';
import { IcebergDestination } from '../../src/destinations/iceberg';
import { cleanupObject } from '../../src/sync/object-sync';
import type { PreparedObject, SyncContext } from '../../src/sync/types';
import { KeyList, writeStaging } from '../../src/sync/staging';
import { MemoryCatalog } from '../helpers/memory-catalog';
import { SYNC_RUN_KEYS } from '../../src/table-contract';

/*
 * Cleanup against a catalog kept in memory (which, like Nessie 0.99, keeps only the current
 * snapshot in the table metadata, without its parent's id, unless told otherwise) and a table folder on the local disk: commits killed
 * before the catalog answered and after it accepted, merges with position deletes, a run whose
 * snapshot a later commit replaced, files of other runs and engines. After each, the table's
 * whole folder is listed: every file must be referenced by some table metadata the catalog
 * accepted (its history), and every file those reference must still exist.
 */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-cleanup-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const store = new LocalObjectStore();
const fields: NestedField[] = [
  { id: 1, name: 'id', required: true, type: 'string' },
  { id: 2, name: 'name', required: false, type: 'string' },
];

/** Killed: the process died there (the commit code sees an error it does not retry). */
class Killed extends Error {}

function newTable(opts: { keepOnlyCurrent?: boolean } = {}) {
  const location = pathToFileURL(fs.mkdtempSync(path.join(dir, 'table-'))).href;
  const catalog = new MemoryCatalog(location, fields, opts.keepOnlyCurrent ?? true);
  const open = async () => new IcebergTable(catalog as unknown as RestCatalog, ['ns'], 't', await catalog.loadTable(), store);
  const destination = new IcebergDestination(catalog as unknown as RestCatalog, () => store);
  const ctx = { destination } as unknown as SyncContext;
  const cleanup = (runId: string) => cleanupObject(ctx, { namespace: ['ns'], table: 't', runId } as PreparedObject);
  return { location, catalog, open, cleanup };
}

/** Writes the rows as the run's data files (as an extraction does) and a staging manifest. */
async function extract(location: string, runId: string, ids: string[], name = 'v1') {
  const paths = runPaths(location, runId);
  const writer = new DataFileWriter({ fields, store, location: paths.dataFolder, namePrefix: paths.segment, maxRowsPerFile: 50, rowGroupRows: 50 });
  await writer.write(ids.map((id) => [id, `${name} ${id}`]));
  const files = await writer.close();
  await writeStaging(store, paths.staging(), { runId, files, keys: KeyList.of(ids), deletedKeys: [] });
  return files;
}

async function commit(table: IcebergTable, runId: string, files: Awaited<ReturnType<typeof extract>>, mode: WriteMode) {
  return commitFiles({ keys: SYNC_RUN_KEYS, table, runId, files, mode, maxAttempts: 3 });
}

const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `001${String(from + i).padStart(15, '0')}`);
const merge = (keys: string[], deleteKeys: string[] = []): WriteMode => ({ kind: 'merge', keyColumn: 'id', keys, deleteKeys });

async function listAll(location: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list(`${location}/`)) out.push(o.uri);
  return out.sort();
}

/** Every file some accepted table metadata references: manifest lists, manifests, data and delete files. */
async function referencedByHistory(catalog: MemoryCatalog, which: TableMetadata[] = catalog.history): Promise<Set<string>> {
  const out = new Set<string>();
  for (const metadata of which) {
    for (const s of metadata.snapshots ?? []) {
      out.add(s['manifest-list']);
      for (const m of decodeManifestList(await store.get(s['manifest-list']))) {
        out.add(m.manifestPath);
        for (const e of decodeManifest(await store.get(m.manifestPath), m)) out.add(e.dataFile.filePath);
      }
    }
  }
  return out;
}

/** Files in the table's folder that no accepted metadata references, and referenced files that are missing. */
async function audit(t: ReturnType<typeof newTable>) {
  const all = await listAll(t.location);
  const referenced = await referencedByHistory(t.catalog);
  return { files: all.length, unreferenced: all.filter((f) => !referenced.has(f)), missing: [...referenced].filter((f) => !all.includes(f)) };
}

async function rows(t: ReturnType<typeof newTable>): Promise<string[]> {
  const table = await t.open();
  const { data, deletes } = await table.liveEntries();
  const already = await deletedPositions(store, deletes);
  const out: string[] = [];
  for (const entry of data) {
    const read = await readParquetFile(store, entry.dataFile.filePath, ['id', 'name']);
    for (let i = 0; i < read.numRows; i++) if (!isDeleted(already, entry, i)) out.push(`${read.getChild('id')!.get(i)}=${read.getChild('name')!.get(i)}`);
  }
  return out.sort();
}

describe('cleanup of a run (no servers: a catalog in memory, a table folder on disk)', () => {
  it('a commit killed before the catalog answered: its manifests and list go, the retry stays, nothing referenced is touched', async () => {
    const t = newTable();
    const run = 'sync-1/Account@0e4f8c3a-1b2d-4c5e-8f90-a1b2c3d4e5f6';
    await ensureInitialSnapshot(await t.open(), run, SYNC_RUN_KEYS);
    const files = await extract(t.location, run, ids(0, 120));
    t.catalog.beforeApply = () => {
      throw new Killed('killed while the commit was in flight');
    };
    await expect(commit(await t.open(), run, files, merge(ids(0, 120)))).rejects.toBeInstanceOf(Killed);
    // What the killed attempt left: its data manifest and manifest list.
    const before = await audit(t);
    const paths = runPaths(t.location, run);
    expect(before.unreferenced.filter((f) => f.startsWith(paths.prefixes.metadata))).toHaveLength(2);

    // Another worker retries the commit (a new attempt, a new snapshot id), then cleans up.
    expect(await commit(await t.open(), run, files, merge(ids(0, 120)))).toMatchObject({ alreadyCommitted: false });
    const removed = await t.cleanup(run);
    const after = await audit(t);
    expect(after).toEqual({ files: after.files, unreferenced: [], missing: [] });
    // The killed attempt's two metadata files and the staging manifest with its keys.
    expect(removed).toBe(4);
    expect(await rows(t)).toEqual(ids(0, 120).map((id) => `${id}=v1 ${id}`));
    // The first, empty snapshot's list is no longer in the metadata (only the current snapshot
    // is), but the catalog accepted it: it stays.
    expect((await t.open()).snapshots()).toHaveLength(1);
    expect(await listAll(t.location)).toContain(t.catalog.history[1]!.snapshots![0]!['manifest-list']);
    // Idempotent: a second cleanup (say on another worker) finds nothing more.
    expect(await t.cleanup(run)).toBe(0);
  });

  it('a commit killed after the catalog accepted it: the retry finds it, cleanup removes only staging', async () => {
    const t = newTable();
    const run = 'sync-2/Contact@1';
    await ensureInitialSnapshot(await t.open(), run, SYNC_RUN_KEYS);
    const files = await extract(t.location, run, ids(0, 80));
    t.catalog.fail = { error: new Killed('the worker died before the answer reached it'), applied: true };
    await expect(commit(await t.open(), run, files, { kind: 'overwrite' })).rejects.toBeInstanceOf(Killed);
    expect(await commit(await t.open(), run, files, { kind: 'overwrite' })).toMatchObject({ alreadyCommitted: true });
    expect(await t.cleanup(run)).toBe(2);
    expect(await audit(t)).toMatchObject({ unreferenced: [], missing: [] });
    expect(await rows(t)).toHaveLength(80);
  });

  it('merges with position deletes, killed before the catalog answered: delete files and delete manifests of the lost attempt go', async () => {
    const t = newTable();
    const first = 'sync-3/Account@1';
    await ensureInitialSnapshot(await t.open(), first, SYNC_RUN_KEYS);
    await commit(await t.open(), first, await extract(t.location, first, ids(0, 200)), merge(ids(0, 200)));
    await t.cleanup(first);

    // Rows 10-19 change, 190-199 are deleted in Salesforce, 200-209 are new.
    const second = 'sync-4/Account@1';
    const changed = [...ids(10, 20), ...ids(200, 210)];
    const files = await extract(t.location, second, changed, 'v2');
    t.catalog.beforeApply = () => {
      throw new Killed('killed while the commit was in flight');
    };
    await expect(commit(await t.open(), second, files, merge(changed, ids(190, 200)))).rejects.toBeInstanceOf(Killed);
    const paths = runPaths(t.location, second);
    const lost = (await audit(t)).unreferenced;
    expect(lost.filter((f) => paths.classify(f)?.kind === 'deletes')).toHaveLength(1);
    expect(lost.filter((f) => paths.classify(f)?.kind === 'manifest')).toHaveLength(2); // data and deletes
    expect(lost.filter((f) => paths.classify(f)?.kind === 'manifest-list')).toHaveLength(1);

    await commit(await t.open(), second, files, merge(changed, ids(190, 200)));
    await t.cleanup(second);
    expect(await audit(t)).toMatchObject({ unreferenced: [], missing: [] });
    const table = await t.open();
    expect((await table.liveEntries()).deletes).toHaveLength(1);
    const expected = [...ids(0, 190), ...ids(200, 210)].map((id) => `${id}=${changed.includes(id) ? 'v2' : 'v1'} ${id}`).sort();
    expect(await rows(t)).toEqual(expected);
  });

  it("a run whose snapshot a later commit replaced keeps its snapshot's files (the history references them); its stray files go", async () => {
    const t = newTable();
    const b = 'sync-5/Account@1';
    await ensureInitialSnapshot(await t.open(), b, SYNC_RUN_KEYS);
    const files = await extract(t.location, b, ids(0, 60));
    // A data file of an extraction attempt that was written again, listed nowhere.
    const stray = (await extract(t.location, b, ids(0, 10), 'stray'))[0]!.filePath;
    t.catalog.beforeApply = () => {
      throw new Killed('killed while the commit was in flight');
    };
    await expect(commit(await t.open(), b, files, { kind: 'append' })).rejects.toBeInstanceOf(Killed);
    await commit(await t.open(), b, files, { kind: 'append' });
    // Before b cleans up, another sync replaces the table: the catalog no longer shows b's snapshot.
    const c = 'sync-6/Account@1';
    await commit(await t.open(), c, await extract(t.location, c, ids(0, 5)), { kind: 'overwrite' });
    await t.cleanup(b);
    const after = await audit(t);
    expect(after.missing).toEqual([]);
    expect(await listAll(t.location)).not.toContain(stray);
    const left = after.unreferenced;
    // Only b's metadata files of its lost attempt stay, kept because the catalog does not say
    // which of b's lists it accepted; c's staging manifest waits for c's cleanup.
    const bPaths = runPaths(t.location, b);
    expect(left.filter((f) => bPaths.classify(f)?.kind === 'data' || bPaths.classify(f)?.kind === 'staging')).toEqual([]);
    expect(left.filter((f) => bPaths.classify(f)).every((f) => bPaths.prefixes.metadata && f.startsWith(bPaths.prefixes.metadata))).toBe(true);
    await t.cleanup(c);
    expect(await rows(t)).toHaveLength(5);
  });

  it("never touches another run's files or another engine's, even unreferenced ones", async () => {
    const t = newTable();
    const run = 'sync-7/Account@1';
    await ensureInitialSnapshot(await t.open(), run, SYNC_RUN_KEYS);
    await commit(await t.open(), run, await extract(t.location, run, ids(0, 30)), merge(ids(0, 30)));
    // Another run still extracting (its files are not referenced yet; its id differs from this
    // one's only in a character a plain sanitiser would turn into the same `_`), and another engine's files.
    const other = await extract(t.location, 'sync-7/Account_1', ids(0, 30));
    const engine = [
      `${t.location}/data/00000-0-${crypto.randomUUID()}.parquet`,
      `${t.location}/metadata/${crypto.randomUUID()}-m0.avro`,
      `${t.location}/metadata/snap-1-1-${crypto.randomUUID()}.avro`,
    ];
    for (const f of engine) await store.put(f, new Uint8Array([1]));
    await t.cleanup(run);
    const all = await listAll(t.location);
    for (const f of [...other.map((x) => x.filePath), runPaths(t.location, 'sync-7/Account_1').staging(), ...engine]) expect(all).toContain(f);
  });

  it('with a catalog that keeps every snapshot, the same: all history stays, nothing unreferenced', async () => {
    const t = newTable({ keepOnlyCurrent: false });
    const run = 'sync-8/Account@1';
    await ensureInitialSnapshot(await t.open(), run, SYNC_RUN_KEYS);
    const files = await extract(t.location, run, ids(0, 40));
    t.catalog.beforeApply = () => {
      throw new Killed('killed');
    };
    await expect(commit(await t.open(), run, files, merge(ids(0, 40)))).rejects.toBeInstanceOf(Killed);
    await commit(await t.open(), run, files, merge(ids(0, 40)));
    await t.cleanup(run);
    expect((await t.open()).snapshots()).toHaveLength(2);
    expect(await audit(t)).toMatchObject({ unreferenced: [], missing: [] });
  });
});

describe('planRunCleanup (the decision alone)', () => {
  const location = 's3://w/t';
  const p = runPaths(location, 'r@1');
  const S = 11n; // the run's committed snapshot
  const T = 22n; // a commit attempt that never landed
  const P = 33n; // the run's first, empty snapshot (the parent of S)
  const files = {
    data: `${p.dataFolder}/${p.segment}-00000-a.parquet`,
    strayData: `${p.dataFolder}/${p.segment}-00001-b.parquet`,
    deletes: p.deleteFile(S, 1),
    lostDeletes: p.deleteFile(T, 1),
    manifest: p.manifest(S, 0),
    lostManifest: p.manifest(T, 0),
    list: p.manifestList(S, 1),
    lostList: p.manifestList(T, 1),
    firstList: p.manifestList(P, 0),
    staging: p.staging(),
    notOurs: `${location}/data/00000-0-c.parquet`,
  };
  const written = Object.values(files);

  it('run committed and shown: keeps what the metadata references and the accepted parent; removes lost attempts and staging', () => {
    const referenced = new Set([files.data, files.deletes, files.manifest, files.list]);
    const plan = planRunCleanup(p, written, { referenced, acceptedElsewhere: new Set([P]), committed: { snapshotId: S, inMetadata: true } });
    expect(plan.remove.sort()).toEqual([files.strayData, files.lostDeletes, files.lostManifest, files.lostList, files.staging].sort());
    // Idempotent: planning again over what is left removes nothing.
    expect(planRunCleanup(p, plan.keep, { referenced, acceptedElsewhere: new Set([P]), committed: { snapshotId: S, inMetadata: true } }).remove).toEqual([]);
  });

  it('run committed but replaced since: keeps all its metadata and the files it lists; removes the rest', () => {
    const plan = planRunCleanup(p, written, {
      referenced: new Set(),
      acceptedElsewhere: new Set(),
      committed: { snapshotId: S, inMetadata: false },
      listedByKept: new Set([files.data, files.deletes]),
    });
    expect(plan.remove.sort()).toEqual([files.strayData, files.lostDeletes, files.staging].sort());
  });

  it('run never committed: everything of it goes, and nothing else', () => {
    const plan = planRunCleanup(p, written, { referenced: new Set(), acceptedElsewhere: new Set() });
    expect(plan.keep).toEqual([files.notOurs]);
  });
});

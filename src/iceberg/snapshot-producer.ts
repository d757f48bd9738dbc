import crypto from 'node:crypto';
import { writePositionDeletes } from '../parquet/writer';
import { CommitConflictError, CommitStateUnknownError } from './errors';
import { encodeManifest, encodeManifestList, summarizeManifest } from './manifest';
import { deletedPositions, isDeleted, readParquetFile } from './reader';
import {
  EntryStatus,
  ManifestContent,
  type DataFile,
  type ManifestEntry,
  type ManifestFile,
  type Snapshot,
  type SnapshotOperation,
} from './spec';
import { compareCodePoints, decodeBound } from './spec/bounds';
import { runPaths } from './run-paths';
import type { IcebergTable } from './table';

/** The summary key that makes commits idempotent: one snapshot per sync run and table. */
export const SYNC_RUN_ID_PROPERTY = 'salesforce.sync-run-id';

export type WriteMode =
  /** Add the files; nothing else changes. */
  | { kind: 'append' }
  /** The files become the whole table. */
  | { kind: 'overwrite' }
  /**
   * Upsert by key: rows of the table whose key appears in the new files, or in `deleteKeys`, are
   * removed with position deletes; the new files are added.
   */
  | { kind: 'merge'; keyColumn: string; keys: string[] | (() => Promise<string[]>); deleteKeys: string[] };

export interface CommitRequest {
  table: IcebergTable;
  runId: string;
  files: DataFile[];
  mode: WriteMode;
  /** Extra summary properties (e.g. the incremental cursor): they commit atomically with the data. */
  properties?: Record<string, string>;
  maxAttempts?: number;
  /** Called before each retry, for logs and heartbeats. */
  onRetry?: (attempt: number, reason: string) => void;
  /** Called when an attempt's snapshot is built, just before it is sent (progress, tests). */
  beforeCommit?: (attempt: number) => Promise<void>;
}

export interface CommitResult {
  snapshotId: bigint;
  sequenceNumber: bigint;
  /** True when a snapshot of this run was already there (a retried commit). */
  alreadyCommitted: boolean;
  attempts: number;
  summary: Record<string, string>;
}

/**
 * Gives a table with no snapshot an empty one. Data commits then always assert a real parent
 * snapshot id: some catalogs (Nessie 0.99) do not enforce `assert-ref-snapshot-id` with a null id
 * (and reject -1 even on an empty table), so a first commit could silently replace a concurrent
 * writer's. Only the creator of a table calls this right after creating it; an empty snapshot
 * that loses such a race replaces only another empty one. Its manifest list is named after the run
 * (`runId`), like everything else the run writes, so the run's cleanup finds it if this commit
 * never landed.
 */
export async function ensureInitialSnapshot(table: IcebergTable, runId: string): Promise<void> {
  if (table.currentSnapshot()) return;
  const snapshotId = newSnapshotId();
  const sequenceNumber = BigInt(table.metadata['last-sequence-number'] ?? 0n) + 1n;
  const manifestList = runPaths(table.location, runId).manifestList(snapshotId, 0);
  await table.store.put(manifestList, encodeManifestList({ snapshotId, parentSnapshotId: null, sequenceNumber, manifests: [] }), 'avro/binary');
  const snapshot: Snapshot = {
    'snapshot-id': snapshotId,
    'sequence-number': sequenceNumber,
    'timestamp-ms': Date.now(),
    'manifest-list': manifestList,
    summary: { operation: 'append', 'added-data-files': '0', 'added-records': '0', 'total-data-files': '0', 'total-records': '0', 'total-delete-files': '0', 'total-position-deletes': '0', 'total-equality-deletes': '0', 'total-files-size': '0', 'salesforce.initial-snapshot': 'true' },
    'schema-id': table.schema()['schema-id'],
  };
  try {
    const result = await table.catalog.commitTable(
      table.namespace,
      table.name,
      [
        { type: 'assert-table-uuid', uuid: table.metadata['table-uuid'] },
        { type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': null },
      ],
      [
        { action: 'add-snapshot', snapshot },
        { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': snapshotId },
      ],
    );
    table.loaded = { ...table.loaded, metadata: result.metadata, 'metadata-location': result['metadata-location'] };
  } catch (error) {
    // Someone else gave it its first snapshot: that is all this wanted, and this list is garbage.
    if (!(error instanceof CommitConflictError)) throw error;
    await table.store.delete([manifestList]);
    await table.refresh();
  }
}

/** A random positive 63-bit snapshot id, as Iceberg writers use. */
export function newSnapshotId(): bigint {
  return crypto.randomBytes(8).readBigUInt64BE() & 0x7fffffffffffffffn;
}

/**
 * Table property listing the latest runs committed to the table, newest first, updated in the same
 * commit as their snapshot. Snapshot summaries alone are not enough: some catalogs (Nessie) keep
 * only the current snapshot in table metadata, so a run whose commit landed and was followed by
 * another writer's would otherwise look uncommitted and be committed twice.
 */
export const SYNC_RUNS_PROPERTY = 'salesforce.sync-runs';
const SYNC_RUNS_KEPT = 20;

interface RecordedRun {
  run: string;
  snapshot: string;
  sequence: string;
}

function recordedRuns(table: IcebergTable): RecordedRun[] {
  try {
    const parsed = JSON.parse(table.metadata.properties?.[SYNC_RUNS_PROPERTY] ?? '[]') as RecordedRun[];
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

/**
 * The snapshot a run committed to the table, found by its run id in the snapshots' summaries or in
 * the runs the table records (`SYNC_RUNS_PROPERTY`); with `snapshotId`, also a snapshot of that id
 * (the one this commit attempt is building).
 */
export function findCommittedRun(table: IcebergTable, runId: string, snapshotId?: bigint): { snapshotId: bigint; sequenceNumber: bigint; summary: Record<string, string> } | undefined {
  const snapshot = table.snapshots().find((s) => s.summary?.[SYNC_RUN_ID_PROPERTY] === runId || BigInt(s['snapshot-id']) === snapshotId);
  if (snapshot) return { snapshotId: BigInt(snapshot['snapshot-id']), sequenceNumber: BigInt(snapshot['sequence-number']), summary: snapshot.summary };
  const recorded = recordedRuns(table).find((r) => r.run === runId || r.snapshot === snapshotId?.toString());
  if (recorded) return { snapshotId: BigInt(recorded.snapshot), sequenceNumber: BigInt(recorded.sequence), summary: { [SYNC_RUN_ID_PROPERTY]: recorded.run } };
  return undefined;
}

const sum = (values: bigint[]) => values.reduce((a, b) => a + b, 0n);

/**
 * Commits one snapshot for a batch of written files. Idempotent by run id; a 409 rebuilds the
 * manifest list (and, for merges, the delete file) on the new parent without rewriting data
 * files; a 5xx/timeout is "state unknown": reload and look for the snapshot before retrying.
 */
export async function commitFiles(req: CommitRequest): Promise<CommitResult> {
  const { table } = req;
  const maxAttempts = req.maxAttempts ?? 8;
  const snapshotId = newSnapshotId();
  // Every file below is named after the run, so the run's cleanup finds the ones no snapshot uses.
  const paths = runPaths(table.location, req.runId);
  let dataManifest: ManifestFile | undefined;

  for (let attempt = 1; ; attempt++) {
    await table.refresh();
    const existing = findCommittedRun(table, req.runId, snapshotId);
    if (existing) return { ...existing, alreadyCommitted: attempt === 1, attempts: attempt };

    const parent = table.currentSnapshot();
    if (!parent) {
      await ensureInitialSnapshot(table, req.runId);
      attempt--; // not a failed attempt
      continue;
    }
    const sequenceNumber = BigInt(table.metadata['last-sequence-number'] ?? 0n) + 1n;
    const schema = table.schema();

    // The new files' manifest does not depend on the parent (sequence numbers are inherited), so
    // it is written once and reused by every attempt.
    if (!dataManifest && req.files.length > 0) dataManifest = await writeAddedManifest(table, paths.manifest(snapshotId, ManifestContent.Data), snapshotId, ManifestContent.Data, req.files);

    const parentManifests = req.mode.kind === 'overwrite' ? [] : await table.manifests(parent);
    const manifests: ManifestFile[] = [];
    if (dataManifest) manifests.push({ ...dataManifest, sequenceNumber, minSequenceNumber: sequenceNumber });

    let deletedRows = 0n;
    let deleteFile: DataFile | undefined;
    let deleteManifest: ManifestFile | undefined;
    if (req.mode.kind === 'merge') {
      deleteFile = await positionDeletesFor(table, parentManifests, req.mode, paths.deleteFile(snapshotId, attempt));
      if (deleteFile) {
        deletedRows = deleteFile.recordCount;
        deleteManifest = { ...(await writeAddedManifest(table, paths.manifest(snapshotId, ManifestContent.Deletes), snapshotId, ManifestContent.Deletes, [deleteFile])), sequenceNumber, minSequenceNumber: sequenceNumber };
        manifests.push(deleteManifest);
      }
    }
    manifests.push(...parentManifests);

    const listBytes = encodeManifestList({ snapshotId, parentSnapshotId: BigInt(parent['snapshot-id']), sequenceNumber, manifests });
    const manifestList = paths.manifestList(snapshotId, attempt);
    await table.store.put(manifestList, listBytes, 'avro/binary');

    const summary = snapshotSummary({ req, parent, manifests, deletedRows, deleteFile });
    const operation: SnapshotOperation = req.mode.kind === 'append' ? 'append' : 'overwrite';
    const snapshot: Snapshot = {
      'snapshot-id': snapshotId,
      'parent-snapshot-id': BigInt(parent['snapshot-id']),
      'sequence-number': sequenceNumber,
      'timestamp-ms': Date.now(),
      'manifest-list': manifestList,
      summary: { operation, ...summary },
      'schema-id': schema['schema-id'],
    };

    await req.beforeCommit?.(attempt);
    try {
      const result = await table.catalog.commitTable(
        table.namespace,
        table.name,
        [
          { type: 'assert-table-uuid', uuid: table.metadata['table-uuid'] },
          { type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': BigInt(parent['snapshot-id']) },
        ],
        [
          { action: 'add-snapshot', snapshot },
          { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': snapshotId },
          {
            action: 'set-properties',
            updates: {
              [SYNC_RUNS_PROPERTY]: JSON.stringify(
                [{ run: req.runId, snapshot: snapshotId.toString(), sequence: sequenceNumber.toString() }, ...recordedRuns(table)].slice(0, SYNC_RUNS_KEPT),
              ),
            },
          },
        ],
      );
      table.loaded = { ...table.loaded, metadata: result.metadata, 'metadata-location': result['metadata-location'] };
      return { snapshotId, sequenceNumber, alreadyCommitted: false, attempts: attempt, summary: snapshot.summary };
    } catch (error) {
      const retryable = error instanceof CommitConflictError || error instanceof CommitStateUnknownError;
      // The manifest list (and delete file) of this attempt is now garbage unless it landed;
      // a state-unknown commit is checked on the next pass before anything is rebuilt.
      if (error instanceof CommitConflictError) {
        await table.store.delete([manifestList, deleteFile?.filePath, deleteManifest?.manifestPath].filter((p): p is string => p !== undefined));
      }
      if (!retryable || attempt >= maxAttempts) throw error;
      req.onRetry?.(attempt, (error as Error).message);
      await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random())));
    }
  }
}

/**
 * Writes a manifest of files this snapshot adds. Its sequence numbers are left to the manifest
 * list entry (they depend on the parent, so each attempt sets them).
 */
async function writeAddedManifest(table: IcebergTable, path: string, snapshotId: bigint, content: ManifestContent, files: DataFile[]): Promise<ManifestFile> {
  const spec = table.metadata['partition-specs'].find((s) => s['spec-id'] === table.metadata['default-spec-id']) ?? { 'spec-id': 0, fields: [] };
  const entries: ManifestEntry[] = files.map((dataFile) => ({ status: EntryStatus.Added, snapshotId, sequenceNumber: null, fileSequenceNumber: null, dataFile }));
  const bytes = encodeManifest({ schema: table.schema(), spec, content, entries });
  await table.store.put(path, bytes, 'avro/binary');
  return {
    manifestPath: path,
    manifestLength: BigInt(bytes.length),
    partitionSpecId: spec['spec-id'],
    content,
    sequenceNumber: 0n,
    minSequenceNumber: 0n,
    addedSnapshotId: snapshotId,
    ...summarizeManifest(entries),
  };
}

function snapshotSummary(opts: {
  req: CommitRequest;
  parent: Snapshot | undefined;
  manifests: ManifestFile[];
  deletedRows: bigint;
  deleteFile: DataFile | undefined;
}): Record<string, string> {
  const { req, parent, manifests } = opts;
  const data = manifests.filter((m) => m.content === ManifestContent.Data);
  const deletes = manifests.filter((m) => m.content === ManifestContent.Deletes);
  const addedRecords = sum(req.files.map((f) => f.recordCount));
  const addedSize = sum(req.files.map((f) => f.fileSizeInBytes));
  const out: Record<string, string> = {
    'added-data-files': String(req.files.length),
    'added-records': String(addedRecords),
    'added-files-size': String(addedSize + (opts.deleteFile?.fileSizeInBytes ?? 0n)),
    'total-data-files': String(sum(data.map((m) => BigInt(m.addedFilesCount + m.existingFilesCount)))),
    'total-records': String(sum(data.map((m) => m.addedRowsCount + m.existingRowsCount))),
    'total-delete-files': String(sum(deletes.map((m) => BigInt(m.addedFilesCount + m.existingFilesCount)))),
    'total-position-deletes': String(sum(deletes.map((m) => m.addedRowsCount + m.existingRowsCount))),
    'total-equality-deletes': '0',
  };
  if (opts.deleteFile) {
    out['added-delete-files'] = '1';
    out['added-position-delete-files'] = '1';
    out['added-position-deletes'] = String(opts.deletedRows);
  }
  if (req.mode.kind === 'overwrite' && parent?.summary) {
    out['deleted-data-files'] = parent.summary['total-data-files'] ?? '0';
    out['deleted-records'] = parent.summary['total-records'] ?? '0';
    out['removed-files-size'] = parent.summary['total-files-size'] ?? '0';
  }
  // total-files-size: data + delete bytes of the new state (the parent's when carried over).
  const parentSize = req.mode.kind === 'overwrite' ? 0n : BigInt(parent?.summary?.['total-files-size'] ?? '0');
  out['total-files-size'] = String(parentSize + addedSize + (opts.deleteFile?.fileSizeInBytes ?? 0n));
  return { ...out, ...req.properties, [SYNC_RUN_ID_PROPERTY]: req.runId };
}

/**
 * Positions of the parent's live rows whose key is being replaced or deleted, as one position
 * delete file (sorted by file, then position). Files whose key bounds cannot contain any of the
 * keys are skipped without being read.
 */
async function positionDeletesFor(
  table: IcebergTable,
  parentManifests: ManifestFile[],
  mode: Extract<WriteMode, { kind: 'merge' }>,
  path: string,
): Promise<DataFile | undefined> {
  const keyField = table.schema().fields.find((f) => f.name === mode.keyColumn);
  if (!keyField) throw new Error(`${table.identifier} has no key column ${mode.keyColumn}`);
  const { data, deletes } = await table.liveEntriesOf(parentManifests);
  // Nothing to replace in a table without rows: the keys (a million for a first load) stay unread.
  if (data.length === 0) return undefined;
  const keys = [...new Set([...(typeof mode.keys === 'function' ? await mode.keys() : mode.keys), ...mode.deleteKeys])].sort(compareCodePoints);
  if (keys.length === 0) return undefined;
  const keySet = new Set(keys);
  const already = await deletedPositions(table.store, deletes);
  const out: { filePath: string; pos: bigint }[] = [];
  for (const entry of [...data].sort((a, b) => (a.dataFile.filePath < b.dataFile.filePath ? -1 : 1))) {
    const lower = entry.dataFile.lowerBounds?.get(keyField.id);
    const upper = entry.dataFile.upperBounds?.get(keyField.id);
    if (lower && upper && !anyInRange(keys, decodeBound('string', lower) as string, decodeBound('string', upper) as string)) continue;
    const t = await readParquetFile(table.store, entry.dataFile.filePath, [mode.keyColumn]);
    const column = t.getChild(mode.keyColumn)!;
    for (let i = 0; i < t.numRows; i++) {
      if (keySet.has(column.get(i) as string) && !isDeleted(already, entry, i)) out.push({ filePath: entry.dataFile.filePath, pos: BigInt(i) });
    }
  }
  if (out.length === 0) return undefined;
  return writePositionDeletes({ store: table.store, path, deletes: out });
}

/** Binary search: is any sorted key within [lower, upper]? */
function anyInRange(sorted: string[], lower: string, upper: string): boolean {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareCodePoints(sorted[mid]!, lower) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && compareCodePoints(sorted[lo]!, upper) <= 0;
}

import { ERROR_CODES, SyncError } from '../errors';
import { CommitConflictError, CommitStateUnknownError } from '../iceberg/errors';
import { encodeManifest, encodeManifestList, summarizeManifest } from '../iceberg/manifest';
import { runPaths } from '../iceberg/run-paths';
import { EntryStatus, ManifestContent, type DataFile, type ManifestEntry, type ManifestFile, type Snapshot } from '../iceberg/spec';
import type { IcebergTable } from '../iceberg/table';
import { readDeletes } from './rewrite';

/** The summary key naming the maintenance run that made a snapshot (which workflow run compacted the table). */
export const MAINTENANCE_RUN_PROPERTY = 'salesforce.maintenance-run-id';

/**
 * The table moved under a rewrite in a way it cannot be rebuilt on: a file it removes is gone, or
 * a newer delete file applies to a file it rewrote (committing would bring those rows back). The
 * rewrite is planned again from the new snapshot.
 */
export class RewriteConflictError extends SyncError {
  constructor(message: string) {
    super(message, { code: ERROR_CODES.COMMIT_CONFLICT, retryable: true });
  }
}

export interface RewriteRequest {
  table: IcebergTable;
  runId: string;
  snapshotId: bigint;
  /** Data files the rewrite removes (their live rows are in `added`). */
  removeData: ReadonlySet<string>;
  /** Delete files the rewrite removes (applied to the rewritten files). */
  removeDeletes: ReadonlySet<string>;
  /** Delete files that were live when the rewrite was planned: any other is newer, and checked. */
  plannedDeletes: ReadonlySet<string>;
  added: DataFile[];
  maxAttempts?: number;
  /** Called when an attempt's snapshot is built, just before it is sent (tests hold the commit here). */
  beforeCommit?: (attempt: number) => Promise<void>;
}

export interface RewriteResult {
  snapshotId: bigint;
  attempts: number;
  alreadyCommitted: boolean;
  manifestsBefore: number;
  manifestsAfter: number;
}

const sum = (values: bigint[]) => values.reduce((a, b) => a + b, 0n);

/**
 * Commits a `replace` snapshot: the rewritten data files and applied delete files leave, the new
 * files come, and every other live file of the parent is carried into one data manifest and one
 * delete manifest (so the commit also rewrites the parent's many small manifests). The commit
 * asserts the parent it was built on; when another writer committed first, the rewrite is checked
 * against the new parent and rebuilt on it (a sync's added files stay), or refused with
 * RewriteConflictError when it would lose or bring back rows.
 */
export async function commitRewrite(req: RewriteRequest): Promise<RewriteResult> {
  const { table } = req;
  const paths = runPaths(table.location, req.runId);
  const maxAttempts = req.maxAttempts ?? 8;
  for (let attempt = 1; ; attempt++) {
    await table.refresh();
    // This rewrite's own snapshot (an attempt whose answer was lost). Not any snapshot of the run:
    // a retried activity plans anew from the table as it is, and its rewrite is another snapshot.
    const mine = table.snapshots().find((s) => BigInt(s['snapshot-id']) === req.snapshotId);
    if (mine) {
      const after = (await table.manifests(mine)).length;
      return { snapshotId: BigInt(mine['snapshot-id']), attempts: attempt, alreadyCommitted: true, manifestsBefore: after, manifestsAfter: after };
    }
    const parent = table.currentSnapshot();
    if (!parent) throw new RewriteConflictError(`${table.identifier} has no snapshot any more`);
    const parentManifests = await table.manifests(parent);
    const { data, deletes } = await table.liveEntriesOf(parentManifests);
    await validate(req, data, deletes);

    const sequenceNumber = BigInt(table.metadata['last-sequence-number'] ?? 0n) + 1n;
    const kept = (e: ManifestEntry): ManifestEntry => ({ ...e, status: EntryStatus.Existing });
    const gone = (e: ManifestEntry): ManifestEntry => ({ ...e, status: EntryStatus.Deleted, snapshotId: req.snapshotId });
    const added: ManifestEntry[] = req.added.map((dataFile) => ({
      status: EntryStatus.Added,
      snapshotId: req.snapshotId,
      sequenceNumber: null,
      fileSequenceNumber: null,
      dataFile,
    }));
    const dataEntries = [...added, ...data.map((e) => (req.removeData.has(e.dataFile.filePath) ? gone(e) : kept(e)))];
    const deleteEntries = deletes.map((e) => (req.removeDeletes.has(e.dataFile.filePath) ? gone(e) : kept(e)));
    const written: string[] = [];
    const manifests: ManifestFile[] = [];
    for (const [content, entries] of [
      [ManifestContent.Data, dataEntries],
      [ManifestContent.Deletes, deleteEntries],
    ] as const) {
      if (entries.length === 0) continue;
      const m = await writeManifest(table, paths.manifest(req.snapshotId, content), content, entries, req.snapshotId, sequenceNumber);
      written.push(m.manifestPath);
      manifests.push(m);
    }
    const manifestList = paths.manifestList(req.snapshotId, attempt);
    const parentId = BigInt(parent['snapshot-id']);
    await table.store.put(manifestList, encodeManifestList({ snapshotId: req.snapshotId, parentSnapshotId: parentId, sequenceNumber, manifests }), 'avro/binary');
    written.push(manifestList);
    const snapshot: Snapshot = {
      'snapshot-id': req.snapshotId,
      'parent-snapshot-id': parentId,
      'sequence-number': sequenceNumber,
      'timestamp-ms': Date.now(),
      'manifest-list': manifestList,
      summary: summary(req, dataEntries, deleteEntries),
      'schema-id': table.schema()['schema-id'],
    };
    await req.beforeCommit?.(attempt);
    try {
      await table.commitToMain(snapshot, parentId);
      return { snapshotId: req.snapshotId, attempts: attempt, alreadyCommitted: false, manifestsBefore: parentManifests.length, manifestsAfter: manifests.length };
    } catch (error) {
      const retryable = error instanceof CommitConflictError || error instanceof CommitStateUnknownError;
      if (error instanceof CommitConflictError) await table.store.delete(written);
      if (!retryable || attempt >= maxAttempts) throw error;
      await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random())));
    }
  }
}

/** Whether the rewrite still holds on a (possibly newer) parent; throws RewriteConflictError when not. */
async function validate(req: RewriteRequest, data: ManifestEntry[], deletes: ManifestEntry[]): Promise<void> {
  const liveData = new Set(data.map((e) => e.dataFile.filePath));
  const missing = [...req.removeData].filter((p) => !liveData.has(p));
  if (missing.length > 0) throw new RewriteConflictError(`${missing.length} of the files being rewritten were removed by another commit (first: ${missing[0]})`);
  const liveDeletes = new Set(deletes.map((e) => e.dataFile.filePath));
  const gone = [...req.removeDeletes].filter((p) => !liveDeletes.has(p));
  if (gone.length > 0) throw new RewriteConflictError(`${gone.length} of the delete files being applied were removed by another commit`);
  // Delete files committed since the plan: any that names a rewritten file would be lost with it.
  const newer = deletes.filter((e) => !req.plannedDeletes.has(e.dataFile.filePath));
  if (newer.length === 0) return;
  const { targets } = await readDeletes(req.table.store, newer);
  for (const [deleteFile, files] of targets) {
    const hit = [...files].find((p) => req.removeData.has(p));
    if (hit) throw new RewriteConflictError(`a newer commit deleted rows of ${hit}, a file being rewritten (delete file ${deleteFile})`);
  }
}

async function writeManifest(
  table: IcebergTable,
  path: string,
  content: ManifestContent,
  entries: ManifestEntry[],
  snapshotId: bigint,
  sequenceNumber: bigint,
): Promise<ManifestFile> {
  const { metadata } = table;
  const spec = metadata['partition-specs'].find((s) => s['spec-id'] === metadata['default-spec-id']) ?? { 'spec-id': 0, fields: [] };
  const bytes = encodeManifest({ schema: table.schema(), spec, content, entries });
  await table.store.put(path, bytes, 'avro/binary');
  const sequences = entries.map((e) => (e.status === EntryStatus.Added ? sequenceNumber : (e.sequenceNumber ?? 0n)));
  return {
    manifestPath: path,
    manifestLength: BigInt(bytes.length),
    partitionSpecId: spec['spec-id'],
    content,
    sequenceNumber,
    minSequenceNumber: sequences.reduce((a, b) => (b < a ? b : a), sequenceNumber),
    addedSnapshotId: snapshotId,
    ...summarizeManifest(entries),
  };
}

function summary(req: RewriteRequest, dataEntries: ManifestEntry[], deleteEntries: ManifestEntry[]): Snapshot['summary'] {
  const live = (list: ManifestEntry[]) => list.filter((e) => e.status !== EntryStatus.Deleted);
  const removed = (list: ManifestEntry[]) => list.filter((e) => e.status === EntryStatus.Deleted);
  const size = (list: ManifestEntry[]) => String(sum(list.map((e) => e.dataFile.fileSizeInBytes)));
  const records = (list: ManifestEntry[]) => String(sum(list.map((e) => e.dataFile.recordCount)));
  const added = dataEntries.filter((e) => e.status === EntryStatus.Added);
  return {
    operation: 'replace',
    'added-data-files': String(added.length),
    'added-records': records(added),
    'added-files-size': size(added),
    'deleted-data-files': String(removed(dataEntries).length),
    'deleted-records': records(removed(dataEntries)),
    'removed-delete-files': String(removed(deleteEntries).length),
    'removed-position-delete-files': String(removed(deleteEntries).length),
    'removed-position-deletes': records(removed(deleteEntries)),
    'removed-files-size': String(sum([...removed(dataEntries), ...removed(deleteEntries)].map((e) => e.dataFile.fileSizeInBytes))),
    'total-data-files': String(live(dataEntries).length),
    'total-records': records(live(dataEntries)),
    'total-delete-files': String(live(deleteEntries).length),
    'total-position-deletes': records(live(deleteEntries)),
    'total-equality-deletes': '0',
    'total-files-size': String(sum([...live(dataEntries), ...live(deleteEntries)].map((e) => e.dataFile.fileSizeInBytes))),
    [MAINTENANCE_RUN_PROPERTY]: req.runId,
  };
}

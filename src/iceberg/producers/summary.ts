import { ManifestContent, type DataFile, type ManifestFile, type Snapshot, type SnapshotOperation } from '../spec';

/** What a snapshot changes of its parent, as its summary tells. */
export interface SnapshotChanges {
  addedData: DataFile[];
  addedDeletes: DataFile[];
  /** What the snapshot removes of its parent, when it removes anything. */
  removed?: {
    dataFiles: bigint;
    records: bigint;
    /** Bytes of the removed data and delete files. */
    filesSize: bigint;
    /** Delete files removed and the positions they deleted (a rewrite that applied them). */
    deletes?: { files: bigint; positions: bigint };
  };
  /** Bytes of the parent's data and delete files the snapshot keeps. */
  keptFilesSize: bigint;
}

const sum = (values: bigint[]) => values.reduce((a, b) => a + b, 0n);
const size = (files: DataFile[]) => sum(files.map((f) => f.fileSizeInBytes));
const records = (files: DataFile[]) => sum(files.map((f) => f.recordCount));

/**
 * The one summary builder: what the snapshot added and removed, and the new state's totals (counts
 * from the snapshot's manifests, bytes from what the parent kept plus what was added), then the
 * writer's `properties`.
 */
export function snapshotSummary(operation: SnapshotOperation, manifests: ManifestFile[], changes: SnapshotChanges, properties: Record<string, string>): Snapshot['summary'] {
  const live = (content: ManifestContent) => manifests.filter((m) => m.content === content);
  const files = (list: ManifestFile[]) => String(sum(list.map((m) => BigInt(m.addedFilesCount + m.existingFilesCount))));
  const rows = (list: ManifestFile[]) => String(sum(list.map((m) => m.addedRowsCount + m.existingRowsCount)));
  const { addedData, addedDeletes, removed } = changes;
  const addedSize = size(addedData) + size(addedDeletes);
  return {
    operation,
    'added-data-files': String(addedData.length),
    'added-records': String(records(addedData)),
    'added-files-size': String(addedSize),
    ...(addedDeletes.length > 0
      ? {
          'added-delete-files': String(addedDeletes.length),
          'added-position-delete-files': String(addedDeletes.length),
          'added-position-deletes': String(records(addedDeletes)),
        }
      : {}),
    ...(removed
      ? {
          'deleted-data-files': String(removed.dataFiles),
          'deleted-records': String(removed.records),
          ...(removed.deletes
            ? {
                'removed-delete-files': String(removed.deletes.files),
                'removed-position-delete-files': String(removed.deletes.files),
                'removed-position-deletes': String(removed.deletes.positions),
              }
            : {}),
          'removed-files-size': String(removed.filesSize),
        }
      : {}),
    'total-data-files': files(live(ManifestContent.Data)),
    'total-records': rows(live(ManifestContent.Data)),
    'total-delete-files': files(live(ManifestContent.Deletes)),
    'total-position-deletes': rows(live(ManifestContent.Deletes)),
    'total-equality-deletes': '0',
    'total-files-size': String(changes.keptFilesSize + addedSize),
    ...properties,
  };
}

/** The summary of a table's empty first snapshot. */
export function emptySnapshotSummary(properties: Record<string, string>): Snapshot['summary'] {
  return snapshotSummary('append', [], { addedData: [], addedDeletes: [], keptFilesSize: 0n }, properties);
}

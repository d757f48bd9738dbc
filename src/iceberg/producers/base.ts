import { encodeManifest, encodeManifestList, summarizeManifest } from '../manifest';
import { runPaths, type RunPaths } from '../run-paths';
import { EntryStatus, ManifestContent, type DataFile, type ManifestEntry, type ManifestFile, type Snapshot, type SnapshotOperation } from '../spec';
import type { IcebergTable } from '../table';
import { SYNC_RUN_ID_PROPERTY } from './committed-runs';
import { newSnapshotId } from './initial-snapshot';

/** One attempt's snapshot, ready to send. */
export interface BuiltSnapshot {
  snapshot: Snapshot;
  sequenceNumber: bigint;
  /**
   * Files only this attempt's snapshot references (manifest list, delete file and its manifest):
   * garbage once the catalog refuses it. The added data manifest is not among them: every attempt
   * shares it.
   */
  attemptFiles: string[];
}

const sum = (values: bigint[]) => values.reduce((a, b) => a + b, 0n);

/**
 * What every operation shares: a snapshot adding `files`, built on a parent as often as a commit
 * attempt asks (see commitWithRetries). It writes the added files' manifest once, takes the
 * parent's manifests the operation keeps, adds the operation's delete file, and writes the
 * manifest list and the summary. The snapshot id stays the same over attempts: a retried commit
 * finds its snapshot by it. Every file is named after the run (`runPaths`), so the run's cleanup
 * finds the ones no snapshot uses.
 */
export abstract class SnapshotProducer {
  readonly snapshotId = newSnapshotId();
  protected readonly paths: RunPaths;
  private dataManifest?: ManifestFile;

  constructor(
    readonly table: IcebergTable,
    readonly runId: string,
    readonly files: DataFile[],
    /** Extra summary properties (e.g. the incremental cursor): they commit atomically with the data. */
    readonly properties: Record<string, string> = {},
  ) {
    this.paths = runPaths(table.location, runId);
  }

  abstract readonly operation: SnapshotOperation;

  /** The parent's manifests the new snapshot keeps. */
  protected abstract keptManifests(parent: Snapshot): Promise<ManifestFile[]>;

  /** A delete file the snapshot adds against the kept manifests (a merge's position deletes). */
  protected async deleteFile(_kept: ManifestFile[], _path: string): Promise<DataFile | undefined> {
    return undefined;
  }

  /** Bytes of the parent's files the new snapshot still holds. */
  protected keptFilesSize(parent: Snapshot): bigint {
    return BigInt(parent.summary?.['total-files-size'] ?? '0');
  }

  /** Summary entries for what the snapshot removes of its parent. */
  protected removedSummary(_parent: Snapshot): Record<string, string> {
    return {};
  }

  /** The snapshot on `parent` for commit attempt `attempt` (the table's metadata is the refreshed one). */
  async build(parent: Snapshot, attempt: number): Promise<BuiltSnapshot> {
    const sequenceNumber = BigInt(this.table.metadata['last-sequence-number'] ?? 0n) + 1n;
    // The new files' manifest does not depend on the parent (sequence numbers are inherited), so
    // it is written once and reused by every attempt.
    if (!this.dataManifest && this.files.length > 0) this.dataManifest = await this.writeAddedManifest(ManifestContent.Data, this.files);
    const kept = await this.keptManifests(parent);
    const manifests: ManifestFile[] = [];
    if (this.dataManifest) manifests.push({ ...this.dataManifest, sequenceNumber, minSequenceNumber: sequenceNumber });
    const deleteFile = await this.deleteFile(kept, this.paths.deleteFile(this.snapshotId, attempt));
    const deleteManifest = deleteFile && { ...(await this.writeAddedManifest(ManifestContent.Deletes, [deleteFile])), sequenceNumber, minSequenceNumber: sequenceNumber };
    if (deleteManifest) manifests.push(deleteManifest);
    manifests.push(...kept);

    const parentId = BigInt(parent['snapshot-id']);
    const manifestList = this.paths.manifestList(this.snapshotId, attempt);
    await this.table.store.put(manifestList, encodeManifestList({ snapshotId: this.snapshotId, parentSnapshotId: parentId, sequenceNumber, manifests }), 'avro/binary');
    const snapshot: Snapshot = {
      'snapshot-id': this.snapshotId,
      'parent-snapshot-id': parentId,
      'sequence-number': sequenceNumber,
      'timestamp-ms': Date.now(),
      'manifest-list': manifestList,
      summary: this.summary(parent, manifests, deleteFile),
      'schema-id': this.table.schema()['schema-id'],
    };
    const attemptFiles = [manifestList, deleteFile?.filePath, deleteManifest?.manifestPath].filter((p): p is string => p !== undefined);
    return { snapshot, sequenceNumber, attemptFiles };
  }

  /**
   * Writes a manifest of files this snapshot adds. Its sequence numbers are left to the manifest
   * list entry (they depend on the parent, so each attempt sets them).
   */
  private async writeAddedManifest(content: ManifestContent, files: DataFile[]): Promise<ManifestFile> {
    const { metadata } = this.table;
    const spec = metadata['partition-specs'].find((s) => s['spec-id'] === metadata['default-spec-id']) ?? { 'spec-id': 0, fields: [] };
    const entries: ManifestEntry[] = files.map((dataFile) => ({
      status: EntryStatus.Added,
      snapshotId: this.snapshotId,
      sequenceNumber: null,
      fileSequenceNumber: null,
      dataFile,
    }));
    const bytes = encodeManifest({ schema: this.table.schema(), spec, content, entries });
    const path = this.paths.manifest(this.snapshotId, content);
    await this.table.store.put(path, bytes, 'avro/binary');
    return {
      manifestPath: path,
      manifestLength: BigInt(bytes.length),
      partitionSpecId: spec['spec-id'],
      content,
      sequenceNumber: 0n,
      minSequenceNumber: 0n,
      addedSnapshotId: this.snapshotId,
      ...summarizeManifest(entries),
    };
  }

  /** The snapshot summary: what was added, the new totals (from the manifests), the properties and the run id. */
  private summary(parent: Snapshot, manifests: ManifestFile[], deleteFile: DataFile | undefined): Snapshot['summary'] {
    const data = manifests.filter((m) => m.content === ManifestContent.Data);
    const deletes = manifests.filter((m) => m.content === ManifestContent.Deletes);
    const addedSize = sum(this.files.map((f) => f.fileSizeInBytes));
    const deleteSize = deleteFile?.fileSizeInBytes ?? 0n;
    return {
      operation: this.operation,
      'added-data-files': String(this.files.length),
      'added-records': String(sum(this.files.map((f) => f.recordCount))),
      'added-files-size': String(addedSize + deleteSize),
      'total-data-files': String(sum(data.map((m) => BigInt(m.addedFilesCount + m.existingFilesCount)))),
      'total-records': String(sum(data.map((m) => m.addedRowsCount + m.existingRowsCount))),
      'total-delete-files': String(sum(deletes.map((m) => BigInt(m.addedFilesCount + m.existingFilesCount)))),
      'total-position-deletes': String(sum(deletes.map((m) => m.addedRowsCount + m.existingRowsCount))),
      'total-equality-deletes': '0',
      ...(deleteFile ? { 'added-delete-files': '1', 'added-position-delete-files': '1', 'added-position-deletes': String(deleteFile.recordCount) } : {}),
      ...this.removedSummary(parent),
      // Data and delete bytes of the new state.
      'total-files-size': String(this.keptFilesSize(parent) + addedSize + deleteSize),
      ...this.properties,
      [SYNC_RUN_ID_PROPERTY]: this.runId,
    };
  }
}

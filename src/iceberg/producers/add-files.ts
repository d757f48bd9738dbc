import type { TableUpdate } from '../catalog';
import { ManifestContent, type DataFile, type ManifestFile, type Snapshot } from '../spec';
import type { IcebergTable } from '../table';
import { atSequence, SnapshotProducer, type Produced } from './base';
import { findCommittedRun, recordRun } from './committed-runs';
import { ensureInitialSnapshot } from './initial-snapshot';
import type { CommittedSnapshot, RunKeys } from './types';

/**
 * A writer's commit of new files (append, overwrite, merge): at most one snapshot per run, found
 * again by the run's id (committed-runs.ts) and recorded in the table with its summary properties.
 * The added files' manifest is written once and shared by every attempt (sequence numbers are
 * inherited); each attempt takes the parent's manifests the operation keeps and adds the
 * operation's delete file. A table without a snapshot first gets its empty one.
 */
export abstract class AddFilesProducer extends SnapshotProducer {
  private dataManifest?: ManifestFile;

  constructor(
    table: IcebergTable,
    runId: string,
    readonly keys: RunKeys,
    readonly files: DataFile[],
    properties: Record<string, string> = {},
  ) {
    super(table, { id: runId, idKey: keys.runId }, properties);
  }

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

  /** What the snapshot removes of its parent. */
  protected removed(_parent: Snapshot): Produced['removed'] {
    return undefined;
  }

  protected async produce(parent: Snapshot, attempt: number, sequenceNumber: bigint): Promise<Produced> {
    if (!this.dataManifest && this.files.length > 0) this.dataManifest = await this.writeManifest(ManifestContent.Data, this.addedEntries(this.files));
    const kept = await this.keptManifests(parent);
    const deleteFile = await this.deleteFile(kept, this.paths.deleteFile(this.snapshotId, attempt));
    const deleteManifest = deleteFile && atSequence(await this.writeManifest(ManifestContent.Deletes, this.addedEntries([deleteFile])), sequenceNumber);
    return {
      manifests: [...(this.dataManifest ? [atSequence(this.dataManifest, sequenceNumber)] : []), ...(deleteManifest ? [deleteManifest] : []), ...kept],
      attemptFiles: deleteFile && deleteManifest ? [deleteFile.filePath, deleteManifest.manifestPath] : [],
      addedData: this.files,
      addedDeletes: deleteFile ? [deleteFile] : [],
      removed: this.removed(parent),
      keptFilesSize: this.keptFilesSize(parent),
    };
  }

  /** A snapshot of this run, by the run's id or this commit's snapshot id. */
  override landed(): CommittedSnapshot | undefined {
    return findCommittedRun(this.table, this.keys, this.run.id, this.snapshotId);
  }

  override async withoutParent(): Promise<void> {
    await ensureInitialSnapshot(this.table, this.run.id, this.keys);
  }

  /** The run is recorded in the same commit as its snapshot. */
  override updatesWith(sequenceNumber: bigint): TableUpdate[] {
    return [recordRun(this.table, this.keys, this.run.id, this.snapshotId, sequenceNumber, this.properties)];
  }
}

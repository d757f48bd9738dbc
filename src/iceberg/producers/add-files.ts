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
  private dataManifests?: ManifestFile[];

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

  /** Delete files the snapshot adds against the kept manifests (a merge's position deletes, one per partition); `path(n)` names the n-th. */
  protected async deleteFiles(_kept: ManifestFile[], _path: (n: number) => string): Promise<DataFile[]> {
    return [];
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
    this.dataManifests ??= this.files.length > 0 ? await this.writeManifests(ManifestContent.Data, this.addedEntries(this.files)) : [];
    const kept = await this.keptManifests(parent);
    const deleteFiles = await this.deleteFiles(kept, (n) => this.paths.deleteFile(this.snapshotId, attempt, n));
    const deleteManifests =
      deleteFiles.length > 0 ? (await this.writeManifests(ManifestContent.Deletes, this.addedEntries(deleteFiles))).map((m) => atSequence(m, sequenceNumber)) : [];
    return {
      manifests: [...this.dataManifests.map((m) => atSequence(m, sequenceNumber)), ...deleteManifests, ...kept],
      attemptFiles: [...deleteFiles.map((f) => f.filePath), ...deleteManifests.map((m) => m.manifestPath)],
      addedData: this.files,
      addedDeletes: deleteFiles,
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

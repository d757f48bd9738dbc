import { ERROR_CODES, SyncError } from '../../errors';
import { encodeManifest, encodeManifestList, summarizeManifest, summarizePartitions } from '../manifest';
import { partitionFieldTypes } from '../spec/partition';
import { runPaths, type RunPaths } from '../run-paths';
import { EntryStatus, type DataFile, type ManifestContent, type ManifestEntry, type ManifestFile, type Snapshot, type SnapshotOperation, type TableMetadata } from '../spec';
import type { TableUpdate } from '../catalog';
import type { IcebergTable } from '../table';
import { newSnapshotId } from './snapshot-id';
import { snapshotSummary, type SnapshotChanges } from './summary';
import type { CommittedSnapshot, WriterRun } from './types';

/** One attempt's snapshot, ready to send. */
export interface BuiltSnapshot {
  snapshot: Snapshot;
  sequenceNumber: bigint;
  /**
   * Files only this attempt's snapshot references (its manifest list, and what the operation
   * writes anew on each parent): garbage once the catalog refuses it. Files every attempt shares
   * (an append's manifest of added files) are not among them.
   */
  attemptFiles: string[];
}

/** What an operation makes of one parent: the new snapshot's manifests, and what it changes. */
export interface Produced extends SnapshotChanges {
  /** The manifests, in the manifest list's order, their sequence numbers set. */
  manifests: ManifestFile[];
  /** Files written for this attempt only (see BuiltSnapshot.attemptFiles), the manifest list aside. */
  attemptFiles: string[];
}

/** The one sequence number rule: a new snapshot's is one more than the table's last. */
export function nextSequenceNumber(metadata: TableMetadata): bigint {
  return (metadata['last-sequence-number'] ?? 0n) + 1n;
}

/**
 * What every operation shares (after pyiceberg's `_SnapshotProducer` and iceberg-rust's
 * `SnapshotProduceOperation`): a snapshot built on a parent as often as a commit attempt asks (see
 * commitWithRetries), with the one sequence number rule, the manifest writing, the manifest list
 * and the one summary builder. An operation says which manifests the snapshot has on a parent
 * (`produce`), how its commit is found once it landed (`landed`), what a table without a snapshot
 * needs (`withoutParent`) and what else goes into the commit (`updatesWith`). The snapshot id stays
 * the same over attempts: a retried commit finds its snapshot by it. Every file is named after the
 * writer's run (`runPaths`), so the run's cleanup finds the ones no snapshot uses; the summary names
 * the run under the writer's own key.
 */
export abstract class SnapshotProducer {
  readonly snapshotId = newSnapshotId();
  protected readonly paths: RunPaths;

  constructor(
    readonly table: IcebergTable,
    readonly run: WriterRun,
    /** The writer's summary properties (e.g. an incremental cursor): they commit atomically with the data. */
    readonly properties: Record<string, string> = {},
  ) {
    this.paths = runPaths(table.location, run.id);
  }

  abstract readonly operation: SnapshotOperation;

  /** The new snapshot's manifests on `parent` for commit attempt `attempt`, at `sequenceNumber`. */
  protected abstract produce(parent: Snapshot, attempt: number, sequenceNumber: bigint): Promise<Produced>;

  /** Readies a table without a snapshot, or throws when the operation cannot commit to one. */
  abstract withoutParent(): Promise<void>;

  /** This commit's snapshot when it already landed (an attempt whose answer was lost), by its snapshot id. */
  landed(): CommittedSnapshot | undefined {
    const snapshot = this.table.snapshots().find((s) => s['snapshot-id'] === this.snapshotId);
    return snapshot && { snapshotId: snapshot['snapshot-id'], sequenceNumber: snapshot['sequence-number'], summary: snapshot.summary };
  }

  /** Table updates sent in the same commit as the snapshot. */
  updatesWith(_sequenceNumber: bigint): TableUpdate[] {
    return [];
  }

  /** The snapshot on `parent` for commit attempt `attempt` (the table's metadata is the refreshed one). */
  async build(parent: Snapshot, attempt: number): Promise<BuiltSnapshot> {
    const sequenceNumber = nextSequenceNumber(this.table.metadata);
    const produced = await this.produce(parent, attempt, sequenceNumber);
    const parentId = parent['snapshot-id'];
    const manifestList = this.paths.manifestList(this.snapshotId, attempt);
    await this.table.store.put(
      manifestList,
      encodeManifestList({ snapshotId: this.snapshotId, parentSnapshotId: parentId, sequenceNumber, manifests: produced.manifests }),
      'avro/binary',
    );
    const snapshot: Snapshot = {
      'snapshot-id': this.snapshotId,
      'parent-snapshot-id': parentId,
      'sequence-number': sequenceNumber,
      'timestamp-ms': Date.now(),
      'manifest-list': manifestList,
      summary: snapshotSummary(this.operation, produced.manifests, produced, { ...this.properties, [this.run.idKey]: this.run.id }),
      'schema-id': this.table.schema()['schema-id'],
    };
    return { snapshot, sequenceNumber, attemptFiles: [manifestList, ...produced.attemptFiles] };
  }

  /**
   * Writes the manifests of this snapshot for `entries`: one per partition spec the entries' files
   * were written with (a table whose spec evolved holds files of several). Entries added by the
   * snapshot leave their sequence numbers to the manifest list entry, which records
   * `sequenceNumber` and the oldest of its entries'. Manifests of added files only, written once
   * for every attempt, are written without one; each attempt sets it (`atSequence`).
   */
  protected async writeManifests(content: ManifestContent, entries: ManifestEntry[], sequenceNumber = 0n): Promise<ManifestFile[]> {
    const { metadata } = this.table;
    const bySpec = new Map<number, ManifestEntry[]>();
    for (const e of entries) {
      const specId = e.dataFile.specId ?? metadata['default-spec-id'];
      bySpec.set(specId, [...(bySpec.get(specId) ?? []), e]);
    }
    const manifests: ManifestFile[] = [];
    for (const [specId, list] of [...bySpec].sort(([a], [b]) => b - a)) manifests.push(await this.writeManifestOf(specId, content, list, sequenceNumber));
    return manifests;
  }

  private async writeManifestOf(specId: number, content: ManifestContent, entries: ManifestEntry[], sequenceNumber: bigint): Promise<ManifestFile> {
    const { metadata } = this.table;
    const spec = metadata['partition-specs'].find((s) => s['spec-id'] === specId) ?? (specId === 0 ? { 'spec-id': 0, fields: [] } : undefined);
    if (!spec) throw new SyncError(`${this.table.identifier} has no partition spec ${specId}`, { code: ERROR_CODES.TABLE_INVALID, retryable: false });
    const partition = partitionFieldTypes(spec, metadata.schemas);
    const bytes = encodeManifest({ schema: this.table.schema(), spec, partition, content, entries });
    const path = this.paths.manifest(this.snapshotId, content);
    await this.table.store.put(path, bytes, 'avro/binary');
    const sequences = entries.map((e) => (e.status === EntryStatus.Added ? sequenceNumber : (e.sequenceNumber ?? 0n)));
    return {
      manifestPath: path,
      manifestLength: BigInt(bytes.length),
      partitionSpecId: spec['spec-id'],
      content,
      sequenceNumber,
      minSequenceNumber: sequences.reduce((a, b) => (b < a ? b : a), sequenceNumber),
      addedSnapshotId: this.snapshotId,
      ...summarizeManifest(entries),
      partitions: summarizePartitions(partition, entries),
    };
  }

  /** Entries of files this snapshot adds. */
  protected addedEntries(files: DataFile[]): ManifestEntry[] {
    return files.map((dataFile) => ({ status: EntryStatus.Added, snapshotId: this.snapshotId, sequenceNumber: null, fileSequenceNumber: null, dataFile }));
  }
}

/** A manifest of added files only (written once, see writeManifests) at one attempt's sequence number. */
export function atSequence(manifest: ManifestFile, sequenceNumber: bigint): ManifestFile {
  return { ...manifest, sequenceNumber, minSequenceNumber: sequenceNumber };
}

import { RewriteConflictError } from '../errors';
import { readDeletes } from '../reader';
import { EntryStatus, ManifestContent, type DataFile, type ManifestEntry, type Snapshot, type SnapshotOperation } from '../spec';
import type { IcebergTable } from '../table';
import { SnapshotProducer, type Produced } from './base';
import type { WriterRun } from './types';

/** What a rewrite changes: files it removes (their live rows are in `added`), and what it was planned on. */
export interface RewriteFiles {
  /** Data files the rewrite removes. */
  removeData: ReadonlySet<string>;
  /** Delete files the rewrite removes (applied to the rewritten files). */
  removeDeletes: ReadonlySet<string>;
  /** Delete files that were live when the rewrite was planned: any other is newer, and checked. */
  plannedDeletes: ReadonlySet<string>;
  added: DataFile[];
}

const sum = (values: bigint[]) => values.reduce((a, b) => a + b, 0n);

/**
 * Rewrites files without changing the table's rows (Iceberg's `replace`, a compaction): the
 * rewritten data files and applied delete files leave, the new files come, and every other live
 * file of the parent is carried into one data manifest and one delete manifest (so the commit also
 * rewrites the parent's many small manifests). On a parent another writer committed meanwhile, the
 * rewrite is checked and rebuilt (a sync's added files stay), or refused with RewriteConflictError
 * when it would lose or bring back rows. Found again by its snapshot id only: a writer that plans
 * again after a failure makes another snapshot.
 */
export class RewriteProducer extends SnapshotProducer {
  readonly operation: SnapshotOperation = 'replace';

  constructor(
    table: IcebergTable,
    run: WriterRun,
    readonly rewrite: RewriteFiles,
  ) {
    super(table, run);
  }

  override async withoutParent(): Promise<void> {
    throw new RewriteConflictError(`${this.table.identifier} has no snapshot any more`);
  }

  protected async produce(parent: Snapshot, _attempt: number, sequenceNumber: bigint): Promise<Produced> {
    const { data, deletes } = await this.table.liveEntriesOf(await this.table.manifests(parent));
    await this.validate(data, deletes);
    const { removeData, removeDeletes, added } = this.rewrite;
    const kept = (e: ManifestEntry): ManifestEntry => ({ ...e, status: EntryStatus.Existing });
    const gone = (e: ManifestEntry): ManifestEntry => ({ ...e, status: EntryStatus.Deleted, snapshotId: this.snapshotId });
    const dataEntries = [...this.addedEntries(added), ...data.map((e) => (removeData.has(e.dataFile.filePath) ? gone(e) : kept(e)))];
    const deleteEntries = deletes.map((e) => (removeDeletes.has(e.dataFile.filePath) ? gone(e) : kept(e)));
    const manifests = [];
    for (const [content, entries] of [
      [ManifestContent.Data, dataEntries],
      [ManifestContent.Deletes, deleteEntries],
    ] as const) {
      if (entries.length > 0) manifests.push(...(await this.writeManifests(content, entries, sequenceNumber)));
    }
    const files = (list: ManifestEntry[], status: EntryStatus) => list.filter((e) => e.status === status).map((e) => e.dataFile);
    const size = (list: DataFile[]) => sum(list.map((f) => f.fileSizeInBytes));
    const records = (list: DataFile[]) => sum(list.map((f) => f.recordCount));
    const [removedData, removedDeletes] = [files(dataEntries, EntryStatus.Deleted), files(deleteEntries, EntryStatus.Deleted)];
    return {
      manifests,
      attemptFiles: manifests.map((m) => m.manifestPath),
      addedData: added,
      addedDeletes: [],
      removed: {
        dataFiles: BigInt(removedData.length),
        records: records(removedData),
        filesSize: size(removedData) + size(removedDeletes),
        deletes: { files: BigInt(removedDeletes.length), positions: records(removedDeletes) },
      },
      keptFilesSize: size(files(dataEntries, EntryStatus.Existing)) + size(files(deleteEntries, EntryStatus.Existing)),
    };
  }

  /** Whether the rewrite still holds on a (possibly newer) parent; throws RewriteConflictError when not. */
  private async validate(data: ManifestEntry[], deletes: ManifestEntry[]): Promise<void> {
    const { removeData, removeDeletes, plannedDeletes } = this.rewrite;
    const liveData = new Set(data.map((e) => e.dataFile.filePath));
    const missing = [...removeData].filter((p) => !liveData.has(p));
    if (missing.length > 0) throw new RewriteConflictError(`${missing.length} of the files being rewritten were removed by another commit (first: ${missing[0]})`);
    const liveDeletes = new Set(deletes.map((e) => e.dataFile.filePath));
    const gone = [...removeDeletes].filter((p) => !liveDeletes.has(p));
    if (gone.length > 0) throw new RewriteConflictError(`${gone.length} of the delete files being applied were removed by another commit`);
    // Delete files committed since the plan: any that names a rewritten file would be lost with it.
    const newer = deletes.filter((e) => !plannedDeletes.has(e.dataFile.filePath));
    if (newer.length === 0) return;
    const { targets } = await readDeletes(this.table.store, newer);
    for (const [deleteFile, files] of targets) {
      const hit = [...files].find((p) => removeData.has(p));
      if (hit) throw new RewriteConflictError(`a newer commit deleted rows of ${hit}, a file being rewritten (delete file ${deleteFile})`);
    }
  }
}

import { runPaths } from '../iceberg/run-paths';
import { RewriteConflictError } from '../iceberg/errors';
import { commitRewrite } from '../iceberg/snapshot-producer';
import type { IcebergTable } from '../iceberg/table';
import type { ParquetEncoderPool } from '../parquet/encoder-pool';
import { openTableWriter } from '../parquet/partitioned-writer';
import { defaultSortOrder, defaultSpec, type DataFile, type ManifestEntry } from '../iceberg/spec';
import { planCompaction } from './plan';
import { dictionaryEncodedColumns, readDeletes } from '../iceberg/reader';
import { rewriteFiles } from './rewrite';
import type { CompactionReport } from './report';

export interface CompactOptions {
  /** Names every file this compaction writes (runPaths); recorded in its snapshot's summary under `runIdKey`. */
  runId: string;
  /** The summary key the writer records its run under. */
  runIdKey: string;
  targetFileBytes: number;
  /** Rewrite the manifests when the current snapshot has more than this many, even with no file to compact. */
  maxManifests: number;
  minInputFiles?: number;
  /** Plans after a conflict the rewrite could not be rebuilt on (RewriteConflictError). */
  maxReplans?: number;
  encoders?: ParquetEncoderPool;
  /** Bounds of the partitioned and sorting writer (open partitions, raw bytes buffered to sort). */
  layout?: { maxOpenPartitions: number; sortBufferBytes: number };
  signal?: AbortSignal;
  /** Called with each commit attempt just before it is sent (tests hold it there). */
  beforeCommit?: (attempt: number) => Promise<void>;
  log?: (message: string) => void;
}

const bytes = (list: ManifestEntry[] | DataFile[]) => list.reduce((n, e) => n + Number('dataFile' in e ? e.dataFile.fileSizeInBytes : e.fileSizeInBytes), 0);

/**
 * Compacts the table's current snapshot: plans (planCompaction), rewrites each bin with its deletes
 * applied into files near the target size, and commits one `replace` snapshot that removes the old
 * data and delete files and rewrites the manifests (commitRewrite). When another writer's commit
 * cannot be rebuilt on (it deleted rows of a file being rewritten), what was written is deleted and
 * the table is planned again from its new snapshot. With nothing to compact and few manifests, no
 * snapshot is committed. What a killed attempt wrote is referenced by no snapshot: orphan removal
 * takes it once it is older than the safety age.
 */
export async function compactTable(table: IcebergTable, opts: CompactOptions): Promise<CompactionReport> {
  const paths = runPaths(table.location, opts.runId);
  for (let replan = 0; ; replan++) {
    await table.refresh();
    const snapshot = table.currentSnapshot();
    const manifests = await table.manifests(snapshot);
    const { data, deletes } = await table.liveEntriesOf(manifests);
    const before = { files: data.length, bytes: bytes(data), deleteFiles: deletes.length, deleteBytes: bytes(deletes), manifests: manifests.length };
    const index = await readDeletes(table.store, deletes);
    const plan = planCompaction(data, deletes, index.targets, { targetFileBytes: opts.targetFileBytes, minInputFiles: opts.minInputFiles });
    const rewriting = plan.bins.flat();
    const report: CompactionReport = {
      filesBefore: before.files,
      bytesBefore: before.bytes,
      deleteFilesBefore: before.deleteFiles,
      deleteBytesBefore: before.deleteBytes,
      manifestsBefore: before.manifests,
      filesAfter: before.files,
      bytesAfter: before.bytes,
      deleteFilesAfter: before.deleteFiles,
      deleteBytesAfter: before.deleteBytes,
      manifestsAfter: before.manifests,
      filesRewritten: 0,
      filesAdded: 0,
      deleteFilesRemoved: 0,
      deletesApplied: 0,
      rowsRewritten: 0,
      replans: replan,
    };
    if (rewriting.length === 0 && plan.deleteFiles.length === 0 && manifests.length <= opts.maxManifests) {
      return { ...report, skipped: snapshot ? 'nothing to compact: no small files, no delete files, few manifests' : 'the table has no snapshot' };
    }
    const added: DataFile[] = [];
    let rowsWritten = 0;
    let rowsRead = 0;
    // One writer for all bins, which come partition by partition, largest first: files roll at the
    // target size, so only a partition's last one written is smaller. The writer lays rows out as
    // the table's current default spec and sort order say: files of an older spec are rewritten
    // into the current one, their rows joining the files of the partitions they now belong to
    // (at most PARQUET_MAX_OPEN_PARTITIONS open at once).
    // The files keep their writer's dictionary choice (a sync's: picklists, references and flags
    // only); a dictionary on every column would make the compacted files larger than their inputs.
    const sample = rewriting[0]?.dataFile;
    const dictionaryColumns = sample ? new Set(await dictionaryEncodedColumns(table.store, sample.filePath, Number(sample.fileSizeInBytes))) : undefined;
    const sortOrder = defaultSortOrder(table.metadata);
    const writer = openTableWriter({
      fields: table.schema().fields,
      store: table.store,
      location: paths.dataFolder,
      namePrefix: paths.segment,
      targetFileBytes: opts.targetFileBytes,
      dictionaryColumns,
      encoders: opts.encoders,
      spec: defaultSpec(table.metadata),
      ...(sortOrder ? { sortOrder } : {}),
      ...opts.layout,
    });
    try {
      for (const bin of plan.bins) {
        const n = await rewriteFiles(table.store, bin, table.schema().fields, index, writer, opts.signal);
        rowsRead += n.rowsRead;
        rowsWritten += n.rowsWritten;
      }
      added.push(...(await writer.close()));
    } catch (error) {
      await table.store.delete(writer.files.map((f) => f.filePath)).catch(() => undefined);
      throw error;
    }
    try {
      const committed = await commitRewrite(
        table,
        { id: opts.runId, idKey: opts.runIdKey },
        {
          removeData: new Set(rewriting.map((e) => e.dataFile.filePath)),
          removeDeletes: new Set(plan.deleteFiles.map((e) => e.dataFile.filePath)),
          plannedDeletes: new Set(deletes.map((e) => e.dataFile.filePath)),
          added,
        },
        { beforeCommit: opts.beforeCommit },
      );
      const { data: afterData, deletes: afterDeletes } = await table.liveEntries();
      const manifestsAfter = (await table.manifests(table.snapshots().find((s) => s['snapshot-id'] === committed.snapshotId))).length;
      return {
        ...report,
        snapshotId: committed.snapshotId.toString(),
        alreadyCommitted: committed.alreadyCommitted || undefined,
        commitAttempts: committed.attempts,
        filesAfter: afterData.length,
        bytesAfter: bytes(afterData),
        deleteFilesAfter: afterDeletes.length,
        deleteBytesAfter: bytes(afterDeletes),
        manifestsAfter,
        filesRewritten: rewriting.length,
        filesAdded: added.length,
        deleteFilesRemoved: plan.deleteFiles.length,
        deletesApplied: rowsRead - rowsWritten,
        rowsRewritten: rowsWritten,
      };
    } catch (error) {
      // The files written for a plan that no longer holds are nobody's: gone now, not at orphan removal.
      await table.store.delete(added.map((f) => f.filePath));
      if (!(error instanceof RewriteConflictError) || replan >= (opts.maxReplans ?? 5)) throw error;
      opts.log?.(`${table.identifier}: compaction planned again: ${error.message}`);
    }
  }
}

/*
 * What each maintenance step did, as plain JSON-safe data: a workflow's result, the table property
 * the report is kept in (MaintenanceKeys.report), and what `npm run tables` shows.
 */

export interface CompactionReport {
  /** Live data files, their bytes, delete files and manifests of the snapshot compacted, and of the one committed. */
  filesBefore: number;
  bytesBefore: number;
  deleteFilesBefore: number;
  deleteBytesBefore: number;
  manifestsBefore: number;
  filesAfter: number;
  bytesAfter: number;
  deleteFilesAfter: number;
  deleteBytesAfter: number;
  manifestsAfter: number;
  filesRewritten: number;
  filesAdded: number;
  deleteFilesRemoved: number;
  /** Rows the rewrite dropped because a delete file deleted them. */
  deletesApplied: number;
  rowsRewritten: number;
  /** Times the rewrite was planned again because another commit deleted rows of a file it rewrote. */
  replans: number;
  commitAttempts?: number;
  snapshotId?: string;
  alreadyCommitted?: boolean;
  /** Why no snapshot was committed. */
  skipped?: string;
}

export interface ExpiryReport {
  snapshotsBefore: number;
  snapshotsExpired: number;
  snapshotsKept: number;
  /** Files only the expired snapshots referenced (manifest lists, manifests, data and delete files), deleted. */
  filesDeleted: number;
  bytesDeleted: number;
  /** Why nothing was expired, when that is the catalog's doing. */
  note?: string;
}

export interface OrphanReport {
  /** Objects found under the table's location. */
  listed: number;
  /** Of those, referenced by the table's metadata (kept snapshots, metadata files, statistics). */
  referenced: number;
  removed: number;
  bytesRemoved: number;
  /** Unreferenced but younger than the safety age: left alone (an in-flight sync may own them). */
  tooYoung: number;
  olderThan: string;
  note?: string;
}

export interface MaintenanceReport {
  table: string;
  startedAt: string;
  finishedAt: string;
  compaction?: CompactionReport;
  expiry?: ExpiryReport;
  orphans?: OrphanReport;
}

/** One line per step, for people (npm run maintain, npm run tables). */
export function describeReport(r: Pick<MaintenanceReport, 'compaction' | 'expiry' | 'orphans'>): string[] {
  const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
  const lines: string[] = [];
  const c = r.compaction;
  if (c)
    lines.push(
      c.skipped
        ? `compaction: skipped (${c.skipped}); ${c.filesBefore} data files, ${c.deleteFilesBefore} delete files, ${c.manifestsBefore} manifests`
        : `compaction: ${c.filesBefore} → ${c.filesAfter} data files (${mb(c.bytesBefore)} → ${mb(c.bytesAfter)}), ${c.deleteFilesBefore} → ${c.deleteFilesAfter} delete files, ` +
            `${c.manifestsBefore} → ${c.manifestsAfter} manifests; ${c.filesRewritten} files rewritten into ${c.filesAdded}, ${c.deletesApplied} deletes applied` +
            `${c.replans ? `, planned again ${c.replans}×` : ''}${c.snapshotId ? ` (snapshot ${c.snapshotId})` : ''}`,
    );
  const e = r.expiry;
  if (e)
    lines.push(
      `snapshot expiry: ${e.snapshotsExpired} of ${e.snapshotsBefore} snapshots expired, ${e.snapshotsKept} kept, ${e.filesDeleted} files (${mb(e.bytesDeleted)}) deleted${e.note ? ` (${e.note})` : ''}`,
    );
  const o = r.orphans;
  if (o)
    lines.push(
      `orphan removal: ${o.removed} files (${mb(o.bytesRemoved)}) removed of ${o.listed} listed, ${o.referenced} referenced, ${o.tooYoung} unreferenced but younger than ${o.olderThan}${o.note ? ` (${o.note})` : ''}`,
    );
  return lines;
}

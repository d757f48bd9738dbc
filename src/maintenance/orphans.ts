import type { IcebergTable } from '../iceberg/table';
import { allPaths, snapshotFiles } from './reachable';
import type { OrphanReport } from './report';

/** One spelling per object: other engines may write `s3a://` where the store lists `s3://`. */
const canonical = (uri: string) => uri.replace(/^s3a:\/\//, 's3://');

export interface OrphanOptions {
  /** Only files last written before this are removed: younger ones may belong to a commit in flight. */
  olderThan: Date;
  /** The catalog keeps the table's history in its own commit log (Nessie): files of earlier commits are not orphans. */
  historyInCatalog?: boolean;
}

/** Every file the table's metadata references: metadata files (current and logged), statistics, and all its snapshots' files. */
export async function referencedFiles(table: IcebergTable): Promise<Set<string>> {
  const m = table.metadata;
  const referenced = allPaths(await snapshotFiles(table, table.snapshots()));
  if (table.loaded['metadata-location']) referenced.add(table.loaded['metadata-location']);
  for (const entry of m['metadata-log'] ?? []) referenced.add(entry['metadata-file']);
  for (const s of [...(m.statistics ?? []), ...(m['partition-statistics'] ?? [])]) referenced.add(s['statistics-path']);
  return new Set([...referenced].map(canonical));
}

/**
 * Removes the files under the table's location that its metadata does not reference and that were
 * last written before `olderThan` (and before the metadata was read): data files of killed syncs,
 * attempts that lost a conflict, files of expired snapshots, old metadata files. An object the store
 * gives no time for is never removed. On a catalog that keeps history in its commit log, files of
 * earlier commits are still that history's: nothing is removed and the report says why.
 */
export async function removeOrphans(table: IcebergTable, opts: OrphanOptions): Promise<OrphanReport> {
  const report: OrphanReport = { listed: 0, referenced: 0, removed: 0, bytesRemoved: 0, tooYoung: 0, olderThan: opts.olderThan.toISOString() };
  if (opts.historyInCatalog) {
    return {
      ...report,
      note: "the catalog keeps the table's earlier commits in its own log and their files are not in the table metadata; the catalog's garbage collection removes orphans",
    };
  }
  await table.refresh();
  const readAt = Date.now();
  const referenced = await referencedFiles(table);
  const cutoff = Math.min(opts.olderThan.getTime(), readAt);
  const remove: { uri: string; size: number }[] = [];
  for await (const o of table.store.list(`${table.location}/`)) {
    report.listed++;
    if (referenced.has(canonical(o.uri))) {
      report.referenced++;
      continue;
    }
    if (!o.lastModified || o.lastModified.getTime() >= cutoff) report.tooYoung++;
    else remove.push(o);
  }
  await table.store.delete(remove.map((o) => o.uri));
  return { ...report, removed: remove.length, bytesRemoved: remove.reduce((n, o) => n + o.size, 0) };
}

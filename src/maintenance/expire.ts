import { CommitConflictError } from '../iceberg/errors';
import type { Snapshot, TableMetadata } from '../iceberg/spec';
import type { IcebergTable } from '../iceberg/table';
import { allPaths, snapshotFiles } from './reachable';
import type { ExpiryReport } from './report';

export interface ExpiryOptions {
  /** Snapshots of each branch's history kept, newest first (the branch's own snapshot among them). */
  keepLast: number;
  /** Snapshots younger than this are kept whatever their number. */
  keepAgeMs: number;
  now: number;
}

/**
 * Which snapshots expire: all but the last `keepLast` of each branch's history, those younger than
 * the age, and every snapshot a branch or tag points at (the current one is main's). Pure.
 */
export function selectExpired(metadata: TableMetadata, opts: ExpiryOptions): { expire: bigint[]; keep: bigint[] } {
  const snapshots = metadata.snapshots ?? [];
  const byId = new Map(snapshots.map((s) => [s['snapshot-id'], s]));
  const keep = new Set<bigint>();
  const refs = { ...(metadata.refs ?? {}) };
  const current = metadata['current-snapshot-id'];
  if (current !== undefined && current !== null && current !== -1n) refs.main ??= { 'snapshot-id': current, type: 'branch' };
  for (const ref of Object.values(refs)) {
    let s: Snapshot | undefined = byId.get(ref['snapshot-id']);
    if (ref.type === 'tag' || !s) {
      keep.add(ref['snapshot-id']);
      continue;
    }
    for (let n = 0; s && n < Math.max(1, opts.keepLast); n++) {
      keep.add(s['snapshot-id']);
      const parent: bigint | null | undefined = s['parent-snapshot-id'];
      s = parent === undefined || parent === null ? undefined : byId.get(parent);
    }
  }
  for (const s of snapshots) if (s['timestamp-ms'] >= opts.now - opts.keepAgeMs) keep.add(s['snapshot-id']);
  const expire = snapshots.map((s) => s['snapshot-id']).filter((id) => !keep.has(id));
  return { expire, keep: [...keep] };
}

/**
 * Expires snapshots (a `remove-snapshots` commit, guarded by the table's uuid and main's snapshot)
 * and deletes the files only they referenced. On a catalog that keeps a table's history in its
 * own commit log and only the current snapshot in the metadata (Nessie), there is nothing to
 * expire here: the report says so.
 */
export async function expireSnapshots(table: IcebergTable, opts: ExpiryOptions & { historyInCatalog?: boolean }): Promise<ExpiryReport> {
  for (let attempt = 1; ; attempt++) {
    await table.refresh();
    const snapshots = table.snapshots();
    const { expire } = selectExpired(table.metadata, opts);
    const report: ExpiryReport = { snapshotsBefore: snapshots.length, snapshotsExpired: 0, snapshotsKept: snapshots.length, filesDeleted: 0, bytesDeleted: 0 };
    if (expire.length === 0) {
      return opts.historyInCatalog
        ? {
            ...report,
            note: "the catalog keeps only the current snapshot in table metadata; earlier ones live in its commit log, which the catalog's own garbage collection expires",
          }
        : report;
    }
    const gone = new Set(expire);
    const read = new Map<string, Map<string, bigint>>();
    const expiredFiles = await snapshotFiles(
      table,
      snapshots.filter((s) => gone.has(s['snapshot-id'])),
      read,
    );
    const keptFiles = allPaths(
      await snapshotFiles(
        table,
        snapshots.filter((s) => !gone.has(s['snapshot-id'])),
        read,
      ),
    );
    const main = table.currentSnapshot();
    try {
      await table.commitOnMain(main ? main['snapshot-id'] : null, [{ action: 'remove-snapshots', 'snapshot-ids': expire }]);
    } catch (error) {
      // A commit landed meanwhile: select again on the new metadata.
      if (error instanceof CommitConflictError && attempt < 5) continue;
      throw error;
    }
    const deletable = [...allPaths(expiredFiles)].filter((p) => !keptFiles.has(p));
    await table.store.delete(deletable);
    const bytes = deletable.reduce((n, p) => n + Number(expiredFiles.files.get(p) ?? 0n), 0);
    return { ...report, snapshotsExpired: expire.length, snapshotsKept: snapshots.length - expire.length, filesDeleted: deletable.length, bytesDeleted: bytes };
  }
}

import { readAvroFile } from './avro-file';
import { decodeManifest, decodeManifestList } from './manifest';
import { runPaths, type RunPaths } from './run-paths';
import { findCommittedRun, type RunKeys } from './snapshot-producer';
import type { IcebergTable } from './table';

/** What the table tells about a run's files; gathered by `runFilesInUse`, decided by `planRunCleanup`. */
export interface RunCleanupFacts {
  /**
   * Every file the table's current metadata references: each snapshot's manifest list, the
   * manifests in it, and every data and delete file those list (whatever the entry's status: a file
   * a snapshot marks deleted is still part of its parent).
   */
  referenced: ReadonlySet<string>;
  /**
   * Snapshots the catalog certainly accepted whose files the current metadata no longer shows:
   * parents of snapshots in it that are not in it themselves (Nessie keeps only the current
   * snapshot, so a run's first, empty snapshot is such a parent once its data commit lands).
   */
  acceptedElsewhere: ReadonlySet<bigint>;
  /** The run's own commit, when the table records it, and whether its snapshot is still in the current metadata. */
  committed?: { snapshotId: bigint; inMetadata: boolean };
  /** Data and delete files listed by the run's metadata files that cleanup keeps (see `keptRunMetadata`). */
  listedByKept?: ReadonlySet<string>;
}

/**
 * The run's manifests and manifest lists that cleanup keeps although the current metadata does not
 * reference them.
 *
 * - When the run's commit is recorded but its snapshot is no longer in the current metadata (a
 *   later commit replaced it and the catalog keeps only the current snapshot, as Nessie does), the
 *   catalog's history still references that snapshot's manifest list and manifests, and the REST
 *   API does not say which of the run's commit attempts it was (a commit whose answer was lost is
 *   retried with a new list). So every metadata file of the run is kept: at worst a few small Avro
 *   files of attempts that never landed stay for snapshot expiry and orphan removal to take.
 * - Files written for a snapshot the catalog accepted but no longer shows (a parent of a snapshot in
 *   the metadata) are kept too: the history references them.
 *
 * Everything else of the run under metadata/ belongs to an attempt that never landed: a commit
 * killed before the catalog answered, a conflict, a commit that failed for good.
 */
export function keptRunMetadata(paths: RunPaths, written: readonly string[], facts: RunCleanupFacts): string[] {
  const superseded = facts.committed !== undefined && !facts.committed.inMetadata;
  return written.filter((uri) => {
    const c = paths.classify(uri);
    if (c?.kind !== 'manifest' && c?.kind !== 'manifest-list') return false;
    if (facts.referenced.has(uri)) return false;
    return superseded || (c.snapshotId !== undefined && facts.acceptedElsewhere.has(c.snapshotId));
  });
}

/**
 * Which of the files found under a run's prefixes cleanup removes. A file is kept when the current
 * metadata references it, when it is a metadata file `keptRunMetadata` keeps, or when it is a data
 * or delete file such a kept manifest lists. Staging manifests are never referenced by a snapshot
 * and always go. A file that is not the run's (no prefix of the run matches) is never removed.
 * Pure: the same facts give the same answer, so running it twice, or on another worker, is safe.
 */
export function planRunCleanup(paths: RunPaths, written: readonly string[], facts: RunCleanupFacts): { keep: string[]; remove: string[] } {
  const keptMetadata = new Set(keptRunMetadata(paths, written, facts));
  const keep: string[] = [];
  const remove: string[] = [];
  for (const uri of new Set(written)) {
    const c = paths.classify(uri);
    const kept =
      c === undefined ||
      (c.kind !== 'staging' && (facts.referenced.has(uri) || keptMetadata.has(uri) || ((c.kind === 'data' || c.kind === 'deletes') && facts.listedByKept?.has(uri) === true)));
    (kept ? keep : remove).push(uri);
  }
  return { keep, remove };
}

/**
 * Of the files under the run's prefixes (`written`), those a snapshot of the table may reference,
 * which cleanup must keep. Reads the table's current metadata (every snapshot in it, not only the
 * current one: manifests this run wrote are carried forward by later snapshots), and, where
 * `keptRunMetadata` keeps the run's own metadata files, the manifests those list. The run's commit is
 * found by the writer's `keys`.
 */
export async function runFilesInUse(table: IcebergTable, keys: RunKeys, runId: string, written: readonly string[]): Promise<Set<string>> {
  const paths = runPaths(table.location, runId);
  const snapshots = table.snapshots();
  const ids = new Set(snapshots.map((s) => s['snapshot-id']));
  const referenced = new Set<string>();
  const manifests = new Map<string, { sequenceNumber: bigint; addedSnapshotId: bigint }>();
  const acceptedElsewhere = new Set<bigint>();
  for (const snapshot of snapshots) {
    referenced.add(snapshot['manifest-list']);
    const bytes = await table.store.get(snapshot['manifest-list']);
    for (const m of decodeManifestList(bytes)) manifests.set(m.manifestPath, m);
    // The parent: from the snapshot, or, where the catalog leaves it out (Nessie 0.99 returns the
    // current snapshot without `parent-snapshot-id`), from the header of its manifest list, where
    // this project's writer and Java's record it.
    const parent = snapshot['parent-snapshot-id'] ?? parentInHeader(bytes);
    if (parent !== undefined && parent !== null && !ids.has(parent)) acceptedElsewhere.add(parent);
  }
  for (const [path, m] of manifests) {
    referenced.add(path);
    for (const entry of decodeManifest(await table.store.get(path), m)) referenced.add(entry.dataFile.filePath);
  }
  const run = findCommittedRun(table, keys, runId);
  const facts: RunCleanupFacts = { referenced, acceptedElsewhere, committed: run && { snapshotId: run.snapshotId, inMetadata: ids.has(run.snapshotId) } };

  // The data and delete files that the run's kept metadata files list stay with them.
  const listedByKept = new Set<string>();
  const kept = keptRunMetadata(paths, written, facts);
  const runManifests = new Map<string, { sequenceNumber: bigint; addedSnapshotId: bigint }>();
  for (const uri of kept) {
    const c = paths.classify(uri)!;
    if (c.kind === 'manifest') runManifests.set(uri, { sequenceNumber: 0n, addedSnapshotId: c.snapshotId ?? 0n });
    else {
      const bytes = await getIfExists(table, uri);
      for (const m of bytes ? decodeManifestList(bytes) : []) if (paths.classify(m.manifestPath)) runManifests.set(m.manifestPath, m);
    }
  }
  for (const [path, m] of runManifests) {
    if (manifests.has(path)) continue; // already read above
    const bytes = await getIfExists(table, path);
    for (const entry of bytes ? decodeManifest(bytes, m) : []) listedByKept.add(entry.dataFile.filePath);
  }
  return new Set(planRunCleanup(paths, written, { ...facts, listedByKept }).keep);
}

/** A run's own file that an earlier cleanup (or a conflict) may already have removed: missing is empty. */
async function getIfExists(table: IcebergTable, uri: string): Promise<Uint8Array | undefined> {
  try {
    return await table.store.get(uri);
  } catch (error) {
    if (!(await table.store.exists(uri))) return undefined;
    throw error;
  }
}

/** The `parent-snapshot-id` a manifest list's Avro header records, if any. */
function parentInHeader(manifestList: Uint8Array): bigint | undefined {
  const value = readAvroFile(manifestList).metadata['parent-snapshot-id'];
  return value !== undefined && /^-?\d+$/.test(value) ? BigInt(value) : undefined;
}

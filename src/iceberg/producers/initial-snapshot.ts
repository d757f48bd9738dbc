import crypto from 'node:crypto';
import { CommitConflictError } from '../errors';
import { encodeManifestList } from '../manifest';
import { runPaths } from '../run-paths';
import type { Snapshot } from '../spec';
import type { IcebergTable } from '../table';

/** A random positive 63-bit snapshot id, as Iceberg writers use. */
export function newSnapshotId(): bigint {
  return crypto.randomBytes(8).readBigUInt64BE() & 0x7fffffffffffffffn;
}

/**
 * Gives a table with no snapshot an empty one. Data commits then always assert a real parent
 * snapshot id: some catalogs (Nessie 0.99) do not enforce `assert-ref-snapshot-id` with a null id
 * (and reject -1 even on an empty table), so a first commit could silently replace a concurrent
 * writer's. Only the creator of a table calls this right after creating it; an empty snapshot
 * that loses such a race replaces only another empty one. Its manifest list is named after the run
 * (`runId`), like everything else the run writes, so the run's cleanup finds it if this commit
 * never landed.
 */
export async function ensureInitialSnapshot(table: IcebergTable, runId: string): Promise<void> {
  if (table.currentSnapshot()) return;
  const snapshotId = newSnapshotId();
  const sequenceNumber = BigInt(table.metadata['last-sequence-number'] ?? 0n) + 1n;
  const manifestList = runPaths(table.location, runId).manifestList(snapshotId, 0);
  await table.store.put(manifestList, encodeManifestList({ snapshotId, parentSnapshotId: null, sequenceNumber, manifests: [] }), 'avro/binary');
  const snapshot: Snapshot = {
    'snapshot-id': snapshotId,
    'sequence-number': sequenceNumber,
    'timestamp-ms': Date.now(),
    'manifest-list': manifestList,
    summary: {
      operation: 'append',
      'added-data-files': '0',
      'added-records': '0',
      'total-data-files': '0',
      'total-records': '0',
      'total-delete-files': '0',
      'total-position-deletes': '0',
      'total-equality-deletes': '0',
      'total-files-size': '0',
      'salesforce.initial-snapshot': 'true',
    },
    'schema-id': table.schema()['schema-id'],
  };
  try {
    await table.commitToMain(snapshot, null);
  } catch (error) {
    // Someone else gave it its first snapshot: that is all this wanted, and this list is garbage.
    if (!(error instanceof CommitConflictError)) throw error;
    await table.store.delete([manifestList]);
    await table.refresh();
  }
}

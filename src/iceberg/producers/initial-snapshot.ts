import { CommitConflictError } from '../errors';
import { encodeManifestList } from '../manifest';
import { runPaths } from '../run-paths';
import type { Snapshot } from '../spec';
import type { IcebergTable } from '../table';
import { nextSequenceNumber } from './base';
import { newSnapshotId } from './snapshot-id';
import { emptySnapshotSummary } from './summary';
import type { RunKeys } from './types';

/**
 * Gives a table with no snapshot an empty one. Data commits then always assert a real parent
 * snapshot id: some catalogs (Nessie 0.99) do not enforce `assert-ref-snapshot-id` with a null id
 * (and reject -1 even on an empty table), so a first commit could silently replace a concurrent
 * writer's. Only the creator of a table calls this right after creating it; an empty snapshot
 * that loses such a race replaces only another empty one. Its manifest list is named after the run
 * (`runId`), like everything else the run writes, so the run's cleanup finds it if this commit
 * never landed. The summary marks it with the writer's `keys.initialSnapshot`.
 */
export async function ensureInitialSnapshot(table: IcebergTable, runId: string, keys: Pick<RunKeys, 'initialSnapshot'>): Promise<void> {
  if (table.currentSnapshot()) return;
  const snapshotId = newSnapshotId();
  const sequenceNumber = nextSequenceNumber(table.metadata);
  const manifestList = runPaths(table.location, runId).manifestList(snapshotId, 0);
  await table.store.put(manifestList, encodeManifestList({ snapshotId, parentSnapshotId: null, sequenceNumber, manifests: [] }), 'avro/binary');
  const snapshot: Snapshot = {
    'snapshot-id': snapshotId,
    'sequence-number': sequenceNumber,
    'timestamp-ms': Date.now(),
    'manifest-list': manifestList,
    summary: emptySnapshotSummary({ [keys.initialSnapshot]: 'true' }),
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

import type { TableUpdate } from '../catalog';
import { CommitConflictError } from '../errors';
import type { IcebergTable } from '../table';
import type { CommittedSnapshot, RunKeys } from './types';

/*
 * What makes a writer's commits idempotent: every snapshot names the run that made it (under the
 * writer's `keys.runId`), and the table records its latest runs (in the writer's `keys.runs`
 * property), so a retried commit finds its own snapshot instead of adding another.
 *
 * Snapshot summaries alone are not enough: some catalogs (Nessie) keep only the current snapshot
 * in table metadata, so a run whose commit landed and was followed by another writer's would
 * otherwise look uncommitted and be committed twice.
 */

const RUNS_KEPT = 20;

interface RecordedRun {
  run: string;
  snapshot: string;
  sequence: string;
  /**
   * The newest run's own summary properties (cursor and the like, see lastRunSummary); older
   * entries drop it, so the property stays small.
   */
  state?: Record<string, string>;
}

function recordedRuns(table: IcebergTable, keys: RunKeys): RecordedRun[] {
  try {
    const parsed = JSON.parse(table.metadata.properties?.[keys.runs] ?? '[]') as RecordedRun[];
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

/**
 * The snapshot a run committed to the table, found by its run id in the snapshots' summaries or in
 * the runs the table records; with `snapshotId`, also a snapshot of that id (the one this commit
 * attempt is building).
 */
export function findCommittedRun(table: IcebergTable, keys: RunKeys, runId: string, snapshotId?: bigint): CommittedSnapshot | undefined {
  const snapshot = table.snapshots().find((s) => s.summary?.[keys.runId] === runId || s['snapshot-id'] === snapshotId);
  if (snapshot) return { snapshotId: snapshot['snapshot-id'], sequenceNumber: snapshot['sequence-number'], summary: snapshot.summary };
  const recorded = recordedRuns(table, keys).find((r) => r.run === runId || r.snapshot === snapshotId?.toString());
  if (recorded) return { snapshotId: BigInt(recorded.snapshot), sequenceNumber: BigInt(recorded.sequence), summary: { [keys.runId]: recorded.run } };
  return undefined;
}

/**
 * The update that records a run's snapshot among the table's latest runs (sent with the snapshot),
 * with the run's own summary properties as the table's writer state.
 */
export function recordRun(table: IcebergTable, keys: RunKeys, runId: string, snapshotId: bigint, sequenceNumber: bigint, state: Record<string, string> = {}): TableUpdate {
  const newest: RecordedRun = { run: runId, snapshot: snapshotId.toString(), sequence: sequenceNumber.toString(), state: { ...state, [keys.runId]: runId } };
  const older = recordedRuns(table, keys).map(({ run, snapshot, sequence }) => ({ run, snapshot, sequence }));
  return {
    action: 'set-properties',
    updates: { [keys.runs]: JSON.stringify([newest, ...older].slice(0, RUNS_KEPT)) },
  };
}

/**
 * The summary of the table's last snapshot of the writer: where its next run goes on from (a
 * sync's cursor, filled columns). Not simply the current snapshot's: another engine (Spark, a
 * compaction) may have committed since. The current snapshot's ancestry is searched for the newest
 * snapshot with a run id under `keys.runId`; where the catalog no longer lists the ancestor (Nessie
 * keeps only the current snapshot), the state the last run recorded with its commit answers.
 */
export function lastRunSummary(table: IcebergTable, keys: RunKeys): Record<string, string> | undefined {
  const byId = new Map(table.snapshots().map((s) => [s['snapshot-id'], s]));
  const newest = recordedRuns(table, keys)[0];
  for (let s = table.currentSnapshot(); s; s = s['parent-snapshot-id'] === undefined || s['parent-snapshot-id'] === null ? undefined : byId.get(s['parent-snapshot-id'])) {
    if (!s.summary?.[keys.runId]) continue;
    // A later run that changed nothing recorded its state against this same snapshot (recordUnchangedRun): its state is newer.
    if (newest?.state && newest.snapshot === s['snapshot-id'].toString() && newest.run !== s.summary[keys.runId]) return newest.state;
    return s.summary;
  }
  return newest?.state;
}

/**
 * Records a run that changes no row (an incremental sync that found nothing new) without a
 * snapshot: only the table's recorded runs move, naming the current snapshot and carrying the
 * run's state (its cursor), which lastRunSummary then returns. Catalogs that keep every snapshot
 * are spared one empty snapshot per run. Idempotent per run id; guarded by `main` not moving.
 */
export async function recordUnchangedRun(
  table: IcebergTable,
  keys: RunKeys,
  runId: string,
  state: Record<string, string>,
): Promise<{ snapshotId: bigint; alreadyCommitted: boolean }> {
  for (let attempt = 1; ; attempt++) {
    const found = findCommittedRun(table, keys, runId);
    if (found) return { snapshotId: found.snapshotId, alreadyCommitted: true };
    const current = table.currentSnapshot()!;
    try {
      await table.commitOnMain(current['snapshot-id'], [recordRun(table, keys, runId, current['snapshot-id'], current['sequence-number'], state)]);
      return { snapshotId: current['snapshot-id'], alreadyCommitted: false };
    } catch (error) {
      // Another writer committed meanwhile: record against its snapshot instead.
      if (!(error instanceof CommitConflictError) || attempt >= 5) throw error;
      await table.refresh();
    }
  }
}

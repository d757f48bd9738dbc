import type { TableUpdate } from '../catalog';
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
  for (let s = table.currentSnapshot(); s; s = s['parent-snapshot-id'] === undefined || s['parent-snapshot-id'] === null ? undefined : byId.get(s['parent-snapshot-id'])) {
    if (s.summary?.[keys.runId]) return s.summary;
  }
  return recordedRuns(table, keys)[0]?.state;
}

import type { TableUpdate } from '../catalog';
import type { IcebergTable } from '../table';

/*
 * What makes commits idempotent: every snapshot names the sync run that made it, and the table
 * records its latest runs, so a retried commit finds its own snapshot instead of adding another.
 */

/** The summary key that makes commits idempotent: one snapshot per sync run and table. */
export const SYNC_RUN_ID_PROPERTY = 'salesforce.sync-run-id';

/**
 * Table property listing the latest runs committed to the table, newest first, updated in the same
 * commit as their snapshot. Snapshot summaries alone are not enough: some catalogs (Nessie) keep
 * only the current snapshot in table metadata, so a run whose commit landed and was followed by
 * another writer's would otherwise look uncommitted and be committed twice.
 */
export const SYNC_RUNS_PROPERTY = 'salesforce.sync-runs';
const SYNC_RUNS_KEPT = 20;

interface RecordedRun {
  run: string;
  snapshot: string;
  sequence: string;
  /**
   * The newest run's own summary properties (cursor and the like, see lastSyncSummary); older
   * entries drop it, so the property stays small.
   */
  state?: Record<string, string>;
}

function recordedRuns(table: IcebergTable): RecordedRun[] {
  try {
    const parsed = JSON.parse(table.metadata.properties?.[SYNC_RUNS_PROPERTY] ?? '[]') as RecordedRun[];
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

/**
 * The snapshot a run committed to the table, found by its run id in the snapshots' summaries or in
 * the runs the table records (`SYNC_RUNS_PROPERTY`); with `snapshotId`, also a snapshot of that id
 * (the one this commit attempt is building).
 */
export function findCommittedRun(
  table: IcebergTable,
  runId: string,
  snapshotId?: bigint,
): { snapshotId: bigint; sequenceNumber: bigint; summary: Record<string, string> } | undefined {
  const snapshot = table.snapshots().find((s) => s.summary?.[SYNC_RUN_ID_PROPERTY] === runId || BigInt(s['snapshot-id']) === snapshotId);
  if (snapshot) return { snapshotId: BigInt(snapshot['snapshot-id']), sequenceNumber: BigInt(snapshot['sequence-number']), summary: snapshot.summary };
  const recorded = recordedRuns(table).find((r) => r.run === runId || r.snapshot === snapshotId?.toString());
  if (recorded) return { snapshotId: BigInt(recorded.snapshot), sequenceNumber: BigInt(recorded.sequence), summary: { [SYNC_RUN_ID_PROPERTY]: recorded.run } };
  return undefined;
}

/**
 * The update that records a run's snapshot among the table's latest runs (sent with the snapshot),
 * with the run's own summary properties as the table's sync state.
 */
export function recordRun(table: IcebergTable, runId: string, snapshotId: bigint, sequenceNumber: bigint, state: Record<string, string> = {}): TableUpdate {
  const newest: RecordedRun = { run: runId, snapshot: snapshotId.toString(), sequence: sequenceNumber.toString(), state: { ...state, [SYNC_RUN_ID_PROPERTY]: runId } };
  const older = recordedRuns(table).map(({ run, snapshot, sequence }) => ({ run, snapshot, sequence }));
  return {
    action: 'set-properties',
    updates: { [SYNC_RUNS_PROPERTY]: JSON.stringify([newest, ...older].slice(0, SYNC_RUNS_KEPT)) },
  };
}

/**
 * The summary of the table's last sync snapshot: where incremental syncs go on from (cursor,
 * filled columns). Not simply the current snapshot's: another engine (Spark, a compaction) may
 * have committed since. The current snapshot's ancestry is searched for the newest snapshot with a
 * sync run id; where the catalog no longer lists the ancestor (Nessie keeps only the current
 * snapshot), the state the last sync recorded with its commit (SYNC_RUNS_PROPERTY) answers.
 */
export function lastSyncSummary(table: IcebergTable): Record<string, string> | undefined {
  const byId = new Map(table.snapshots().map((s) => [BigInt(s['snapshot-id']), s]));
  for (let s = table.currentSnapshot(); s; s = s['parent-snapshot-id'] === undefined || s['parent-snapshot-id'] === null ? undefined : byId.get(BigInt(s['parent-snapshot-id']))) {
    if (s.summary?.[SYNC_RUN_ID_PROPERTY]) return s.summary;
  }
  return recordedRuns(table)[0]?.state;
}

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

/** The update that records a run's snapshot among the table's latest runs (sent with the snapshot). */
export function recordRun(table: IcebergTable, runId: string, snapshotId: bigint, sequenceNumber: bigint): TableUpdate {
  return {
    action: 'set-properties',
    updates: {
      [SYNC_RUNS_PROPERTY]: JSON.stringify([{ run: runId, snapshot: snapshotId.toString(), sequence: sequenceNumber.toString() }, ...recordedRuns(table)].slice(0, SYNC_RUNS_KEPT)),
    },
  };
}

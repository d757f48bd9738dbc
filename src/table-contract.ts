/*
 * The table's contract: every key the product writes into an Iceberg table's snapshot summaries and
 * table properties, with what it means, and the form of the run ids it writes there. Readers of
 * the tables (`npm run tables`, other engines' users) and the sync read these constants; the iceberg
 * and maintenance layers know no Salesforce and are handed the keys they write (SYNC_RUN_KEYS,
 * MAINTENANCE_KEYS). Keys and value forms never change: tables written by earlier versions must
 * stay recognised. Pure: workflow code imports it.
 */

// Snapshot summary keys: each commits atomically with the snapshot it describes.

/** The sync run (`productRunId`) that committed the snapshot: a retried commit finds its snapshot by it. */
export const SYNC_RUN_ID_PROPERTY = 'salesforce.sync-run-id';
/** `true` on the empty first snapshot a sync gives a table it created (a failed first sync drops such a table). */
export const INITIAL_SNAPSHOT_PROPERTY = 'salesforce.initial-snapshot';
/** The Salesforce object (API name) the snapshot's sync read. */
export const OBJECT_PROPERTY = 'salesforce.object';
/** The incremental cursor (a SystemModstamp): the next incremental sync reads rows changed after it. */
export const CURSOR_PROPERTY = 'salesforce.cursor';
/** Why the snapshot's sync read every row (`new-fields`, `formulas`), when it did. */
export const REREAD_PROPERTY = 'salesforce.reread';
/**
 * The highest field id among the columns the snapshot's sync wrote: rows have values for every
 * column up to it; columns above it were added after, and their old rows hold nulls. (Not read from
 * the snapshot's schema id: catalogs may move that to the current schema, as Nessie does.)
 */
export const FILLED_THROUGH_PROPERTY = 'salesforce.filled-through-field-id';
/** Rows a reconciling sync removed because Salesforce no longer has them. */
export const RECONCILED_PROPERTY = 'salesforce.reconciled-deletes';
/** Salesforce's count of what the table should hold, taken by the sync's count check (src/sync/count-check.ts). */
export const COUNT_PROPERTY = 'salesforce.count';
/** What the snapshot's sync spent of the Salesforce org's daily limits: API calls, Bulk jobs, bytes of results. */
export const USAGE_SUMMARY_KEYS = {
  apiCalls: 'salesforce.api-calls',
  bulkJobs: 'salesforce.bulk-jobs',
  resultBytes: 'salesforce.result-bytes',
} as const;
/** The maintenance run (`productRunId`) that committed the snapshot (a compaction's `replace`). */
export const MAINTENANCE_RUN_PROPERTY = 'salesforce.maintenance-run-id';

// Table properties.

/**
 * The latest sync runs committed to the table, newest first, as JSON (run id, snapshot id, sequence
 * number; the newest with its summary's sync state): updated in the same commit as their snapshot,
 * so a run is found on catalogs that keep only the current snapshot (Nessie).
 */
export const SYNC_RUNS_PROPERTY = 'salesforce.sync-runs';
/** The sync run that created the table (a failed first sync drops it again). */
export const CREATED_BY_RUN_PROPERTY = 'salesforce.created-by-run';
/** Snapshot summary key: the id an atomic sync's snapshots share, one per table, committed in one catalog transaction. */
export const PUBLISH_ID_PROPERTY = 'salesforce.publish-id';
/** Table property: the Salesforce object's label. */
export const LABEL_PROPERTY = 'salesforce.label';
/** The report of the table's last maintenance, as JSON (what `npm run tables` shows of it). */
export const LAST_MAINTENANCE_PROPERTY = 'salesforce.last-maintenance';

/** The keys a sync's commits are written and found by (the iceberg layer's `RunKeys`). */
export const SYNC_RUN_KEYS = { runId: SYNC_RUN_ID_PROPERTY, runs: SYNC_RUNS_PROPERTY, initialSnapshot: INITIAL_SNAPSHOT_PROPERTY } as const;

/** The keys table maintenance writes (the maintenance layer's `MaintenanceKeys`). */
export const MAINTENANCE_KEYS = { runId: MAINTENANCE_RUN_PROPERTY, report: LAST_MAINTENANCE_PROPERTY } as const;

/**
 * The product's id of one workflow run (`syncRunId` of a sync, `maintenanceRunId` of a table's
 * maintenance), as the tables record it: the workflow id and Temporal's run id. Stable across
 * activity retries and worker crashes (a replayed workflow run keeps its ids), so commits stay
 * idempotent; a new workflow run is a new run.
 */
export function productRunId(workflowId: string, temporalRunId: string): string {
  return `${workflowId}@${temporalRunId}`;
}

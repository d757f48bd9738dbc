import type { CountCheck, CountCheckMode } from './count-check';
import type { Created, Destination, TableRef } from '../destinations/destination';
import type { Logger } from '../log';
import type { NamingConvention, TimeMapping } from '../mapping/schema-mapping';
import type { ParquetEncoderPool } from '../parquet/encoder-pool';
import type { UsageCounts } from '../salesforce/budget';
import type { SalesforceClient } from '../salesforce/client';
import type { ReadApi, ReadApiUsed, ReadPosition } from '../salesforce/reader';
import type { BulkJobRef } from '../salesforce/bulk-reader';
import type { StageTimings } from './extract/stage-timer';
import type { PartitionSettings } from './partitions';
import type { WriteModeName } from './objects';
import type { RereadReason } from './reread';
import type { SkippedField } from '../salesforce/describe';
import type { PrefetchedWindow } from '../salesforce/rest-reader';

/* What the steps of one object's sync take and give (object-sync.ts runs them). */

/** Everything the steps need, built once per worker from its environment. */
export interface SyncContext {
  salesforce: SalesforceClient;
  destination: Destination;
  naming?: NamingConvention;
  /** Salesforce times as text (default: every engine reads it) or as Iceberg time. */
  timeAs?: TimeMapping;
  /** The window's upper bound trails "now" by this much, so rows still being written are left for next time. */
  lagMs?: number;
  api?: ReadApi;
  /** Bulk result pages downloaded at once (API 62.0 and later). */
  pagesInFlight?: number;
  /** A Bulk job that fails in Salesforce is read again over halves of its time window, down to this. */
  sliceFloorMs?: number;
  /** After each commit, compare Salesforce's count with the table's live rows: warn of a mismatch (default), fail the object, or off. */
  countCheck?: CountCheckMode;
  /** Read the deleted rows of an incremental merge from Salesforce's delete log (getDeleted; default true). */
  getDeleted?: boolean;
  /** An incremental window of at most this many rows is read through REST, not Bulk (`auto` only; 0: never). */
  restWindowRows?: number;
  /** A reconciling sync removes at most this share (0–1) of a table's rows; more fails the object (default 0.1). */
  reconcileMaxShare?: number;
  /** When and how an object's extraction is split into partitions (src/sync/partitions.ts); none: never. */
  partitions?: PartitionSettings;
  /** Where the steps log (activities bind Temporal's activity logger); nowhere by default. */
  log?: Logger;
  /** Threads that encode Parquet off the activity's thread; without, encoding runs on it. */
  encoders?: ParquetEncoderPool;
  /** Bounds of the writers of partitioned and sorted tables (PARQUET_MAX_OPEN_PARTITIONS, PARQUET_SORT_BUFFER_MB). */
  layout?: { maxOpenPartitions: number; sortBufferBytes: number };
}

/**
 * How an incremental merge sync learns which rows were deleted in its window:
 * - `getDeleted`: Salesforce's delete log (soft and hard deletes alike, one call), read by prepare
 *   into a staging manifest of its own (src/sync/deletes.ts) (`staging`) that the commit takes with the extraction's;
 * - `queryAll`: rows still in the Recycle Bin (`IsDeleted = true`), read by the extraction, as
 *   before the log was used, and why; `reconcile` when every Id is also compared because the log
 *   could not cover the window (older than its 15 days, or purged since the window began).
 */
export type DeletesSource = { from: 'getDeleted'; staging: string; ids: number } | { from: 'queryAll'; reason: string; reconcile?: true };

export interface PrepareObjectInput {
  object: string;
  namespace: string[];
  runId: string;
  /** How the table is written (default: the object's, defaultWriteMode). */
  writeMode?: WriteModeName;
  /** Ignore the stored cursor and read everything. */
  full?: boolean;
  /** Also remove rows Salesforce no longer has (merge mode only; src/sync/reconcile.ts). */
  reconcile?: boolean;
  /** Columns added to a table with rows: read every row so old rows get their values (default true). */
  backfillNewFields?: boolean;
  /** Read every row so formula (calculated) fields are current: their changes do not move SystemModstamp. */
  refreshFormulas?: boolean;
  /**
   * The table's partition fields ("month(CreatedDate)", "bucket(16, AccountId)"; by field or column
   * name): a new table gets the spec, an existing one whose spec differs gets it as its new default.
   * [] asks for an unpartitioned table; absent, an existing table keeps its spec.
   */
  partitionBy?: string[];
  /** The table's sort order (columns, each optionally " desc"); like partitionBy. */
  sortBy?: string[];
  /** Which of partitionBy and sortBy are the sync's defaults for every object: an object without their columns keeps its table's. */
  syncWideLayout?: ('partitionBy' | 'sortBy')[];
  /**
   * When the window's rows came back whole with prepare's questions, prepare writes them itself and
   * returns the extraction (`PreparedObject.extracted`): the workflow then has no extract step.
   */
  extractSmallWindow?: boolean;
}

/** The small, serialisable result of prepare: what extract and commit work from. */
export interface PreparedObject extends PrepareObjectInput, TableRef {
  table: string;
  writeMode: WriteModeName;
  /** Why the table is written in `writeMode` (chooseWriteMode); absent in results of older workers. */
  writeModeReason?: string;
  cursorField?: string;
  /** The main read's lower bound: the stored cursor, or none when reading everything. */
  after?: string;
  upTo: string;
  /**
   * When this incremental sync reads every row (see rereadReason): the stored cursor, from which
   * the deleted Ids are still read, since `after` is then empty.
   */
  deletedAfter?: string;
  reread?: RereadReason;
  /** Columns the table's rows were written without (filled by a `new-fields` re-read). */
  newColumns?: string[];
  idColumn: string;
  /** The object's CreatedDate field (what the count check bounds by), null when it has none; absent in results of older workers. */
  createdField?: string | null;
  /** Why the sync-wide partitionBy or sortBy was not applied to this object's table (a column it lacks). */
  layoutKept?: string[];
  /** Where this sync's deletes come from (incremental merge only; src/sync/deletes.ts). */
  deletes?: DeletesSource;
  /** Why this sync reconciles though its input did not ask: the delete log could not answer, or the last count check (SYNC_COUNT_CHECK=reconcile). */
  reconcileReason?: string;
  /** Fields describe lists that the integration user cannot read (field-level security): left out of the read, their columns (if any) null on the rows written. */
  hiddenFields?: string[];
  /** Fields left out on purpose (base64), and why. */
  skippedFields?: SkippedField[];
  /** What prepare created for this run (taken back if the sync commits nothing). */
  created?: Created;
  /** The API prepare chose for the read and why (src/sync/read-api.ts); absent in results of older workers. */
  readApi?: ReadApiUsed;
  /** Where prepare staged the window's rows when one REST page in its Composite request held them all (src/sync/prefetch.ts). */
  prefetched?: string;
  /** The extraction prepare ran itself (`extractSmallWindow`): its result, as the extract step's would be. */
  extracted?: ExtractResult;
  /** The API the deleted rows of a queryAll read go through (REST unless their window is large). */
  deletesApi?: 'bulk' | 'rest';
  /** Salesforce's count for the count check, taken by prepare with the window's other questions (an incremental sync's). */
  counted?: CountCheck;
  /** Salesforce requests prepare made (the extraction adds its own; the snapshot records the sum). */
  usage?: UsageCounts;
}

export interface ExtractResult {
  staging: string;
  rows: number;
  files: number;
  bytes: number;
  deleted: number;
  /** Rows a reconciliation found gone from Salesforce (among the deletes), when one ran. */
  reconciled?: number;
  /**
   * Where this attempt's time went, in seconds: waiting for Salesforce pages (and the CPU this
   * process spent parsing them meanwhile), building column buffers, Parquet encoding, uploading.
   */
  timings: StageTimings;
  /** What the sync spent of the org's Salesforce limits so far: prepare and every extraction attempt. */
  usage?: UsageCounts;
}

export interface CommitSummary {
  /** The sync's snapshot; with `unchanged`, the table's current one (the sync added none). */
  snapshotId: string;
  rows: number;
  deleted: number;
  alreadyCommitted: boolean;
  cursor?: string;
  /** The sync found no change: its cursor moved without a new snapshot. */
  unchanged?: true;
  /** How the table was written (absent in results of older workers). */
  writeMode?: WriteModeName;
  /** Why: asked by the sync, the object's default, or append for an object whose only cursor is CreatedDate. */
  writeModeReason?: string;
  /** Which API read the rows, and why REST when it did (Bulk refused the object, or the sync asked for REST); absent when nothing was read. */
  readApi?: ReadApiUsed;
  /** Rows removed because Salesforce no longer has them (a reconciling sync; not counted in `deleted`). */
  reconciled?: number;
  /** Where the deletes came from: Salesforce's delete log, or queryAll and why (incremental merge only). */
  deletesFrom?: string;
  /** Why the sync reconciled on its own (see PreparedObject.reconcileReason). */
  reconcileReason?: string;
  /** Why an object the sync asked to reconcile was not (its write mode). */
  reconcileSkipped?: string;
  /** Why every row was read, when it was. */
  reread?: RereadReason;
  /** Why the sync-wide partitionBy or sortBy was not applied to this object's table (it kept its layout). */
  layoutKept?: string[];
  /** Salesforce's count of what the table holds beside the table's live rows after the commit (SYNC_COUNT_CHECK). */
  countCheck?: CountCheck;
  /** Fields the integration user cannot see (field-level security): not read; a column of an existing table is null on the rows this sync wrote. */
  hiddenFields?: string[];
  /** Fields left out on purpose (base64), and why. */
  skippedFields?: SkippedField[];
}

/**
 * A point an interrupted extraction can resume from: every file written up to `position` is closed
 * and listed (with its keys) in the staging manifest `staging`. Small enough for a heartbeat.
 */
export interface ExtractCheckpoint {
  staging: string;
  rows: number;
  files: number;
  /** The last row written (progress; and the resume point of checkpoints that have no `position`). */
  last?: { id: string; cursor?: string };
  /** Where the read goes on: after a row (REST), or at a Bulk job's next result page. */
  position?: ReadPosition;
  /** Result pages read so far (a partition's checkpoints). */
  pages?: number;
}

export interface ExtractProgress {
  rows: number;
  files: number;
  /** Why the extraction is waiting to try a request again, while it is (cleared by the next page). */
  retrying?: string;
  /** Why the extraction waits for the org's API budget, while it does (see budget.ts). */
  waiting?: string;
  /** Salesforce requests, Bulk jobs and result bytes spent so far, earlier attempts included (a retry goes on from them). */
  usage?: UsageCounts;
  last?: { id: string; cursor?: string };
  checkpoint?: ExtractCheckpoint;
  /** How far a reconciliation got (or why it was skipped). */
  reconciling?: string;
}

export interface ExtractOptions {
  /** Told what changed: rows and files so far, the resume point, why a request is retried. */
  progress?: (p: Partial<ExtractProgress>) => void;
  /** Resume after this checkpoint (from the last heartbeat of a failed attempt). */
  resume?: ExtractCheckpoint;
  /** A completed Bulk job of the window (the plan's) to read instead of creating one. */
  job?: BulkJobRef;
  /** What earlier attempts spent (their last heartbeat's `usage`, prepare's included); default: prepare's. */
  usage?: UsageCounts;
  /** Least time between checkpoints (each closes the open data file). Default 60 s. */
  checkpointMs?: number;
  /**
   * Also compare every Id after the read, in this extraction (a reconciling sync that started
   * before reconciliation was a step of its own). Otherwise the reconcile step does it.
   */
  reconcile?: boolean;
  signal?: AbortSignal;
  /**
   * The window's rows, read by prepare in its Composite request (instead of `PreparedObject.prefetched`,
   * staged): the extraction asks Salesforce nothing, so the API budget does not hold it.
   */
  prefetched?: PrefetchedWindow;
}

/** What a reconcile step staged: the Ids of rows Salesforce no longer has, in a manifest of its own. */
export interface ReconcileResult {
  /** Its staging manifest (no data files; the Ids it found as deletes), committed with the extraction's. */
  staging: string;
  /** Rows found gone from Salesforce; undefined when the object is not reconciled (see reconcileSkipped). */
  reconciled?: number;
  /** What the step spent of the org's Salesforce limits, earlier attempts included. */
  usage: UsageCounts;
}

export interface ReconcileOptions {
  /** Told how far it got (`reconciling`), why it waits or retries, what it spent. */
  progress?: (p: Partial<ExtractProgress>) => void;
  /** What earlier attempts of the step spent (their last heartbeat's `usage`). */
  usage?: UsageCounts;
  signal?: AbortSignal;
}

/**
 * An object an atomic sync extracted but has not committed yet (small: names of staging manifests,
 * never rows): the parent publishes every object's together (src/sync/publish.ts), then cleans up.
 */
export interface StagedObject {
  prepared: PreparedObject;
  /** The staging manifest(s) of its extraction (a partitioned one has several). */
  staging: string | string[];
  /** A partitioned extraction's Bulk job, which the cleanup after the publish deletes. */
  job?: BulkJobRef;
  rows: number;
  files: number;
  deleted: number;
}

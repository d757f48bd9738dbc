import type { TableLayout } from '../iceberg/layout';
import type { WriteMode } from '../iceberg/snapshot-producer';
import type { DataFile, NestedField, PartitionSpec, Schema, SortOrder } from '../iceberg/spec';
import type { ColumnMapping } from '../mapping/schema-mapping';
import type { SalesforceField } from '../salesforce/describe-types';
import type { ObjectStore } from '../storage/object-store';

export interface TableRef {
  namespace: string[];
  table: string;
}

/** What prepare reports: the stored cursor, what it created, and columns the table's rows lack. */
export interface Prepared {
  cursor?: string;
  created: Created;
  /**
   * Columns (fed by a Salesforce field) that the rows already in the table were written without,
   * so they hold nulls there: added by this prepare, or by an earlier sync that committed no data.
   */
  newColumns?: string[];
  /** How prepare changed the table's partition spec or sort order (as people read it), if it did. */
  layoutChanges?: string[];
  /** Salesforce's count the last sync's count check took (its summary's salesforce.count), where the destination keeps it. */
  lastCount?: number;
}

/** What a sync's prepare step created, so that a sync that commits nothing can take it back. */
export interface Created {
  table: boolean;
  namespace: boolean;
}

/** Where an extraction writes: the columns of its data files, the store and the folder. */
export interface WriteTarget {
  columns: NestedField[];
  store: ObjectStore;
  /** The table's location: every file of a run goes under it, named by `runPaths(location, runId)`. */
  location: string;
  /** The table's default partition spec, as its metadata says (absent or no fields: unpartitioned). */
  spec?: PartitionSpec;
  /** The table's schemas (an old spec may read a column only an earlier schema has). */
  schemas?: Schema[];
  /** The table's default sort order (absent: unsorted). */
  sortOrder?: SortOrder;
}

/** What a commit of written files is asked for. */
export interface CommitFilesRequest {
  runId: string;
  files: DataFile[];
  mode: WriteMode;
  properties: Record<string, string>;
  /**
   * A commit that changes no row (no files; nothing to delete; not an overwrite) records the run
   * and its properties (the cursor) without adding a snapshot where the destination can.
   */
  unchangedWithoutSnapshot?: boolean;
  onRetry?: (attempt: number, reason: string) => void;
}

/** What a commit did: its snapshot (`unchanged`: the table's current one, which the run recorded itself against instead of adding one). */
export interface CommitResult {
  snapshotId: string;
  alreadyCommitted: boolean;
  unchanged?: boolean;
  /**
   * The table's live rows as of this commit (its snapshot's totals), where the destination can tell
   * without another read: null when the metadata cannot tell (see `liveRows`), absent when not reported.
   */
  liveRows?: number | null;
}

/** Whether committing `req` would change no row of the table. */
export function changesNoRow(req: Pick<CommitFilesRequest, 'files' | 'mode'>): boolean {
  return req.files.length === 0 && (req.mode.kind === 'append' || (req.mode.kind === 'merge' && req.mode.deleteKeys.length === 0));
}

/**
 * Where synced objects land: Iceberg tables through a REST catalog (the product's job), or a
 * local DuckDB file (DUMP_TO_DUCKDB=true, for debugging). The sync steps only talk to this.
 */
export interface Destination {
  /**
   * Creates the table or evolves it to the describe's fields; returns the cursor the last sync
   * stored and what was created for run `runId`. Files it writes (a new table's first snapshot)
   * are named after `runId`. `described.label` (the object's label) becomes a table property.
   * `layout` (columns by table column name) is the partition spec and sort order a new table is
   * created with, or an existing one evolved to; without it an existing table keeps its own.
   */
  prepare(ref: TableRef, fields: SalesforceField[], mapping: ColumnMapping, runId: string, described?: { label?: string }, layout?: TableLayout): Promise<Prepared>;
  writeTarget(ref: TableRef): Promise<WriteTarget>;
  /** Makes the files the table's content in one atomic step; idempotent per run id. */
  commit(ref: TableRef, req: CommitFilesRequest): Promise<CommitResult>;
  /**
   * Fails (not retryably) unless `commitAll` can commit several tables in one atomic step; absent
   * where it never can (DuckDB).
   */
  checkAtomicPublish?(): Promise<void>;
  /**
   * Commits each item's files to its table, all in one step that readers see whole: every table
   * changes or none. Idempotent per run id (each item's own).
   */
  commitAll?(items: { ref: TableRef; req: CommitFilesRequest }[], onRetry?: (attempt: number, reason: string) => void): Promise<Omit<CommitResult, 'unchanged'>[]>;
  /**
   * Of the files found under a run's prefixes (`written`), those a snapshot of the table may
   * reference: cleanup removes the rest. Idempotent, and needs nothing but the table and the run id.
   */
  runFilesInUse(ref: TableRef, runId: string, written: string[]): Promise<Set<string>>;
  /**
   * Takes back what run `runId` created when no data was ever committed to it (a failed or
   * cancelled first sync changes nothing); true if the table was dropped.
   */
  discardUnused(ref: TableRef, runId: string, created: Created): Promise<boolean>;
  /**
   * Hands `each` the key column's values of the table's live rows, in batches (a reconciling sync
   * compares them with Salesforce's Ids). Streams: never the whole column in memory.
   */
  liveKeys(ref: TableRef, keyColumn: string, each: (keys: string[]) => Promise<void>): Promise<void>;
  /**
   * The table's live rows now (deletes applied), from its metadata where it can tell without a
   * read; undefined when it cannot (equality deletes of another engine, a summary without totals).
   */
  liveRows(ref: TableRef): Promise<number | undefined>;
  /**
   * The cursor the last sync stored, read before `prepare` (which returns it too) so a sync can ask
   * Salesforce its window's questions while it checks the fields; undefined for a table not there yet.
   */
  storedCursor(ref: TableRef): Promise<string | undefined>;
}

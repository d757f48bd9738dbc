import type { DataFile } from '../spec';
import type { IcebergTable } from '../table';

/* What a commit is asked for and what it answers (snapshot-producer.ts re-exports them). */

/**
 * The writer's run a commit belongs to. This layer knows no writer: the writer names the summary
 * key its snapshots record the run under.
 */
export interface WriterRun {
  /** Names every file the commit writes (runPaths) and, under `idKey`, its snapshot. */
  id: string;
  /** The summary key naming the run that committed a snapshot. */
  idKey: string;
}

/** The keys of a writer that commits one snapshot per run and finds it again by the run's id (see committed-runs.ts). */
export interface RunKeys {
  /** The summary key naming the run that committed a snapshot. */
  runId: string;
  /** The table property recording the table's latest runs. */
  runs: string;
  /** The summary key set to `true` on the empty first snapshot the writer gives a table. */
  initialSnapshot: string;
}

/** What a merge replaces: rows of the table whose key is among `keys` or `deleteKeys`. */
export interface MergeKeys {
  keyColumn: string;
  keys: string[] | (() => Promise<string[]>);
  deleteKeys: string[];
}

export type WriteMode =
  /** Add the files; nothing else changes (Iceberg's `append`). */
  | { kind: 'append' }
  /** The files become the whole table (Iceberg's `overwrite`). */
  | { kind: 'overwrite' }
  /**
   * Upsert by key: rows of the table whose key appears in the new files, or in `deleteKeys`, are
   * removed with position deletes; the new files are added (Iceberg's `overwrite`).
   */
  | { kind: 'merge'; keyColumn: string; keys: string[] | (() => Promise<string[]>); deleteKeys: string[] };

/** How a commit attempts, for the commit loop (commitWithRetries). */
export interface RetryOptions {
  maxAttempts?: number;
  /** Called before each retry, for logs and heartbeats. */
  onRetry?: (attempt: number, reason: string) => void;
  /** Called when an attempt's snapshot is built, just before it is sent (progress, tests). */
  beforeCommit?: (attempt: number) => Promise<void>;
  /**
   * The tables were loaded right before the commit: its first attempt builds on them as loaded
   * instead of loading them again (a stale parent is refused by the catalog, 409, and the next
   * attempt reloads).
   */
  justLoaded?: boolean;
}

export interface CommitRequest extends RetryOptions {
  table: IcebergTable;
  runId: string;
  /** The writer's keys its runs are recorded and found by. */
  keys: RunKeys;
  files: DataFile[];
  mode: WriteMode;
  /** Extra summary properties (e.g. the incremental cursor): they commit atomically with the data. */
  properties?: Record<string, string>;
}

/** A snapshot a commit landed. */
export interface CommittedSnapshot {
  snapshotId: bigint;
  sequenceNumber: bigint;
  summary: Record<string, string>;
}

export interface CommitResult extends CommittedSnapshot {
  /** True when the commit's snapshot was already there at the first look (a retried commit). */
  alreadyCommitted: boolean;
  attempts: number;
}

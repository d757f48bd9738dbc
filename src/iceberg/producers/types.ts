import type { DataFile } from '../spec';
import type { IcebergTable } from '../table';

/* What a commit is asked for and what it answers (snapshot-producer.ts re-exports them). */

/** What a merge replaces: rows of the table whose key is among `keys` or `deleteKeys`. */
export interface MergeKeys {
  keyColumn: string;
  keys: string[] | (() => Promise<string[]>);
  deleteKeys: string[];
}

export type WriteMode =
  /** Add the files; nothing else changes. */
  | { kind: 'append' }
  /** The files become the whole table. */
  | { kind: 'replace' }
  /**
   * Upsert by key: rows of the table whose key appears in the new files, or in `deleteKeys`, are
   * removed with position deletes; the new files are added.
   */
  | { kind: 'merge'; keyColumn: string; keys: string[] | (() => Promise<string[]>); deleteKeys: string[] };

export interface CommitRequest {
  table: IcebergTable;
  runId: string;
  files: DataFile[];
  mode: WriteMode;
  /** Extra summary properties (e.g. the incremental cursor): they commit atomically with the data. */
  properties?: Record<string, string>;
  maxAttempts?: number;
  /** Called before each retry, for logs and heartbeats. */
  onRetry?: (attempt: number, reason: string) => void;
  /** Called when an attempt's snapshot is built, just before it is sent (progress, tests). */
  beforeCommit?: (attempt: number) => Promise<void>;
}

export interface CommitResult {
  snapshotId: bigint;
  sequenceNumber: bigint;
  /** True when a snapshot of this run was already there (a retried commit). */
  alreadyCommitted: boolean;
  attempts: number;
  summary: Record<string, string>;
}

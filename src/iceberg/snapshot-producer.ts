import type { DataFile } from './spec';
import type { IcebergTable } from './table';
import { AppendProducer } from './producers/append';
import type { SnapshotProducer } from './producers/base';
import { commitWithRetries } from './producers/commit-retries';
import { MergeProducer } from './producers/merge';
import { OverwriteProducer } from './producers/overwrite';

/*
 * Committing data to a table: one snapshot producer per operation (src/iceberg/producers/: append,
 * overwrite, merge = append + position deletes, on a shared base that writes the manifests, the
 * manifest list and the summary), committed through one retry loop (producers/commit-retries.ts)
 * that is idempotent by run id (producers/committed-runs.ts).
 */

export { findCommittedRun, SYNC_RUN_ID_PROPERTY, SYNC_RUNS_PROPERTY } from './producers/committed-runs';
export { ensureInitialSnapshot, newSnapshotId } from './producers/initial-snapshot';

export type WriteMode =
  /** Add the files; nothing else changes. */
  | { kind: 'append' }
  /** The files become the whole table. */
  | { kind: 'overwrite' }
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

/** The producer of a write mode's snapshot. */
export function producerFor(req: Pick<CommitRequest, 'table' | 'runId' | 'files' | 'mode' | 'properties'>): SnapshotProducer {
  const { table, runId, files, mode, properties } = req;
  switch (mode.kind) {
    case 'append':
      return new AppendProducer(table, runId, files, properties);
    case 'overwrite':
      return new OverwriteProducer(table, runId, files, properties);
    case 'merge':
      return new MergeProducer(table, runId, files, properties, mode);
  }
}

/**
 * Commits one snapshot for a batch of written files. Idempotent by run id; a 409 rebuilds the
 * manifest list (and, for merges, the delete file) on the new parent without rewriting data
 * files; a 5xx/timeout is "state unknown": reload and look for the snapshot before retrying.
 */
export async function commitFiles(req: CommitRequest): Promise<CommitResult> {
  return commitWithRetries(producerFor(req), req);
}

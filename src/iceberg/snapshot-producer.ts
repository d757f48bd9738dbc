import { AppendProducer } from './producers/append';
import type { SnapshotProducer } from './producers/base';
import { commitWithRetries } from './producers/commit-retries';
import { MergeProducer } from './producers/merge';
import { OverwriteProducer } from './producers/overwrite';
import { RewriteProducer, type RewriteFiles } from './producers/rewrite';
import type { CommitRequest, CommitResult, RetryOptions, WriterRun } from './producers/types';

/*
 * Committing to a table: one snapshot producer per Iceberg operation (src/iceberg/producers/:
 * append, overwrite, merge = append + position deletes, and rewrite, Iceberg's `replace`), on one
 * base that writes the manifests, the manifest list and the summary, committed through one loop
 * (producers/commit-retries.ts). A writer's new files are committed once per run, found again by
 * the run's id (producers/committed-runs.ts).
 */

export { findCommittedRun, lastRunSummary, recordUnchangedRun } from './producers/committed-runs';
export { ensureInitialSnapshot } from './producers/initial-snapshot';
export { newSnapshotId } from './producers/snapshot-id';
export type { RewriteFiles } from './producers/rewrite';

export type { CommitRequest, CommitResult, RunKeys, WriteMode, WriterRun } from './producers/types';

/** The producer of a write mode's snapshot. */
export function producerFor(req: Pick<CommitRequest, 'table' | 'runId' | 'keys' | 'files' | 'mode' | 'properties'>): SnapshotProducer {
  const { table, runId, keys, files, mode, properties } = req;
  switch (mode.kind) {
    case 'append':
      return new AppendProducer(table, runId, keys, files, properties);
    case 'overwrite':
      return new OverwriteProducer(table, runId, keys, files, properties);
    case 'merge':
      return new MergeProducer(table, runId, keys, files, properties, mode);
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

/**
 * Commits a rewrite (Iceberg's `replace`: a compaction) through the same loop; RewriteConflictError
 * when the table moved in a way it cannot be rebuilt on.
 */
export async function commitRewrite(table: CommitRequest['table'], run: WriterRun, rewrite: RewriteFiles, opts: RetryOptions = {}): Promise<CommitResult> {
  return commitWithRetries(new RewriteProducer(table, run, rewrite), opts);
}

import { AppendProducer } from './producers/append';
import type { SnapshotProducer } from './producers/base';
import { commitWithRetries } from './producers/commit-retries';
import { MergeProducer } from './producers/merge';
import { ReplaceProducer } from './producers/replace';
import type { CommitRequest, CommitResult } from './producers/types';

/*
 * Committing data to a table: one snapshot producer per operation (src/iceberg/producers/: append,
 * replace, merge = append + position deletes, on a shared base that writes the manifests, the
 * manifest list and the summary), committed through one retry loop (producers/commit-retries.ts)
 * that is idempotent by run id (producers/committed-runs.ts).
 */

export { findCommittedRun, lastSyncSummary, SYNC_RUN_ID_PROPERTY, SYNC_RUNS_PROPERTY } from './producers/committed-runs';
export { ensureInitialSnapshot, newSnapshotId } from './producers/initial-snapshot';

export type { CommitRequest, CommitResult, WriteMode } from './producers/types';

/** The producer of a write mode's snapshot. */
export function producerFor(req: Pick<CommitRequest, 'table' | 'runId' | 'files' | 'mode' | 'properties'>): SnapshotProducer {
  const { table, runId, files, mode, properties } = req;
  switch (mode.kind) {
    case 'append':
      return new AppendProducer(table, runId, files, properties);
    case 'replace':
      return new ReplaceProducer(table, runId, files, properties);
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

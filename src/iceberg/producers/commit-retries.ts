import { CommitConflictError, CommitStateUnknownError } from '../errors';
import type { Snapshot } from '../spec';
import type { CommitResult } from './types';
import type { SnapshotProducer } from './base';
import { findCommittedRun, recordRun } from './committed-runs';
import { ensureInitialSnapshot } from './initial-snapshot';

export interface RetryOptions {
  maxAttempts?: number;
  /** Called before each retry, for logs and heartbeats. */
  onRetry?: (attempt: number, reason: string) => void;
  /** Called when an attempt's snapshot is built, just before it is sent (progress, tests). */
  beforeCommit?: (attempt: number) => Promise<void>;
}

/**
 * The one commit loop, for every operation: reload the table; if a snapshot of this run is there
 * (an earlier attempt or activity landed), return it; else build the producer's snapshot on the
 * current parent and send it, asserting that parent. A conflict (409) deletes what the attempt
 * wrote and goes round again on the new parent, without rewriting data files; a 5xx or timeout is
 * "state unknown": the next pass reloads and looks for the snapshot before building anything.
 */
export async function commitWithRetries(producer: SnapshotProducer, opts: RetryOptions = {}): Promise<CommitResult> {
  const { table, runId } = producer;
  const maxAttempts = opts.maxAttempts ?? 8;
  for (let attempt = 1; ; attempt++) {
    await table.refresh();
    const existing = findCommittedRun(table, runId, producer.snapshotId);
    if (existing) return { ...existing, alreadyCommitted: attempt === 1, attempts: attempt };

    const parent = table.currentSnapshot();
    if (!parent) {
      await ensureInitialSnapshot(table, runId);
      attempt--; // not a failed attempt
      continue;
    }
    const built = await producer.build(parent, attempt);
    await opts.beforeCommit?.(attempt);
    try {
      await sendSnapshot(producer, parent, built.snapshot, built.sequenceNumber);
      return { snapshotId: producer.snapshotId, sequenceNumber: built.sequenceNumber, alreadyCommitted: false, attempts: attempt, summary: built.snapshot.summary };
    } catch (error) {
      const retryable = error instanceof CommitConflictError || error instanceof CommitStateUnknownError;
      // The attempt's own files are garbage unless it landed; a state-unknown commit is checked on
      // the next pass before anything is rebuilt.
      if (error instanceof CommitConflictError) await table.store.delete(built.attemptFiles);
      if (!retryable || attempt >= maxAttempts) throw error;
      opts.onRetry?.(attempt, (error as Error).message);
      await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random())));
    }
  }
}

/** Adds the snapshot and moves `main` to it, only if `main` is still at `parent`; records the run in the same commit. */
async function sendSnapshot(producer: SnapshotProducer, parent: Snapshot, snapshot: Snapshot, sequenceNumber: bigint): Promise<void> {
  const { table } = producer;
  await table.commitToMain(snapshot, BigInt(parent['snapshot-id']), [recordRun(table, producer.runId, producer.snapshotId, sequenceNumber, producer.properties)]);
}

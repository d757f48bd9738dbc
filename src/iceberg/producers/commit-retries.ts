import { CommitConflictError, CommitStateUnknownError } from '../errors';
import type { SnapshotProducer } from './base';
import type { CommitResult, RetryOptions } from './types';

/**
 * The one commit loop, for every operation: reload the table; if the producer's snapshot is there
 * (an earlier attempt or activity landed it), return it; else build the producer's snapshot on the
 * current parent and send it, asserting that parent. A conflict (409) deletes what the attempt
 * wrote and goes round again on the new parent, without rewriting data files; a 5xx or timeout is
 * "state unknown": the next pass reloads and looks for the snapshot before building anything.
 */
export async function commitWithRetries(producer: SnapshotProducer, opts: RetryOptions = {}): Promise<CommitResult> {
  const { table } = producer;
  const maxAttempts = opts.maxAttempts ?? 8;
  for (let attempt = 1; ; attempt++) {
    await table.refresh();
    const landed = producer.landed();
    if (landed) return { ...landed, alreadyCommitted: attempt === 1, attempts: attempt };

    const parent = table.currentSnapshot();
    if (!parent) {
      await producer.withoutParent();
      attempt--; // not a failed attempt
      continue;
    }
    const built = await producer.build(parent, attempt);
    await opts.beforeCommit?.(attempt);
    try {
      await table.commitToMain(built.snapshot, parent['snapshot-id'], producer.updatesWith(built.sequenceNumber));
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

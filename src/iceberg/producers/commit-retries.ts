import { CommitConflictError, CommitStateUnknownError } from '../errors';
import type { Snapshot } from '../spec';
import type { BuiltSnapshot, SnapshotProducer } from './base';
import type { CommitResult, CommittedSnapshot, RetryOptions } from './types';

/** One producer's snapshot of an attempt, built on `parent`. */
export interface BuiltCommit extends BuiltSnapshot {
  producer: SnapshotProducer;
  parent: Snapshot;
}

/** Sends every built snapshot (one table's commit, or one transaction over several tables). */
export type SendCommits = (built: BuiltCommit[]) => Promise<void>;

export interface CommitLoopOptions extends RetryOptions {
  /**
   * Called when some producers' snapshots landed and others did not (a catalog that applied a
   * transaction to some of its tables only): throws. One table is never in this state.
   */
  partlyLanded?: (landed: SnapshotProducer[], missing: SnapshotProducer[]) => never;
}

/**
 * The one commit loop, for every operation and for one table or several at once: reload the
 * tables; if every producer's snapshot is there (an earlier attempt or activity landed it), return
 * them; else build each producer's snapshot on its table's current parent and send them all,
 * asserting those parents. A conflict (409) deletes what the attempt wrote and goes round again on
 * the new parents, without rewriting data files; a 5xx or timeout is "state unknown": the next pass
 * reloads and looks for the snapshots before building anything.
 */
export async function commitAllWithRetries(producers: SnapshotProducer[], send: SendCommits, opts: CommitLoopOptions = {}): Promise<CommitResult[]> {
  const maxAttempts = opts.maxAttempts ?? 8;
  for (let attempt = 1; ; attempt++) {
    if (attempt > 1 || !opts.justLoaded) await Promise.all(producers.map((p) => p.table.refresh()));
    const landed: (CommittedSnapshot | undefined)[] = producers.map((p) => p.landed());
    if (landed.every((l) => l !== undefined)) return landed.map((l) => ({ ...l!, alreadyCommitted: attempt === 1, attempts: attempt }));
    if (landed.some((l) => l !== undefined)) {
      const fail =
        opts.partlyLanded ??
        ((): never => {
          throw new CommitStateUnknownError('some tables hold this commit and others do not');
        });
      fail(
        producers.filter((_, i) => landed[i]),
        producers.filter((_, i) => !landed[i]),
      );
    }
    for (const p of producers) if (!p.table.currentSnapshot()) await p.withoutParent();
    // One table after the other: a merge's build holds its object's keys in memory, one object's at a time.
    const built: BuiltCommit[] = [];
    for (const producer of producers) {
      const parent = producer.table.currentSnapshot()!;
      built.push({ producer, parent, ...(await producer.build(parent, attempt)) });
    }
    await opts.beforeCommit?.(attempt);
    try {
      await send(built);
      return built.map((b) => ({ snapshotId: b.producer.snapshotId, sequenceNumber: b.sequenceNumber, alreadyCommitted: false, attempts: attempt, summary: b.snapshot.summary }));
    } catch (error) {
      const retryable = error instanceof CommitConflictError || error instanceof CommitStateUnknownError;
      // The attempt's own files are garbage unless it landed; a state-unknown commit is checked on
      // the next pass before anything is rebuilt.
      if (error instanceof CommitConflictError) await Promise.all(built.map((b) => b.producer.table.store.delete(b.attemptFiles)));
      if (!retryable || attempt >= maxAttempts) throw error;
      opts.onRetry?.(attempt, (error as Error).message);
      await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random())));
    }
  }
}

/** One producer's snapshot committed to its table (see commitAllWithRetries). */
export async function commitWithRetries(producer: SnapshotProducer, opts: RetryOptions = {}): Promise<CommitResult> {
  const [result] = await commitAllWithRetries(
    [producer],
    async ([b]) => b!.producer.table.commitToMain(b!.snapshot, b!.parent['snapshot-id'], b!.producer.updatesWith(b!.sequenceNumber)),
    opts,
  );
  return result!;
}

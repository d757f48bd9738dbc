import { noLog } from '../log';
import { AtomicPublishUnsupportedError } from '../iceberg/transaction';
import { countMismatchError } from './count-check';
import { committedSummary, countAfterCommit, countBeforeCommit, stagedCommit } from './object-sync';
import type { CommitSummary, StagedObject, SyncContext } from './types';
import { PUBLISH_ID_PROPERTY } from '../table-contract';

/*
 * An atomic sync's publish: every object's extraction is committed to its table in one catalog
 * transaction (src/iceberg/transaction.ts), so readers see all of the sync's tables change at once
 * or none. Each table's snapshot still carries its own object's run id (what makes the commit
 * idempotent and what the cleanup goes by), and all of them the same publish id.
 */

/** Fails, not retryably, unless the destination can commit several tables in one transaction. Reads nothing from Salesforce. */
export async function checkAtomicPublish(ctx: SyncContext): Promise<void> {
  if (!ctx.destination.checkAtomicPublish || !ctx.destination.commitAll) {
    throw new AtomicPublishUnsupportedError(
      'This worker writes to DuckDB (DUMP_TO_DUCKDB=true), which cannot publish several objects in one transaction, so an atomic sync was refused; nothing was read. Sync without atomic, or to an Iceberg REST catalog.',
    );
  }
  await ctx.destination.checkAtomicPublish();
}

/**
 * Commits every staged object in one transaction; returns each object's summary, in order.
 * Idempotent: a retry (after a crash, or a reply that never came) finds the snapshots that landed.
 */
export async function publishObjects(ctx: SyncContext, staged: StagedObject[], publishId: string): Promise<CommitSummary[]> {
  const log = ctx.log ?? noLog;
  if (!ctx.destination.commitAll) await checkAtomicPublish(ctx);
  // Every object counted before the one transaction (SYNC_COUNT_CHECK), as a single object's commit does.
  const counts = await Promise.all(staged.map((s) => countBeforeCommit(ctx, s.prepared)));
  const commits = await Promise.all(
    staged.map((s, i) => stagedCommit(ctx, s.prepared, s.staging, { ...counts[i]!.properties, [PUBLISH_ID_PROPERTY]: publishId }, counts[i]!.calls)),
  );
  const objects = staged.map((s) => s.prepared.object).join(', ');
  const results = await ctx.destination.commitAll!(
    staged.map((s, i) => ({ ref: s.prepared, req: commits[i]!.req })),
    (attempt, reason) => log.warn(`Publish attempt ${attempt} of ${objects} failed: ${reason}; trying again on the tables' new state`),
  );
  log.info(`Published ${objects} in one transaction`, { publishId, snapshots: results.map((r) => r.snapshotId) });
  const summaries: CommitSummary[] = [];
  const mismatches: string[] = [];
  for (const [i, s] of staged.entries()) {
    const summary = committedSummary(ctx, s.prepared, commits[i]!, results[i]!);
    const counted = counts[i]!.counted;
    if (!counted) {
      summaries.push(summary);
      continue;
    }
    const { countCheck, mismatch } = await countAfterCommit(ctx, s.prepared, counted, results[i]!.liveRows);
    if (mismatch) mismatches.push(mismatch);
    summaries.push({ ...summary, countCheck });
  }
  // The transaction stands; the sync fails after it, naming every object whose count differs.
  if (mismatches.length > 0 && ctx.countCheck === 'fail') throw countMismatchError(mismatches.join(' '));
  return summaries;
}

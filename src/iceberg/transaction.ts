import { ERROR_CODES, SyncError } from '../errors';
import type { RestCatalog, TableRequirement, TableUpdate } from './catalog';
import { CatalogError, CommitConflictError, CommitStateUnknownError } from './errors';
import type { SnapshotProducer } from './producers/base';
import { findCommittedRun, recordRun } from './producers/committed-runs';
import { ensureInitialSnapshot } from './producers/initial-snapshot';
import type { CommitResult } from './producers/types';

/*
 * Atomic publish across tables: one snapshot per table, all sent in a single REST
 * `POST /v1/{prefix}/transactions/commit`, which the catalog applies all or none. Readers then never
 * see one table of a sync beside another table's previous state.
 *
 * What the catalogs here do with it:
 * - Nessie (0.99) lists the route in GET /v1/config `endpoints` and commits every table change of
 *   the request as one Nessie commit on its branch: all or none, atomically.
 * - Lakekeeper lists it and applies the changes in one database transaction.
 * - Apache Iceberg's reference server (RESTCatalogServer, 1.10) lists it and serves it, but by its
 *   own account "does not guarantee true transactional atomicity": it checks every table's
 *   requirements first, then commits the tables one after the other. Against a concurrent writer
 *   or a crash between those commits, some tables may change without the others. It is accepted
 *   (the protocol cannot tell it apart), and a partly applied transaction is detected and reported.
 * - A catalog whose `endpoints` leave the route out is refused before anything is read; one that
 *   lists no endpoints at all is asked (an empty transaction): a 404, 405 or 501 refuses it.
 */

/** The route, as catalogs list it in `endpoints`. */
export const TRANSACTION_ENDPOINT = 'POST /v1/{prefix}/transactions/commit';

/** A catalog that cannot commit several tables in one transaction (or none is configured). */
export class AtomicPublishUnsupportedError extends SyncError {
  constructor(message: string) {
    super(message, { code: ERROR_CODES.ATOMIC_PUBLISH_UNSUPPORTED, retryable: false });
  }
}

/**
 * A transaction that landed on some of its tables only: the catalog did not apply it atomically.
 * Not retried: committing the rest now would publish them later than the others anyway.
 */
export class PartialTransactionError extends SyncError {
  constructor(message: string) {
    super(message, { code: ERROR_CODES.ATOMIC_PUBLISH_PARTIAL, retryable: false });
  }
}

/**
 * Fails with AtomicPublishUnsupportedError unless the catalog serves transactions/commit: its
 * `endpoints` say so, or (none listed) an empty transaction is not refused as an unknown route.
 */
export async function checkTransactionSupport(catalog: RestCatalog): Promise<'listed' | 'probed'> {
  await catalog.init();
  const refuse = (why: string) =>
    new AtomicPublishUnsupportedError(
      `The Iceberg catalog at ${catalog.address} cannot commit several tables in one transaction (${why}), so an atomic sync cannot publish its objects together; nothing was read. Sync without atomic, or use a catalog that serves ${TRANSACTION_ENDPOINT} (Nessie, Lakekeeper).`,
    );
  if (catalog.endpoints) {
    if (catalog.endpoints.some((e) => e.replace(/\s+/g, ' ').trim() === TRANSACTION_ENDPOINT)) return 'listed';
    throw refuse(`its configuration lists the routes it serves, and ${TRANSACTION_ENDPOINT} is not among them`);
  }
  try {
    await catalog.commitTransaction([]);
  } catch (error) {
    const status = error instanceof CatalogError ? error.status : undefined;
    if (status === 404 || status === 405 || status === 501) throw refuse(`it answers ${TRANSACTION_ENDPOINT} with HTTP ${status}`);
    // Any other answer (400 for an empty list, say) comes from a route that exists; an unreachable
    // catalog fails as such (retried).
    if (!(error instanceof CatalogError) || status === undefined || status >= 500) throw error;
  }
  return 'probed';
}

export interface TransactionOptions {
  maxAttempts?: number;
  onRetry?: (attempt: number, reason: string) => void;
  /** Called when every table's snapshot is built, just before the transaction is sent (tests). */
  beforeCommit?: (attempt: number) => Promise<void>;
}

/**
 * Commits each producer's snapshot to its table, all in one transaction, idempotently: every table
 * is reloaded first, and when every one already holds its run's snapshot (an earlier attempt or
 * activity landed), those are returned. Some but not all is a catalog that did not apply a
 * transaction atomically: PartialTransactionError. A conflict (409) deletes what the attempt
 * wrote and builds every snapshot again on the tables' new parents; a 5xx or timeout is "state
 * unknown": the next pass reloads and looks before building anything.
 */
export async function commitTransaction(catalog: RestCatalog, producers: SnapshotProducer[], opts: TransactionOptions = {}): Promise<CommitResult[]> {
  const maxAttempts = opts.maxAttempts ?? 8;
  const name = (p: SnapshotProducer) => [...p.table.namespace, p.table.name].join('.');
  for (let attempt = 1; ; attempt++) {
    await Promise.all(producers.map((p) => p.table.refresh()));
    const found = producers.map((p) => findCommittedRun(p.table, p.runId, p.snapshotId));
    if (found.every((f) => f !== undefined)) return found.map((f) => ({ ...f!, alreadyCommitted: attempt === 1, attempts: attempt }));
    if (found.some((f) => f !== undefined)) {
      const landed = producers.filter((_, i) => found[i]).map(name);
      const missing = producers.filter((_, i) => !found[i]).map(name);
      throw new PartialTransactionError(
        `The catalog at ${catalog.address} applied this sync's transaction to ${landed.join(', ')} but not to ${missing.join(', ')}: it does not commit transactions atomically. The tables that changed keep their new snapshots; sync the others again.`,
      );
    }
    for (const p of producers) if (!p.table.currentSnapshot()) await ensureInitialSnapshot(p.table, p.runId);
    // One table after the other: a merge's build holds its object's keys in memory, one object's at a time.
    const built = [];
    for (const p of producers) {
      const parent = p.table.currentSnapshot()!;
      built.push({ producer: p, parentId: BigInt(parent['snapshot-id']), ...(await p.build(parent, attempt)) });
    }
    await opts.beforeCommit?.(attempt);
    try {
      await catalog.commitTransaction(
        built.map(({ producer: p, parentId, snapshot, sequenceNumber }) => {
          const requirements: TableRequirement[] = [
            { type: 'assert-table-uuid', uuid: p.table.metadata['table-uuid'] },
            { type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': parentId },
          ];
          const updates: TableUpdate[] = [
            { action: 'add-snapshot', snapshot },
            { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': snapshot['snapshot-id'] },
            recordRun(p.table, p.runId, p.snapshotId, sequenceNumber, p.properties),
          ];
          return { identifier: { namespace: p.table.namespace, name: p.table.name }, requirements, updates };
        }),
      );
      return built.map((b) => ({ snapshotId: b.producer.snapshotId, sequenceNumber: b.sequenceNumber, alreadyCommitted: false, attempts: attempt, summary: b.snapshot.summary }));
    } catch (error) {
      const retryable = error instanceof CommitConflictError || error instanceof CommitStateUnknownError;
      if (error instanceof CommitConflictError) await Promise.all(built.map((b) => b.producer.table.store.delete(b.attemptFiles)));
      if (!retryable || attempt >= maxAttempts) throw error;
      opts.onRetry?.(attempt, (error as Error).message);
      await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random())));
    }
  }
}

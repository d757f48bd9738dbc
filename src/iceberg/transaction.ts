import { ERROR_CODES, SyncError } from '../errors';
import type { RestCatalog, TableRequirement, TableUpdate } from './catalog';
import { CatalogError } from './errors';
import type { SnapshotProducer } from './producers/base';
import { commitAllWithRetries } from './producers/commit-retries';
import type { CommitResult, RetryOptions } from './producers/types';

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

export type TransactionOptions = RetryOptions;

/**
 * Commits each producer's snapshot to its table, all in one transaction, through the one commit
 * loop (commitAllWithRetries): every table is reloaded first, and when every one already holds its
 * run's snapshot (an earlier attempt or activity landed), those are returned. Some but not all is a
 * catalog that did not apply a transaction atomically: PartialTransactionError. A conflict (409)
 * builds every snapshot again on the tables' new parents; a 5xx or timeout is "state unknown".
 */
export async function commitTransaction(catalog: RestCatalog, producers: SnapshotProducer[], opts: TransactionOptions = {}): Promise<CommitResult[]> {
  const name = (p: SnapshotProducer) => [...p.table.namespace, p.table.name].join('.');
  return commitAllWithRetries(
    producers,
    (built) =>
      catalog.commitTransaction(
        built.map(({ producer: p, parent, snapshot, sequenceNumber }) => {
          const requirements: TableRequirement[] = [
            { type: 'assert-table-uuid', uuid: p.table.metadata['table-uuid'] },
            { type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': parent['snapshot-id'] },
          ];
          const updates: TableUpdate[] = [
            { action: 'add-snapshot', snapshot },
            { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': snapshot['snapshot-id'] },
            ...p.updatesWith(sequenceNumber),
          ];
          return { identifier: { namespace: p.table.namespace, name: p.table.name }, requirements, updates };
        }),
      ),
    {
      ...opts,
      partlyLanded: (landed, missing) => {
        throw new PartialTransactionError(
          `The catalog at ${catalog.address} applied this sync's transaction to ${landed.map(name).join(', ')} but not to ${missing.map(name).join(', ')}: it does not commit transactions atomically. The tables that changed keep their new snapshots; sync the others again.`,
        );
      },
    },
  );
}

import type { LoadTableResult, RestCatalog } from '../iceberg/catalog';
import { ERROR_CODES, SyncError } from '../errors';
import { AlreadyExistsError, IncompatibleSchemaError, NotFoundError } from '../iceberg/errors';
import { liveColumnValues } from '../iceberg/reader';
import { runFilesInUse } from '../iceberg/run-cleanup';
import { commitFiles, ensureInitialSnapshot, lastRunSummary, producerFor, recordUnchangedRun } from '../iceberg/snapshot-producer';
import { checkTransactionSupport, commitTransaction } from '../iceberg/transaction';
import { IcebergTable, loadTable, type OpenTableOptions } from '../iceberg/table';
import { newTableLayout, planLayoutChange, unknownTransforms, type TableLayout } from '../iceberg/layout';
import { columnName, planSchema, type ColumnMapping, type SchemaPlan } from '../mapping/schema-mapping';
import { defaultSortOrder, defaultSpec } from '../iceberg/spec';
import type { SalesforceField } from '../salesforce/describe-types';
import type { ObjectStore } from '../storage/object-store';
import { COUNT_PROPERTY, CREATED_BY_RUN_PROPERTY, CURSOR_PROPERTY, INITIAL_SNAPSHOT_PROPERTY, LABEL_PROPERTY, SYNC_RUN_KEYS } from '../table-contract';
import { changesNoRow, type CommitFilesRequest, type CommitResult, type Created, type Destination, type Prepared, type WriteTarget, type TableRef } from './destination';
import { columnsToFill } from './filled-columns';

/**
 * Opens the table for a Salesforce object: creates namespace and table when missing (format v2,
 * Id as identifier, partitioned and sorted as `layout` asks: else unpartitioned and unsorted), or
 * evolves the existing schema to the describe, and its partition spec and sort order to `layout`
 * (without one, the table keeps its own: also one another engine gave it). A layout that does not
 * fit the table is refused before anything is created or changed. Returns the table, the column
 * plan (which Salesforce field feeds which column) and the layout changes. `runId` names the files
 * of a new table's first, empty snapshot (see `ensureInitialSnapshot`).
 */
export async function prepareTable(
  opts: OpenTableOptions &
    ColumnMapping & {
      fields: SalesforceField[];
      runId: string;
      properties?: Record<string, string>;
      /** Properties set on a new table and brought up to date on an existing one (the object's label). */
      describedProperties?: Record<string, string>;
      /** The partition spec and sort order asked for (by column name); none: a new table has neither, an existing one keeps its own. */
      layout?: TableLayout;
    },
): Promise<{ table: IcebergTable; plan: SchemaPlan; created: boolean; createdNamespace: boolean; layoutChanges: string[] }> {
  const identifier = [...opts.namespace, opts.name].join('.');
  const layout = opts.layout ?? {};
  // A layout that does not fit the columns is refused before anything is created.
  const planned = planSchema(opts.fields, { naming: opts.naming, timeAs: opts.timeAs, table: identifier });
  const newLayout = newTableLayout(planned.schema, layout, identifier);
  const createdNamespace = await opts.catalog.ensureNamespace(opts.namespace);
  if (!(await opts.catalog.tableExists(opts.namespace, opts.name))) {
    const plan = planned;
    try {
      let loaded;
      try {
        loaded = await opts.catalog.createTable(opts.namespace, {
          name: opts.name,
          schema: plan.schema,
          ...newLayout,
          properties: { 'format-version': '2', 'write.format.default': 'parquet', 'write.parquet.compression-codec': 'zstd', ...opts.properties, ...opts.describedProperties },
        });
      } catch (error) {
        // Refused (a spec the catalog does not take, say): the namespace made for it goes too.
        if (createdNamespace && !(error instanceof AlreadyExistsError)) await opts.catalog.dropNamespace(opts.namespace).catch(() => undefined);
        throw error;
      }
      const table = new IcebergTable(opts.catalog, opts.namespace, opts.name, loaded, opts.storeFor(loaded));
      try {
        await ensureInitialSnapshot(table, opts.runId, SYNC_RUN_KEYS);
      } catch (error) {
        // The table is not usable (its storage refused a write, say): take back what was created.
        // The failure stays the one to report; what could not be taken back is added to it.
        const left = await takeBack(opts.catalog, table, createdNamespace);
        if (left && error instanceof Error) error.message += ` (${left})`;
        throw error;
      }
      // The catalog may renumber ids on create: plan again against what it stored.
      const stored = planSchema(opts.fields, {
        naming: opts.naming,
        timeAs: opts.timeAs,
        current: table.schema(),
        lastColumnId: table.metadata['last-column-id'],
        table: identifier,
      });
      // Likewise the spec and sort order: planned again against what the catalog stored, they change nothing (unless it changed them).
      const layoutChanges = await evolveLayout(table, layout);
      return { table, plan: stored, created: true, createdNamespace, layoutChanges };
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
      // Created concurrently: fall through and evolve it like an existing table.
    }
  }
  const table = await loadTable(opts);
  refuseUnwritable(table, identifier);
  // A table made elsewhere without the key column cannot take merges by Id: refused, not altered.
  const idColumn = columnName('Id', opts.naming);
  if (!table.schema().fields.some((f) => f.name === idColumn)) {
    throw new IncompatibleSchemaError(
      `Table ${identifier} exists but has no column "${idColumn}" (the Salesforce Id every synced row is keyed by), so it was left unchanged. Sync into another namespace, or drop or rename the table.`,
    );
  }
  const plan = planSchema(opts.fields, { naming: opts.naming, timeAs: opts.timeAs, current: table.schema(), lastColumnId: table.metadata['last-column-id'], table: identifier });
  // The layout is checked against the table's own columns (and types) before the schema changes.
  planLayoutChange({ ...table.metadata, schemas: [plan.schema], 'current-schema-id': plan.schema['schema-id'] }, layout, identifier);
  await table.evolveSchema(plan, opts.describedProperties);
  const layoutChanges = await evolveLayout(table, layout);
  return { table, plan, created: false, createdNamespace, layoutChanges };
}

/** Makes `layout` the table's default spec and sort order, in one commit (none when it has them); returns what changed. */
async function evolveLayout(table: IcebergTable, layout: TableLayout): Promise<string[]> {
  const change = planLayoutChange(table.metadata, layout, table.identifier);
  if (change.updates.length > 0) await table.commit(change.updates, change.requirements);
  return change.changes;
}

/**
 * A table made elsewhere that this writer cannot commit to correctly is refused before anything is
 * read from Salesforce, and left unchanged: it writes format v2 manifests (v1 has no sequence
 * numbers or delete files; v3 requires row lineage), partitioned by the transforms of
 * iceberg/spec/partition.ts (a table partitioned otherwise by another engine is refused).
 */
function refuseUnwritable(table: IcebergTable, identifier: string): void {
  const version = table.metadata['format-version'];
  if (version !== 2) {
    throw new IncompatibleSchemaError(
      `Table ${identifier} is Iceberg format version ${version}; syncs write format version 2 only, so it was left unchanged. Sync into another namespace, or upgrade the table to version 2 (ALTER TABLE ... SET TBLPROPERTIES ('format-version'='2') in Spark).`,
    );
  }
  const unknown = unknownTransforms(table.metadata);
  if (unknown) {
    throw new IncompatibleSchemaError(
      `Table ${identifier} is partitioned by ${unknown}, so it was left unchanged. Sync into another namespace, or change the table's partitioning with the engine that made it (Spark: ALTER TABLE ... REPLACE PARTITION FIELD).`,
    );
  }
}

/** How far the catalog's clock and the object store's may disagree. */
const CLOCK_SKEW_MS = 10 * 60_000;

/**
 * Drops a table this run created and nobody else wrote to, with nothing left in storage: asks the
 * catalog to purge it (`purgeRequested=true`), and removes what is under its location, listed
 * before the drop — the catalog's metadata files and the run's own (a commit attempt the catalog
 * refused leaves a manifest list no metadata references). Catalogs differ: the reference catalog
 * purges what its metadata references, Nessie purges nothing. Listing first means a table created
 * under the same name after the drop loses nothing. Already gone (404) is fine.
 */
async function dropCreatedTable(catalog: RestCatalog, table: IcebergTable): Promise<{ left?: string }> {
  // Only what was written since the table was created (with room for clocks that disagree): files
  // an earlier table of the same name left at the same location are not this run's to take.
  const created = Math.min(Number(table.metadata['last-updated-ms']), ...(table.metadata['metadata-log'] ?? []).map((m) => Number(m['timestamp-ms'])));
  const files: string[] = [];
  let unlisted: unknown;
  try {
    for await (const o of table.store.list(`${table.location.replace(/\/+$/, '')}/`)) {
      if (!o.lastModified || o.lastModified.getTime() >= created - CLOCK_SKEW_MS) files.push(o.uri);
    }
  } catch (error) {
    // Storage that refuses the listing (a wrong key, say) must not keep the table: it is dropped all the same.
    unlisted = error;
  }
  try {
    await catalog.dropTable(table.namespace, table.name, true);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  if (unlisted !== undefined) return { left: `what was written under ${table.location} could not be listed, so may remain: ${(unlisted as Error).message}` };
  if (files.length === 0) return {};
  try {
    await table.store.delete(files);
  } catch (error) {
    return { left: `${files.length} files under ${table.location} could not be removed: ${(error as Error).message}` };
  }
  return {};
}

/**
 * Drops a table this run just created (and what it wrote: dropCreatedTable), and its namespace if
 * the run created that too. Returns what could not be dropped and why, or nothing. Already gone is
 * fine; a namespace another writer filled meanwhile (409) stays, as it should.
 */
async function takeBack(catalog: RestCatalog, table: IcebergTable, createdNamespace: boolean): Promise<string | undefined> {
  const { namespace, name } = table;
  const identifier = [...namespace, name].join('.');
  let left: string | undefined;
  try {
    left = (await dropCreatedTable(catalog, table)).left;
  } catch (error) {
    return `the table ${identifier} it created could not be dropped again: ${(error as Error).message}`;
  }
  const tableLeft = left ? `the table ${identifier} it created was dropped again, but ${left}` : undefined;
  if (!createdNamespace) return tableLeft;
  try {
    await catalog.dropNamespace(namespace);
  } catch (error) {
    if (!(error instanceof NotFoundError || error instanceof AlreadyExistsError))
      return [tableLeft, `the namespace ${namespace.join('.')} it created could not be dropped again: ${(error as Error).message}`].filter(Boolean).join('; ');
  }
  return tableLeft;
}

export class IcebergDestination implements Destination {
  constructor(
    private readonly catalog: RestCatalog,
    private readonly storeFor: (loaded: LoadTableResult) => ObjectStore,
  ) {}

  private open(ref: TableRef) {
    return loadTable({ catalog: this.catalog, namespace: ref.namespace, name: ref.table, storeFor: this.storeFor });
  }

  async prepare(ref: TableRef, fields: SalesforceField[], mapping: ColumnMapping, runId: string, described: { label?: string } = {}, layout?: TableLayout): Promise<Prepared> {
    const { table, plan, created, createdNamespace, layoutChanges } = await prepareTable({
      catalog: this.catalog,
      namespace: ref.namespace,
      name: ref.table,
      storeFor: this.storeFor,
      fields,
      ...mapping,
      runId,
      properties: { [CREATED_BY_RUN_PROPERTY]: runId },
      describedProperties: described.label ? { [LABEL_PROPERTY]: described.label } : undefined,
      layout,
    });
    // The last sync's summary, not the current snapshot's: another engine may have committed since.
    const synced = lastRunSummary(table, SYNC_RUN_KEYS);
    const newColumns = columnsToFill(
      plan.columns.map((c) => c.field),
      synced,
      plan.added,
    );
    const lastCount = synced?.[COUNT_PROPERTY] === undefined ? undefined : Number(synced[COUNT_PROPERTY]);
    return {
      cursor: synced?.[CURSOR_PROPERTY],
      ...(lastCount !== undefined ? { lastCount } : {}),
      created: { table: created, namespace: createdNamespace },
      newColumns,
      ...(layoutChanges.length > 0 ? { layoutChanges } : {}),
    };
  }

  async writeTarget(ref: TableRef): Promise<WriteTarget> {
    const table = await this.open(ref);
    const spec = defaultSpec(table.metadata);
    const sortOrder = defaultSortOrder(table.metadata);
    return {
      columns: table.schema().fields,
      store: table.store,
      location: table.location,
      spec,
      schemas: table.metadata.schemas,
      ...(sortOrder ? { sortOrder } : {}),
    };
  }

  async commit(ref: TableRef, req: Parameters<Destination['commit']>[1]): Promise<CommitResult> {
    const table = await this.open(ref);
    if (req.unchangedWithoutSnapshot && changesNoRow(req) && table.currentSnapshot()) {
      const recorded = await recordUnchangedRun(table, SYNC_RUN_KEYS, req.runId, req.properties);
      return { snapshotId: recorded.snapshotId.toString(), alreadyCommitted: recorded.alreadyCommitted, unchanged: true };
    }
    const result = await commitFiles({ table, keys: SYNC_RUN_KEYS, ...req, justLoaded: true });
    return { snapshotId: result.snapshotId.toString(), alreadyCommitted: result.alreadyCommitted, liveRows: liveRowsOf(result.summary) ?? null };
  }

  async checkAtomicPublish(): Promise<void> {
    await checkTransactionSupport(this.catalog);
  }

  async commitAll(items: { ref: TableRef; req: CommitFilesRequest }[], onRetry?: (attempt: number, reason: string) => void): Promise<Omit<CommitResult, 'unchanged'>[]> {
    const producers = await Promise.all(items.map(async ({ ref, req }) => producerFor({ table: await this.open(ref), keys: SYNC_RUN_KEYS, ...req })));
    const results = await commitTransaction(this.catalog, producers, { onRetry, justLoaded: true });
    return results.map((r) => ({ snapshotId: r.snapshotId.toString(), alreadyCommitted: r.alreadyCommitted, liveRows: liveRowsOf(r.summary) ?? null }));
  }

  async discardUnused(ref: TableRef, runId: string, created: Created): Promise<boolean> {
    if (!created.table) return false;
    let dropped = false;
    try {
      const table = await this.open(ref);
      // Only a table this run made that never received data: nobody else has written to it.
      const snapshots = table.snapshots();
      const untouched = table.metadata.properties?.[CREATED_BY_RUN_PROPERTY] === runId && snapshots.every((s) => s.summary?.[INITIAL_SNAPSHOT_PROPERTY] === 'true');
      if (!untouched) return false;
      const { left } = await dropCreatedTable(this.catalog, table);
      // Dropped: a retried cleanup finds the table gone; this says what it could not remove.
      if (left) throw new SyncError(`${[...ref.namespace, ref.table].join('.')} was dropped, but ${left}`, { code: ERROR_CODES.S3_ERROR, retryable: true });
      dropped = true;
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    if (created.namespace && (await this.tablesIn(ref.namespace))?.length === 0) {
      try {
        await this.catalog.dropNamespace(ref.namespace);
      } catch (error) {
        // Gone already, or another sync filled it meanwhile (the catalog refuses to drop a
        // non-empty namespace, 409): nothing to do. Anything else fails the cleanup, which is retried.
        if (!(error instanceof NotFoundError || error instanceof AlreadyExistsError)) throw error;
      }
    }
    return dropped;
  }

  /** The namespace's tables; undefined when the namespace is gone (nothing to drop). */
  private async tablesIn(namespace: string[]): Promise<string[] | undefined> {
    try {
      return await this.catalog.listTables(namespace);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  async runFilesInUse(ref: TableRef, runId: string, written: string[]): Promise<Set<string>> {
    return runFilesInUse(await this.open(ref), SYNC_RUN_KEYS, runId, written);
  }

  async liveKeys(ref: TableRef, keyColumn: string, each: (keys: string[]) => Promise<void>): Promise<void> {
    for await (const keys of liveColumnValues(await this.open(ref), keyColumn)) await each(keys);
  }

  async storedCursor(ref: TableRef): Promise<string | undefined> {
    try {
      return lastRunSummary(await this.open(ref), SYNC_RUN_KEYS)?.[CURSOR_PROPERTY];
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  async liveRows(ref: TableRef): Promise<number | undefined> {
    const summary = (await this.open(ref)).currentSnapshot()?.summary;
    return summary ? liveRowsOf(summary) : 0;
  }
}

/** A snapshot's live rows from its summary's totals; undefined when they cannot tell. */
export function liveRowsOf(summary: Record<string, string>): number | undefined {
  // Each position delete of a sync removes one live row; an equality delete may remove any number.
  const total = (key: string) => (summary[key] === undefined ? undefined : Number(summary[key]));
  const records = total('total-records');
  if (records === undefined || (total('total-equality-deletes') ?? 0) > 0) return undefined;
  return records - (total('total-position-deletes') ?? 0);
}

import type { LoadTableResult, RestCatalog } from '../iceberg/catalog';
import { AlreadyExistsError, NotFoundError } from '../iceberg/errors';
import { LABEL_PROPERTY, type ColumnMapping } from '../iceberg/schema-mapping';
import { liveColumnValues } from '../iceberg/reader';
import { runFilesInUse } from '../iceberg/run-cleanup';
import { commitFiles, type WriteMode } from '../iceberg/snapshot-producer';
import type { DataFile, NestedField } from '../iceberg/spec';
import { loadTable, prepareTable } from '../iceberg/table';
import type { SalesforceField } from '../salesforce/describe-types';
import type { ObjectStore } from '../storage/object-store';
import { columnsToFill } from './reread';

/** Summary/state key of the incremental cursor, committed with the data it covers. */
export const CURSOR_PROPERTY = 'salesforce.cursor';

export interface TableRef {
  namespace: string[];
  table: string;
}

/** Table property naming the sync run that created the table (a failed first sync drops it again). */
export const CREATED_BY_RUN_PROPERTY = 'salesforce.created-by-run';

/** What prepare reports: the stored cursor, what it created, and columns the table's rows lack. */
export interface Prepared {
  cursor?: string;
  created: Created;
  /**
   * Columns (fed by a Salesforce field) that the rows already in the table were written without,
   * so they hold nulls there: added by this prepare, or by an earlier sync that committed no data.
   */
  newColumns?: string[];
}

/** What a sync's prepare step created, so that a sync that commits nothing can take it back. */
export interface Created {
  table: boolean;
  namespace: boolean;
}

/** Where an extraction writes: the columns of its data files, the store and the folder. */
export interface StagingArea {
  columns: NestedField[];
  store: ObjectStore;
  /** The table's location: every file of a run goes under it, named by `runPaths(location, runId)`. */
  location: string;
}

/**
 * Where synced objects land: Iceberg tables through a REST catalog (the product's job), or a
 * local DuckDB file (DUMP_TO_DUCKDB=true, for debugging). The sync steps only talk to this.
 */
export interface Destination {
  /**
   * Creates the table or evolves it to the describe's fields; returns the cursor the last sync
   * stored and what was created for run `runId`. Files it writes (a new table's first snapshot)
   * are named after `runId`. `described.label` (the object's label) becomes a table property.
   */
  prepare(ref: TableRef, fields: SalesforceField[], mapping: ColumnMapping, runId: string, described?: { label?: string }): Promise<Prepared>;
  staging(ref: TableRef): Promise<StagingArea>;
  /** Makes the files the table's content in one atomic step; idempotent per run id. */
  commit(
    ref: TableRef,
    req: { runId: string; files: DataFile[]; mode: WriteMode; properties: Record<string, string>; onRetry?: (attempt: number, reason: string) => void },
  ): Promise<{ snapshotId: string; alreadyCommitted: boolean }>;
  /**
   * Of the files found under a run's prefixes (`written`), those a snapshot of the table may
   * reference: cleanup removes the rest. Idempotent, and needs nothing but the table and the run id.
   */
  runFilesInUse(ref: TableRef, runId: string, written: string[]): Promise<Set<string>>;
  /**
   * Takes back what run `runId` created when no data was ever committed to it (a failed or
   * cancelled first sync changes nothing); true if the table was dropped.
   */
  discardUnused(ref: TableRef, runId: string, created: Created): Promise<boolean>;
  /**
   * Hands `each` the key column's values of the table's live rows, in batches (a reconciling sync
   * compares them with Salesforce's Ids). Streams: never the whole column in memory.
   */
  liveKeys(ref: TableRef, keyColumn: string, each: (keys: string[]) => Promise<void>): Promise<void>;
}

export class IcebergDestination implements Destination {
  constructor(
    private readonly catalog: RestCatalog,
    private readonly storeFor: (loaded: LoadTableResult) => ObjectStore,
  ) {}

  private open(ref: TableRef) {
    return loadTable({ catalog: this.catalog, namespace: ref.namespace, name: ref.table, storeFor: this.storeFor });
  }

  async prepare(ref: TableRef, fields: SalesforceField[], mapping: ColumnMapping, runId: string, described: { label?: string } = {}): Promise<Prepared> {
    const { table, plan, created, createdNamespace } = await prepareTable({
      catalog: this.catalog, namespace: ref.namespace, name: ref.table, storeFor: this.storeFor, fields, ...mapping, runId, properties: { [CREATED_BY_RUN_PROPERTY]: runId },
      describedProperties: described.label ? { [LABEL_PROPERTY]: described.label } : undefined,
    });
    const newColumns = columnsToFill(plan.columns.map((c) => c.field), table.currentSnapshot()?.summary, plan.added);
    return { cursor: table.currentSnapshot()?.summary?.[CURSOR_PROPERTY], created: { table: created, namespace: createdNamespace }, newColumns };
  }

  async staging(ref: TableRef): Promise<StagingArea> {
    const table = await this.open(ref);
    return { columns: table.schema().fields, store: table.store, location: table.location };
  }

  async commit(ref: TableRef, req: Parameters<Destination['commit']>[1]): Promise<{ snapshotId: string; alreadyCommitted: boolean }> {
    const result = await commitFiles({ table: await this.open(ref), ...req });
    return { snapshotId: result.snapshotId.toString(), alreadyCommitted: result.alreadyCommitted };
  }

  async discardUnused(ref: TableRef, runId: string, created: Created): Promise<boolean> {
    if (!created.table) return false;
    let dropped = false;
    try {
      const table = await this.open(ref);
      // Only a table this run made that never received data: nobody else has written to it.
      const snapshots = table.snapshots();
      const untouched = table.metadata.properties?.[CREATED_BY_RUN_PROPERTY] === runId && snapshots.every((s) => s.summary?.['salesforce.initial-snapshot'] === 'true');
      if (!untouched) return false;
      await this.catalog.dropTable(ref.namespace, ref.table, true);
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
    return runFilesInUse(await this.open(ref), runId, written);
  }

  async liveKeys(ref: TableRef, keyColumn: string, each: (keys: string[]) => Promise<void>): Promise<void> {
    for await (const keys of liveColumnValues(await this.open(ref), keyColumn)) await each(keys);
  }
}

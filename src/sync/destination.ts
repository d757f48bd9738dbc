import type { LoadTableResult, RestCatalog } from '../iceberg/catalog';
import type { NamingConvention } from '../iceberg/schema-mapping';
import { commitFiles, type WriteMode } from '../iceberg/snapshot-producer';
import type { DataFile, NestedField } from '../iceberg/spec';
import { loadTable, prepareTable } from '../iceberg/table';
import type { SalesforceField } from '../salesforce/describe-types';
import type { ObjectStore } from '../storage/object-store';

/** Summary/state key of the incremental cursor, committed with the data it covers. */
export const CURSOR_PROPERTY = 'salesforce.cursor';

export interface TableRef {
  namespace: string[];
  table: string;
}

/** Where an extraction writes: the columns of its data files, the store and the folder. */
export interface StagingArea {
  columns: NestedField[];
  store: ObjectStore;
  /** Data files go under `<location>/data/`, staging manifests under `<location>/staging/`. */
  location: string;
}

/**
 * Where synced objects land: Iceberg tables through a REST catalog (the product's job), or a
 * local DuckDB file (DUMP_TO_DUCKDB=true, for debugging). The sync steps only talk to this.
 */
export interface Destination {
  /** Creates the table or evolves it to the describe's fields; returns the cursor the last sync stored. */
  prepare(ref: TableRef, fields: SalesforceField[], naming: NamingConvention): Promise<{ cursor?: string }>;
  staging(ref: TableRef): Promise<StagingArea>;
  /** Makes the files the table's content in one atomic step; idempotent per run id. */
  commit(ref: TableRef, req: { runId: string; files: DataFile[]; mode: WriteMode; properties: Record<string, string> }): Promise<{ snapshotId: string; alreadyCommitted: boolean }>;
  /** Data files the table still uses (cleanup keeps them). */
  liveFiles(ref: TableRef): Promise<Set<string>>;
}

export class IcebergDestination implements Destination {
  constructor(
    private readonly catalog: RestCatalog,
    private readonly storeFor: (loaded: LoadTableResult) => ObjectStore,
  ) {}

  private open(ref: TableRef) {
    return loadTable({ catalog: this.catalog, namespace: ref.namespace, name: ref.table, storeFor: this.storeFor });
  }

  async prepare(ref: TableRef, fields: SalesforceField[], naming: NamingConvention): Promise<{ cursor?: string }> {
    const { table } = await prepareTable({ catalog: this.catalog, namespace: ref.namespace, name: ref.table, storeFor: this.storeFor, fields, naming });
    return { cursor: table.currentSnapshot()?.summary?.[CURSOR_PROPERTY] };
  }

  async staging(ref: TableRef): Promise<StagingArea> {
    const table = await this.open(ref);
    return { columns: table.schema().fields, store: table.store, location: table.location };
  }

  async commit(ref: TableRef, req: Parameters<Destination['commit']>[1]): Promise<{ snapshotId: string; alreadyCommitted: boolean }> {
    const result = await commitFiles({ table: await this.open(ref), ...req });
    return { snapshotId: result.snapshotId.toString(), alreadyCommitted: result.alreadyCommitted };
  }

  async liveFiles(ref: TableRef): Promise<Set<string>> {
    const entries = await (await this.open(ref)).liveEntries();
    return new Set([...entries.data, ...entries.deletes].map((e) => e.dataFile.filePath));
  }
}

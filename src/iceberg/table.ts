import type { SalesforceField } from '../salesforce/describe-types';
import type { ObjectStore } from '../storage/object-store';
import type { LoadTableResult, Namespace, RestCatalog, TableRequirement, TableUpdate } from './catalog';
import { AlreadyExistsError, IncompatibleSchemaError, NotFoundError } from './errors';
import { ensureInitialSnapshot } from './snapshot-producer';
import { decodeManifest, decodeManifestList } from './manifest';
import { columnName, planSchema, type ColumnMapping, type SchemaPlan } from './schema-mapping';
import {
  currentSchema,
  currentSnapshot,
  EntryStatus,
  FileContent,
  ManifestContent,
  type ManifestEntry,
  type ManifestFile,
  type Snapshot,
  type TableMetadata,
} from './spec';

/** A loaded table: its metadata plus what is needed to read and write its files. */
export class IcebergTable {
  constructor(
    readonly catalog: RestCatalog,
    readonly namespace: Namespace,
    readonly name: string,
    public loaded: LoadTableResult,
    /** Object store for this table (built from its config: vended credentials, endpoint). */
    readonly store: ObjectStore,
  ) {}

  get metadata(): TableMetadata {
    return this.loaded.metadata;
  }

  get location(): string {
    return this.metadata.location.replace(/\/+$/, '');
  }

  get identifier(): string {
    return [...this.namespace, this.name].join('.');
  }

  async refresh(): Promise<this> {
    this.loaded = await this.catalog.loadTable(this.namespace, this.name);
    return this;
  }

  currentSnapshot(): Snapshot | undefined {
    return currentSnapshot(this.metadata);
  }

  schema() {
    return currentSchema(this.metadata);
  }

  snapshots(): Snapshot[] {
    return this.metadata.snapshots ?? [];
  }

  async manifests(snapshot = this.currentSnapshot()): Promise<ManifestFile[]> {
    if (!snapshot) return [];
    return decodeManifestList(await this.store.get(snapshot['manifest-list']));
  }

  /** Live (added or existing) entries of a snapshot, data and delete files. */
  async liveEntries(snapshot = this.currentSnapshot()): Promise<{ data: ManifestEntry[]; deletes: ManifestEntry[] }> {
    return this.liveEntriesOf(await this.manifests(snapshot));
  }

  /** Live entries of already-read manifests (a commit has the parent's list in hand). */
  async liveEntriesOf(manifests: ManifestFile[]): Promise<{ data: ManifestEntry[]; deletes: ManifestEntry[] }> {
    const data: ManifestEntry[] = [];
    const deletes: ManifestEntry[] = [];
    for (const manifest of manifests) {
      const entries = decodeManifest(await this.store.get(manifest.manifestPath), manifest);
      for (const entry of entries) {
        if (entry.status === EntryStatus.Deleted) continue;
        (manifest.content === ManifestContent.Deletes ? deletes : data).push(entry);
      }
    }
    if (deletes.some((d) => d.dataFile.content === FileContent.EqualityDeletes)) {
      throw new Error(`${this.identifier} has equality delete files, which this reader does not apply`);
    }
    return { data, deletes };
  }

  /**
   * Commits a schema change planned by `planSchema` (new optional columns, promotions, docs) on its
   * own, guarded so it applies only to the schema it was planned from; `properties` that differ
   * from the table's go into the same commit.
   */
  async evolveSchema(plan: SchemaPlan, properties: Record<string, string> = {}): Promise<void> {
    const changedProperties = Object.fromEntries(Object.entries(properties).filter(([k, v]) => this.metadata.properties?.[k] !== v));
    const setProperties = Object.keys(changedProperties).length > 0;
    if (!plan.changed && !setProperties) return;
    const current = this.schema();
    const requirements: TableRequirement[] = [{ type: 'assert-table-uuid', uuid: this.metadata['table-uuid'] }];
    const updates: TableUpdate[] = [];
    if (plan.changed) {
      const nextId = Math.max(...this.metadata.schemas.map((s) => s['schema-id'])) + 1;
      const schema = { ...plan.schema, 'schema-id': nextId };
      requirements.push(
        { type: 'assert-current-schema-id', 'current-schema-id': current['schema-id'] },
        { type: 'assert-last-assigned-field-id', 'last-assigned-field-id': this.metadata['last-column-id'] },
      );
      updates.push({ action: 'add-schema', schema, 'last-column-id': plan.lastColumnId }, { action: 'set-current-schema', 'schema-id': -1 });
    }
    if (setProperties) updates.push({ action: 'set-properties', updates: changedProperties });
    const result = await this.catalog.commitTable(this.namespace, this.name, requirements, updates);
    this.loaded = { ...this.loaded, metadata: result.metadata, 'metadata-location': result['metadata-location'] };
  }
}

export interface OpenTableOptions {
  catalog: RestCatalog;
  namespace: Namespace;
  name: string;
  /** Builds the object store for a table from the catalog's config for it. */
  storeFor: (loaded: LoadTableResult) => ObjectStore;
}

export async function loadTable(opts: OpenTableOptions): Promise<IcebergTable> {
  const loaded = await opts.catalog.loadTable(opts.namespace, opts.name);
  return new IcebergTable(opts.catalog, opts.namespace, opts.name, loaded, opts.storeFor(loaded));
}

/**
 * Opens the table for a Salesforce object: creates namespace and table when missing (format v2,
 * unpartitioned, Id as identifier), or evolves the existing schema to the describe. Returns the
 * table and the column plan (which Salesforce field feeds which column). `runId` names the files of
 * a new table's first, empty snapshot (see `ensureInitialSnapshot`).
 */
export async function prepareTable(
  opts: OpenTableOptions &
    ColumnMapping & {
      fields: SalesforceField[];
      runId: string;
      properties?: Record<string, string>;
      /** Properties set on a new table and brought up to date on an existing one (the object's label). */
      describedProperties?: Record<string, string>;
    },
): Promise<{ table: IcebergTable; plan: SchemaPlan; created: boolean; createdNamespace: boolean }> {
  const createdNamespace = await opts.catalog.ensureNamespace(opts.namespace);
  const identifier = [...opts.namespace, opts.name].join('.');
  if (!(await opts.catalog.tableExists(opts.namespace, opts.name))) {
    const plan = planSchema(opts.fields, { naming: opts.naming, timeAs: opts.timeAs, table: identifier });
    try {
      const loaded = await opts.catalog.createTable(opts.namespace, {
        name: opts.name,
        schema: plan.schema,
        'partition-spec': { 'spec-id': 0, fields: [] },
        'write-order': { 'order-id': 0, fields: [] },
        properties: { 'format-version': '2', 'write.format.default': 'parquet', 'write.parquet.compression-codec': 'zstd', ...opts.properties, ...opts.describedProperties },
      });
      const table = new IcebergTable(opts.catalog, opts.namespace, opts.name, loaded, opts.storeFor(loaded));
      try {
        await ensureInitialSnapshot(table, opts.runId);
      } catch (error) {
        // The table is not usable (its storage refused a write, say): take back what was created.
        // The failure stays the one to report; what could not be taken back is added to it.
        const left = await takeBack(opts.catalog, opts.namespace, opts.name, createdNamespace);
        if (left && error instanceof Error) error.message += ` (${left})`;
        throw error;
      }
      // The catalog may renumber ids on create: plan again against what it stored.
      const stored = planSchema(opts.fields, { naming: opts.naming, timeAs: opts.timeAs, current: table.schema(), lastColumnId: table.metadata['last-column-id'], table: identifier });
      return { table, plan: stored, created: true, createdNamespace };
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
      // Created concurrently: fall through and evolve it like an existing table.
    }
  }
  const table = await loadTable(opts);
  // A table made elsewhere without the key column cannot take merges by Id: refused, not altered.
  const idColumn = columnName('Id', opts.naming);
  if (!table.schema().fields.some((f) => f.name === idColumn)) {
    throw new IncompatibleSchemaError(
      `Table ${identifier} exists but has no column "${idColumn}" (the Salesforce Id every synced row is keyed by), so it was left unchanged. Sync into another namespace, or drop or rename the table.`,
    );
  }
  const plan = planSchema(opts.fields, { naming: opts.naming, timeAs: opts.timeAs, current: table.schema(), lastColumnId: table.metadata['last-column-id'], table: identifier });
  await table.evolveSchema(plan, opts.describedProperties);
  return { table, plan, created: false, createdNamespace };
}

/**
 * Drops a table this run just created, and its namespace if the run created that too. Returns what
 * could not be dropped and why, or nothing. Already gone is fine; a namespace another writer filled
 * meanwhile (409) stays, as it should.
 */
async function takeBack(catalog: RestCatalog, namespace: string[], name: string, createdNamespace: boolean): Promise<string | undefined> {
  const identifier = [...namespace, name].join('.');
  try {
    await catalog.dropTable(namespace, name, true);
  } catch (error) {
    if (!(error instanceof NotFoundError)) return `the table ${identifier} it created could not be dropped again: ${(error as Error).message}`;
  }
  if (!createdNamespace) return undefined;
  try {
    await catalog.dropNamespace(namespace);
  } catch (error) {
    if (!(error instanceof NotFoundError || error instanceof AlreadyExistsError)) return `the namespace ${namespace.join('.')} it created could not be dropped again: ${(error as Error).message}`;
  }
  return undefined;
}

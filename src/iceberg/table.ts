import type { ObjectStore } from '../storage/object-store';
import type { LoadTableResult, Namespace, RestCatalog, TableRequirement, TableUpdate } from './catalog';
import { decodeManifest, decodeManifestList } from './manifest';
import {
  currentSchema,
  currentSnapshot,
  EntryStatus,
  FileContent,
  ManifestContent,
  type ManifestEntry,
  type ManifestFile,
  type Schema,
  type Snapshot,
  type TableMetadata,
} from './spec';
import { ERROR_CODES, SyncError } from '../errors';

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
      throw new SyncError(`${this.identifier} has equality delete files, which this reader does not apply`, { code: ERROR_CODES.TABLE_UNSUPPORTED, retryable: false });
    }
    return { data, deletes };
  }

  /**
   * Commits a schema change (new optional columns, promotions, docs — planned by the caller) on
   * its own, guarded so it applies only to the schema it was planned from; `properties` that
   * differ from the table's go into the same commit.
   */
  async evolveSchema(plan: SchemaChange, properties: Record<string, string> = {}): Promise<void> {
    const changedProperties = Object.fromEntries(Object.entries(properties).filter(([k, v]) => this.metadata.properties?.[k] !== v));
    const setProperties = Object.keys(changedProperties).length > 0;
    if (!plan.changed && !setProperties) return;
    const current = this.schema();
    const requirements: TableRequirement[] = [];
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
    await this.commit(updates, requirements);
  }

  /**
   * Commits `updates` to this table (guarded by its uuid, and by `requirements`); the table then
   * holds the metadata the catalog answered.
   */
  async commit(updates: TableUpdate[], requirements: TableRequirement[] = []): Promise<void> {
    const result = await this.catalog.commitTable(this.namespace, this.name, [{ type: 'assert-table-uuid', uuid: this.metadata['table-uuid'] }, ...requirements], updates);
    this.loaded = { ...this.loaded, metadata: result.metadata, 'metadata-location': result['metadata-location'] };
  }

  /**
   * Commits `updates` only if `main` is still at `parentId` (null: the table has no snapshot yet).
   * A moved `main` is the catalog's CommitConflictError.
   */
  async commitOnMain(parentId: bigint | null, updates: TableUpdate[]): Promise<void> {
    await this.commit(updates, [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': parentId }]);
  }

  /**
   * Adds `snapshot` and moves `main` to it, only if `main` is still at `parentId` (null: the table
   * has no snapshot yet); `more` updates go in the same commit. A moved `main` is the catalog's
   * CommitConflictError.
   */
  async commitToMain(snapshot: Snapshot, parentId: bigint | null, more: TableUpdate[] = []): Promise<void> {
    await this.commitOnMain(parentId, [
      { action: 'add-snapshot', snapshot },
      { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': snapshot['snapshot-id'] },
      ...more,
    ]);
  }
}

/** A table's next schema as its caller planned it, and whether it differs from the current one. */
export interface SchemaChange {
  schema: Schema;
  lastColumnId: number;
  changed: boolean;
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

import { ERROR_CODES, SyncError } from '../../errors';
/**
 * The parts of the Iceberg table spec (format v2) this project reads and writes, as typed data.
 * Field names follow the spec's JSON exactly so these types double as the wire model of the REST
 * catalog. 64-bit ids (snapshot ids, sequence numbers) are `bigint` from the moment the catalog's
 * JSON is parsed (iceberg/json.ts) to the moment it is written back.
 */

export type PrimitiveType =
  | 'boolean'
  | 'int'
  | 'long'
  | 'float'
  | 'double'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'string'
  | 'uuid'
  | 'binary'
  | `decimal(${number}, ${number})`
  | `fixed[${number}]`;

export interface NestedField {
  id: number;
  name: string;
  required: boolean;
  type: PrimitiveType;
  doc?: string;
}

export interface Schema {
  type: 'struct';
  'schema-id': number;
  'identifier-field-ids'?: number[];
  fields: NestedField[];
}

export interface PartitionSpec {
  'spec-id': number;
  fields: { 'source-id': number; 'field-id': number; name: string; transform: string }[];
}

export interface SortOrder {
  'order-id': number;
  fields: { transform: string; 'source-id': number; direction: 'asc' | 'desc'; 'null-order': 'nulls-first' | 'nulls-last' }[];
}

export type SnapshotOperation = 'append' | 'replace' | 'overwrite' | 'delete';

export interface Snapshot {
  'snapshot-id': bigint;
  'parent-snapshot-id'?: bigint | null;
  'sequence-number': bigint;
  'timestamp-ms': number;
  'manifest-list': string;
  summary: { operation: SnapshotOperation } & Record<string, string>;
  'schema-id'?: number;
}

export interface SnapshotRef {
  'snapshot-id': bigint;
  type: 'branch' | 'tag';
}

export interface TableMetadata {
  'format-version': 1 | 2 | 3;
  'table-uuid': string;
  location: string;
  'last-sequence-number'?: bigint;
  'last-updated-ms': number;
  'last-column-id': number;
  'current-schema-id': number;
  schemas: Schema[];
  'default-spec-id': number;
  'partition-specs': PartitionSpec[];
  'last-partition-id'?: number;
  'default-sort-order-id'?: number;
  'sort-orders'?: SortOrder[];
  properties?: Record<string, string>;
  'current-snapshot-id'?: bigint | null;
  snapshots?: Snapshot[];
  refs?: Record<string, SnapshotRef>;
  /** When each snapshot became current (catalogs that keep history list every one). */
  'snapshot-log'?: { 'snapshot-id': bigint; 'timestamp-ms': number }[];
  /** Earlier metadata files of the table, oldest first. */
  'metadata-log'?: { 'metadata-file': string; 'timestamp-ms': number }[];
  /** Table statistics files (Puffin) and partition statistics files, per snapshot. */
  statistics?: { 'snapshot-id': bigint; 'statistics-path': string }[];
  'partition-statistics'?: { 'snapshot-id': bigint; 'statistics-path': string }[];
}

/** Content of a data or delete file, as in manifest entries. */
export enum FileContent {
  Data = 0,
  PositionDeletes = 1,
  EqualityDeletes = 2,
}

/** Status of a manifest entry. */
export enum EntryStatus {
  Existing = 0,
  Added = 1,
  Deleted = 2,
}

/**
 * A partition value, in the canonical form of its Iceberg type: int, date (days) and the
 * year/month/day/hour/bucket results: number; long, time, timestamp(tz) (microseconds) and decimal
 * (unscaled): bigint; string; binary, fixed, uuid: Uint8Array; boolean; float/double: number.
 */
export type PartitionValue = number | bigint | string | boolean | Uint8Array | null;

/** The partition tuple of a data file, one value per field of its spec, in the spec's order. */
export type PartitionTuple = PartitionValue[];

/** A data or delete file as a manifest records it. */
export interface DataFile {
  content: FileContent;
  filePath: string;
  fileFormat: 'PARQUET';
  /** The partition spec the file was written with (undefined: the table's default spec). */
  specId?: number;
  /**
   * The file's partition tuple, one value per field of its spec in the spec's order, in the
   * canonical forms of spec/partition.ts (empty or undefined: unpartitioned).
   */
  partition?: PartitionTuple;
  recordCount: bigint;
  fileSizeInBytes: bigint;
  columnSizes?: Map<number, bigint>;
  valueCounts?: Map<number, bigint>;
  nullValueCounts?: Map<number, bigint>;
  nanValueCounts?: Map<number, bigint>;
  lowerBounds?: Map<number, Uint8Array>;
  upperBounds?: Map<number, Uint8Array>;
  splitOffsets?: bigint[];
  equalityIds?: number[];
  sortOrderId?: number;
}

export interface ManifestEntry {
  status: EntryStatus;
  snapshotId: bigint | null;
  sequenceNumber: bigint | null;
  fileSequenceNumber: bigint | null;
  dataFile: DataFile;
}

export enum ManifestContent {
  Data = 0,
  Deletes = 1,
}

export interface ManifestFile {
  manifestPath: string;
  manifestLength: bigint;
  partitionSpecId: number;
  content: ManifestContent;
  sequenceNumber: bigint;
  minSequenceNumber: bigint;
  addedSnapshotId: bigint;
  addedFilesCount: number;
  existingFilesCount: number;
  deletedFilesCount: number;
  addedRowsCount: bigint;
  existingRowsCount: bigint;
  deletedRowsCount: bigint;
  /** Per partition field, what the manifest's files hold (manifest-list pruning); kept as read for manifests carried over. */
  partitions?: FieldSummary[];
}

/** A manifest's summary of one partition field (spec: "Manifest Lists", field_summary). */
export interface FieldSummary {
  containsNull: boolean;
  containsNan?: boolean | null;
  lowerBound?: Uint8Array | null;
  upperBound?: Uint8Array | null;
}

/** Reserved field ids of position delete files (spec: "Position Delete Files"). */
export const POSITION_DELETE_FILE_PATH_ID = 2147483546;
export const POSITION_DELETE_POS_ID = 2147483545;

export function currentSchema(metadata: TableMetadata): Schema {
  const schema = metadata.schemas.find((s) => s['schema-id'] === metadata['current-schema-id']);
  if (!schema) throw new SyncError(`table metadata has no schema ${metadata['current-schema-id']}`, { code: ERROR_CODES.TABLE_INVALID, retryable: false });
  return schema;
}

export function currentSnapshot(metadata: TableMetadata, ref = 'main'): Snapshot | undefined {
  const id = metadata.refs?.[ref]?.['snapshot-id'] ?? (ref === 'main' ? metadata['current-snapshot-id'] : undefined);
  if (id === undefined || id === null || id === -1n) return undefined;
  return metadata.snapshots?.find((s) => s['snapshot-id'] === id);
}

export function parseDecimal(type: PrimitiveType): { precision: number; scale: number } | undefined {
  const match = /^decimal\((\d+),\s*(\d+)\)$/.exec(type);
  return match ? { precision: Number(match[1]), scale: Number(match[2]) } : undefined;
}

/** The table's default partition spec (an unpartitioned one when the metadata lists none). */
export function defaultSpec(metadata: TableMetadata): PartitionSpec {
  return metadata['partition-specs'].find((s) => s['spec-id'] === metadata['default-spec-id']) ?? { 'spec-id': metadata['default-spec-id'] ?? 0, fields: [] };
}

/** The table's default sort order (undefined: unsorted). */
export function defaultSortOrder(metadata: TableMetadata): SortOrder | undefined {
  const order = metadata['sort-orders']?.find((o) => o['order-id'] === metadata['default-sort-order-id']);
  return order && order.fields.length > 0 ? order : undefined;
}

import { readAvroFile, writeAvroFile } from './avro-file';
import { toJson } from './json';
import { ERROR_CODES, SyncError } from '../errors';
import { compareBytes, encodeBound } from './spec/bounds';
import {
  EntryStatus,
  FileContent,
  ManifestContent,
  parseDecimal,
  type FieldSummary,
  type ManifestEntry,
  type ManifestFile,
  type PartitionSpec,
  type PrimitiveType,
  type Schema,
} from './spec';
import type { PartitionFieldType, PartitionTuple, PartitionValue } from './spec/partition';

/*
 * Manifests and manifest lists as the Iceberg v2 spec defines them ("Manifests", "Manifest
 * Lists"). The Avro schemas carry the spec's field ids: readers resolve fields by id, not name.
 */

const nullable = (type: unknown) => ['null', type];

function mapField(name: string, id: number, keyId: number, valueId: number, valueType: string) {
  return {
    name,
    'field-id': id,
    default: null,
    type: nullable({
      type: 'array',
      logicalType: 'map',
      items: {
        type: 'record',
        name: `k${keyId}_v${valueId}`,
        fields: [
          { name: 'key', type: 'int', 'field-id': keyId },
          { name: 'value', type: valueType, 'field-id': valueId },
        ],
      },
    }),
  };
}

/** Avro names allow letters, digits and `_` only: others become `_x<hex>` (as Iceberg's Java writer does). */
function avroName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_]/g, (c) => `_x${c.codePointAt(0)!.toString(16).toUpperCase()}`);
  return /^[A-Za-z_]/.test(s) ? s : `_${s}`;
}

/** Bytes of a fixed that holds any unscaled value of a decimal of this precision. */
function decimalBytes(precision: number): number {
  let bytes = 1;
  while (2n ** BigInt(8 * bytes - 1) <= 10n ** BigInt(precision)) bytes++;
  return bytes;
}

/** The Avro type of a partition value of an Iceberg type (spec: "Avro" type mapping). */
function avroPartitionType(type: PrimitiveType, fieldId: number): unknown {
  const decimal = parseDecimal(type);
  if (decimal)
    return { type: 'fixed', name: `decimal_${fieldId}`, size: decimalBytes(decimal.precision), logicalType: 'decimal', precision: decimal.precision, scale: decimal.scale };
  const fixed = /^fixed\[(\d+)\]$/.exec(type);
  if (fixed) return { type: 'fixed', name: `fixed_${fieldId}`, size: Number(fixed[1]) };
  switch (type) {
    case 'date':
      return { type: 'int', logicalType: 'date' };
    case 'time':
      return { type: 'long', logicalType: 'time-micros' };
    case 'timestamp':
      return { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': false };
    case 'timestamptz':
      return { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': true };
    case 'uuid':
      return { type: 'fixed', name: `uuid_${fieldId}`, size: 16, logicalType: 'uuid' };
    case 'binary':
      return 'bytes';
    default:
      return type;
  }
}

/** The partition tuple as an Avro record (fields named and numbered as the spec's; empty when unpartitioned). */
function partitionRecordSchema(fields: PartitionFieldType[]) {
  return {
    type: 'record',
    name: 'r102',
    fields: fields.map((f) => ({ name: avroName(f.name), type: nullable(avroPartitionType(f.type, f.fieldId)), default: null, 'field-id': f.fieldId })),
  };
}

/** A partition value in the form the Avro writer takes. */
function avroPartitionValue(type: PrimitiveType, value: PartitionValue): unknown {
  if (value === null || value === undefined) return null;
  const decimal = parseDecimal(type);
  if (decimal) {
    const size = decimalBytes(decimal.precision);
    const min = encodeBound(type, value);
    const out = Buffer.alloc(size, (min[0] ?? 0) & 0x80 ? 0xff : 0);
    out.set(min, size - min.length);
    return out;
  }
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (type === 'long' || type === 'time' || type === 'timestamp' || type === 'timestamptz') return BigInt(value as bigint);
  return value;
}

/** A decoded Avro partition value in canonical form, read by the writer's own Avro type. */
function canonicalPartitionValue(avro: unknown, value: unknown): PartitionValue {
  if (value === null || value === undefined) return null;
  const t = Array.isArray(avro) ? avro.find((b) => b !== 'null') : avro;
  const logical = typeof t === 'object' && t !== null ? (t as { logicalType?: string }).logicalType : undefined;
  if (logical === 'decimal' && value instanceof Uint8Array) {
    const b = Buffer.from(value);
    if (b.length === 0) return 0n;
    let v = 0n;
    for (const byte of b) v = (v << 8n) | BigInt(byte);
    return b[0]! & 0x80 ? v - (1n << BigInt(b.length * 8)) : v;
  }
  if (value instanceof Uint8Array) return new Uint8Array(value);
  return value as PartitionValue;
}

/** The manifest entry schema for a spec's partition tuple. */
export function manifestEntrySchemaFor(partition: PartitionFieldType[]) {
  const schema = structuredClone(manifestEntrySchema) as typeof manifestEntrySchema;
  const dataFile = schema.fields.find((f) => f.name === 'data_file')!.type as { fields: { name: string }[] };
  const i = dataFile.fields.findIndex((f) => f.name === 'partition');
  dataFile.fields[i] = { name: 'partition', 'field-id': 102, type: partitionRecordSchema(partition) } as never;
  return schema;
}

export const manifestEntrySchema = {
  type: 'record',
  name: 'manifest_entry',
  fields: [
    { name: 'status', type: 'int', 'field-id': 0 },
    { name: 'snapshot_id', type: nullable('long'), default: null, 'field-id': 1 },
    { name: 'sequence_number', type: nullable('long'), default: null, 'field-id': 3 },
    { name: 'file_sequence_number', type: nullable('long'), default: null, 'field-id': 4 },
    {
      name: 'data_file',
      'field-id': 2,
      type: {
        type: 'record',
        name: 'r2',
        fields: [
          { name: 'content', type: 'int', 'field-id': 134 },
          { name: 'file_path', type: 'string', 'field-id': 100 },
          { name: 'file_format', type: 'string', 'field-id': 101 },
          // The partition tuple; unpartitioned tables' is an empty struct (manifestEntrySchemaFor fills it).
          { name: 'partition', 'field-id': 102, type: { type: 'record', name: 'r102', fields: [] } },
          { name: 'record_count', type: 'long', 'field-id': 103 },
          { name: 'file_size_in_bytes', type: 'long', 'field-id': 104 },
          mapField('column_sizes', 108, 117, 118, 'long'),
          mapField('value_counts', 109, 119, 120, 'long'),
          mapField('null_value_counts', 110, 121, 122, 'long'),
          mapField('nan_value_counts', 137, 138, 139, 'long'),
          mapField('lower_bounds', 125, 126, 127, 'bytes'),
          mapField('upper_bounds', 128, 129, 130, 'bytes'),
          { name: 'key_metadata', type: nullable('bytes'), default: null, 'field-id': 131 },
          { name: 'split_offsets', type: nullable({ type: 'array', items: 'long', 'element-id': 133 }), default: null, 'field-id': 132 },
          { name: 'equality_ids', type: nullable({ type: 'array', items: 'int', 'element-id': 136 }), default: null, 'field-id': 135 },
          { name: 'sort_order_id', type: nullable('int'), default: null, 'field-id': 140 },
        ],
      },
    },
  ],
};

export const manifestFileSchema = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    { name: 'manifest_path', type: 'string', 'field-id': 500 },
    { name: 'manifest_length', type: 'long', 'field-id': 501 },
    { name: 'partition_spec_id', type: 'int', 'field-id': 502 },
    { name: 'content', type: 'int', 'field-id': 517 },
    { name: 'sequence_number', type: 'long', 'field-id': 515 },
    { name: 'min_sequence_number', type: 'long', 'field-id': 516 },
    { name: 'added_snapshot_id', type: 'long', 'field-id': 503 },
    { name: 'added_files_count', type: 'int', 'field-id': 504 },
    { name: 'existing_files_count', type: 'int', 'field-id': 505 },
    { name: 'deleted_files_count', type: 'int', 'field-id': 506 },
    { name: 'added_rows_count', type: 'long', 'field-id': 512 },
    { name: 'existing_rows_count', type: 'long', 'field-id': 513 },
    { name: 'deleted_rows_count', type: 'long', 'field-id': 514 },
    {
      name: 'partitions',
      'field-id': 507,
      default: null,
      type: nullable({
        type: 'array',
        'element-id': 508,
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            { name: 'contains_null', type: 'boolean', 'field-id': 509 },
            { name: 'contains_nan', type: nullable('boolean'), default: null, 'field-id': 518 },
            { name: 'lower_bound', type: nullable('bytes'), default: null, 'field-id': 510 },
            { name: 'upper_bound', type: nullable('bytes'), default: null, 'field-id': 511 },
          ],
        },
      }),
    },
    { name: 'key_metadata', type: nullable('bytes'), default: null, 'field-id': 519 },
  ],
};

type KV<V> = { key: number; value: V }[] | null;

function toKv<V, W>(map: Map<number, V> | undefined, convert: (v: V) => W): KV<W> {
  if (!map) return null;
  return [...map.entries()].sort(([a], [b]) => a - b).map(([key, value]) => ({ key, value: convert(value) }));
}

function fromKv<V, W>(kv: KV<V> | undefined, convert: (v: V) => W): Map<number, W> | undefined {
  if (!kv) return undefined;
  return new Map(kv.map(({ key, value }) => [key, convert(value)]));
}

function entryRecord(entry: ManifestEntry, partition: PartitionFieldType[]) {
  const f = entry.dataFile;
  const tuple = f.partition ?? [];
  if (tuple.length !== partition.length)
    throw new SyncError(`${f.filePath} has a partition tuple of ${tuple.length} values, its spec ${partition.length} fields`, { code: ERROR_CODES.INTERNAL, retryable: false });
  return {
    status: entry.status,
    snapshot_id: entry.snapshotId,
    sequence_number: entry.sequenceNumber,
    file_sequence_number: entry.fileSequenceNumber,
    data_file: {
      content: f.content,
      file_path: f.filePath,
      file_format: f.fileFormat,
      partition: Object.fromEntries(partition.map((p, i) => [avroName(p.name), avroPartitionValue(p.type, tuple[i] ?? null)])),
      record_count: f.recordCount,
      file_size_in_bytes: f.fileSizeInBytes,
      column_sizes: toKv(f.columnSizes, (v) => v),
      value_counts: toKv(f.valueCounts, (v) => v),
      null_value_counts: toKv(f.nullValueCounts, (v) => v),
      nan_value_counts: toKv(f.nanValueCounts, (v) => v),
      lower_bounds: toKv(f.lowerBounds, (v) => Buffer.from(v)),
      upper_bounds: toKv(f.upperBounds, (v) => Buffer.from(v)),
      key_metadata: null,
      split_offsets: f.splitOffsets ?? null,
      equality_ids: f.equalityIds ?? null,
      sort_order_id: f.sortOrderId ?? null,
    },
  };
}

/**
 * Encodes a manifest (all entries of one content type and one partition spec) as an Avro file;
 * `partition` is the spec's fields with their result types (partitionFieldTypes).
 */
export function encodeManifest(opts: { schema: Schema; spec: PartitionSpec; partition?: PartitionFieldType[]; content: ManifestContent; entries: ManifestEntry[] }): Buffer {
  const partition = opts.partition ?? [];
  return writeAvroFile(
    manifestEntrySchemaFor(partition),
    opts.entries.map((e) => entryRecord(e, partition)),
    {
      schema: toJson(opts.schema),
      'schema-id': String(opts.schema['schema-id']),
      'partition-spec': toJson(opts.spec.fields),
      'partition-spec-id': String(opts.spec['spec-id']),
      'format-version': '2',
      content: opts.content === ManifestContent.Deletes ? 'deletes' : 'data',
    },
  );
}

/**
 * What a manifest's files hold per partition field, for its manifest-list entry: whether any value
 * is null (or NaN) and the least and greatest value, in the single-value binary serialization.
 */
export function summarizePartitions(partition: PartitionFieldType[], entries: ManifestEntry[]): FieldSummary[] {
  return partition.map((field, i) => {
    let containsNull = false;
    let containsNan = false;
    let lower: Uint8Array | undefined;
    let upper: Uint8Array | undefined;
    let lowerValue: PartitionValue = null;
    let upperValue: PartitionValue = null;
    for (const e of entries) {
      const v = e.dataFile.partition?.[i] ?? null;
      if (v === null) {
        containsNull = true;
        continue;
      }
      if (typeof v === 'number' && Number.isNaN(v)) {
        containsNan = true;
        continue;
      }
      if (lowerValue === null || comparePartitionValues(field.type, v, lowerValue) < 0) lowerValue = v;
      if (upperValue === null || comparePartitionValues(field.type, v, upperValue) > 0) upperValue = v;
    }
    if (lowerValue !== null) lower = new Uint8Array(encodeBound(field.type, lowerValue));
    if (upperValue !== null) upper = new Uint8Array(encodeBound(field.type, upperValue));
    const floating = field.type === 'float' || field.type === 'double';
    return { containsNull, containsNan: floating ? containsNan : null, lowerBound: lower ?? null, upperBound: upper ?? null };
  });
}

function comparePartitionValues(type: PrimitiveType, a: PartitionValue, b: PartitionValue): number {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return compareBytes(a, b);
  if (typeof a === 'string' && typeof b === 'string') {
    // Code point order, as Iceberg compares strings.
    const [x, y] = [Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')];
    return Buffer.compare(x, y);
  }
  if (typeof a === 'boolean') return Number(a) - Number(b);
  void type;
  return (a as number | bigint) < (b as number | bigint) ? -1 : (a as number | bigint) > (b as number | bigint) ? 1 : 0;
}

/** Summary counts of a manifest for its manifest-list entry. */
export function summarizeManifest(entries: ManifestEntry[]) {
  const count = (status: EntryStatus) => entries.filter((e) => e.status === status);
  const rows = (list: ManifestEntry[]) => list.reduce((sum, e) => sum + e.dataFile.recordCount, 0n);
  return {
    addedFilesCount: count(EntryStatus.Added).length,
    existingFilesCount: count(EntryStatus.Existing).length,
    deletedFilesCount: count(EntryStatus.Deleted).length,
    addedRowsCount: rows(count(EntryStatus.Added)),
    existingRowsCount: rows(count(EntryStatus.Existing)),
    deletedRowsCount: rows(count(EntryStatus.Deleted)),
  };
}

type RawEntry = {
  status: number;
  snapshot_id?: bigint | null;
  sequence_number?: bigint | null;
  file_sequence_number?: bigint | null;
  data_file: Record<string, unknown>;
};

/**
 * Reads a manifest (ours or another engine's, v1 or v2). Entries whose sequence numbers are null
 * inherit the manifest's, as the spec requires.
 */
export function decodeManifest(bytes: Uint8Array, manifest: Pick<ManifestFile, 'sequenceNumber' | 'addedSnapshotId'> & { partitionSpecId?: number }): ManifestEntry[] {
  const file = readAvroFile<RawEntry>(bytes);
  const specId = manifest.partitionSpecId ?? Number(file.metadata['partition-spec-id'] ?? 0);
  // The writer's partition record: its field types say how to read the values (decimals as unscaled).
  const dataFileSchema = (file.schema as { fields: { name: string; type: unknown }[] }).fields.find((f) => f.name === 'data_file')?.type as
    | { fields: { name: string; type: unknown }[] }
    | undefined;
  const partitionSchema = dataFileSchema?.fields.find((f) => f.name === 'partition')?.type as { fields?: { name: string; type: unknown }[] } | undefined;
  const partitionFields = partitionSchema?.fields ?? [];
  return file.records.map((r) => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- decoded Avro of any writer
    const d = r.data_file as Record<string, any>;
    const added = r.status === EntryStatus.Added;
    // Only ADDED entries may leave it null (inherit); v1 manifests have none at all (0).
    const inherit = (value: bigint | null | undefined) => value ?? (added ? manifest.sequenceNumber : 0n);
    return {
      status: r.status as EntryStatus,
      snapshotId: r.snapshot_id ?? manifest.addedSnapshotId,
      sequenceNumber: inherit(r.sequence_number),
      fileSequenceNumber: inherit(r.file_sequence_number),
      dataFile: {
        content: (d.content ?? FileContent.Data) as FileContent,
        filePath: d.file_path,
        fileFormat: 'PARQUET',
        specId,
        partition: partitionFields.map((f) => canonicalPartitionValue(f.type, (d.partition as Record<string, unknown> | undefined)?.[f.name])) as PartitionTuple,
        recordCount: BigInt(d.record_count),
        fileSizeInBytes: BigInt(d.file_size_in_bytes),
        columnSizes: fromKv(d.column_sizes, BigInt),
        valueCounts: fromKv(d.value_counts, BigInt),
        nullValueCounts: fromKv(d.null_value_counts, BigInt),
        nanValueCounts: fromKv(d.nan_value_counts, BigInt),
        lowerBounds: fromKv(d.lower_bounds, (v: Buffer) => new Uint8Array(v)),
        upperBounds: fromKv(d.upper_bounds, (v: Buffer) => new Uint8Array(v)),
        splitOffsets: d.split_offsets ?? undefined,
        equalityIds: d.equality_ids ?? undefined,
        sortOrderId: d.sort_order_id ?? undefined,
      },
    };
  });
}

/** Encodes a manifest list for a snapshot. */
export function encodeManifestList(opts: { snapshotId: bigint; parentSnapshotId: bigint | null; sequenceNumber: bigint; manifests: ManifestFile[] }): Buffer {
  const records = opts.manifests.map((m) => ({
    manifest_path: m.manifestPath,
    manifest_length: m.manifestLength,
    partition_spec_id: m.partitionSpecId,
    content: m.content,
    sequence_number: m.sequenceNumber,
    min_sequence_number: m.minSequenceNumber,
    added_snapshot_id: m.addedSnapshotId,
    added_files_count: m.addedFilesCount,
    existing_files_count: m.existingFilesCount,
    deleted_files_count: m.deletedFilesCount,
    added_rows_count: m.addedRowsCount,
    existing_rows_count: m.existingRowsCount,
    deleted_rows_count: m.deletedRowsCount,
    partitions: (m.partitions ?? []).map((p) => ({
      contains_null: p.containsNull,
      contains_nan: p.containsNan ?? null,
      lower_bound: p.lowerBound ? Buffer.from(p.lowerBound) : null,
      upper_bound: p.upperBound ? Buffer.from(p.upperBound) : null,
    })),
    key_metadata: null,
  }));
  return writeAvroFile(manifestFileSchema, records, {
    'snapshot-id': opts.snapshotId.toString(),
    'parent-snapshot-id': opts.parentSnapshotId === null ? 'null' : opts.parentSnapshotId.toString(),
    'sequence-number': opts.sequenceNumber.toString(),
    'format-version': '2',
  });
}

/** Reads a manifest list (v1 lists have no content or sequence numbers: data, 0). */
export function decodeManifestList(bytes: Uint8Array): ManifestFile[] {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- decoded Avro of any writer
  return readAvroFile<Record<string, any>>(bytes).records.map((r) => ({
    manifestPath: r.manifest_path,
    manifestLength: BigInt(r.manifest_length),
    partitionSpecId: r.partition_spec_id,
    content: (r.content ?? ManifestContent.Data) as ManifestContent,
    sequenceNumber: BigInt(r.sequence_number ?? 0),
    minSequenceNumber: BigInt(r.min_sequence_number ?? 0),
    addedSnapshotId: BigInt(r.added_snapshot_id),
    addedFilesCount: r.added_files_count ?? r.added_data_files_count ?? 0,
    existingFilesCount: r.existing_files_count ?? r.existing_data_files_count ?? 0,
    deletedFilesCount: r.deleted_files_count ?? r.deleted_data_files_count ?? 0,
    addedRowsCount: BigInt(r.added_rows_count ?? 0),
    existingRowsCount: BigInt(r.existing_rows_count ?? 0),
    deletedRowsCount: BigInt(r.deleted_rows_count ?? 0),
    partitions: (r.partitions ?? undefined)?.map((p: Record<string, any>) => ({
      containsNull: Boolean(p.contains_null),
      containsNan: p.contains_nan ?? null,
      lowerBound: p.lower_bound ? new Uint8Array(p.lower_bound) : null,
      upperBound: p.upper_bound ? new Uint8Array(p.upper_bound) : null,
    })),
  }));
}

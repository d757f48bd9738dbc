import crypto from 'node:crypto';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm/node';
import { encodeBound, truncateLowerBinary, truncateLowerString, truncateUpperBinary, truncateUpperString } from '../iceberg/bounds';
import {
  FileContent,
  POSITION_DELETE_FILE_PATH_ID,
  POSITION_DELETE_POS_ID,
  type DataFile,
  type NestedField,
} from '../iceberg/spec';
import type { ObjectStore } from '../storage/object-store';
import { arrowField, makeColumnBuilder, type ColumnBuilder, type ColumnMetrics } from './columns';

export const DEFAULT_TARGET_FILE_BYTES = 128 * 1024 * 1024;
export const DEFAULT_MAX_ROWS_PER_FILE = 2_000_000;
export const DEFAULT_ROW_GROUP_ROWS = 128 * 1024;

/** Rows of one file in column builders, with the metrics each column gathered. */
export class RowBuffer {
  readonly builders: ColumnBuilder[];
  constructor(readonly fields: NestedField[]) {
    this.builders = fields.map(makeColumnBuilder);
  }
  get length(): number {
    return this.builders[0]?.length ?? 0;
  }
  /** One row, values in the order of `fields`. */
  appendRow(values: readonly unknown[]): void {
    for (let c = 0; c < this.builders.length; c++) this.builders[c]!.append(values[c]);
  }
  byteSize(): number {
    let total = 0;
    for (const b of this.builders) total += b.byteSize();
    return total;
  }
  toRecordBatch(): arrow.RecordBatch {
    const schema = new arrow.Schema(this.fields.map(arrowField));
    const children = this.builders.map((b) => b.finish());
    const data = arrow.makeData({ type: new arrow.Struct(schema.fields), length: this.length, nullCount: 0, children });
    return new arrow.RecordBatch(schema, data);
  }
}

/** Parquet bytes (zstd) of Arrow record batches; field ids travel as `PARQUET:field_id`. */
export function encodeParquet(batches: arrow.RecordBatch[], rowGroupRows = DEFAULT_ROW_GROUP_ROWS): Uint8Array {
  const ipc = arrow.tableToIPC(new arrow.Table(batches), 'stream');
  const table = pw.Table.fromIPCStream(ipc);
  const props = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression.ZSTD)
    .setMaxRowGroupSize(rowGroupRows)
    .setCreatedBy('sf-iceberg')
    .build();
  return pw.writeParquet(table, props);
}

/**
 * A manifest's description of a written file from the builders' metrics. String and binary bounds
 * are truncated to 16 characters/bytes (Iceberg's default metrics mode) unless `fullBounds` lists
 * the field (position delete files keep full file_path bounds).
 */
export function describeFile(opts: {
  path: string;
  sizeInBytes: number;
  rowCount: number;
  fields: NestedField[];
  metrics: ColumnMetrics[];
  content?: FileContent;
  fullBounds?: Set<number>;
}): DataFile {
  const valueCounts = new Map<number, bigint>();
  const nullValueCounts = new Map<number, bigint>();
  const nanValueCounts = new Map<number, bigint>();
  const lowerBounds = new Map<number, Uint8Array>();
  const upperBounds = new Map<number, Uint8Array>();
  opts.fields.forEach((field, i) => {
    const m = opts.metrics[i]!;
    valueCounts.set(field.id, BigInt(m.valueCount));
    nullValueCounts.set(field.id, BigInt(m.nullCount));
    if (field.type === 'float' || field.type === 'double') nanValueCounts.set(field.id, BigInt(m.nanCount));
    if (m.min === undefined || m.max === undefined) return;
    let lower: unknown = m.min;
    let upper: unknown = m.max;
    if (!opts.fullBounds?.has(field.id)) {
      if (field.type === 'string') {
        lower = truncateLowerString(m.min as string);
        upper = truncateUpperString(m.max as string);
      } else if (field.type === 'binary') {
        lower = truncateLowerBinary(m.min as Uint8Array);
        upper = truncateUpperBinary(m.max as Uint8Array);
      }
    }
    lowerBounds.set(field.id, encodeBound(field.type, lower));
    if (upper !== undefined) upperBounds.set(field.id, encodeBound(field.type, upper));
  });
  return {
    content: opts.content ?? FileContent.Data,
    filePath: opts.path,
    fileFormat: 'PARQUET',
    recordCount: BigInt(opts.rowCount),
    fileSizeInBytes: BigInt(opts.sizeInBytes),
    valueCounts,
    nullValueCounts,
    nanValueCounts,
    lowerBounds,
    upperBounds,
  };
}

export interface DataFileWriterOptions {
  fields: NestedField[];
  store: ObjectStore;
  /** Folder for the files, e.g. `<table location>/data`. */
  location: string;
  /** Start of every file name (e.g. the sync run id), so a run's files are easy to find. */
  namePrefix: string;
  /** Buffered (uncompressed) bytes at which a file is closed. */
  targetFileBytes?: number;
  maxRowsPerFile?: number;
  rowGroupRows?: number;
}

/**
 * Rolls rows into Parquet data files of about the target size and uploads each as it closes:
 * memory is bounded by one file's buffer, never by the table.
 */
export class DataFileWriter {
  private buffer: RowBuffer;
  private fileNumber = 0;
  readonly files: DataFile[] = [];
  rowsWritten = 0;
  bytesWritten = 0;

  constructor(private readonly opts: DataFileWriterOptions) {
    this.buffer = new RowBuffer(opts.fields);
  }

  /** Appends rows (values in field order); closes and uploads files as they fill. */
  async write(rows: Iterable<readonly unknown[]>): Promise<void> {
    const target = this.opts.targetFileBytes ?? DEFAULT_TARGET_FILE_BYTES;
    const maxRows = this.opts.maxRowsPerFile ?? DEFAULT_MAX_ROWS_PER_FILE;
    let sinceCheck = 0;
    for (const row of rows) {
      this.buffer.appendRow(row);
      // Sizing every row would cost a pass over all builders; every 64 rows is close enough.
      if (++sinceCheck >= 64 || this.buffer.length >= maxRows) {
        sinceCheck = 0;
        if (this.buffer.length >= maxRows || this.buffer.byteSize() >= target) await this.flush();
      }
    }
  }

  /** Closes the current file, if it has rows. */
  async flush(): Promise<DataFile | undefined> {
    if (this.buffer.length === 0) return undefined;
    const buffer = this.buffer;
    this.buffer = new RowBuffer(this.opts.fields);
    const bytes = encodeParquet([buffer.toRecordBatch()], this.opts.rowGroupRows);
    const name = `${this.opts.namePrefix}-${String(this.fileNumber++).padStart(5, '0')}-${crypto.randomUUID()}.parquet`;
    const path = `${this.opts.location.replace(/\/+$/, '')}/${name}`;
    await this.opts.store.put(path, bytes, 'application/vnd.apache.parquet');
    const file = describeFile({ path, sizeInBytes: bytes.byteLength, rowCount: buffer.length, fields: this.opts.fields, metrics: buffer.builders.map((b) => b.metrics()) });
    this.files.push(file);
    this.rowsWritten += buffer.length;
    this.bytesWritten += bytes.byteLength;
    return file;
  }

  async close(): Promise<DataFile[]> {
    await this.flush();
    return this.files;
  }
}

/** Schema of position delete files (spec: "Position Delete Files"). */
export const positionDeleteFields: NestedField[] = [
  { id: POSITION_DELETE_FILE_PATH_ID, name: 'file_path', required: true, type: 'string' },
  { id: POSITION_DELETE_POS_ID, name: 'pos', required: true, type: 'long' },
];

/** Writes one position delete file; `deletes` must be sorted by file path, then position. */
export async function writePositionDeletes(opts: {
  store: ObjectStore;
  path: string;
  deletes: { filePath: string; pos: bigint }[];
}): Promise<DataFile> {
  const buffer = new RowBuffer(positionDeleteFields);
  for (const d of opts.deletes) buffer.appendRow([d.filePath, d.pos]);
  const bytes = encodeParquet([buffer.toRecordBatch()]);
  await opts.store.put(opts.path, bytes, 'application/vnd.apache.parquet');
  return describeFile({
    path: opts.path,
    sizeInBytes: bytes.byteLength,
    rowCount: buffer.length,
    fields: positionDeleteFields,
    metrics: buffer.builders.map((b) => b.metrics()),
    content: FileContent.PositionDeletes,
    fullBounds: new Set([POSITION_DELETE_FILE_PATH_ID]),
  });
}

import crypto from 'node:crypto';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm/node';
import { compareBytes, compareCodePoints, encodeBound, truncateLowerBinary, truncateLowerString, truncateUpperBinary, truncateUpperString } from '../iceberg/spec/bounds';
import { FileContent, POSITION_DELETE_FILE_PATH_ID, POSITION_DELETE_POS_ID, type DataFile, type NestedField } from '../iceberg/spec';
import type { ObjectStore, ObjectWriter } from '../storage/object-store';
import { ParquetEncodeStream, writerProperties } from './encode-stream';
import type { ParquetEncoderPool } from './encoder-pool';
import { arrowField, makeColumnBuilder, rowsSource, type ColumnBuilder, type ColumnMetrics, type ColumnSource } from './columns';

/** Target size of a data file, compressed (what lands on S3). */
export const DEFAULT_TARGET_FILE_BYTES = 128 * 1024 * 1024;
export const DEFAULT_MAX_ROWS_PER_FILE = 10_000_000;
/** Raw (in-memory) bytes of one row group. */
export const DEFAULT_ROW_GROUP_BYTES = 8 * 1024 * 1024;
export const DEFAULT_ROW_GROUP_ROWS = 256 * 1024;
/**
 * Raw bytes of rows handed to the encoder at a time: what bounds the writer's memory. A row group
 * is encoded from several slices (the encoder keeps the group's compressed pages until it is
 * complete), so memory holds a slice raw, not the whole group, and the file is the same.
 */
export const DEFAULT_SLICE_BYTES = 1024 * 1024;

/** Rows of one file in column builders, with the metrics each column gathered. */
export class RowBuffer {
  readonly builders: ColumnBuilder[];
  constructor(readonly fields: NestedField[]) {
    this.builders = fields.map(makeColumnBuilder);
  }
  get length(): number {
    return this.builders[0]?.length ?? 0;
  }
  /** An empty buffer sized like `previous` (a little larger): the next row group's builders never regrow. */
  static like(previous: RowBuffer): RowBuffer {
    const next = new RowBuffer(previous.fields);
    const rows = Math.ceil(previous.length * 1.05) + 64;
    next.builders.forEach((b, c) => b.presize(rows, Math.ceil(previous.builders[c]!.heapBytes() * 1.1)));
    return next;
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
  return pw.writeParquet(table, writerProperties({ rowGroupRows }));
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
  /** Compressed bytes at which a file is closed. */
  targetFileBytes?: number;
  maxRowsPerFile?: number;
  /** Raw bytes of rows per row group. */
  rowGroupBytes?: number;
  /** Raw bytes of rows buffered before they go to the encoder (bounds memory; at most a row group). */
  sliceBytes?: number;
  /** Upper bound on rows per row group. */
  rowGroupRows?: number;
  /** Columns with few distinct values, the only ones dictionary-encoded (default: every column). */
  dictionaryColumns?: ReadonlySet<string>;
  /** Encoder threads to encode on; without, encoding runs on the calling thread. */
  encoders?: ParquetEncoderPool;
  /** Recorded on every file written: its partition spec and tuple, and the sort order its rows follow. */
  fileLayout?: Pick<DataFile, 'specId' | 'partition' | 'sortOrderId'>;
  /** Numbers the files (`<prefix>-<nnnnn>-…`); writers of one run share it so numbers do not repeat. */
  fileNumbers?: { next: number };
}

/** Merges per-row-group metrics of one column into per-file metrics. */
function mergeMetrics(field: NestedField, a: ColumnMetrics | undefined, b: ColumnMetrics): ColumnMetrics {
  if (!a) return b;
  const cmp = (x: unknown, y: unknown): number => {
    if (field.type === 'string') return compareCodePoints(x as string, y as string);
    if (field.type === 'binary') return compareBytes(x as Uint8Array, y as Uint8Array);
    if (typeof x === 'boolean') return Number(x) - Number(y as boolean);
    return (x as number) < (y as number) ? -1 : (x as number) > (y as number) ? 1 : 0;
  };
  const pick = (x: unknown, y: unknown, sign: number) => (x === undefined ? y : y === undefined ? x : cmp(y, x) * sign > 0 ? y : x);
  return {
    valueCount: a.valueCount + b.valueCount,
    nullCount: a.nullCount + b.nullCount,
    nanCount: a.nanCount + b.nanCount,
    min: pick(a.min, b.min, -1),
    max: pick(a.max, b.max, 1),
  };
}

/**
 * One Parquet file being written as a stream: each pushed slice of rows is encoded as it arrives
 * (on an encoder thread of the pool, or here) into row groups of `rowGroupRows`, and the bytes
 * are uploaded as they come, so memory holds a slice or two and one row group compressed, not the file.
 */
class StreamingParquetFile {
  private readonly encoder: { push(ipc: Uint8Array): Promise<void>; finish(): Promise<void> };
  bytes = 0;
  rows = 0;
  metrics: (ColumnMetrics | undefined)[];

  constructor(
    readonly fields: NestedField[],
    readonly rowGroupRows: number,
    private readonly sink: ObjectWriter,
    dictionaryColumns: ReadonlySet<string> | undefined,
    encoders: ParquetEncoderPool | undefined,
  ) {
    this.metrics = fields.map(() => undefined);
    const opts = { rowGroupRows, dictionaryColumns: dictionaryColumns && [...dictionaryColumns] };
    // Uploaded as it is produced: the file never sits whole in memory.
    const upload = async (bytes: Uint8Array) => {
      this.bytes += bytes.byteLength;
      await this.sink.write(bytes);
    };
    this.encoder = encoders ? encoders.open(opts, upload) : new ParquetEncodeStream(opts, upload);
  }

  /** Hands one slice of rows to the encoder; resolves once it may take the next (backpressure). */
  async push(buffer: RowBuffer): Promise<void> {
    const metrics = buffer.builders.map((b) => b.metrics());
    this.metrics = this.metrics.map((m, i) => mergeMetrics(this.fields[i]!, m, metrics[i]!));
    this.rows += buffer.length;
    await this.encoder.push(arrow.tableToIPC(new arrow.Table([buffer.toRecordBatch()]), 'stream'));
  }

  /** Encodes what is left, completes the upload; returns the file's size. */
  async finish(): Promise<number> {
    try {
      await this.encoder.finish();
    } catch (error) {
      await this.sink.abort().catch(() => undefined);
      throw error;
    }
    return this.sink.complete();
  }
}

/**
 * Rolls rows into Parquet data files of about the target (compressed) size and uploads each as it
 * closes. Rows are encoded row group by row group, so memory is bounded by one row group plus the
 * compressed bytes of the file being written, never by the table.
 */
export class DataFileWriter {
  private buffer: RowBuffer;
  private file?: StreamingParquetFile;
  private filePath?: string;
  private readonly fileNumbers: { next: number };
  readonly files: DataFile[] = [];
  rowsWritten = 0;
  bytesWritten = 0;

  constructor(private readonly opts: DataFileWriterOptions) {
    this.buffer = new RowBuffer(opts.fields);
    this.fileNumbers = opts.fileNumbers ?? { next: 0 };
  }

  /** Appends rows (values in field order); encodes row groups and uploads files as they fill. */
  async write(rows: Iterable<readonly unknown[]>): Promise<void> {
    // In chunks through the column path: one place cuts row groups and files.
    let chunk: (readonly unknown[])[] = [];
    for (const row of rows) {
      chunk.push(row);
      if (chunk.length === 1024) {
        await this.writeColumns(rowsSource(chunk));
        chunk = [];
      }
    }
    if (chunk.length > 0) await this.writeColumns(rowsSource(chunk));
  }

  /**
   * Appends a column source (e.g. a page of CSV), a column at a time in chunks of up to 1,024
   * rows. Rows go to the encoder in slices; a file's first slice is cut by size (measured per
   * chunk: sizing walks every column) and sets the file's rows per slice and per row group.
   */
  async writeColumns(source: ColumnSource): Promise<void> {
    const started = performance.now();
    const flushing = this.timings.encodeMs + this.timings.uploadMs;
    for (let from = 0; from < source.length; ) {
      const cap = this.sliceRows ?? this.opts.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS;
      const to = Math.min(source.length, from + 1024, from + cap - this.buffer.length);
      source.appendTo(this.buffer.builders, from, to);
      from = to;
      if (this.buffer.length >= cap || (this.sliceRows === undefined && this.buffer.byteSize() >= this.sliceBytes)) await this.flushSlice();
    }
    this.timings.buildMs += performance.now() - started - (this.timings.encodeMs + this.timings.uploadMs - flushing);
  }

  private get sliceBytes(): number {
    return Math.min(this.opts.sliceBytes ?? DEFAULT_SLICE_BYTES, this.opts.rowGroupBytes ?? DEFAULT_ROW_GROUP_BYTES);
  }

  /** Rows per slice of the current file, set by its first slice. */
  private sliceRows?: number;

  /** Time spent building column buffers, encoding Parquet, and waiting for uploads (one thread: they add up). */
  readonly timings = { buildMs: 0, encodeMs: 0, uploadMs: 0 };

  /** The store's writer, with the time spent waiting for it counted as upload time. */
  private timedSink(path: string): ObjectWriter {
    const sink = this.opts.store.openWrite(path, 'application/vnd.apache.parquet');
    const timed =
      <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
      async (...a: A): Promise<R> => {
        const t = performance.now();
        try {
          return await f(...a);
        } finally {
          this.timings.uploadMs += performance.now() - t;
        }
      };
    return { write: timed((c: Uint8Array) => sink.write(c)), complete: timed(() => sink.complete()), abort: () => sink.abort() };
  }

  private async flushSlice(): Promise<void> {
    const started = performance.now();
    const uploading = this.timings.uploadMs;
    try {
      await this.encodeSlice();
    } finally {
      this.timings.encodeMs += performance.now() - started - (this.timings.uploadMs - uploading);
    }
  }

  private async encodeSlice(): Promise<void> {
    if (this.buffer.length === 0) return;
    const buffer = this.buffer;
    this.buffer = RowBuffer.like(buffer);
    if (!this.file) {
      // Rows per row group from the first slice's size: about rowGroupBytes raw.
      const groupRowsCap = this.opts.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS;
      const groupBytes = this.opts.rowGroupBytes ?? DEFAULT_ROW_GROUP_BYTES;
      const groupRows = Math.max(1, Math.min(groupRowsCap, Math.round((buffer.length * groupBytes) / Math.max(1, buffer.byteSize()))));
      this.sliceRows = Math.min(buffer.length, groupRows);
      const name = `${this.opts.namePrefix}-${String(this.fileNumbers.next++).padStart(5, '0')}-${crypto.randomUUID()}.parquet`;
      const path = `${this.opts.location.replace(/\/+$/, '')}/${name}`;
      this.file = new StreamingParquetFile(this.opts.fields, groupRows, this.timedSink(path), this.opts.dictionaryColumns, this.opts.encoders);
      this.filePath = path;
    }
    await this.file.push(buffer);
    const target = this.opts.targetFileBytes ?? DEFAULT_TARGET_FILE_BYTES;
    if (this.file.bytes >= target || this.file.rows >= (this.opts.maxRowsPerFile ?? DEFAULT_MAX_ROWS_PER_FILE)) await this.closeFile();
  }

  private async closeFile(): Promise<DataFile | undefined> {
    const file = this.file;
    if (!file) return undefined;
    this.file = undefined;
    this.sliceRows = undefined;
    const started = performance.now();
    const uploading = this.timings.uploadMs;
    const size = await file.finish();
    this.timings.encodeMs += performance.now() - started - (this.timings.uploadMs - uploading);
    const described = describeFile({ path: this.filePath!, sizeInBytes: size, rowCount: file.rows, fields: this.opts.fields, metrics: file.metrics as ColumnMetrics[] });
    if (this.opts.fileLayout) Object.assign(described, this.opts.fileLayout);
    this.files.push(described);
    this.rowsWritten += file.rows;
    this.bytesWritten += size;
    return described;
  }

  /** Closes the current file (after encoding buffered rows), if it has rows. */
  async flush(): Promise<DataFile | undefined> {
    await this.flushSlice();
    return this.closeFile();
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
export async function writePositionDeletes(opts: { store: ObjectStore; path: string; deletes: { filePath: string; pos: bigint }[] }): Promise<DataFile> {
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

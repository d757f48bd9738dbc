import type * as arrow from 'apache-arrow';
import { ERROR_CODES, SyncError } from '../errors';
import { compareBytes, compareCodePoints } from '../iceberg/spec/bounds';
import { applyTransform, bindSpec, parseTransformName, partitionKey, type BoundSpec, type Transform } from '../iceberg/spec/partition';
import { parseDecimal, type DataFile, type NestedField, type PartitionSpec, type PartitionTuple, type PartitionValue, type SortOrder } from '../iceberg/spec';
import { batchSource } from './arrow-source';
import { appendColumns, makeColumnBuilder, rowSubset, type ColumnSource } from './columns';
import { DataFileWriter, RowBuffer, type DataFileWriterOptions } from './writer';

/*
 * Data files laid out as the table asks: grouped by the partition tuple of its default spec, and
 * sorted by its default sort order. Per source of rows (a page), the spec's source columns (and the
 * sort columns) are built by the same column builders that write the files, so a row's partition
 * value is computed from exactly the value written; rows are grouped by partition and each group
 * goes to its partition's own writer as a subset of the page (no copy of the rows in between).
 *
 * Memory is bounded: at most `maxOpenPartitions` partitions have a file open (or rows buffered for
 * sorting); the least recently used is closed when another is needed. Sorted files buffer a
 * partition's rows in column builders up to `sortBufferBytes` raw (all partitions together), then
 * sort them and write them as one file. A partition that got no rows while `idleRows` went to
 * others is closed too: rows that come roughly in partition order keep few files open.
 */

/** What extraction and compaction write rows through: one data file writer, or one per partition. */
export interface TableFileWriter {
  readonly files: DataFile[];
  readonly timings: { buildMs: number; encodeMs: number; uploadMs: number };
  writeColumns(source: ColumnSource): Promise<void>;
  /** Closes every open file (a checkpoint: everything written so far is in closed files). */
  flush(): Promise<unknown>;
  close(): Promise<DataFile[]>;
}

/** Partitions with a file open at once, by default. */
export const DEFAULT_MAX_OPEN_PARTITIONS = 48;
/** Raw bytes of rows buffered for sorting, by default (all partitions together). */
export const DEFAULT_SORT_BUFFER_BYTES = 64 * 1024 * 1024;
/**
 * A partition's open file is closed once this many rows went to other partitions since it last got
 * one: rows that arrive roughly in partition order (Salesforce reads by Id, which follows
 * CreatedDate) keep only the partitions of the moment open, not every one they passed through.
 */
export const DEFAULT_IDLE_ROWS = 50_000;
/** Raw bytes per row group of a partition's file (a plain file's are DEFAULT_ROW_GROUP_BYTES, 8 MiB). */
export const PARTITION_ROW_GROUP_BYTES = 2 * 1024 * 1024;
/** Partitions' files closing in the background at once (see closeInBackground). */
const MAX_CLOSING = 2;

export interface TableLayoutOptions {
  /** The table's default partition spec (no fields: unpartitioned). */
  spec?: PartitionSpec;
  /** The table's default sort order (undefined or no fields: unsorted). */
  sortOrder?: SortOrder;
  maxOpenPartitions?: number;
  sortBufferBytes?: number;
  /** Rows to other partitions after which an idle partition's file is closed (unsorted tables). */
  idleRows?: number;
}

/**
 * The writer for a table's layout: an unpartitioned, unsorted table gets the plain DataFileWriter
 * (the path of every table before layouts, at no extra cost); anything else a PartitionedWriter.
 */
export function openTableWriter(opts: DataFileWriterOptions & TableLayoutOptions): TableFileWriter {
  const partitioned = (opts.spec?.fields.length ?? 0) > 0;
  const sorted = (opts.sortOrder?.fields.length ?? 0) > 0;
  if (!partitioned && !sorted) return new DataFileWriter(opts);
  return new PartitionedWriter(opts);
}

/** A sort order's field bound to the written columns. */
interface BoundSortField {
  column: number;
  transform: Transform;
  descending: boolean;
  nullsFirst: boolean;
}

/** Canonical values (spec/partition.ts) of one built column, read back from the builder's buffers. */
function canonicalColumn(field: NestedField, data: arrow.Data): PartitionValue[] {
  const n = data.length;
  const out = new Array<PartitionValue>(n);
  const bitmap = data.nullCount > 0 ? data.nullBitmap : undefined;
  const valid = (i: number) => !bitmap || (bitmap[i >> 3]! & (1 << (i & 7))) !== 0;
  const values = data.values as ArrayLike<number | bigint> & { buffer: ArrayBufferLike; byteOffset: number };
  const type = field.type;
  switch (type) {
    case 'int':
    case 'date':
    case 'float':
    case 'double':
      for (let i = 0; i < n; i++) out[i] = valid(i) ? (values[i] as number) : null;
      return out;
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      for (let i = 0; i < n; i++) out[i] = valid(i) ? (values[i] as bigint) : null;
      return out;
    case 'boolean': {
      const bits = data.values as Uint8Array;
      for (let i = 0; i < n; i++) out[i] = valid(i) ? (bits[i >> 3]! & (1 << (i & 7))) !== 0 : null;
      return out;
    }
    case 'string':
    case 'binary': {
      const bytes = data.values as Uint8Array;
      const heap = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const offsets = data.valueOffsets as Int32Array;
      for (let i = 0; i < n; i++) {
        if (!valid(i)) out[i] = null;
        else out[i] = type === 'string' ? heap.toString('utf8', offsets[i]!, offsets[i + 1]!) : bytes.slice(offsets[i]!, offsets[i + 1]!);
      }
      return out;
    }
    default: {
      if (!parseDecimal(type)) throw new SyncError(`column ${field.name}: ${type} cannot be partitioned or sorted on`, { code: ERROR_CODES.TABLE_UNSUPPORTED, retryable: false });
      const words = data.values as Uint32Array;
      for (let i = 0; i < n; i++) {
        if (!valid(i)) {
          out[i] = null;
          continue;
        }
        let v = 0n;
        for (let w = 3; w >= 0; w--) v = (v << 32n) | BigInt(words[i * 4 + w]!);
        out[i] = BigInt.asIntN(128, v);
      }
      return out;
    }
  }
}

/** Order of two canonical values of one type (not null). */
function compareValues(a: PartitionValue, b: PartitionValue): number {
  if (typeof a === 'string') return compareCodePoints(a, b as string);
  if (a instanceof Uint8Array) return compareBytes(a, b as Uint8Array);
  if (typeof a === 'boolean') return Number(a) - Number(b as boolean);
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

/** Rows of one partition waiting to be sorted: the rows in column builders, and each sort field's key per row. */
class SortBuffer {
  readonly rows: RowBuffer;
  readonly keys: PartitionValue[][];
  bytes = 0;
  constructor(
    fields: NestedField[],
    sortFields: number,
    readonly tuple: PartitionTuple,
  ) {
    this.rows = new RowBuffer(fields);
    this.keys = Array.from({ length: sortFields }, () => []);
  }
}

interface OpenPartition {
  tuple: PartitionTuple;
  /** Rows the writer had taken (all partitions) when this partition last got rows. */
  usedAt: number;
  writer?: DataFileWriter;
  sort?: SortBuffer;
}

/**
 * Writes rows into data files per partition of `spec`, each file's rows sorted by `sortOrder`
 * when there is one. Files are named like the plain writer's (flat under `location`, with the same
 * prefix) and record their spec id, partition tuple and sort order id.
 */
export class PartitionedWriter implements TableFileWriter {
  private readonly spec: BoundSpec;
  private readonly sortFields: BoundSortField[];
  private readonly sortOrderId?: number;
  /** Output columns whose values decide a row's partition or order, and where each spec/sort field reads. */
  private readonly keyColumns: number[];
  private readonly specAt: number[];
  private readonly sortAt: number[];
  /** Open partitions, least recently used first (a Map keeps insertion order: a use moves one to the end). */
  private readonly open = new Map<unknown, OpenPartition>();
  private readonly retired: DataFile[] = [];
  /** Writers closing in the background, oldest first. */
  private readonly closing = new Set<Promise<void>>();
  private failed: unknown;
  private readonly done = { buildMs: 0, encodeMs: 0, uploadMs: 0 };
  private readonly fileNumbers = { next: 0 };
  private readonly maxOpen: number;
  private readonly sortBytes: number;
  private buffered = 0;
  /** Rows taken so far, all partitions. */
  private rowsTaken = 0;
  /** Files closed because too many partitions were open (a sign the bound is low for the data). */
  evictions = 0;

  constructor(private readonly opts: DataFileWriterOptions & TableLayoutOptions) {
    const fields = opts.fields;
    this.spec = opts.spec ? bindSpec(opts.spec, { type: 'struct', 'schema-id': 0, fields }) : { specId: 0, fields: [] };
    const columnOf = (id: number, what: string) => {
      const c = fields.findIndex((f) => f.id === id);
      if (c < 0)
        throw new SyncError(`the table's ${what} reads column id ${id}, which is not among the columns written`, { code: ERROR_CODES.TABLE_UNSUPPORTED, retryable: false });
      return c;
    };
    const order = opts.sortOrder && opts.sortOrder.fields.length > 0 ? opts.sortOrder : undefined;
    this.sortOrderId = order?.['order-id'];
    this.sortFields = (order?.fields ?? []).map((f) => {
      const transform = parseTransformName(f.transform);
      if (!transform)
        throw new SyncError(`the table's sort order uses ${f.transform}, a transform this writer does not know`, { code: ERROR_CODES.TABLE_UNSUPPORTED, retryable: false });
      return { column: columnOf(f['source-id'], 'sort order'), transform, descending: f.direction === 'desc', nullsFirst: f['null-order'] === 'nulls-first' };
    });
    const specColumns = this.spec.fields.map((f) => columnOf(f.source.id, `partition field ${f.name}`));
    this.keyColumns = [...new Set([...specColumns, ...this.sortFields.map((s) => s.column)])];
    this.specAt = specColumns.map((c) => this.keyColumns.indexOf(c));
    this.sortAt = this.sortFields.map((s) => this.keyColumns.indexOf(s.column));
    this.maxOpen = Math.max(1, opts.maxOpenPartitions ?? DEFAULT_MAX_OPEN_PARTITIONS);
    this.sortBytes = Math.max(1, opts.sortBufferBytes ?? DEFAULT_SORT_BUFFER_BYTES);
  }

  /** Every file closed so far. */
  get files(): DataFile[] {
    const files = [...this.retired];
    for (const p of this.open.values()) if (p.writer) files.push(...p.writer.files);
    return files;
  }

  get timings(): { buildMs: number; encodeMs: number; uploadMs: number } {
    const t = { ...this.done };
    for (const p of this.open.values()) {
      if (!p.writer) continue;
      t.buildMs += p.writer.timings.buildMs;
      t.encodeMs += p.writer.timings.encodeMs;
      t.uploadMs += p.writer.timings.uploadMs;
    }
    return t;
  }

  /** Partitions with a file open or rows buffered. */
  get openPartitions(): number {
    return this.open.size;
  }

  private get sorted(): boolean {
    return this.sortFields.length > 0;
  }

  async writeColumns(source: ColumnSource): Promise<void> {
    this.throwIfFailed();
    const started = performance.now();
    const n = source.length;
    if (n === 0) return;
    // The key columns, built as the files' builders build them, read back as canonical values.
    const builders = this.keyColumns.map((c) => makeColumnBuilder(this.opts.fields[c]!));
    appendColumns(source, this.keyColumns, builders, this.opts.fields.length, 0, n);
    const values = builders.map((b, k) => canonicalColumn(this.opts.fields[this.keyColumns[k]!]!, b.finish()));
    const fields = this.spec.fields;
    const single = fields.length === 1 ? fields[0]! : undefined;
    const groups = new Map<unknown, { tuple: PartitionTuple; rows: number[] }>();
    for (let r = 0; r < n; r++) {
      let key: unknown;
      let tuple: PartitionTuple;
      if (single) {
        const v = applyTransform(single.transform, single.source.type, values[this.specAt[0]!]![r] ?? null);
        tuple = [v];
        key = v instanceof Uint8Array ? partitionKey(tuple) : v;
      } else {
        tuple = fields.map((f, i) => applyTransform(f.transform, f.source.type, values[this.specAt[i]!]![r] ?? null));
        key = partitionKey(tuple);
      }
      const group = groups.get(key);
      if (group) group.rows.push(r);
      else groups.set(key, { tuple, rows: [r] });
    }
    this.done.buildMs += performance.now() - started;
    for (const [key, group] of groups) {
      const rows = Int32Array.from(group.rows);
      const partition = await this.partition(key, group.tuple);
      partition.usedAt = this.rowsTaken + n;
      if (partition.writer) {
        await partition.writer.writeColumns(rowSubset(source, rows));
        continue;
      }
      const t = performance.now();
      const sort = partition.sort!;
      rowSubset(source, rows).appendTo(sort.rows.builders, 0, rows.length);
      this.sortFields.forEach((s, i) => {
        const column = values[this.sortAt[i]!]!;
        const keys = sort.keys[i]!;
        const type = this.opts.fields[s.column]!.type;
        for (let k = 0; k < rows.length; k++) {
          const v = column[rows[k]!] ?? null;
          keys.push(s.transform.kind === 'identity' ? v : applyTransform(s.transform, type, v));
        }
      });
      const bytes = sort.rows.byteSize();
      this.buffered += bytes - sort.bytes;
      sort.bytes = bytes;
      this.done.buildMs += performance.now() - t;
      if (sort.bytes >= this.sortBytes) await this.retire(key);
      // Over the bound all together: the largest buffers are written out first.
      while (this.buffered >= this.sortBytes && this.open.size > 0) {
        let largest: unknown;
        let size = -1;
        for (const [k, p] of this.open) if (p.sort!.bytes > size) [largest, size] = [k, p.sort!.bytes];
        await this.retire(largest);
      }
    }
    this.rowsTaken += n;
    if (!this.sorted) {
      // Least recently used first: the idle ones are at the front.
      const idle = this.opts.idleRows ?? DEFAULT_IDLE_ROWS;
      for (const [key, p] of this.open) {
        if (this.rowsTaken - p.usedAt < idle) break;
        await this.retire(key);
      }
    }
  }

  /** The partition's open writer or sort buffer (made, closing the least recently used when too many are open). */
  private async partition(key: unknown, tuple: PartitionTuple): Promise<OpenPartition> {
    const found = this.open.get(key);
    if (found) {
      this.open.delete(key);
      this.open.set(key, found);
      return found;
    }
    while (this.open.size >= this.maxOpen) {
      this.evictions++;
      await this.retire(this.open.keys().next().value);
    }
    const made: OpenPartition = this.sorted
      ? { tuple, usedAt: this.rowsTaken, sort: new SortBuffer(this.opts.fields, this.sortFields.length, tuple) }
      : { tuple, usedAt: this.rowsTaken, writer: this.writerFor(tuple) };
    this.open.set(key, made);
    return made;
  }

  private writerFor(tuple: PartitionTuple): DataFileWriter {
    return new DataFileWriter({
      ...this.opts,
      // Row groups of a partition's file are encoded while other partitions' files are open too:
      // smaller ones keep the encoders' memory about one plain file's whatever the open count.
      rowGroupBytes: this.opts.rowGroupBytes ?? PARTITION_ROW_GROUP_BYTES,
      fileNumbers: this.fileNumbers,
      fileLayout: { specId: this.spec.specId, partition: tuple, ...(this.sortOrderId !== undefined ? { sortOrderId: this.sortOrderId } : {}) },
    });
  }

  /** Closes a partition: its open file, or its buffered rows sorted into a file. */
  private async retire(key: unknown): Promise<void> {
    const p = this.open.get(key);
    if (!p) return;
    this.open.delete(key);
    const writer = p.writer ?? this.writerFor(p.tuple);
    if (p.sort) {
      this.buffered -= p.sort.bytes;
      const t = performance.now();
      const order = this.sortedRows(p.sort);
      const batch = p.sort.rows.toRecordBatch();
      this.done.buildMs += performance.now() - t;
      await writer.writeColumns(batchSource(batch, this.opts.fields, order));
    }
    await this.closeInBackground(writer);
  }

  /**
   * Closes a partition's writer while rows go on to the others: its last row group is encoded and
   * its upload completed as the next rows are built (the encoder threads and this one overlap, as
   * they do within a file). At most MAX_CLOSING close at once; a failure fails the next call.
   */
  private async closeInBackground(writer: DataFileWriter): Promise<void> {
    const closing: Promise<void> = writer.close().then(
      () => {
        this.retired.push(...writer.files);
        this.done.buildMs += writer.timings.buildMs;
        this.done.encodeMs += writer.timings.encodeMs;
        this.done.uploadMs += writer.timings.uploadMs;
      },
      (error: unknown) => {
        this.failed ??= error;
      },
    );
    this.closing.add(closing);
    void closing.finally(() => this.closing.delete(closing));
    while (this.closing.size > MAX_CLOSING) await this.closing.values().next().value;
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failed !== undefined) throw this.failed;
  }

  /** The buffer's rows in the sort order (stable: rows with equal keys keep their order). */
  private sortedRows(sort: SortBuffer): Int32Array {
    const n = sort.rows.length;
    const order = Array.from({ length: n }, (_, i) => i);
    const fields = this.sortFields;
    order.sort((a, b) => {
      for (let i = 0; i < fields.length; i++) {
        const f = fields[i]!;
        const x = sort.keys[i]![a] ?? null;
        const y = sort.keys[i]![b] ?? null;
        if (x === null || y === null) {
          if (x === y) continue;
          return (x === null) === f.nullsFirst ? -1 : 1;
        }
        const c = compareValues(x, y);
        if (c !== 0) return f.descending ? -c : c;
      }
      return a - b;
    });
    return Int32Array.from(order);
  }

  async flush(): Promise<void> {
    for (const key of [...this.open.keys()]) await this.retire(key);
    while (this.closing.size > 0) await this.closing.values().next().value;
    this.throwIfFailed();
  }

  async close(): Promise<DataFile[]> {
    await this.flush();
    return this.files;
  }
}

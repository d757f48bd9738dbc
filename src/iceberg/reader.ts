import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm/node';
import type { ObjectStore } from '../storage/object-store';
import type { ManifestEntry, Snapshot } from './spec';
import type { IcebergTable } from './table';
import { ERROR_CODES, SyncError } from '../errors';

/**
 * Reads a Parquet file (optionally only some columns) into an Arrow table, row group by row group:
 * parquet-wasm's whole-file read traps ("unreachable") on large files (a 134 MB file of 123 row
 * groups, even for one column), while its stream reads them.
 */
export async function readParquetFile(store: ObjectStore, path: string, columns?: string[]): Promise<arrow.Table> {
  const bytes = await store.get(path);
  const file = await pw.ParquetFile.fromFile(new Blob([bytes]));
  const batches: arrow.RecordBatch[] = [];
  try {
    for await (const batch of (await file.stream(columns ? { columns } : undefined)) as unknown as AsyncIterable<pw.RecordBatch>) {
      batches.push(...arrow.tableFromIPC(batch.intoIPCStream()).batches);
    }
  } finally {
    file.free();
  }
  // A file without rows yields no batch, and so no schema: read whole (it is small).
  if (batches.length === 0) return arrow.tableFromIPC(pw.readParquet(bytes, columns ? { columns } : undefined).intoIPCStream());
  return new arrow.Table(batches);
}

/**
 * Some columns of a Parquet file, fetched by byte range: the footer, then only those columns'
 * chunks (parquet-wasm's async reader asks for the ranges it needs through a Blob's `slice`). A
 * merge reads a 128 MB data file's Id column as a few MB, never the whole file.
 */
export async function readParquetColumns(store: ObjectStore, path: string, size: number, columns: string[]): Promise<arrow.Table> {
  const file = await pw.ParquetFile.fromFile(rangeBlob(store, path, size) as unknown as Blob);
  try {
    const table = await file.read({ columns });
    return arrow.tableFromIPC(table.intoIPCStream());
  } finally {
    file.free();
  }
}

/**
 * The columns a Parquet file's writer dictionary-encoded (read from its footer alone): what a
 * rewrite of the file keeps, since a dictionary on a column of mostly distinct values makes the
 * file larger, not smaller.
 */
export async function dictionaryEncodedColumns(store: ObjectStore, path: string, size: number): Promise<string[]> {
  const file = await pw.ParquetFile.fromFile(rangeBlob(store, path, size) as unknown as Blob);
  try {
    const meta = file.metadata();
    if (meta.numRowGroups() === 0) return [];
    return meta
      .rowGroup(0)
      .columns()
      .filter((c) => c.encodings().some((e) => e === pw.Encoding.RLE_DICTIONARY || e === pw.Encoding.PLAIN_DICTIONARY))
      .map((c) => c.columnPath().join('.'));
  } finally {
    file.free();
  }
}

/** An object's bytes as a Blob that parquet-wasm's async reader slices: each slice a range GET. */
function rangeBlob(store: ObjectStore, path: string, size: number): RangeBlob {
  const blob = (start: number, end: number): RangeBlob => ({
    size: end - start,
    slice: (from = 0, to = end - start) => blob(start + from, start + Math.min(to, end - start)),
    arrayBuffer: async () => {
      const bytes = await store.getRange(path, start, end);
      return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer;
    },
  });
  return blob(0, size);
}

/** What parquet-wasm's Blob reader uses of a Blob: its size, slices, and their bytes. */
interface RangeBlob {
  size: number;
  slice(start?: number, end?: number): RangeBlob;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** One position delete file: the positions it deletes, per data file path. */
export async function readPositionDeletes(store: ObjectStore, path: string): Promise<Map<string, Set<bigint>>> {
  const t = await readParquetFile(store, path, ['file_path', 'pos']);
  const paths = t.getChild('file_path')!;
  const pos = t.getChild('pos')!;
  const perFile = new Map<string, Set<bigint>>();
  for (let i = 0; i < t.numRows; i++) {
    const p = paths.get(i) as string;
    let set = perFile.get(p);
    if (!set) perFile.set(p, (set = new Set()));
    set.add(BigInt(pos.get(i) as bigint));
  }
  return perFile;
}

/** Positions deleted in one data file by one delete file, with the delete file's sequence number. */
export type DeletedPositions = Map<string, { positions: Set<bigint>; sequenceNumber: bigint }[]>;

/** The data files each position delete file names (by path). */
export type DeleteTargets = Map<string, ReadonlySet<string>>;

/** What position delete files delete: positions per data file, and the data files each delete file names. */
export interface DeleteIndex {
  positions: DeletedPositions;
  targets: DeleteTargets;
}

/** Reads position delete files once (see DeleteIndex). */
export async function readDeletes(store: ObjectStore, deletes: ManifestEntry[]): Promise<DeleteIndex> {
  const positions: DeletedPositions = new Map();
  const targets: DeleteTargets = new Map();
  for (const entry of deletes) {
    const perFile = await readPositionDeletes(store, entry.dataFile.filePath);
    targets.set(entry.dataFile.filePath, new Set(perFile.keys()));
    for (const [p, set] of perFile) positions.set(p, [...(positions.get(p) ?? []), { positions: set, sequenceNumber: entry.sequenceNumber ?? 0n }]);
  }
  return { positions, targets };
}

/** Deleted positions per data file path, from the position delete files that apply to it. */
export async function deletedPositions(store: ObjectStore, deletes: ManifestEntry[]): Promise<DeletedPositions> {
  return (await readDeletes(store, deletes)).positions;
}

/** Whether row `pos` of a data file is deleted (delete files apply to data of equal or older sequence). */
export function isDeleted(deleted: DeletedPositions, file: ManifestEntry, pos: number): boolean {
  const lists = deleted.get(file.dataFile.filePath);
  if (!lists) return false;
  const seq = file.sequenceNumber ?? 0n;
  const p = BigInt(pos);
  return lists.some((l) => l.sequenceNumber >= seq && l.positions.has(p));
}

/** Plain JS value of an Arrow cell: decimals as exact strings, dates, times and timestamps as ISO text. */
function plain(type: arrow.DataType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (arrow.DataType.isDecimal(type)) {
    const words = value as Uint32Array;
    let v = 0n;
    for (let w = 3; w >= 0; w--) v = (v << 32n) | BigInt(words[w]!);
    v = BigInt.asIntN(128, v);
    const negative = v < 0n;
    const digits = (negative ? -v : v).toString().padStart(type.scale + 1, '0');
    const text = type.scale ? `${digits.slice(0, -type.scale)}.${digits.slice(-type.scale)}` : digits;
    return negative ? `-${text}` : text;
  }
  // Arrow hands timestamps over as epoch milliseconds and time as microseconds of the day.
  if (arrow.DataType.isTimestamp(type)) return new Date(Number(value)).toISOString();
  if (arrow.DataType.isDate(type)) return new Date(value as number).toISOString().slice(0, 10);
  if (arrow.DataType.isTime(type)) {
    const micros = Number(value);
    return `${new Date(Math.floor(micros / 1000)).toISOString().slice(11, 23)}${String(micros % 1000).padStart(3, '0')}`;
  }
  return value;
}

/**
 * Rows of a snapshot with position deletes applied, as plain objects keyed by column name. For
 * inspection and tests: it reads whole files, so keep it to small tables.
 */
export async function readRows(table: IcebergTable, opts: { snapshot?: Snapshot; columns?: string[] } = {}): Promise<Record<string, unknown>[]> {
  const { data, deletes } = await table.liveEntries(opts.snapshot ?? table.currentSnapshot());
  const deleted = await deletedPositions(table.store, deletes);
  const schema = table.schema();
  const wanted = opts.columns ?? schema.fields.map((f) => f.name);
  const rows: Record<string, unknown>[] = [];
  for (const file of data) {
    const t = await readParquetFile(table.store, file.dataFile.filePath);
    const vectors = wanted.map((name) => ({ name, vector: t.getChild(name), type: t.schema.fields.find((f) => f.name === name)?.type }));
    for (let i = 0; i < t.numRows; i++) {
      if (isDeleted(deleted, file, i)) continue;
      const row: Record<string, unknown> = {};
      // Columns added after the file was written read as null.
      for (const v of vectors) row[v.name] = v.vector && v.type ? plain(v.type, v.vector.get(i)) : null;
      rows.push(row);
    }
  }
  return rows;
}

/**
 * The values of one string column (a key such as the Id) in a snapshot's live rows: position
 * deletes applied, one data file at a time, in slices of `slice` values. Memory: one file's column
 * (Arrow, compact) and the table's deleted positions.
 */
export async function* liveColumnValues(table: IcebergTable, column: string, opts: { snapshot?: Snapshot; slice?: number } = {}): AsyncGenerator<string[]> {
  const { data, deletes } = await table.liveEntries(opts.snapshot ?? table.currentSnapshot());
  const deleted = await deletedPositions(table.store, deletes);
  const slice = opts.slice ?? 10_000;
  for (const file of data) {
    const t = await readParquetColumns(table.store, file.dataFile.filePath, Number(file.dataFile.fileSizeInBytes), [column]);
    const vector = t.getChild(column);
    if (!vector) throw new SyncError(`${table.identifier}: data file ${file.dataFile.filePath} has no column ${column}`, { code: ERROR_CODES.TABLE_UNSUPPORTED, retryable: false });
    let out: string[] = [];
    for (let i = 0; i < t.numRows; i++) {
      if (isDeleted(deleted, file, i)) continue;
      const v = vector.get(i) as string | null;
      if (v !== null) out.push(v);
      if (out.length >= slice) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  }
}

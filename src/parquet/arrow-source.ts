import * as arrow from 'apache-arrow';
import type { NestedField } from '../iceberg/spec';
import type { CellSink, ColumnSource } from './columns';
import { ERROR_CODES, SyncError } from '../errors';

/*
 * Rows of an Arrow record batch (read back from a Parquet data file) as a column source for the
 * DataFileWriter, in the builders' own units (micros, days, unscaled decimals, UTF-8 bytes), so a
 * rewrite copies values without turning them into JS objects and loses no precision. Columns are
 * matched to the table's fields by Parquet field id (by name for files that have none); a field the
 * file lacks (added later) reads as null.
 */

type Cell = (sink: CellSink, i: number) => void;

const fieldIdOf = (f: arrow.Field) => {
  const id = f.metadata.get('PARQUET:field_id');
  return id === undefined ? undefined : Number(id);
};

/** Integer scale from a time unit to microseconds. */
function toMicros(unit: arrow.TimeUnit): (v: bigint) => number | bigint {
  switch (unit) {
    case arrow.TimeUnit.SECOND:
      return (v) => v * 1_000_000n;
    case arrow.TimeUnit.MILLISECOND:
      return (v) => v * 1000n;
    case arrow.TimeUnit.NANOSECOND:
      return (v) => v / 1000n;
    default:
      return (v) => v;
  }
}

const asNumber = (v: number | bigint) => (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);

function cellReader(data: arrow.Data, type: arrow.DataType): Cell {
  const valid = (i: number) => data.nullCount === 0 || data.getValid(i);
  const values = data.values as ArrayLike<unknown>;
  const offset = data.offset;
  if (arrow.DataType.isUtf8(type) && offset === 0) {
    const bytes = data.values as Uint8Array;
    const offsets = data.valueOffsets as Int32Array;
    return (sink, i) => (valid(i) ? sink.appendUtf8(bytes, offsets[i]!, offsets[i + 1]!, false) : sink.append(null));
  }
  if (arrow.DataType.isTimestamp(type) || arrow.DataType.isTime(type)) {
    const scale = toMicros(type.unit);
    if (arrow.DataType.isTime(type) && (type.bitWidth as number) === 32) {
      const v32 = values as Int32Array;
      return (sink, i) => sink.append(valid(i) ? asNumber(scale(BigInt(v32[offset + i]!))) : null);
    }
    const v64 = values as BigInt64Array;
    return (sink, i) => sink.append(valid(i) ? asNumber(scale(v64[offset + i]!)) : null);
  }
  if (arrow.DataType.isDate(type)) {
    const day = type.unit === arrow.DateUnit.DAY;
    return (sink, i) => {
      if (!valid(i)) return sink.append(null);
      const v = values[offset + i] as number | bigint;
      sink.append(day ? Number(v) : Math.floor(Number(v) / 86_400_000));
    };
  }
  if (arrow.DataType.isInt(type) && type.bitWidth === 64) {
    const v64 = values as BigInt64Array;
    return (sink, i) => sink.append(valid(i) ? asNumber(v64[offset + i]!) : null);
  }
  if ((arrow.DataType.isInt(type) && type.bitWidth <= 32) || arrow.DataType.isFloat(type)) {
    return (sink, i) => sink.append(valid(i) ? (values[offset + i] as number) : null);
  }
  if (arrow.DataType.isDecimal(type)) {
    const words = values as Uint32Array;
    const n = type.bitWidth / 32;
    return (sink, i) => {
      if (!valid(i)) return sink.append(null);
      let v = 0n;
      for (let w = n - 1; w >= 0; w--) v = (v << 32n) | BigInt(words[(offset + i) * n + w]!);
      sink.append(BigInt.asIntN(type.bitWidth, v));
    };
  }
  // Booleans, binary, and layouts the fast paths leave out: the vector's own reader.
  const vector = arrow.makeVector(data);
  return (sink, i) => sink.append(vector.get(i) ?? null);
}

/**
 * The rows `rows` (indices into the batch) of `batch`, as a source of `fields`' values.
 */
export function batchSource(batch: arrow.RecordBatch, fields: readonly NestedField[], rows: Int32Array): ColumnSource {
  const byId = new Map<number, number>();
  const byName = new Map<string, number>();
  batch.schema.fields.forEach((f, c) => {
    const id = fieldIdOf(f);
    if (id !== undefined) byId.set(id, c);
    byName.set(f.name, c);
  });
  const hasIds = byId.size > 0;
  const cells: (Cell | undefined)[] = fields.map((field) => {
    const c = hasIds ? byId.get(field.id) : byName.get(field.name);
    if (c === undefined) return undefined;
    const child = batch.getChildAt(c)!;
    if (child.data.length !== 1)
      throw new SyncError(`column ${field.name}: a record batch column in ${child.data.length} pieces`, { code: ERROR_CODES.INTERNAL, retryable: false });
    return cellReader(child.data[0]!, child.type);
  });
  return {
    length: rows.length,
    appendTo(sinks, from, to) {
      for (let c = 0; c < sinks.length; c++) {
        const sink = sinks[c]!;
        const cell = cells[c];
        for (let r = from; r < to; r++) {
          if (cell) cell(sink, rows[r]!);
          else sink.append(null);
        }
      }
    },
    appendRowsTo(sinks, picked, from, to) {
      for (let c = 0; c < sinks.length; c++) {
        const sink = sinks[c]!;
        const cell = cells[c];
        for (let r = from; r < to; r++) {
          if (cell) cell(sink, rows[picked[r]!]!);
          else sink.append(null);
        }
      }
    },
  };
}

import * as arrow from 'apache-arrow';
import { parseDecimal, type NestedField, type PrimitiveType } from '../iceberg/spec';
import { readBoolean, readDateDays, readDatetimeMicros, readInteger, readNumber, readTimeMicros, readUnscaled, utf8Text } from './text';
import { ERROR_CODES, SyncError } from '../errors';

/*
 * Column builders that fill Arrow buffers directly (typed arrays, UTF-8 bytes written with
 * encodeInto, a validity bitmap) — per-value Arrow builders are ~20x slower and far fatter. Each
 * builder also keeps the column's manifest metrics (value/null/NaN counts, min and max) as values
 * arrive, so no second pass over the data is needed.
 *
 * Accepted values per Iceberg type (null/undefined = null):
 *   string: string · boolean: boolean · int: number · long: bigint | number · float/double: number
 *   decimal(p,s): bigint (unscaled) or exact decimal text · date: days since epoch or 'YYYY-MM-DD'
 *   time: microseconds of day (bigint | number) · timestamp/timestamptz: microseconds since epoch
 *   (bigint | number), Date, or ISO-8601 text · binary: Uint8Array
 */

/** What a source appends values to: a column builder. */
export interface CellSink {
  append(value: unknown): void;
  /** A UTF-8 value given as a byte range; `doubledQuotes`: `""` inside stands for `"`. */
  appendUtf8(bytes: Uint8Array, start: number, end: number, doubledQuotes: boolean): void;
}

/** Rows that append themselves to column builders, a column at a time. */
export interface ColumnSource {
  readonly length: number;
  /** Appends rows [from, to) to `sinks`, one sink per output column. */
  appendTo(sinks: readonly CellSink[], from: number, to: number): void;
  /**
   * Appends the rows `rows[from..to)` (indices into this source, any order) to `sinks`: a fast
   * path for writing a subset of the rows (a partition's); without it, runs of consecutive rows
   * go through `appendTo`.
   */
  appendRowsTo?(sinks: readonly CellSink[], rows: Int32Array, from: number, to: number): void;
  /** The same rows with only the output columns `columns` (sink k takes column `columns[k]`): a fast path for reading a few columns. */
  select?(columns: readonly number[]): ColumnSource;
}

/** A sink that drops what it is given (columns a reader does not need). */
export const NO_SINK: CellSink = { append() {}, appendUtf8() {} };

/** Appends output columns `columns` of rows [from, to) of `source` to `sinks` (sink k takes column `columns[k]`). */
export function appendColumns(source: ColumnSource, columns: readonly number[], sinks: readonly CellSink[], width: number, from: number, to: number): void {
  if (source.select) return source.select(columns).appendTo(sinks, from, to);
  const all: CellSink[] = new Array<CellSink>(width).fill(NO_SINK);
  columns.forEach((c, k) => (all[c] = sinks[k]!));
  source.appendTo(all, from, to);
}

/** The rows `rows` (indices into `source`) of a source, as a source of their own. */
export function rowSubset(source: ColumnSource, rows: Int32Array): ColumnSource {
  return {
    length: rows.length,
    appendTo(sinks, from, to) {
      if (source.appendRowsTo) return source.appendRowsTo(sinks, rows, from, to);
      // Runs of consecutive rows: one appendTo each.
      for (let start = from; start < to; ) {
        let end = start + 1;
        while (end < to && rows[end] === rows[end - 1]! + 1) end++;
        source.appendTo(sinks, rows[start]!, rows[end - 1]! + 1);
        start = end;
      }
    },
  };
}

/** Row arrays as a column source: output column k takes `row[fieldAt[k]]` (-1: null). */
export function rowsSource(rows: readonly (readonly unknown[])[], fieldAt?: readonly number[]): ColumnSource {
  const field = (k: number) => (fieldAt ? fieldAt[k]! : k);
  return {
    length: rows.length,
    appendTo(sinks, from, to) {
      for (let k = 0; k < sinks.length; k++) {
        const sink = sinks[k]!;
        const f = field(k);
        for (let r = from; r < to; r++) sink.append(f < 0 ? null : rows[r]![f]);
      }
    },
    appendRowsTo(sinks, picked, from, to) {
      for (let k = 0; k < sinks.length; k++) {
        const sink = sinks[k]!;
        const f = field(k);
        for (let r = from; r < to; r++) sink.append(f < 0 ? null : rows[picked[r]!]![f]);
      }
    },
    select: (columns) => rowsSource(rows, columns.map(field)),
  };
}

export interface ColumnMetrics {
  valueCount: number;
  nullCount: number;
  nanCount: number;
  /** Min and max of the non-null (non-NaN) values, in the builder's value form. */
  min: unknown;
  max: unknown;
}

class Growable<T extends Int32Array | BigInt64Array | Float64Array | Float32Array | Uint8Array | Uint32Array> {
  buf: T;
  constructor(
    private readonly make: (n: number) => T,
    capacity = 1024,
  ) {
    this.buf = make(capacity);
  }
  /** Room for exactly `n` (a size known in advance: no doubling, no copies). */
  reserve(n: number): void {
    if (n <= this.buf.length) return;
    const next = this.make(n);
    next.set(this.buf as never);
    this.buf = next;
  }
  ensure(n: number): void {
    if (n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < n) cap *= 2;
    const next = this.make(cap);
    next.set(this.buf as never);
    this.buf = next;
  }
}

class Validity {
  private bits = new Growable((n) => new Uint8Array(n), 128);
  nulls = 0;
  set(index: number, valid: boolean): void {
    const byte = index >> 3;
    // The capacity check inline: a call per value showed in profiles.
    if (byte >= this.bits.buf.length) this.bits.ensure(byte + 1);
    if (valid) this.bits.buf[byte]! |= 1 << (index & 7);
    else this.nulls++;
  }
  reserve(rows: number): void {
    this.bits.reserve((rows >> 3) + 1);
  }
  bitmap(length: number): Uint8Array | undefined {
    return this.nulls === 0 ? undefined : this.bits.buf.slice(0, (length + 7) >> 3);
  }
}

export abstract class ColumnBuilder {
  length = 0;
  protected validity = new Validity();
  protected nanCount = 0;
  protected min: unknown = undefined;
  protected max: unknown = undefined;

  constructor(
    readonly field: NestedField,
    readonly arrowType: arrow.DataType,
  ) {}

  append(value: unknown): void {
    const index = this.length++;
    if (value === null || value === undefined) {
      if (this.field.required) throw new SyncError(`column ${this.field.name} is required but got a null`, { code: ERROR_CODES.VALUE_INVALID, retryable: false });
      this.validity.set(index, false);
      this.appendNull(index);
      return;
    }
    this.validity.set(index, true);
    this.appendValue(index, value);
  }

  /**
   * A value given as UTF-8 bytes (a cell of a CSV source); `doubledQuotes`: `""` inside
   * stands for `"`. Text columns copy the bytes; other columns read the text as `append` would.
   */
  appendUtf8(bytes: Uint8Array, start: number, end: number, doubledQuotes: boolean): void {
    const text = utf8Text(bytes, start, end);
    this.append(doubledQuotes ? text.replace(/""/g, '"') : text);
  }

  /** Sizes the buffers for `rows` values (and `heapBytes` of text), e.g. those of the previous row group. */
  presize(rows: number, heapBytes: number): void {
    this.validity.reserve(rows);
    this.reserveValues(rows, heapBytes);
  }
  protected abstract reserveValues(rows: number, heapBytes: number): void;
  /** Bytes of variable-length values held (text, binary); 0 for fixed-width columns. */
  heapBytes(): number {
    return 0;
  }

  protected abstract appendValue(index: number, value: unknown): void;
  protected abstract appendNull(index: number): void;
  /** Bytes held so far, to size files. */
  abstract byteSize(): number;
  protected abstract build(nullBitmap: Uint8Array | undefined): arrow.Data;

  finish(): arrow.Data {
    return this.build(this.validity.bitmap(this.length));
  }

  metrics(): ColumnMetrics {
    return { valueCount: this.length, nullCount: this.validity.nulls, nanCount: this.nanCount, min: this.min, max: this.max };
  }
}

class NumberBuilder<A extends Int32Array | Float64Array | Float32Array> extends ColumnBuilder {
  private values: Growable<A>;
  constructor(
    field: NestedField,
    type: arrow.DataType,
    make: (n: number) => A,
    private readonly convert: (v: unknown, field: NestedField) => number,
    private readonly floating: boolean,
    private readonly readText: (bytes: Uint8Array, start: number, end: number) => number | undefined,
  ) {
    super(field, type);
    this.values = new Growable(make);
  }
  override appendUtf8(bytes: Uint8Array, start: number, end: number, doubledQuotes: boolean): void {
    const v = doubledQuotes ? undefined : this.readText(bytes, start, end);
    if (v === undefined) return super.appendUtf8(bytes, start, end, doubledQuotes);
    const i = this.length++;
    this.validity.set(i, true);
    this.put(i, v);
  }
  protected appendValue(i: number, value: unknown): void {
    this.put(i, this.convert(value, this.field));
  }
  private put(i: number, v: number): void {
    if (i >= this.values.buf.length) this.values.ensure(i + 1);
    this.values.buf[i] = v;
    if (this.floating && Number.isNaN(v)) {
      this.nanCount++;
      return;
    }
    if (this.min === undefined || v < (this.min as number)) this.min = v;
    if (this.max === undefined || v > (this.max as number)) this.max = v;
  }
  protected appendNull(i: number): void {
    this.values.ensure(i + 1);
  }
  protected reserveValues(rows: number): void {
    this.values.reserve(rows);
  }
  byteSize(): number {
    return this.length * this.values.buf.BYTES_PER_ELEMENT;
  }
  protected build(nullBitmap: Uint8Array | undefined): arrow.Data {
    return arrow.makeData({
      type: this.arrowType as never,
      length: this.length,
      nullCount: this.validity.nulls,
      nullBitmap,
      data: this.values.buf.subarray(0, this.length),
    } as never);
  }
}

/**
 * 64-bit integers (long, time, timestamps). Safe-integer numbers — the common case — are written as
 * two 32-bit words and compared as numbers: a BigInt per value would dominate the time in GC.
 */
class BigIntBuilder extends ColumnBuilder {
  private values = new Growable((n) => new BigInt64Array(n));
  private minN = Infinity;
  private maxN = -Infinity;
  private minB: bigint | undefined;
  private maxB: bigint | undefined;
  /** 32-bit view of the values buffer, renewed when the buffer grows. */
  private words = new Int32Array(0);
  constructor(
    field: NestedField,
    type: arrow.DataType,
    private readonly convert: (v: unknown, field: NestedField) => bigint | number,
    private readonly readText: (bytes: Uint8Array, start: number, end: number) => number | undefined,
  ) {
    super(field, type);
  }
  override appendUtf8(bytes: Uint8Array, start: number, end: number, doubledQuotes: boolean): void {
    const v = doubledQuotes ? undefined : this.readText(bytes, start, end);
    if (v === undefined || !Number.isSafeInteger(v)) return super.appendUtf8(bytes, start, end, doubledQuotes);
    const i = this.length++;
    this.validity.set(i, true);
    this.putSafe(i, v);
  }
  private putSafe(i: number, v: number): void {
    if (i >= this.values.buf.length) this.values.ensure(i + 1);
    if (this.words.buffer !== this.values.buf.buffer) this.words = new Int32Array(this.values.buf.buffer);
    const words = this.words;
    const hi = Math.floor(v / 4294967296);
    words[i * 2] = (v - hi * 4294967296) | 0;
    words[i * 2 + 1] = hi;
    if (v < this.minN) this.minN = v;
    if (v > this.maxN) this.maxN = v;
  }
  protected appendValue(i: number, value: unknown): void {
    const v = typeof value === 'number' && Number.isSafeInteger(value) ? value : this.convert(value, this.field);
    if (typeof v === 'number' && Number.isSafeInteger(v)) return this.putSafe(i, v);
    this.values.ensure(i + 1);
    const b = BigInt(v);
    this.values.buf[i] = b;
    if (this.minB === undefined || b < this.minB) this.minB = b;
    if (this.maxB === undefined || b > this.maxB) this.maxB = b;
  }
  protected appendNull(i: number): void {
    this.values.ensure(i + 1);
  }
  protected reserveValues(rows: number): void {
    this.values.reserve(rows);
  }
  override metrics(): ColumnMetrics {
    const candidates = (nums: number, big: bigint | undefined, pick: (a: bigint, b: bigint) => bigint) => {
      const fromNumbers = Number.isFinite(nums) ? BigInt(nums) : undefined;
      if (fromNumbers === undefined) return big;
      return big === undefined ? fromNumbers : pick(fromNumbers, big);
    };
    return {
      ...super.metrics(),
      min: candidates(this.minN, this.minB, (a, b) => (a < b ? a : b)),
      max: candidates(this.maxN, this.maxB, (a, b) => (a > b ? a : b)),
    };
  }
  byteSize(): number {
    return this.length * 8;
  }
  protected build(nullBitmap: Uint8Array | undefined): arrow.Data {
    return arrow.makeData({
      type: this.arrowType as never,
      length: this.length,
      nullCount: this.validity.nulls,
      nullBitmap,
      data: this.values.buf.subarray(0, this.length),
    } as never);
  }
}

class BoolBuilder extends ColumnBuilder {
  private bits = new Growable((n) => new Uint8Array(n), 128);
  override appendUtf8(bytes: Uint8Array, start: number, end: number): void {
    const v = readBoolean(bytes, start, end);
    if (v === undefined)
      throw new SyncError(`column ${this.field.name}: expected true or false, got "${utf8Text(bytes, start, end)}"`, { code: ERROR_CODES.VALUE_INVALID, retryable: false });
    this.append(v);
  }
  protected appendValue(i: number, value: unknown): void {
    if (typeof value !== 'boolean')
      throw new SyncError(`column ${this.field.name}: expected a boolean, got ${typeof value}`, { code: ERROR_CODES.VALUE_INVALID, retryable: false });
    this.bits.ensure((i >> 3) + 1);
    if (value) this.bits.buf[i >> 3]! |= 1 << (i & 7);
    if (this.min === undefined || ((this.min as boolean) && !value)) this.min = value;
    if (this.max === undefined || (!(this.max as boolean) && value)) this.max = value;
  }
  protected appendNull(i: number): void {
    this.bits.ensure((i >> 3) + 1);
  }
  protected reserveValues(rows: number): void {
    this.bits.reserve((rows >> 3) + 1);
  }
  byteSize(): number {
    return this.length >> 3;
  }
  protected build(nullBitmap: Uint8Array | undefined): arrow.Data {
    return arrow.makeData({ type: new arrow.Bool(), length: this.length, nullCount: this.validity.nulls, nullBitmap, data: this.bits.buf.slice(0, (this.length + 7) >> 3) });
  }
}

/** Byte order of heap[a, aEnd) against heap[b, bEnd) (UTF-8 byte order is code-point order). */
function compareRanges(heap: Uint8Array, a: number, aEnd: number, b: number, bEnd: number): number {
  const n = Math.min(aEnd - a, bEnd - b);
  for (let k = 0; k < n; k++) {
    const d = heap[a + k]! - heap[b + k]!;
    if (d !== 0) return d;
  }
  return aEnd - a - (bEnd - b);
}

/**
 * Variable-length values (string, binary): Int32 offsets plus a byte heap. Min and max are kept as
 * bytes and compared as bytes: for UTF-8 that is Iceberg's code-point order, for every value.
 */
class VarBuilder extends ColumnBuilder {
  private offsets = new Growable((n) => new Int32Array(n));
  private bytes = new Growable((n) => Buffer.allocUnsafe(n) as Uint8Array, 16 * 1024);
  private end = 0;
  constructor(
    field: NestedField,
    type: arrow.DataType,
    private readonly isString: boolean,
  ) {
    super(field, type);
  }
  protected appendValue(i: number, value: unknown): void {
    this.offsets.ensure(i + 2);
    const start = this.end;
    if (this.isString) {
      if (typeof value !== 'string')
        throw new SyncError(`column ${this.field.name}: expected a string, got ${typeof value}`, { code: ERROR_CODES.VALUE_INVALID, retryable: false });
      // UTF-8 takes at most 3 bytes per UTF-16 code unit.
      this.bytes.ensure(this.end + value.length * 3);
      this.end += (this.bytes.buf as Buffer).write(value, this.end, 'utf8');
    } else {
      if (!(value instanceof Uint8Array)) throw new SyncError(`column ${this.field.name}: expected bytes`, { code: ERROR_CODES.VALUE_INVALID, retryable: false });
      this.bytes.ensure(this.end + value.length);
      this.bytes.buf.set(value, this.end);
      this.end += value.length;
    }
    this.offsets.buf[i + 1] = this.end;
    this.track(start, this.end);
  }
  override appendUtf8(bytes: Uint8Array, start: number, end: number, doubledQuotes: boolean): void {
    const i = this.length++;
    this.validity.set(i, true);
    if (i + 2 > this.offsets.buf.length) this.offsets.ensure(i + 2);
    if (this.end + (end - start) > this.bytes.buf.length) this.bytes.ensure(this.end + (end - start));
    const heap = this.bytes.buf;
    let w = this.end;
    if (doubledQuotes) {
      for (let k = start; k < end; k++) {
        const b = bytes[k]!;
        heap[w++] = b;
        if (b === 34) k++;
      }
    } else if (end - start > 32) {
      heap.set(bytes.subarray(start, end), w);
      w += end - start;
    } else {
      for (let k = start; k < end; k++) heap[w++] = bytes[k]!;
    }
    const from = this.end;
    this.end = w;
    this.offsets.buf[i + 1] = w;
    this.track(from, w);
  }
  /** Min and max are kept as byte ranges of the heap (no copy per new extreme: Ids only grow). */
  private minStart = -1;
  private minEnd = -1;
  private maxStart = -1;
  private maxEnd = -1;
  private track(start: number, end: number): void {
    const heap = this.bytes.buf;
    if (this.minStart < 0) {
      this.minStart = this.maxStart = start;
      this.minEnd = this.maxEnd = end;
    } else if (compareRanges(heap, start, end, this.minStart, this.minEnd) < 0) {
      this.minStart = start;
      this.minEnd = end;
    } else if (compareRanges(heap, start, end, this.maxStart, this.maxEnd) > 0) {
      this.maxStart = start;
      this.maxEnd = end;
    }
  }
  override metrics(): ColumnMetrics {
    const heap = this.bytes.buf;
    const form = (start: number, end: number) => (start < 0 ? undefined : this.isString ? (heap as Buffer).toString('utf8', start, end) : heap.slice(start, end));
    return { ...super.metrics(), min: form(this.minStart, this.minEnd), max: form(this.maxStart, this.maxEnd) };
  }
  protected appendNull(i: number): void {
    this.offsets.ensure(i + 2);
    this.offsets.buf[i + 1] = this.end;
  }
  protected reserveValues(rows: number, heapBytes: number): void {
    this.offsets.reserve(rows + 2);
    this.bytes.reserve(heapBytes);
  }
  override heapBytes(): number {
    return this.end;
  }
  byteSize(): number {
    return this.end + this.length * 4;
  }
  protected build(nullBitmap: Uint8Array | undefined): arrow.Data {
    return arrow.makeData({
      type: this.arrowType as never,
      length: this.length,
      nullCount: this.validity.nulls,
      nullBitmap,
      valueOffsets: this.offsets.buf.subarray(0, this.length + 1),
      data: this.bytes.buf.subarray(0, this.end),
    } as never);
  }
}

const SCRATCH = Buffer.alloc(96);

/** Decimal(p, s) as 128-bit two's-complement little-endian words. */
class DecimalBuilder extends ColumnBuilder {
  private words = new Growable((n) => new Uint32Array(n), 4096);
  constructor(
    field: NestedField,
    type: arrow.DataType,
    private readonly precision: number,
    private readonly scale: number,
  ) {
    super(field, type);
  }
  private minN = Infinity;
  private maxN = -Infinity;
  override appendUtf8(bytes: Uint8Array, start: number, end: number, doubledQuotes: boolean): void {
    const v = doubledQuotes ? undefined : readUnscaled(bytes, start, end, this.scale, this.precision);
    if (v === undefined) super.appendUtf8(bytes, start, end, doubledQuotes);
    else this.append(v);
  }
  protected appendValue(i: number, value: unknown): void {
    this.words.ensure((i + 1) * 4);
    if (typeof value === 'bigint' && value > -9007199254740991n && value < 9007199254740991n) value = Number(value);
    else if (typeof value === 'string' && value.length <= 32) {
      // Short text through the byte reader (non-ASCII becomes bytes it refuses).
      const n = SCRATCH.write(value, 0, 'utf8');
      value = readUnscaled(SCRATCH, 0, n, this.scale, this.precision) ?? value;
    }
    if (typeof value === 'number' && Number.isSafeInteger(value)) {
      // Unscaled value as four little-endian 32-bit words, sign-extended.
      const hi = Math.floor(value / 4294967296);
      const w = this.words.buf;
      w[i * 4] = value - hi * 4294967296;
      w[i * 4 + 1] = hi >>> 0;
      w[i * 4 + 2] = w[i * 4 + 3] = value < 0 ? 0xffffffff : 0;
      if (value < this.minN) this.minN = value;
      if (value > this.maxN) this.maxN = value;
      return;
    }
    const unscaled = typeof value === 'bigint' ? value : decimalToUnscaled(String(value), this.scale, this.precision, this.field.name);
    let v = BigInt.asUintN(128, unscaled);
    for (let w = 0; w < 4; w++) {
      this.words.buf[i * 4 + w] = Number(v & 0xffffffffn);
      v >>= 32n;
    }
    if (this.min === undefined || unscaled < (this.min as bigint)) this.min = unscaled;
    if (this.max === undefined || unscaled > (this.max as bigint)) this.max = unscaled;
  }
  protected appendNull(i: number): void {
    this.words.ensure((i + 1) * 4);
  }
  protected reserveValues(rows: number): void {
    this.words.reserve(rows * 4);
  }
  override metrics(): ColumnMetrics {
    const m = super.metrics();
    const lo = Number.isFinite(this.minN) ? BigInt(this.minN) : undefined;
    const hi = Number.isFinite(this.maxN) ? BigInt(this.maxN) : undefined;
    const min = lo === undefined ? m.min : m.min === undefined ? lo : lo < (m.min as bigint) ? lo : m.min;
    const max = hi === undefined ? m.max : m.max === undefined ? hi : hi > (m.max as bigint) ? hi : m.max;
    return { ...m, min, max };
  }
  byteSize(): number {
    return this.length * 16;
  }
  protected build(nullBitmap: Uint8Array | undefined): arrow.Data {
    return arrow.makeData({
      type: this.arrowType as never,
      length: this.length,
      nullCount: this.validity.nulls,
      nullBitmap,
      data: this.words.buf.subarray(0, this.length * 4),
    } as never);
  }
}

/** Exact decimal text → unscaled integer at `scale`; more digits than the scale are rounded half-up. */
export function decimalToUnscaled(text: string, scale: number, precision: number, column = 'value'): bigint {
  const match = /^\s*([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text);
  if (!match || (!match[2] && !match[3])) throw new SyncError(`column ${column}: "${text}" is not a decimal number`, { code: ERROR_CODES.VALUE_INVALID, retryable: false });
  const negative = match[1] === '-';
  let digits = (match[2] ?? '') + (match[3] ?? '');
  let pointShift = (match[3] ?? '').length - Number(match[4] ?? 0); // digits right of the point
  let unscaled: bigint;
  if (pointShift <= scale) {
    unscaled = BigInt(digits || '0') * 10n ** BigInt(scale - pointShift);
  } else {
    const drop = pointShift - scale;
    const kept = digits.length > drop ? digits.slice(0, digits.length - drop) : '0';
    const first = digits.length >= drop ? Number(digits[digits.length - drop] ?? '0') : 0;
    unscaled = BigInt(kept) + (first >= 5 ? 1n : 0n);
    pointShift = scale;
    digits = kept;
  }
  if (unscaled >= 10n ** BigInt(precision))
    throw new SyncError(`column ${column}: ${text} does not fit decimal(${precision}, ${scale})`, { code: ERROR_CODES.VALUE_INVALID, retryable: false });
  return negative ? -unscaled : unscaled;
}

function toInt(v: unknown, f: NestedField): number {
  const n = typeof v === 'string' ? Number(v) : (v as number);
  if (!Number.isInteger(n) || n < -2147483648 || n > 2147483647)
    throw new SyncError(`column ${f.name}: ${String(v)} is not a 32-bit integer`, { code: ERROR_CODES.VALUE_INVALID, retryable: false });
  return n;
}

function toFloat(v: unknown, f: NestedField): number {
  const n = typeof v === 'string' ? Number(v) : (v as number);
  if (typeof n !== 'number') throw new SyncError(`column ${f.name}: ${String(v)} is not a number`, { code: ERROR_CODES.VALUE_INVALID, retryable: false });
  return n;
}

function toLong(v: unknown, f: NestedField): bigint | number {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  throw new SyncError(`column ${f.name}: ${String(v)} is not a 64-bit integer`, { code: ERROR_CODES.VALUE_INVALID, retryable: false });
}

function toDate(v: unknown, f: NestedField): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) return Math.round(Date.parse(`${v}T00:00:00Z`) / 86_400_000);
  throw new SyncError(`column ${f.name}: ${String(v)} is not a date`, { code: ERROR_CODES.VALUE_INVALID, retryable: false });
}

function toTime(v: unknown, f: NestedField): bigint | number {
  if (typeof v === 'bigint' || typeof v === 'number') return v;
  const m = typeof v === 'string' ? /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z?$/.exec(v) : null;
  if (!m) throw new SyncError(`column ${f.name}: ${String(v)} is not a time of day`, { code: ERROR_CODES.VALUE_INVALID, retryable: false });
  const micros = BigInt((m[4] ?? '').padEnd(6, '0'));
  return ((BigInt(m[1]!) * 60n + BigInt(m[2]!)) * 60n + BigInt(m[3]!)) * 1_000_000n + micros;
}

function toTimestamp(v: unknown, f: NestedField): bigint | number {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (v instanceof Date) return v.getTime() * 1000;
  if (typeof v === 'string') {
    // An offset written '+0000' read as '+00:00'.
    const ms = Date.parse(v.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    if (!Number.isNaN(ms)) {
      // Keep sub-millisecond digits Date.parse drops.
      const frac = /\.(\d{4,6})/.exec(v)?.[1];
      return ms * 1000 + (frac ? Number(frac.padEnd(6, '0').slice(3)) : 0);
    }
  }
  throw new SyncError(`column ${f.name}: ${String(v)} is not a timestamp`, { code: ERROR_CODES.VALUE_INVALID, retryable: false });
}

function readInt32(bytes: Uint8Array, start: number, end: number): number | undefined {
  const v = readInteger(bytes, start, end);
  return v !== undefined && v >= -2147483648 && v <= 2147483647 ? v : undefined;
}

/** The Arrow type an Iceberg type is written as (Parquet logical types follow from it). */
export function arrowTypeOf(type: PrimitiveType): arrow.DataType {
  switch (type) {
    case 'boolean':
      return new arrow.Bool();
    case 'int':
      return new arrow.Int32();
    case 'long':
      return new arrow.Int64();
    case 'float':
      return new arrow.Float32();
    case 'double':
      return new arrow.Float64();
    case 'date':
      return new arrow.DateDay();
    case 'time':
      return new arrow.TimeMicrosecond();
    case 'timestamp':
      return new arrow.TimestampMicrosecond();
    case 'timestamptz':
      return new arrow.TimestampMicrosecond('UTC');
    case 'string':
      return new arrow.Utf8();
    case 'binary':
      return new arrow.Binary();
    default: {
      const d = parseDecimal(type);
      if (d) return new arrow.Decimal(d.scale, d.precision, 128);
      throw new SyncError(`Iceberg type ${type} is not supported for writing`, { code: ERROR_CODES.TABLE_UNSUPPORTED, retryable: false });
    }
  }
}

export function makeColumnBuilder(field: NestedField): ColumnBuilder {
  const t = arrowTypeOf(field.type);
  switch (field.type) {
    case 'boolean':
      return new BoolBuilder(field, t);
    case 'int':
      return new NumberBuilder(field, t, (n) => new Int32Array(n), toInt, false, readInt32);
    case 'date':
      return new NumberBuilder(field, t, (n) => new Int32Array(n), toDate, false, readDateDays);
    case 'float':
      return new NumberBuilder(field, t, (n) => new Float32Array(n), toFloat, true, readNumber);
    case 'double':
      return new NumberBuilder(field, t, (n) => new Float64Array(n), toFloat, true, readNumber);
    case 'long':
      return new BigIntBuilder(field, t, toLong, readInteger);
    case 'time':
      return new BigIntBuilder(field, t, toTime, readTimeMicros);
    case 'timestamp':
    case 'timestamptz':
      return new BigIntBuilder(field, t, toTimestamp, readDatetimeMicros);
    case 'string':
      return new VarBuilder(field, t, true);
    case 'binary':
      return new VarBuilder(field, t, false);
    default: {
      const d = parseDecimal(field.type)!;
      return new DecimalBuilder(field, t, d.precision, d.scale);
    }
  }
}

/** Arrow field of an Iceberg field, carrying the field id Parquet writers turn into field_id. */
export function arrowField(field: NestedField): arrow.Field {
  return new arrow.Field(field.name, arrowTypeOf(field.type), !field.required, new Map([['PARQUET:field_id', String(field.id)]]));
}

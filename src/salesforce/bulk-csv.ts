import type { SalesforceField, SalesforceFieldType } from './describe-types';
import type { CellSink, ColumnSource } from '../parquet/columns';
import { fromBulkCsv } from './values';

/*
 * A Bulk API 2.0 results page (RFC 4180 CSV, UTF-8, LF or CRLF line endings) kept as its bytes plus
 * the byte range of every cell. Rows are never materialised on the fast path: `appendTo` decodes
 * each column straight from the bytes into column builders (text is copied as UTF-8 bytes, numbers
 * and datetimes are read digit by digit). General-purpose CSV parsers build a string per cell and
 * an array per row, which cost ~4x the CPU of everything after them in a sync (measured with
 * `npm run bench`); the per-cell forms here equal `fromBulkCsv`, which `rows` still uses.
 */

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

export class CsvFormatError extends Error {
  constructor(message: string) {
    super(`Bulk API results are not valid CSV: ${message}`);
    this.name = 'CsvFormatError';
  }
}

class Cells {
  starts = new Int32Array(1 << 16);
  ends = new Int32Array(1 << 16);
  length = 0;
  push(start: number, end: number): void {
    if (this.length === this.starts.length) {
      const s = new Int32Array(this.length * 2);
      s.set(this.starts);
      this.starts = s;
      const e = new Int32Array(this.length * 2);
      e.set(this.ends);
      this.ends = e;
    }
    this.starts[this.length] = start;
    this.ends[this.length++] = end;
  }
}

/** Marks a cell whose text holds doubled quotes (bit 30 of its end offset; pages are far smaller). */
const ESCAPED = 1 << 30;
const OFFSET = ESCAPED - 1;

type Decoder = 'utf8' | 'datetime' | 'date' | 'time' | 'boolean' | 'number' | 'text';

function decoderFor(type: SalesforceFieldType): Decoder {
  switch (type) {
    case 'datetime': return 'datetime';
    case 'date': return 'date';
    case 'time': return 'time';
    case 'boolean': return 'boolean';
    case 'int':
    case 'long':
    case 'double':
    case 'percent': return 'number';
    // Exact decimal text: the decimal builder reads it at its own scale.
    case 'currency': return 'text';
    default: return 'utf8';
  }
}

export class BulkCsvPage {
  readonly header: string[];
  readonly length: number;
  private readonly cols: number;
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  /** CSV column of each of `fields` (-1: not in this page). */
  private readonly columnOf: number[];
  private materialised?: unknown[][];

  constructor(
    readonly bytes: Uint8Array,
    readonly fields: readonly SalesforceField[],
  ) {
    const cells = scan(bytes);
    // The header row sets the width; every row must have as many cells.
    this.cols = cells.rowEnds[0] ?? 0;
    this.header = [];
    for (let c = 0; c < this.cols; c++) this.header.push(this.decodeText(cells.cells.starts[c]!, cells.cells.ends[c]!) ?? '');
    for (let r = 1; r < cells.rowEnds.length; r++) {
      const width = cells.rowEnds[r]! - cells.rowEnds[r - 1]!;
      if (width !== this.cols) throw new CsvFormatError(`row ${r} has ${width} cells, the header ${this.cols}`);
    }
    this.length = Math.max(0, cells.rowEnds.length - 1);
    this.starts = cells.cells.starts.subarray(this.cols, cells.cells.length);
    this.ends = cells.cells.ends.subarray(this.cols, cells.cells.length);
    const byName = new Map(this.header.map((h, i) => [h.toLowerCase(), i]));
    this.columnOf = fields.map((f) => byName.get(f.name.toLowerCase()) ?? -1);
  }

  private decodeText(start: number, endMark: number): string | null {
    const end = endMark & OFFSET;
    if (end === start) return null;
    const text = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + start, end - start).toString('utf8');
    return endMark & ESCAPED ? text.replace(/""/g, '"') : text;
  }

  /** The text of a cell (row, index into `fields`), null when empty or absent. */
  text(row: number, field: number): string | null {
    const c = this.columnOf[field]!;
    if (c < 0) return null;
    const k = row * this.cols + c;
    return this.decodeText(this.starts[k]!, this.ends[k]!);
  }

  /** Rows in the order of `fields`, values as `fromBulkCsv` gives them (built on first use). */
  get rows(): unknown[][] {
    if (!this.materialised) {
      const rows: unknown[][] = [];
      for (let r = 0; r < this.length; r++) {
        rows.push(this.fields.map((f, i) => {
          const t = this.text(r, i);
          return t === null ? null : fromBulkCsv(f.type, t);
        }));
      }
      this.materialised = rows;
    }
    return this.materialised;
  }

  /** The page as a column source: output column k takes `fields[fieldAt[k]]` (-1: nulls). */
  columns(fieldAt: readonly number[]): ColumnSource {
    return { length: this.length, appendTo: (sinks, from, to) => this.appendTo(fieldAt, sinks, from, to) };
  }

  private appendTo(fieldAt: readonly number[], sinks: readonly CellSink[], from: number, to: number): void {
    const { bytes, starts, ends, cols } = this;
    for (let k = 0; k < sinks.length; k++) {
      const sink = sinks[k]!;
      const f = fieldAt[k]!;
      const c = f < 0 ? -1 : this.columnOf[f]!;
      if (c < 0) {
        for (let r = from; r < to; r++) sink.append(null);
        continue;
      }
      const decoder = decoderFor(this.fields[f]!.type);
      for (let r = from; r < to; r++) {
        const i = r * cols + c;
        const start = starts[i]!;
        const mark = ends[i]!;
        const end = mark & OFFSET;
        if (end === start) {
          sink.append(null);
          continue;
        }
        switch (decoder) {
          case 'utf8':
            sink.appendUtf8(bytes, start, end, (mark & ESCAPED) !== 0);
            break;
          case 'boolean':
            sink.append(bytes[start] === 116 /* t */);
            break;
          case 'datetime':
            sink.append(readDatetimeMicros(bytes, start, end) ?? fromBulkCsv('datetime', latin1(bytes, start, end)));
            break;
          case 'date':
            sink.append(readDateDays(bytes, start, end) ?? latin1(bytes, start, end));
            break;
          case 'time':
            sink.append(readTimeMicros(bytes, start, end) ?? fromBulkCsv('time', latin1(bytes, start, end)));
            break;
          case 'number':
            sink.append(Number(latin1(bytes, start, end)));
            break;
          default:
            sink.append(this.decodeText(start, mark));
        }
      }
    }
  }
}

/** Cell ranges of a CSV document, and the cumulative cell count at the end of each row. */
function scan(bytes: Uint8Array): { cells: Cells; rowEnds: number[] } {
  const cells = new Cells();
  const rowEnds: number[] = [];
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    // Blank lines between rows are skipped.
    if ((bytes[i] === LF || bytes[i] === CR) && cells.length === (rowEnds[rowEnds.length - 1] ?? 0)) {
      i++;
      continue;
    }
    // One cell.
    let start: number;
    let end: number;
    if (bytes[i] === QUOTE) {
      start = i + 1;
      let j = start;
      let escaped = 0;
      for (;;) {
        while (j < n && bytes[j] !== QUOTE) j++;
        if (j >= n) throw new CsvFormatError(`unterminated quoted value at byte ${start - 1}`);
        if (bytes[j + 1] === QUOTE) {
          escaped = ESCAPED;
          j += 2;
          continue;
        }
        break;
      }
      end = j | escaped;
      i = j + 1;
    } else {
      start = i;
      while (i < n) {
        const b = bytes[i];
        if (b === COMMA || b === LF || b === CR) break;
        if (b === QUOTE) throw new CsvFormatError(`a quote inside an unquoted value at byte ${i}`);
        i++;
      }
      end = i;
    }
    cells.push(start, end);
    if (i >= n) {
      rowEnds.push(cells.length);
      break;
    }
    const b = bytes[i];
    if (b === COMMA) {
      i++;
      // A trailing comma before a line break (or the end) is an empty last cell.
      if (i >= n || bytes[i] === LF || bytes[i] === CR) cells.push(i, i);
      else continue;
    }
    if (i < n && bytes[i] !== LF && bytes[i] !== CR) throw new CsvFormatError(`unexpected byte after a quoted value at byte ${i}`);
    if (bytes[i] === CR) i++;
    if (bytes[i] === LF) i++;
    rowEnds.push(cells.length);
  }
  return { cells, rowEnds };
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

const digit = (bytes: Uint8Array, i: number): number => {
  const d = bytes[i]! - 48;
  return d >= 0 && d <= 9 ? d : NaN;
};

function digits(bytes: Uint8Array, i: number, count: number): number {
  let v = 0;
  for (let k = 0; k < count; k++) v = v * 10 + digit(bytes, i + k);
  return v;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** 'YYYY-MM-DD' → days since the epoch; undefined for any other shape (the slow path decides). */
export function readDateDays(bytes: Uint8Array, start: number, end: number): number | undefined {
  if (end - start !== 10 || bytes[start + 4] !== 45 || bytes[start + 7] !== 45) return undefined;
  const y = digits(bytes, start, 4);
  const m = digits(bytes, start + 5, 2);
  const d = digits(bytes, start + 8, 2);
  if (!(m >= 1 && m <= 12 && d >= 1 && d <= 31)) return undefined;
  return daysFromCivil(y, m, d);
}

/** 'HH:MM:SS.sssZ' (or without millis or Z) → microseconds of the day; undefined otherwise. */
export function readTimeMicros(bytes: Uint8Array, start: number, end: number): number | undefined {
  let e = end;
  if (bytes[e - 1] === 90 /* Z */) e--;
  const len = e - start;
  if ((len !== 8 && len !== 12) || bytes[start + 2] !== 58 || bytes[start + 5] !== 58) return undefined;
  const h = digits(bytes, start, 2);
  const mi = digits(bytes, start + 3, 2);
  const s = digits(bytes, start + 6, 2);
  let ms = 0;
  if (len === 12) {
    if (bytes[start + 8] !== 46) return undefined;
    ms = digits(bytes, start + 9, 3);
  }
  const v = ((h * 60 + mi) * 60 + s) * 1_000_000 + ms * 1000;
  return Number.isNaN(v) || h > 23 || mi > 59 || s > 59 ? undefined : v;
}

/**
 * 'YYYY-MM-DDTHH:MM:SS.sssZ' or '…+0000' (what Bulk API 2.0 writes) → microseconds since the
 * epoch; undefined for any other shape, which `datetimeMicros` then handles.
 */
export function readDatetimeMicros(bytes: Uint8Array, start: number, end: number): number | undefined {
  const len = end - start;
  const zulu = len === 24 && bytes[end - 1] === 90;
  const utcOffset = len === 28 && bytes[start + 23] === 43 && bytes[start + 24] === 48 && bytes[start + 25] === 48 && bytes[start + 26] === 48 && bytes[start + 27] === 48;
  if (!(zulu || utcOffset) || bytes[start + 10] !== 84 || bytes[start + 19] !== 46) return undefined;
  const days = readDateDays(bytes, start, start + 10);
  if (days === undefined) return undefined;
  const h = digits(bytes, start + 11, 2);
  const mi = digits(bytes, start + 14, 2);
  const s = digits(bytes, start + 17, 2);
  const ms = digits(bytes, start + 20, 3);
  if (bytes[start + 13] !== 58 || bytes[start + 16] !== 58 || !(h <= 23 && mi <= 59 && s <= 59)) return undefined;
  const v = (((days * 24 + h) * 60 + mi) * 60 + s) * 1000 + ms;
  return Number.isNaN(v) ? undefined : v * 1000;
}

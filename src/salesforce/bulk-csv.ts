import { ERROR_CODES, SyncError } from '../errors';
import type { SalesforceField } from './describe-types';
import type { CellSink, ColumnSource } from '../parquet/columns';
import { fromBulkCsv } from './values';

/*
 * A Bulk API 2.0 results page (RFC 4180 CSV, UTF-8, LF or CRLF line endings) kept as its bytes plus
 * the byte range of every cell. Rows are never materialised on the fast path: `columns` hands each
 * cell's bytes to the column builders, which read their own type from them (text is copied as
 * UTF-8, numbers and datetimes are read digit by digit). General-purpose CSV parsers build a string
 * per cell and an array per row, which cost ~3x the CPU of everything after them in a sync
 * (measured with `npm run bench`); `rows` still gives `fromBulkCsv`'s values, for the other paths.
 */

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

export class CsvFormatError extends SyncError {
  constructor(message: string) {
    // Retried: a page cut short in transit reads whole the next time.
    super(`Bulk API results are not valid CSV: ${message}`, { code: ERROR_CODES.BULK_CSV_MALFORMED, retryable: true });
    this.name = 'CsvFormatError';
  }
}

class Cells {
  starts: Int32Array;
  ends: Int32Array;
  length = 0;
  /** Room for `capacity` cells; grows by half when full. */
  constructor(capacity: number) {
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
  }
  push(start: number, end: number): void {
    if (this.length === this.starts.length) {
      const s = new Int32Array(Math.ceil(this.length * 1.5) + 1024);
      s.set(this.starts);
      this.starts = s;
      const e = new Int32Array(s.length);
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
        rows.push(
          this.fields.map((f, i) => {
            const t = this.text(r, i);
            return t === null ? null : fromBulkCsv(f.type, t);
          }),
        );
      }
      this.materialised = rows;
    }
    return this.materialised;
  }

  /** The page as a column source: output column k takes `fields[fieldAt[k]]` (-1: nulls). */
  columns(fieldAt: readonly number[]): ColumnSource {
    return {
      length: this.length,
      appendTo: (sinks, from, to) => this.appendTo(fieldAt, sinks, from, to),
      appendRowsTo: (sinks, rows, from, to) => this.appendRowsTo(fieldAt, sinks, rows, from, to),
      select: (columns) => this.columns(columns.map((k) => fieldAt[k]!)),
    };
  }

  /** appendTo for the rows `rows[from..to)` (a partition's rows of the page). */
  private appendRowsTo(fieldAt: readonly number[], sinks: readonly CellSink[], rows: Int32Array, from: number, to: number): void {
    this.appendTo(fieldAt, sinks, from, to, rows);
  }

  /** Rows [from, to) to `sinks`, or with `rows` the rows rows[from..to). */
  private appendTo(fieldAt: readonly number[], sinks: readonly CellSink[], from: number, to: number, rows?: Int32Array): void {
    const { bytes, starts, ends, cols } = this;
    for (let k = 0; k < sinks.length; k++) {
      const sink = sinks[k]!;
      const f = fieldAt[k]!;
      const c = f < 0 ? -1 : this.columnOf[f]!;
      if (c < 0) {
        for (let r = from; r < to; r++) sink.append(null);
        continue;
      }
      // Times lose Salesforce's trailing Z ('HH:MM:SS.sss', as values.ts gives them): the same
      // text whether the column keeps it as a string or reads it as a time.
      const time = this.fields[f]!.type === 'time';
      // Every column builder reads its own type from the cell's UTF-8 text (see columns.ts).
      for (let r = from; r < to; r++) {
        const i = (rows ? rows[r]! : r) * cols + c;
        const start = starts[i]!;
        const mark = ends[i]!;
        let end = mark & OFFSET;
        if (time && end > start && bytes[end - 1] === 90 /* Z */) end--;
        if (end === start) sink.append(null);
        else sink.appendUtf8(bytes, start, end, (mark & ESCAPED) !== 0);
      }
    }
  }
}

/** Cell ranges of a CSV document, and the cumulative cell count at the end of each row. */
function scan(bytes: Uint8Array): { cells: Cells; rowEnds: number[] } {
  // Sized up front (Salesforce cells average well over 8 bytes with their commas): doubling from
  // small would allocate about twice the final size per page.
  const cells = new Cells(Math.ceil(bytes.length / 8) + 1024);
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

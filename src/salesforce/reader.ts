import { rowsSource, type ColumnSource } from '../parquet/columns';
import { BulkJobFailedError, BulkUnavailableError, readBulk, type BulkResume } from './bulk-reader';
import { SalesforceApiError, type SalesforceClient } from './client';
import type { SalesforceField } from './describe-types';
import type { SObjectDescribe } from './describe';
import { coversRead, prefetchedPage, readRest, type PrefetchedWindow } from './rest-reader';
import { buildSoql, type CursorWindow, type FieldRange, type ResumeAfter } from './soql';
import { ERROR_CODES, SyncError } from '../errors';

export type ReadApi = 'bulk' | 'rest' | 'auto';

/** Which API an extraction read an object's rows through, and why REST when it did (an object's result says it). */
export interface ReadApiUsed {
  api: 'bulk' | 'rest';
  reason?: string;
}

/** A time slice of a window, `after < cursor <= upTo` (ISO instants; `after` may be open). */
export interface Slice {
  after?: string;
  upTo?: string;
}

/**
 * Where a read resumes, after a page: REST reads are ordered, so after a row (cursor, Id); Bulk
 * reads are not (ordering would stop Salesforce from chunking them), so in the job's results — the
 * time slice the job reads and its next page — or, between slices, at the next slice's start.
 */
export type ReadPosition = { api: 'rest'; after: ResumeAfter } | { api: 'bulk'; slice?: Slice; job?: BulkResume };

export interface RecordPage {
  api: 'bulk' | 'rest';
  readonly length: number;
  /** Rows in the order of `fields`, values as values.ts normalises them (Bulk: built on first use). */
  readonly rows: unknown[][];
  /** The page as a column source for the writer: output column k takes `fields[fieldAt[k]]` (-1: nulls). */
  columns(fieldAt: readonly number[]): ColumnSource;
  /** A cell as text (e.g. a row's Id), null when empty, without building the page's rows. */
  text(row: number, field: number): string | null;
  /** The page's last row (shown as progress). */
  last?: { id: string; cursor?: string };
  /** Where a new read goes on after this page (none after a Bulk read's last page). */
  position?: ReadPosition;
}

function rowsPage(api: RecordPage['api'], rows: unknown[][], last: RecordPage['last'], position?: ReadPosition): RecordPage {
  return { api, length: rows.length, rows, columns: (at) => rowsSource(rows, at), text: (r, f) => (rows[r]![f] === null ? null : String(rows[r]![f])), last, position };
}

/** Longest SOQL of a Bulk job (Salesforce's limit on a SOQL statement is 100,000 characters). */
export const MAX_BULK_QUERY_LENGTH = 100_000;

/** The earliest instant a Salesforce record can carry: the lower end of an open window when slicing it. */
const SLICE_EPOCH_MS = Date.parse('1999-01-01T00:00:00Z');

/** The narrowest time slice a failed Bulk job is split into by default. */
export const DEFAULT_SLICE_FLOOR_MS = 3_600_000;

/**
 * Halves a slice of a window that has an upper bound, or returns undefined when it is already at
 * the floor (or has no bound to halve).
 */
export function splitSlice(slice: Slice, floorMs: number): [Slice, Slice] | undefined {
  if (!slice.upTo) return undefined;
  const lo = slice.after ? Date.parse(slice.after) : SLICE_EPOCH_MS;
  const hi = Date.parse(slice.upTo);
  if (!(hi - lo >= 2 * floorMs)) return undefined;
  // Whole milliseconds: SOQL datetimes carry no finer time.
  const mid = new Date(lo + Math.floor((hi - lo) / 2)).toISOString();
  return [
    { after: slice.after, upTo: mid },
    { after: mid, upTo: slice.upTo },
  ];
}

export interface ReadObjectOptions {
  client: SalesforceClient;
  describe: SObjectDescribe;
  fields: SalesforceField[];
  window?: CursorWindow;
  /** Only rows in this range of a field no update changes (a partition of an extraction). */
  range?: FieldRange;
  /** Go on from a position a page of an earlier read returned. */
  resume?: ReadPosition;
  deletedOnly?: boolean;
  api?: ReadApi;
  /** REST: the longest SOQL sent in one query (wider selects are split by fields). */
  maxQueryLength?: number;
  /** REST: the whole window, already read (see PrefetchedWindow): taken instead of asking when it covers this read. */
  prefetched?: PrefetchedWindow;
  /** Bulk: result pages downloaded at once (API 62.0 and later). */
  pagesInFlight?: number;
  /** Bulk: a job that fails in Salesforce is retried over halves of its time slice, down to this. */
  sliceFloorMs?: number;
  pollMs?: number;
  /**
   * Told why an `auto` read goes through REST instead — Salesforce refused Bulk (the org, the
   * object, a field), or the query is too long for it: a message for the log, and the reason alone.
   */
  onFallback?: (message: string, reason: string) => void;
  /** Told when a failed Bulk job's slice is read again in two halves. */
  onSplit?: (reason: string) => void;
  /** Told of every Bulk job created. */
  onJob?: (jobId: string) => void;
}

/**
 * Reads an object through Bulk API 2.0 (large objects) or REST; `auto` prefers Bulk and falls back
 * to REST where Salesforce refuses Bulk for the org, the object or a field. Bulk jobs carry no
 * ORDER BY, so Salesforce chunks large ones; REST reads are ordered by (cursor, Id).
 */
export async function* readObject(opts: ReadObjectOptions): AsyncGenerator<RecordPage> {
  const api = opts.api ?? 'auto';
  if (api !== 'rest' && opts.resume?.api !== 'rest') {
    const names = opts.fields.map((f) => f.name);
    const longest = buildSoql(opts.describe, names, { window: opts.window, range: opts.range, deletedOnly: opts.deletedOnly, ordered: false });
    if (longest.length <= MAX_BULK_QUERY_LENGTH) {
      try {
        yield* readBulkSlices(opts);
        return;
      } catch (error) {
        if (!(error instanceof BulkUnavailableError) || api === 'bulk') throw error;
        opts.onFallback?.(error.message, error.reason);
      }
    } else if (api === 'bulk') {
      throw new SalesforceApiError(
        `${opts.describe.name}: a query of all ${names.length} fields is longer than Bulk API 2.0 takes (${MAX_BULK_QUERY_LENGTH} characters); use SALESFORCE_READ_API=auto or rest`,
        'QUERY_TOO_LONG',
        0,
        false,
      );
    } else {
      const reason = `a query of all ${names.length} fields is longer than Bulk API 2.0 takes (${MAX_BULK_QUERY_LENGTH} characters)`;
      opts.onFallback?.(`${opts.describe.name}: ${reason}; reading through the REST API instead.`, reason);
    }
  }
  yield* readRestObject({ ...opts, resumeAfter: opts.resume?.api === 'rest' ? opts.resume.after : undefined });
}

/**
 * A Bulk read of the window, one job per time slice (one slice unless a job fails): a job that
 * Salesforce fails (e.g. QUERY_TIMEOUT) is read again as two half slices, down to the floor, then
 * the read fails with the job's own message. Slices are read in cursor order, so a position names
 * the slice in progress and everything before it is done.
 */
async function* readBulkSlices(opts: ReadObjectOptions): AsyncGenerator<RecordPage> {
  const window = opts.window;
  const resume = opts.resume?.api === 'bulk' ? opts.resume : undefined;
  // Only a window with an upper bound can be sliced (an open one would let rows move between slices).
  const whole: Slice | undefined = window ? { after: window.after, upTo: window.upTo } : undefined;
  const slices: (Slice | undefined)[] = [];
  let job = resume?.job;
  if (resume?.slice && whole?.upTo) {
    slices.push(resume.slice);
    if (resume.slice.upTo !== whole.upTo) slices.push({ after: resume.slice.upTo, upTo: whole.upTo });
  } else {
    slices.push(whole);
  }
  const floor = opts.sliceFloorMs ?? DEFAULT_SLICE_FLOOR_MS;
  while (slices.length > 0) {
    const slice = slices.shift();
    const soql = buildSoql(
      opts.describe,
      opts.fields.map((f) => f.name),
      { window: window ? { field: window.field, ...slice } : undefined, range: opts.range, deletedOnly: opts.deletedOnly, ordered: false },
    );
    // Where a read stands once this slice is done: at the next slice, or finished.
    const afterSlice: ReadPosition | undefined = slices[0] ? { api: 'bulk', slice: slices[0] } : undefined;
    try {
      for await (const page of readBulk({
        client: opts.client,
        soql,
        fields: opts.fields,
        includeDeleted: opts.deletedOnly,
        resume: job,
        cursorField: window?.field,
        pollMs: opts.pollMs,
        pagesInFlight: opts.pagesInFlight,
        onJob: opts.onJob,
      })) {
        const { csv } = page;
        const position: ReadPosition | undefined = page.next ? { api: 'bulk', slice, job: page.next } : afterSlice;
        yield {
          api: 'bulk',
          length: csv.length,
          get rows() {
            return csv.rows;
          },
          columns: (at) => csv.columns(at),
          text: (r, f) => csv.text(r, f),
          last: page.last,
          position,
        };
      }
    } catch (error) {
      if (!(error instanceof BulkJobFailedError)) throw error;
      const halves = slice ? splitSlice(slice, floor) : undefined;
      if (!halves) throw error;
      opts.onSplit?.(`${error.message}; reading its window again in two halves (${halves[0].after ?? 'start'} – ${halves[0].upTo}, ${halves[1].after} – ${halves[1].upTo})`);
      slices.unshift(...halves);
    }
    job = undefined;
  }
}

/** Longest SOQL sent in one query: REST sends it in the URL, which Salesforce caps near 16 KB. */
export const DEFAULT_MAX_QUERY_LENGTH = 12_000;

/**
 * A REST read of an object, ordered by (cursor, Id): one query when its SELECT is short enough,
 * else the fields split into chunks (each with Id and the cursor field, the same window and
 * order), read side by side and joined back row by row on Id. Rows come out in the order of `fields`.
 */
async function* readRestObject(opts: ReadObjectOptions & { resumeAfter?: ResumeAfter }): AsyncGenerator<RecordPage> {
  const max = opts.maxQueryLength ?? DEFAULT_MAX_QUERY_LENGTH;
  const soqlFor = (names: string[]) => buildSoql(opts.describe, names, { window: opts.window, range: opts.range, resumeAfter: opts.resumeAfter, deletedOnly: opts.deletedOnly });
  const common = { client: opts.client, includeDeleted: opts.deletedOnly, cursorField: opts.window?.field };
  if (!opts.range && !opts.resumeAfter && !opts.deletedOnly && coversRead(opts.prefetched, opts.window, opts.fields)) {
    const page = prefetchedPage(opts.prefetched, opts.fields, opts.window?.field);
    yield rowsPage('rest', page.rows, page.last, page.last ? { api: 'rest', after: page.last } : undefined);
    return;
  }
  const whole = soqlFor(opts.fields.map((f) => f.name));
  if (whole.length <= max) {
    yield* restPages({ ...common, soql: whole, fields: opts.fields });
    return;
  }
  // Split: every chunk carries the keys that order and join it.
  const keys = opts.fields.filter((f) => f.name === 'Id' || f.name === opts.window?.field);
  if (!keys.some((k) => k.name === 'Id')) throw new SyncError(`${opts.describe.name}: a split read needs the Id field`, { code: ERROR_CODES.UNKNOWN_FIELD, retryable: false });
  const rest = opts.fields.filter((f) => !keys.includes(f));
  const chunks: SalesforceField[][] = [];
  let current: SalesforceField[] = [...keys];
  for (const f of rest) {
    if (current.length > keys.length && soqlFor([...current, f].map((x) => x.name)).length > max) {
      chunks.push(current);
      current = [...keys];
    }
    current.push(f);
  }
  chunks.push(current);
  const position = new Map(opts.fields.map((f, i) => [f.name, i]));
  const streams = chunks.map((chunk) => restPages({ ...common, soql: soqlFor(chunk.map((f) => f.name)), fields: chunk }));
  const buffers: unknown[][][] = chunks.map(() => []);
  const ended = chunks.map(() => false);
  for (;;) {
    for (let c = 0; c < chunks.length; c++) {
      while (buffers[c]!.length === 0 && !ended[c]) {
        const next = await streams[c]!.next();
        if (next.done) ended[c] = true;
        else {
          buffers[c]!.push(...next.value.rows);
        }
      }
    }
    const n = Math.min(...buffers.map((b) => b.length));
    if (n === 0) {
      if (buffers.some((b) => b.length > 0))
        throw new SyncError(`${opts.describe.name}: the field chunks of a split read returned different row counts`, { code: ERROR_CODES.SPLIT_READ_OUT_OF_STEP, retryable: true });
      return;
    }
    const rows: unknown[][] = [];
    for (let i = 0; i < n; i++) {
      const row = new Array<unknown>(opts.fields.length).fill(null);
      let id: unknown;
      chunks.forEach((chunk, c) => {
        const part = buffers[c]![i]!;
        chunk.forEach((f, k) => {
          if (f.name === 'Id') {
            if (id !== undefined && id !== part[k])
              throw new SyncError(`${opts.describe.name}: split read out of step (${String(id)} vs ${String(part[k])})`, {
                code: ERROR_CODES.SPLIT_READ_OUT_OF_STEP,
                retryable: true,
              });
            id = part[k];
          }
          row[position.get(f.name)!] = part[k];
        });
      });
      rows.push(row);
    }
    for (const b of buffers) b.splice(0, n);
    const idAt = position.get('Id')!;
    const cursorAt = opts.window ? position.get(opts.window.field) : undefined;
    const last = rows.at(-1)!;
    // Rows hold the normalised cursor (microseconds); the resume point takes an instant.
    const cursor = cursorAt === undefined || last[cursorAt] === null ? undefined : new Date(Number(last[cursorAt]) / 1000).toISOString();
    const at = { id: String(last[idAt]), cursor };
    yield rowsPage('rest', rows, at, { api: 'rest', after: at });
  }
}

async function* restPages(opts: { client: SalesforceClient; soql: string; fields: SalesforceField[]; includeDeleted?: boolean; cursorField?: string }): AsyncGenerator<RecordPage> {
  for await (const page of readRest(opts)) yield rowsPage('rest', page.rows, page.last, page.last ? { api: 'rest', after: page.last } : undefined);
}

import { rowsSource, type ColumnSource } from '../parquet/columns';
import { BulkUnavailableError, readBulk, type BulkResume } from './bulk-reader';
import type { SalesforceClient } from './client';
import type { SalesforceField } from './describe-types';
import type { SObjectDescribe } from './describe';
import { readRest } from './rest-reader';
import { buildSoql, type CursorWindow, type ResumeAfter } from './soql';

export type ReadApi = 'bulk' | 'rest' | 'auto';

export interface RecordPage {
  api: 'bulk' | 'rest';
  readonly length: number;
  /** Rows in the order of `fields`, values as values.ts normalises them (Bulk: built on first use). */
  readonly rows: unknown[][];
  /** The page as a column source for the writer: output column k takes `fields[fieldAt[k]]` (-1: nulls). */
  columns(fieldAt: readonly number[]): ColumnSource;
  /** A cell as text (e.g. a row's Id), null when empty, without building the page's rows. */
  text(row: number, field: number): string | null;
  last?: { id: string; cursor?: string };
  /** Bulk: job and locator of the next page; REST: the next records URL. */
  resume?: BulkResume | { nextRecordsUrl: string };
}

/**
 * Reads a query through Bulk API 2.0 (large objects) or REST; `auto` prefers Bulk and falls back
 * to REST where Salesforce refuses Bulk for the org, the object or a field.
 */
export async function* readRecords(opts: {
  client: SalesforceClient;
  soql: string;
  fields: SalesforceField[];
  api?: ReadApi;
  includeDeleted?: boolean;
  cursorField?: string;
  onFallback?: (reason: string) => void;
}): AsyncGenerator<RecordPage> {
  const api = opts.api ?? 'auto';
  if (api !== 'rest') {
    try {
      for await (const page of readBulk(opts)) {
        const { csv } = page;
        yield { api: 'bulk', length: csv.length, get rows() { return csv.rows; }, columns: (at) => csv.columns(at), text: (r, f) => csv.text(r, f), last: page.last, resume: page.next };
      }
      return;
    } catch (error) {
      if (!(error instanceof BulkUnavailableError) || api === 'bulk') throw error;
      opts.onFallback?.(error.message);
    }
  }
  for await (const page of readRest(opts)) {
    yield rowsPage('rest', page.rows, page.last, page.nextRecordsUrl ? { nextRecordsUrl: page.nextRecordsUrl } : undefined);
  }
}

function rowsPage(api: RecordPage['api'], rows: unknown[][], last: RecordPage['last'], resume?: RecordPage['resume']): RecordPage {
  return { api, length: rows.length, rows, columns: (at) => rowsSource(rows, at), text: (r, f) => (rows[r]![f] === null ? null : String(rows[r]![f])), last, resume };
}

/** Longest SOQL sent in one query: REST sends it in the URL, which Salesforce caps near 16 KB. */
export const DEFAULT_MAX_QUERY_LENGTH = 12_000;

/**
 * Reads an object: one query when its SELECT is short enough, else the fields split into chunks
 * (each with Id and the cursor field, the same window and order), read side by side and joined
 * back row by row on Id. Rows come out in the order of `fields`.
 */
export async function* readObject(opts: {
  client: SalesforceClient;
  describe: SObjectDescribe;
  fields: SalesforceField[];
  window?: CursorWindow;
  resumeAfter?: ResumeAfter;
  deletedOnly?: boolean;
  api?: ReadApi;
  maxQueryLength?: number;
  onFallback?: (reason: string) => void;
}): AsyncGenerator<RecordPage> {
  const max = opts.maxQueryLength ?? DEFAULT_MAX_QUERY_LENGTH;
  const soqlFor = (names: string[]) => buildSoql(opts.describe, names, { window: opts.window, resumeAfter: opts.resumeAfter, deletedOnly: opts.deletedOnly });
  const common = { client: opts.client, api: opts.api, includeDeleted: opts.deletedOnly, cursorField: opts.window?.field, onFallback: opts.onFallback };
  const whole = soqlFor(opts.fields.map((f) => f.name));
  if (whole.length <= max) {
    yield* readRecords({ ...common, soql: whole, fields: opts.fields });
    return;
  }
  // Split: every chunk carries the keys that order and join it.
  const keys = opts.fields.filter((f) => f.name === 'Id' || f.name === opts.window?.field);
  if (!keys.some((k) => k.name === 'Id')) throw new Error(`${opts.describe.name}: a split read needs the Id field`);
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
  const streams = chunks.map((chunk) => readRecords({ ...common, soql: soqlFor(chunk.map((f) => f.name)), fields: chunk }));
  const buffers: unknown[][][] = chunks.map(() => []);
  const ended = chunks.map(() => false);
  let lastPage: RecordPage | undefined;
  for (;;) {
    for (let c = 0; c < chunks.length; c++) {
      while (buffers[c]!.length === 0 && !ended[c]) {
        const next = await streams[c]!.next();
        if (next.done) ended[c] = true;
        else {
          buffers[c]!.push(...next.value.rows);
          if (c === 0) lastPage = next.value;
        }
      }
    }
    const n = Math.min(...buffers.map((b) => b.length));
    if (n === 0) {
      if (buffers.some((b) => b.length > 0)) throw new Error(`${opts.describe.name}: the field chunks of a split read returned different row counts`);
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
            if (id !== undefined && id !== part[k]) throw new Error(`${opts.describe.name}: split read out of step (${String(id)} vs ${String(part[k])})`);
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
    yield rowsPage(lastPage?.api ?? 'rest', rows, { id: String(last[idAt]), cursor });
  }
}

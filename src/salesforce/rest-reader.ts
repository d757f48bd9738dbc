import type { SalesforceClient } from './client';
import type { SalesforceField } from './describe-types';
import type { CursorWindow } from './soql';
import { fromRestJson } from './values';

/** One page of a REST query as Salesforce sends it. */
export interface QueryPage {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: Record<string, unknown>[];
}

export interface RestPage {
  /** Values per row in the order of `fields`, normalised (see values.ts). */
  rows: unknown[][];
  totalSize: number;
  /** Where the next page is, while the query locator lives (about 15 minutes idle). */
  nextRecordsUrl?: string;
  /** The last row's Id and cursor value: a resume point that outlives the locator. */
  last?: { id: string; cursor?: string };
}

/**
 * A whole window read in one REST page before its read began (a prepare asks for it in the same
 * Composite request as its other questions): the rows as Salesforce sent them, keyed by field
 * name, so a read of any of `fields` in the same window takes them instead of asking again.
 */
export interface PrefetchedWindow {
  window: CursorWindow;
  /** The fields the page's query selected. */
  fields: string[];
  records: Record<string, unknown>[];
}

/** Whether `prefetched` holds every row and field of a read of `fields` over `window`. */
export function coversRead(prefetched: PrefetchedWindow | undefined, window: CursorWindow | undefined, fields: readonly SalesforceField[]): prefetched is PrefetchedWindow {
  if (!prefetched || !window) return false;
  const w = prefetched.window;
  const selected = new Set(prefetched.fields);
  return w.field === window.field && w.after === window.after && w.upTo === window.upTo && fields.every((f) => selected.has(f.name));
}

/** A prefetched window as the one page a REST read of `fields` yields. */
export function prefetchedPage(prefetched: PrefetchedWindow, fields: SalesforceField[], cursorField?: string): RestPage {
  return toRestPage({ totalSize: prefetched.records.length, done: true, records: prefetched.records }, fields, cursorField);
}

function toRestPage(page: QueryPage, fields: SalesforceField[], cursorField?: string): RestPage {
  const rows = page.records.map((r) => fields.map((f) => fromRestJson(f.type, r[f.name])));
  const lastRecord = page.records.at(-1);
  return {
    rows,
    totalSize: page.totalSize,
    nextRecordsUrl: page.done ? undefined : page.nextRecordsUrl,
    last: lastRecord ? { id: String(lastRecord.Id), cursor: cursorField ? String(lastRecord[cursorField]) : undefined } : undefined,
  };
}

/** The first page of a REST query (up to 2,000 rows), as Salesforce sends it. */
export function queryFirstPage(client: SalesforceClient, soql: string, opts: { includeDeleted?: boolean } = {}): Promise<QueryPage> {
  return client.get<QueryPage>(`/${opts.includeDeleted ? 'queryAll' : 'query'}?q=${encodeURIComponent(soql)}`);
}

/**
 * Streams a SOQL query page by page through the REST API (query, or queryAll for deleted rows).
 * Only one page is held at a time; each page carries resume points the caller can persist.
 */
export async function* readRest(opts: {
  client: SalesforceClient;
  soql: string;
  fields: SalesforceField[];
  includeDeleted?: boolean;
  /** Records per page (200–2000, Sforce-Query-Options). */
  batchSize?: number;
  cursorField?: string;
  /** Continue a read from a page URL a previous attempt returned. */
  nextRecordsUrl?: string;
}): AsyncGenerator<RestPage> {
  const headers: Record<string, string> = opts.batchSize ? { 'sforce-query-options': `batchSize=${opts.batchSize}` } : {};
  let url: string | undefined = opts.nextRecordsUrl ?? `${opts.includeDeleted ? '/queryAll' : '/query'}?q=${encodeURIComponent(opts.soql)}`;
  while (url) {
    const page: QueryPage = await opts.client.get<QueryPage>(url, headers);
    yield toRestPage(page, opts.fields, opts.cursorField);
    url = page.done ? undefined : page.nextRecordsUrl;
  }
}

/** What a `SELECT COUNT() FROM …` query counts (one REST call; `includeDeleted`: through queryAll, rows in the Recycle Bin too). */
export async function countRows(client: SalesforceClient, soql: string, opts: { includeDeleted?: boolean } = {}): Promise<number> {
  return (await queryFirstPage(client, soql, opts)).totalSize;
}

/** The value of `field` in the first row a query returns (an edge query: ORDER BY … LIMIT 1), or undefined when none. */
export async function firstValue(client: SalesforceClient, soql: string, field: string): Promise<string | undefined> {
  const value = (await queryFirstPage(client, soql)).records[0]?.[field];
  return value === null || value === undefined ? undefined : String(value);
}

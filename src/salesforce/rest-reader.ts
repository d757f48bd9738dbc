import type { SalesforceClient } from './client';
import type { SalesforceField } from './describe-types';
import { fromRestJson } from './values';

interface QueryPage {
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
    const rows = page.records.map((r) => opts.fields.map((f) => fromRestJson(f.type, r[f.name])));
    const lastRecord = page.records.at(-1);
    yield {
      rows,
      totalSize: page.totalSize,
      nextRecordsUrl: page.done ? undefined : page.nextRecordsUrl,
      last: lastRecord ? { id: String(lastRecord.Id), cursor: opts.cursorField ? String(lastRecord[opts.cursorField]) : undefined } : undefined,
    };
    url = page.done ? undefined : page.nextRecordsUrl;
  }
}

/** What a `SELECT COUNT() FROM …` query counts (one REST call; `includeDeleted`: through queryAll, rows in the Recycle Bin too). */
export async function countRows(client: SalesforceClient, soql: string, opts: { includeDeleted?: boolean } = {}): Promise<number> {
  const page = await client.get<QueryPage>(`/${opts.includeDeleted ? 'queryAll' : 'query'}?q=${encodeURIComponent(soql)}`);
  return page.totalSize;
}

/** The value of `field` in the first row a query returns (an edge query: ORDER BY … LIMIT 1), or undefined when none. */
export async function firstValue(client: SalesforceClient, soql: string, field: string): Promise<string | undefined> {
  const page = await client.get<QueryPage>(`/query?q=${encodeURIComponent(soql)}`);
  const value = page.records[0]?.[field];
  return value === null || value === undefined ? undefined : String(value);
}

import { SalesforceApiError, type SalesforceClient } from '../salesforce/client';
import type { SObjectDescribe } from '../salesforce/describe';
import type { ReadApi, ReadApiUsed } from '../salesforce/reader';
import { countRows } from '../salesforce/rest-reader';
import { countSoql } from '../salesforce/soql';
import type { ReadWindow } from './extract/read-window';
import { EVERY_ROW_REASON } from './objects';

/**
 * Rows up to which an incremental window is read through REST by default. Salesforce designs Bulk
 * queries for "10,000 records or more"; below that, REST's 2,000-row pages cost no more API calls
 * than a Bulk job's create, polls, results and delete, answer at once instead of after the job's
 * time in Salesforce's queue, and spend none of the org's daily Bulk jobs.
 */
export const DEFAULT_REST_WINDOW_ROWS = 10_000;

/** Why a read goes through REST when the worker asks for nothing else. */
export const WORKER_READS_REST = 'the worker reads through REST (SALESFORCE_READ_API=rest)';

/** Rows Salesforce counts in a window (or a `deletedOnly` window, through queryAll); undefined when it refuses the COUNT(). */
export async function countWindow(client: SalesforceClient, describe: SObjectDescribe, window: ReadWindow, opts: { deletedOnly?: boolean } = {}): Promise<number | undefined> {
  try {
    return await countRows(client, countSoql(describe, { window, deletedOnly: opts.deletedOnly }), { includeDeleted: opts.deletedOnly });
  } catch (error) {
    if (error instanceof SalesforceApiError && error.status === 400) return undefined;
    throw error;
  }
}

/**
 * The API a read goes through, and why: what the worker asks for (SALESFORCE_READ_API), else
 * REST for an incremental window Salesforce counts at most `restWindowRows` rows in, Bulk for
 * larger windows, reads of every row, and windows it could not count.
 */
export function chooseReadApi(p: { api?: ReadApi; restWindowRows?: number; incremental: boolean; windowRows?: number; what?: string }): ReadApiUsed {
  const what = p.what ?? 'the window';
  const threshold = p.restWindowRows ?? DEFAULT_REST_WINDOW_ROWS;
  if (p.api === 'rest') return { api: 'rest', reason: WORKER_READS_REST };
  if (p.api === 'bulk') return { api: 'bulk', reason: 'the worker reads through Bulk API 2.0 (SALESFORCE_READ_API=bulk)' };
  if (!p.incremental) return { api: 'bulk', reason: EVERY_ROW_REASON };
  if (threshold <= 0) return { api: 'bulk', reason: 'SALESFORCE_REST_WINDOW_ROWS=0: every read through Bulk API 2.0' };
  if (p.windowRows === undefined) return { api: 'bulk', reason: `Salesforce did not count ${what}` };
  const rows = `${what} holds ${p.windowRows} row${p.windowRows === 1 ? '' : 's'}`;
  return p.windowRows <= threshold
    ? { api: 'rest', reason: `${rows}, at most SALESFORCE_REST_WINDOW_ROWS (${threshold})` }
    : { api: 'bulk', reason: `${rows}, more than SALESFORCE_REST_WINDOW_ROWS (${threshold})` };
}

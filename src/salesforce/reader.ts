import { BulkUnavailableError, readBulk, type BulkResume } from './bulk-reader';
import type { SalesforceClient } from './client';
import type { SalesforceField } from './describe-types';
import { readRest } from './rest-reader';

export type ReadApi = 'bulk' | 'rest' | 'auto';

export interface RecordPage {
  api: 'bulk' | 'rest';
  rows: unknown[][];
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
      for await (const page of readBulk(opts)) yield { api: 'bulk', rows: page.rows, last: page.last, resume: page.next };
      return;
    } catch (error) {
      if (!(error instanceof BulkUnavailableError) || api === 'bulk') throw error;
      opts.onFallback?.(error.message);
    }
  }
  for await (const page of readRest(opts)) {
    yield { api: 'rest', rows: page.rows, last: page.last, resume: page.nextRecordsUrl ? { nextRecordsUrl: page.nextRecordsUrl } : undefined };
  }
}

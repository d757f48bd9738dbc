import { runPaths } from '../iceberg/run-paths';
import { SalesforceApiError, type SalesforceClient } from '../salesforce/client';
import { syncableFields, type SObjectDescribe } from '../salesforce/describe';
import { DEFAULT_MAX_QUERY_LENGTH } from '../salesforce/reader';
import { queryFirstPage, type PrefetchedWindow } from '../salesforce/rest-reader';
import { buildSoql } from '../salesforce/soql';
import type { ObjectStore } from '../storage/object-store';
import type { ReadWindow } from './extract/read-window';
import type { WriteTarget } from '../destinations/destination';

/*
 * A small incremental window is read whole by prepare, in the Composite request that asks its
 * other questions (Salesforce counts the request as one API call), and staged beside the run's
 * other staging files; the extraction reads it from there instead of querying Salesforce again.
 * An incremental sync of a quiet object then costs one API call, not two.
 */

/**
 * The window's first REST page (up to 2,000 rows, ordered as the read orders them) when it holds
 * the whole window; undefined when it does not, or when Salesforce refuses the query (a field the
 * integration user cannot see: the read that follows asks again and meets the refusal itself).
 */
export async function prefetchWindow(client: SalesforceClient, describe: SObjectDescribe, window: ReadWindow): Promise<PrefetchedWindow | undefined> {
  const fields = syncableFields(describe).map((f) => f.name);
  const soql = buildSoql(describe, fields, { window });
  if (soql.length > DEFAULT_MAX_QUERY_LENGTH) return undefined;
  try {
    const page = await queryFirstPage(client, soql);
    return page.done ? { window, fields, records: page.records } : undefined;
  } catch (error) {
    if (error instanceof SalesforceApiError) return undefined;
    throw error;
  }
}

/** Stages a prefetched window for the run's extraction; returns where. */
export async function stagePrefetched(target: () => Promise<Pick<WriteTarget, 'location' | 'store'>>, runId: string, prefetched: PrefetchedWindow): Promise<string> {
  const area = await target();
  const uri = runPaths(area.location, runId).staging('prefetched');
  await area.store.put(uri, Buffer.from(JSON.stringify(prefetched)), 'application/json');
  return uri;
}

/** The window prepare staged. */
export async function readPrefetched(store: ObjectStore, uri: string): Promise<PrefetchedWindow> {
  return JSON.parse(Buffer.from(await store.get(uri)).toString()) as PrefetchedWindow;
}

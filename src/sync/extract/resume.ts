import { bulkJobAlive } from '../../salesforce/bulk-reader';
import type { SalesforceClient } from '../../salesforce/client';
import type { ReadApi, ReadPosition } from '../../salesforce/reader';
import type { ExtractCheckpoint } from '../types';

/** Where a checkpoint's read goes on (checkpoints of ordered reads name only their last row). */
export function positionOf(c: ExtractCheckpoint): ReadPosition | undefined {
  return c.position ?? (c.last ? { api: 'rest', after: c.last } : undefined);
}

/**
 * The checkpoint to resume from, if its read can go on: a Bulk job that is gone (expired, deleted,
 * failed) cannot serve its remaining pages, so the extraction starts again over the same window
 * with a new job and what the earlier attempts staged is left for cleanup — no row twice.
 */
export async function usableCheckpoint(
  client: SalesforceClient,
  c: ExtractCheckpoint | undefined,
  api: ReadApi | undefined,
  progress?: (p: { retrying?: string }) => void,
): Promise<ExtractCheckpoint | undefined> {
  const position = c && positionOf(c);
  if (!c || position?.api !== 'bulk') return c;
  // A worker now told to read through REST cannot go on in a Bulk job's results.
  if (api === 'rest') {
    progress?.({
      retrying: `the earlier attempt read through Bulk API 2.0 and this worker reads through REST: reading the window again (the ${c.rows} rows staged before are discarded)`,
    });
    return undefined;
  }
  if (!position.job || (await bulkJobAlive(client, position.job))) return c;
  progress?.({
    retrying: `Bulk job ${position.job.jobId} of the earlier attempt can no longer serve its results: reading the window again with a new job (the ${c.rows} rows staged before are discarded)`,
  });
  return undefined;
}

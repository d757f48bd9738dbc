import { bulkJobAlive, type BulkJobRef } from '../../salesforce/bulk-reader';
import type { SalesforceClient } from '../../salesforce/client';
import type { SalesforceField } from '../../salesforce/describe-types';
import type { SObjectDescribe } from '../../salesforce/describe';
import { readObject, type RecordPage } from '../../salesforce/reader';
import type { PrefetchedWindow } from '../../salesforce/rest-reader';
import type { FieldRange } from '../../salesforce/soql';
import { noLog } from '../../log';
import { readWindow } from './read-window';
import { positionOf } from './resume';
import type { ExtractCheckpoint, ExtractOptions, PreparedObject, SyncContext } from '../types';

/**
 * The pages of an object's window (or of a `range` of it): from the checkpoint when there is one,
 * else in the job the plan made while it lives (`orRunning`: also while Salesforce still runs it),
 * else through a new read. What the single extraction and a CreatedDate range both read.
 */
export async function windowPages(
  ctx: SyncContext,
  p: PreparedObject,
  salesforce: SalesforceClient,
  read: { describe: SObjectDescribe; fields: SalesforceField[]; resume?: ExtractCheckpoint; prefetched?: PrefetchedWindow },
  opts: Pick<ExtractOptions, 'progress'> & { job?: BulkJobRef; orRunning?: boolean; range?: FieldRange; pagesInFlight?: number; onFallback?: (reason: string) => void },
): Promise<AsyncGenerator<RecordPage>> {
  const log = ctx.log ?? noLog;
  const planned =
    !read.resume && opts.job && ctx.api !== 'rest' && p.readApi?.api !== 'rest' && (await bulkJobAlive(salesforce, opts.job, { orRunning: opts.orRunning })) ? opts.job : undefined;
  return readObject({
    client: salesforce,
    describe: read.describe,
    fields: read.fields,
    window: readWindow(p),
    range: opts.range,
    prefetched: read.prefetched,
    resume: read.resume ? positionOf(read.resume) : planned && { api: 'bulk', job: planned },
    // REST when prepare chose it for a small window; else as the worker asks (auto still falls back to REST where Bulk is refused).
    api: p.readApi?.api === 'rest' ? 'rest' : ctx.api,
    pagesInFlight: opts.pagesInFlight ?? ctx.pagesInFlight,
    sliceFloorMs: ctx.sliceFloorMs,
    onSplit: (reason) => (log.warn(reason), opts.progress?.({ retrying: reason })),
    // Said once per read that meets the refusal: a retry resuming in REST does not ask Bulk again.
    onFallback: (message, reason) => (log.warn(message, { object: p.object, api: 'rest' }), opts.onFallback?.(reason)),
  });
}

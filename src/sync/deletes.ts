import type { SalesforceClient } from '../salesforce/client';
import type { WriteTarget } from '../destinations/destination';
import type { SObjectDescribe } from '../salesforce/describe';
import { DeleteLogUnavailable, readDeleteLog } from '../salesforce/deleted-log';
import { runPaths } from '../iceberg/run-paths';
import { deletedIdsWindow } from './extract/read-window';
import { KeyList, writeStaging } from './staging';
import type { DeletesSource, PreparedObject, SyncContext } from './types';

type Window = Pick<PreparedObject, 'object' | 'runId' | 'namespace' | 'table' | 'cursorField' | 'writeMode' | 'after' | 'upTo' | 'deletedAfter'>;

/**
 * Reads the window's deleted Ids from Salesforce's delete log and stages them, or says why not;
 * undefined when the sync removes no rows (not merge, or not incremental).
 */
export async function stageDeletes(
  ctx: SyncContext,
  p: Window,
  salesforce: SalesforceClient,
  describe: Pick<SObjectDescribe, 'name' | 'replicateable'>,
  /** Where the table's files go (prepare loads it once for everything it stages). */
  target: () => Promise<Pick<WriteTarget, 'location' | 'store'>> = () => ctx.destination.writeTarget(p),
): Promise<DeletesSource | undefined> {
  const window = deletedIdsWindow(p);
  if (!window?.after) return undefined;
  if (ctx.getDeleted === false) return { from: 'queryAll', reason: 'SYNC_GET_DELETED=false: rows still in the Recycle Bin are removed, hard deletes only by a reconciling sync' };
  if (describe.replicateable === false)
    return {
      from: 'queryAll',
      reason: `${describe.name} is not replicateable: Salesforce keeps no log of its deletes; rows still in the Recycle Bin are removed, hard deletes only by a reconciling sync`,
    };
  let ids: string[];
  try {
    ids = await readDeleteLog(salesforce, describe.name, { after: window.after, upTo: window.upTo });
  } catch (error) {
    if (!(error instanceof DeleteLogUnavailable)) throw error;
    return { from: 'queryAll', reason: `${error.reason}: every Id is compared with Salesforce instead (a reconciliation)`, reconcile: true };
  }
  const area = await target();
  const staging = runPaths(area.location, p.runId).staging('deleted-log');
  await writeStaging(area.store, staging, { runId: p.runId, files: [], keys: new KeyList(), deletedKeys: ids });
  return { from: 'getDeleted', staging, ids: ids.length };
}

/** The staging manifests a commit (or reconciliation) of the object takes: the extraction's, and the delete log's. */
export function withDeletes(p: Pick<PreparedObject, 'deletes'>, staging: string | string[]): string[] {
  return [staging, p.deletes?.from === 'getDeleted' ? p.deletes.staging : []].flat();
}

/** What the object's result says of where its deletes came from. */
export function deletesOutcome(p: Pick<PreparedObject, 'deletes'>): { deletesFrom?: string } {
  if (!p.deletes) return {};
  return { deletesFrom: p.deletes.from === 'getDeleted' ? "getDeleted (Salesforce's delete log)" : `queryAll: ${p.deletes.reason}` };
}

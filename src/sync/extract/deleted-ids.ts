import type { SalesforceClient } from '../../salesforce/client';
import type { SObjectDescribe } from '../../salesforce/describe';
import { readObject, type ReadApi } from '../../salesforce/reader';
import type { ReadWindow } from './read-window';

/**
 * The Ids of the object's rows deleted in the window (`queryAll`, `IsDeleted = true`; through REST
 * unless prepare found the window large): rows still in the Recycle Bin. Hard deletes never show
 * here (see src/sync/reconcile.ts).
 */
export async function readDeletedIds(salesforce: SalesforceClient, describe: SObjectDescribe, window: ReadWindow, api: ReadApi = 'rest'): Promise<string[]> {
  const ids: string[] = [];
  const idField = describe.fields.filter((f) => f.name === 'Id');
  for await (const page of readObject({ client: salesforce, describe, fields: idField, window, deletedOnly: true, api })) {
    for (const r of page.rows) ids.push(String(r[0]));
  }
  return ids;
}

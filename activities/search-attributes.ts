/**
 * The custom search attributes a sync sets on each object's workflow, so syncs can be listed by
 * object, read and write mode and rows (`temporal workflow list --query "SalesforceObject='Account' AND
 * ExecutionStatus='Failed'"`). `npm run stack -- up` registers them on the local Temporal; another
 * server needs them created once (searchAttributeCommands). Workflow code imports this module: only
 * Temporal's pure helpers.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The Salesforce object (API name) an object's workflow syncs. */
export const SalesforceObject = defineSearchAttributeKey('SalesforceObject', SearchAttributeType.KEYWORD);
/** The read mode: incremental or full (named before the input's readMode; kept, as saved queries use it). */
export const SalesforceSyncMode = defineSearchAttributeKey('SalesforceSyncMode', SearchAttributeType.KEYWORD);
/** The write mode: replace, merge or append. */
export const SalesforceWriteMode = defineSearchAttributeKey('SalesforceWriteMode', SearchAttributeType.KEYWORD);
/** The Iceberg namespace, dotted (salesforce, crm.raw). */
export const SalesforceNamespace = defineSearchAttributeKey('SalesforceNamespace', SearchAttributeType.KEYWORD);
/** Rows the object's snapshot wrote, set once it committed. */
export const SalesforceRows = defineSearchAttributeKey('SalesforceRows', SearchAttributeType.INT);

export const SEARCH_ATTRIBUTES = [SalesforceObject, SalesforceSyncMode, SalesforceWriteMode, SalesforceNamespace, SalesforceRows] as const;

/** The Temporal CLI's type names. */
const CLI_TYPE: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/** The commands that create the given attributes (all by default) in a namespace. */
export function searchAttributeCommands(namespace: string, keys: readonly { name: string; type: SearchAttributeType }[] = SEARCH_ATTRIBUTES): string[] {
  return keys.map((k) => `temporal operator search-attribute create --namespace ${namespace} --name ${k.name} --type ${CLI_TYPE[k.type]}`);
}

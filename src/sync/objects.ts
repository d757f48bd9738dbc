/*
 * The objects of the original pipeline and their default write modes. Two words, one idea each:
 * - read mode: how a sync reads Salesforce, incremental (since the table's stored cursor) or full;
 * - write mode: how a sync writes an object's table: replace (the table becomes what was read:
 *   an Iceberg overwrite snapshot), merge (upsert and delete by Id) or append.
 */
export const READ_MODES = ['incremental', 'full'] as const;
export type ReadModeName = (typeof READ_MODES)[number];
export const WRITE_MODES = ['replace', 'merge', 'append'] as const;
export type WriteModeName = (typeof WRITE_MODES)[number];

export const DEFAULT_OBJECTS = ['Account', 'Contact', 'Opportunity', 'OpportunityContactRole'];

/** The objects replaced by default (the original pipeline's); every other object is merged. */
export const REPLACE_OBJECTS = ['User', 'UserRole', 'Contact', 'Lead', 'Campaign', 'Product2', 'Pricebook2', 'PricebookEntry'];
const MERGE = ['Account', 'Opportunity', 'OpportunityLineItem', 'OpportunityContactRole', 'CampaignMember', 'Task', 'Event'];

export const KNOWN_OBJECTS = [...REPLACE_OBJECTS, ...MERGE];

/**
 * The default write mode of an object by its name: the original pipeline's for its 15; merge for
 * others. What the parent shows before the child has described the object: the child's prepare
 * decides with what describe says (chooseWriteMode).
 */
export function defaultWriteMode(object: string): WriteModeName {
  if (REPLACE_OBJECTS.includes(object)) return 'replace';
  return 'merge';
}

/** The write mode an object's sync uses, and why (the prepare log and the object's result say it). */
export interface WriteModeChoice {
  writeMode: WriteModeName;
  reason: string;
}

/**
 * The write mode of an object's table: the one the sync asked for, else append for an object
 * whose only cursor is CreatedDate (no SystemModstamp nor LastModifiedDate: history objects such as
 * AccountHistory, whose rows never change once created, so each sync appends the rows created
 * since the last and a merge by Id would only cost a read of the table's keys), else the object's
 * default (defaultWriteMode). `cursorField` is what describe offers (src/salesforce/describe.ts cursorField).
 */
export function chooseWriteMode(object: string, cursorField: string | undefined, asked?: WriteModeName): WriteModeChoice {
  if (asked) return { writeMode: asked, reason: 'asked for by the sync' };
  if (cursorField === 'CreatedDate')
    return {
      writeMode: 'append',
      reason: `${object} has no SystemModstamp or LastModifiedDate: its rows never change once created, so each sync appends those created since the last (CreatedDate)`,
    };
  const writeMode = defaultWriteMode(object);
  return {
    writeMode,
    reason: writeMode === 'replace' ? `the default for ${object} (the original pipeline's)` : 'the default for objects whose rows change (upsert and delete by Id)',
  };
}

/**
 * The task queue of an object's partitions (extractPartition): every worker polls it beside its own
 * queue with at most WORKER_MAX_PARTITIONS slots, so partitions spread over workers by their own
 * bound, apart from the other activities' (WORKER_MAX_ACTIVITIES): a worker never takes more
 * partitions than its memory is sized for while another worker has room.
 */
export function partitionTaskQueue(taskQueue: string): string {
  return `${taskQueue}-partitions`;
}

/**
 * The Iceberg namespace (DuckDB schema) tables go to unless told otherwise, and what a namespace
 * may be: identifiers joined by dots (`crm.salesforce`). The workflow input and SYNC_NAMESPACE
 * both check this rule.
 */
export const DEFAULT_NAMESPACE = 'salesforce';
export const IDENTIFIER_RULE = 'letters, digits and underscores, not starting with a digit';
export const NAMESPACE_RULE = `identifiers (${IDENTIFIER_RULE}) joined by dots`;
const IDENTIFIER = '[A-Za-z_][A-Za-z0-9_]*';
export const IDENTIFIER_PATTERN = new RegExp(`^${IDENTIFIER}$`);
export const NAMESPACE_PATTERN = new RegExp(`^${IDENTIFIER}(?:\\.${IDENTIFIER})*$`);

/** Why a read of every row goes through Bulk (src/sync/read-api.ts): what anyone expects, so the Web UI's details leave it out. */
export const EVERY_ROW_REASON = 'a read of every row';

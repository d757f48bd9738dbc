/**
 * Which of the sync's custom search attributes a Temporal namespace lacks, and registering them
 * (the local stack does at every `up`). Used by the stack, the preflight and the workflows' check
 * (an activity), so all three agree on names and types.
 */
import type { temporal } from '@temporalio/proto';
import { SearchAttributeType } from '@temporalio/common';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { ERROR_CODES, SyncError } from '../src/errors';
import { SEARCH_ATTRIBUTES } from './search-attributes';

type OperatorService = Pick<temporal.api.operatorservice.v1.OperatorService, 'listSearchAttributes' | 'addSearchAttributes'>;

export interface SearchAttributeState {
  /** Not registered at all. */
  missing: (typeof SEARCH_ATTRIBUTES)[number][];
  /** Registered with another type: "SalesforceRows is Keyword, not Int". */
  wrongType: string[];
}

function typeName(type: temporal.api.enums.v1.IndexedValueType): string {
  return Object.values(SearchAttributeType).find((t) => encodeSearchAttributeIndexedValueType(t) === type) ?? `type ${type}`;
}

export async function searchAttributeState(operator: OperatorService, namespace: string): Promise<SearchAttributeState> {
  const { customAttributes, systemAttributes } = await operator.listSearchAttributes({ namespace });
  const known = { ...systemAttributes, ...customAttributes };
  const missing: SearchAttributeState['missing'] = [];
  const wrongType: string[] = [];
  for (const key of SEARCH_ATTRIBUTES) {
    const type = known[key.name];
    if (type === undefined || type === null) missing.push(key);
    else if (type !== encodeSearchAttributeIndexedValueType(key.type)) wrongType.push(`${key.name} is ${typeName(type)}, not ${key.type}`);
  }
  return { missing, wrongType };
}

/** Registers the missing ones (idempotent); throws when one exists with another type. */
export async function ensureSearchAttributes(operator: OperatorService, namespace: string): Promise<string[]> {
  const { missing, wrongType } = await searchAttributeState(operator, namespace);
  if (wrongType.length > 0)
    throw new SyncError(`Temporal namespace ${namespace} has search attributes of the wrong type: ${wrongType.join('; ')}`, {
      code: ERROR_CODES.SETTINGS_INVALID,
      retryable: false,
    });
  if (missing.length === 0) return [];
  await operator.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map((k) => [k.name, encodeSearchAttributeIndexedValueType(k.type)!])) });
  return missing.map((k) => k.name);
}

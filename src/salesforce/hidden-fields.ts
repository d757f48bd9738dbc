import { SalesforceApiError, type SalesforceClient } from './client';
import type { SObjectDescribe } from './describe';
import type { SalesforceField } from './describe-types';
import { buildSoql } from './soql';

/*
 * Fields the integration user cannot see (field-level security). Describe may list a field that
 * SOQL then refuses with INVALID_FIELD "No such column 'X' on entity 'Y'" — the answer Salesforce
 * gives for a field that does not exist — so one such field would fail every read of the object.
 * A `SELECT <fields> FROM X LIMIT 1` (compiled by Salesforce, at most one row sent back) names
 * them one at a time: each refusal drops the field it names and asks again.
 */

/** Longest SOQL of one probe: REST sends it in the URL (as the REST read does, see reader.ts). */
const MAX_PROBE_LENGTH = 12_000;

/** What fixes a hidden field: said wherever one is listed. */
export const HIDDEN_FIELDS_FIX = 'to sync them, give the integration user read access (field-level security of its profile or a permission set)';

export interface HiddenFields {
  /** Fields describe lists that the query cannot read, as describe spells them. */
  hidden: string[];
  /** REST queries made (one per field chunk, plus one per hidden field). */
  calls: number;
  /** Why the check stopped before the end (Salesforce refused the probe for another reason); the fields found so far are in `hidden`. */
  unchecked?: string;
}

/** The field an INVALID_FIELD error names, when it is one of `names` (case-insensitive), as spelt there. */
export function refusedField(error: unknown, names: readonly string[]): string | undefined {
  if (!(error instanceof SalesforceApiError) || error.errorCode !== 'INVALID_FIELD') return undefined;
  const named = /No such column '([^']+)' on (?:entity|sobject of type) /.exec(error.message)?.[1]?.toLowerCase();
  return named === undefined ? undefined : names.find((n) => n.toLowerCase() === named);
}

/** Splits fields into selects short enough for one REST query each, in order. */
function chunks(describe: SObjectDescribe, fields: readonly SalesforceField[], max: number): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  for (const f of fields) {
    if (current.length > 0 && probeSoql(describe, [...current, f.name]).length > max) {
      out.push(current);
      current = [];
    }
    current.push(f.name);
  }
  if (current.length > 0) out.push(current);
  return out;
}

const probeSoql = (describe: SObjectDescribe, names: string[]) => `${buildSoql(describe, names, { ordered: false })} LIMIT 1`;

/**
 * Asks Salesforce which of `fields` the integration user cannot read: one REST query per chunk of
 * fields, plus one per hidden field found (bounded by the number of fields). Errors a retry may
 * heal are thrown; any other refusal stops the check and is returned as `unchecked`, so an object
 * the probe cannot query is read (or refused) by the sync's own read as before.
 */
export async function findHiddenFields(
  client: SalesforceClient,
  describe: SObjectDescribe,
  fields: readonly SalesforceField[],
  opts: { maxQueryLength?: number } = {},
): Promise<HiddenFields> {
  const hidden: string[] = [];
  let calls = 0;
  for (const chunk of chunks(describe, fields, opts.maxQueryLength ?? MAX_PROBE_LENGTH)) {
    let names = chunk;
    while (names.length > 0) {
      calls++;
      try {
        await client.get(`/query?q=${encodeURIComponent(probeSoql(describe, names))}`);
        break;
      } catch (error) {
        const name = refusedField(error, names);
        if (name !== undefined) {
          hidden.push(name);
          names = names.filter((n) => n !== name);
          continue;
        }
        if (!(error instanceof SalesforceApiError) || error.retryable) throw error;
        return { hidden, calls, unchecked: error.message };
      }
    }
  }
  return { hidden, calls };
}

/** One line naming the hidden fields of an object and what to change. */
export function hiddenFieldsWarning(object: string, hidden: readonly string[]): string {
  return `${object}: the integration user cannot see ${hidden.length === 1 ? 'field' : `${hidden.length} fields`} ${hidden.join(', ')} (describe lists ${hidden.length === 1 ? 'it' : 'them'}, queries cannot read ${hidden.length === 1 ? 'it' : 'them'}); not synced; ${HIDDEN_FIELDS_FIX}`;
}

import type { SalesforceFieldType } from './describe-types';
import { ERROR_CODES, SyncError } from '../errors';

/*
 * Salesforce values normalised in one place, into the forms the column builders take
 * (src/parquet/columns.ts): datetimes → microseconds since the epoch (UTC, millisecond precision),
 * dates 'YYYY-MM-DD', times 'HH:MM:SS.sss', currency → exact decimal text, numbers, booleans,
 * nulls. REST JSON and Bulk CSV both go through here, so they give identical batches.
 */

/** A Salesforce datetime ('2026-01-01T00:00:00.000+0000' or ISO with Z) → microseconds (UTC). */
export function datetimeMicros(text: string): number {
  const ms = Date.parse(text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  if (Number.isNaN(ms)) throw new SyncError(`not a Salesforce datetime: ${text}`, { code: ERROR_CODES.VALUE_INVALID, retryable: false });
  return ms * 1000;
}

/** A JSON value from the REST API → builder form. */
export function fromRestJson(type: SalesforceFieldType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'datetime':
      return datetimeMicros(String(value));
    case 'time':
      return String(value).replace(/Z$/, '');
    case 'currency':
      // JSON numbers of up to 15 significant digits print back exactly; Bulk CSV carries the text.
      return typeof value === 'number' ? numberText(value) : String(value);
    case 'double':
    case 'percent':
    case 'int':
    case 'long':
      return typeof value === 'number' ? value : Number(value);
    case 'boolean':
      return value === true || value === 'true';
    default:
      return typeof value === 'string' ? value : JSON.stringify(value);
  }
}

/** Plain decimal text of a number (no exponent). */
function numberText(n: number): string {
  const text = String(n);
  if (!/e/i.test(text)) return text;
  return n.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 20 });
}

/** A Bulk API 2.0 CSV cell → builder form (an empty cell is null: Salesforce stores no empty text). */
export function fromBulkCsv(type: SalesforceFieldType, text: string): unknown {
  if (text === '') return null;
  switch (type) {
    case 'datetime':
      return datetimeMicros(text);
    case 'time':
      return text.replace(/Z$/, '');
    case 'currency':
      return text;
    case 'double':
    case 'percent':
    case 'int':
    case 'long':
      return Number(text);
    case 'boolean':
      return text === 'true';
    default:
      return text;
  }
}

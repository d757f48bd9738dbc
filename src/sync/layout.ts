import { editDistance } from '../edit-distance';
import { ERROR_CODES, SyncError } from '../errors';
import { layoutMismatch, type TableLayout } from '../iceberg/layout';
import type { Schema } from '../iceberg/spec';
import { parseSortText, type PartitionRequest, type SortRequest } from '../iceberg/spec/layout-syntax';
import { parsePartitionField } from '../iceberg/spec/partition';
import { columnName, type NamingConvention } from '../mapping/schema-mapping';
import type { SalesforceField } from '../salesforce/describe-types';
import type { PrepareObjectInput } from './types';

/*
 * An object's partitionBy and sortBy, as the sync's input gives them (Salesforce field names or
 * column names), checked against the object's fields and the Iceberg types they map to, and turned
 * into the table layout the destination applies (by column name). Checked before anything is
 * created or read: a column the object lacks, or a transform its type does not take, fails the
 * object (INPUT_INVALID) — unless the list is the sync's default for every object, which an object
 * without those columns simply does not take (its table keeps its layout, and the result says why).
 */

type LayoutKey = 'partitionBy' | 'sortBy';

const invalid = (message: string) => new SyncError(message, { code: ERROR_CODES.INPUT_INVALID, retryable: false });

/** The layout asked of the object's table, and why a sync-wide list was not taken (if it was not). */
export interface ResolvedLayout {
  layout: TableLayout;
  kept: string[];
}

/**
 * Resolves the input's partitionBy and sortBy for one object. `schema` is the Iceberg schema its
 * fields map to (the column types a new table gets).
 */
export function resolveLayout(
  object: string,
  fields: SalesforceField[],
  schema: Schema,
  naming: NamingConvention,
  input: Pick<PrepareObjectInput, 'partitionBy' | 'sortBy' | 'syncWideLayout'>,
): ResolvedLayout {
  const out: ResolvedLayout = { layout: {}, kept: [] };
  for (const key of ['partitionBy', 'sortBy'] as const) {
    const texts = input[key];
    if (texts === undefined) continue;
    const syncWide = input.syncWideLayout?.includes(key) ?? false;
    const where = syncWide ? `the sync's ${key}` : `overrides.${object}.${key}`;
    const requests = texts.map((text) => parse(key, text, where));
    const problems: string[] = [];
    const resolved = requests.map((r) => {
      const found = findField(fields, r.column, naming);
      if (typeof found === 'string') {
        problems.push(`${object} has no field or column "${r.column}"${found}`);
        return r;
      }
      const column = columnName(found.name, naming);
      const type = schema.fields.find((c) => c.name === column)?.type;
      const mismatch = type && 'transform' in r ? layoutMismatch(r, `${object}.${found.name} (column ${column})`, type) : undefined;
      if (mismatch) problems.push(mismatch);
      return { ...r, column };
    });
    if (problems.length === 0) {
      if (key === 'partitionBy') out.layout.partitionBy = resolved as PartitionRequest[];
      else out.layout.sortBy = resolved as SortRequest[];
    } else if (syncWide) {
      out.kept.push(
        `${where} ${JSON.stringify(texts)} does not apply to ${object} (${problems.join('; ')}): its table keeps its ${key === 'partitionBy' ? 'partition spec' : 'sort order'}`,
      );
    } else {
      throw invalid(`${where}: ${problems.join('; ')}`);
    }
  }
  return out;
}

function parse(key: LayoutKey, text: string, where: string): PartitionRequest | SortRequest {
  try {
    if (key === 'partitionBy') return parsePartitionField(text);
  } catch (error) {
    throw invalid(`${where}: ${(error as Error).message}`);
  }
  const parsed = parseSortText(text);
  if ('error' in parsed) throw invalid(`${where}: ${parsed.error}`);
  return parsed.request;
}

/** The field a name means (its Salesforce name or its column name, in any case), or a hint of the near names. */
function findField(fields: SalesforceField[], name: string, naming: NamingConvention): SalesforceField | string {
  const lower = name.toLowerCase();
  const found = fields.find((f) => f.name.toLowerCase() === lower) ?? fields.find((f) => columnName(f.name, naming).toLowerCase() === lower);
  if (found) return found;
  const near = fields.filter((f) => editDistance(f.name.toLowerCase(), lower) <= 2 || editDistance(columnName(f.name, naming), lower) <= 2).map((f) => f.name);
  return near.length > 0 ? ` (did you mean ${near.slice(0, 3).join(', ')}?)` : '';
}

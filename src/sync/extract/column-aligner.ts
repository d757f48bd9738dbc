import { columnName, type NamingConvention } from '../../mapping/schema-mapping';
import type { SalesforceField, SalesforceFieldType } from '../../salesforce/describe-types';

/** Picklists, references and flags repeat a few values: the columns worth a dictionary. */
const FEW_DISTINCT_VALUES = new Set<SalesforceFieldType>(['picklist', 'multipicklist', 'combobox', 'reference', 'boolean']);

/** How the table's columns are fed from the fields Salesforce describes. */
export interface ColumnAlignment {
  /** The fields to read, in read order: those of the table's columns Salesforce still has. */
  fields: SalesforceField[];
  /** For each table column, the index of its field in `fields`, or -1 (written as nulls). */
  at: number[];
  /** Index of the Id field in `fields`. */
  idAt: number;
  /** Table columns written with a dictionary. */
  dictionaryColumns: Set<string>;
}

/**
 * Matches the table's columns (in the table's order, which the data files follow) to the describe's
 * fields by column name. Table columns Salesforce no longer has are read as nulls; fields the table
 * has no column for are not read.
 */
export function alignColumns(columns: readonly { name: string }[], describeFields: readonly SalesforceField[], naming: NamingConvention): ColumnAlignment {
  const byColumn = new Map(describeFields.map((f) => [columnName(f.name, naming), f]));
  const matched = columns.map((c) => byColumn.get(c.name));
  const fields = matched.filter((f): f is SalesforceField => f !== undefined);
  return {
    fields,
    at: matched.map((f) => (f ? fields.indexOf(f) : -1)),
    idAt: fields.findIndex((f) => f.name === 'Id'),
    dictionaryColumns: new Set(columns.filter((_, k) => matched[k] && FEW_DISTINCT_VALUES.has(matched[k]!.type)).map((c) => c.name)),
  };
}

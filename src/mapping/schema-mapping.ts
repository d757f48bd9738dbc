import type { SalesforceField, SalesforceFieldType } from '../salesforce/describe-types';
import { IncompatibleSchemaError } from '../iceberg/errors';
import { parseDecimal, type NestedField, type PrimitiveType, type Schema } from '../iceberg/spec';

/*
 * Where a Salesforce type becomes an Iceberg type — the one place. Datetimes are UTC instants
 * (timestamptz, microseconds); currency keeps its exact precision and scale from describe. Every
 * type is one that Spark, Trino, DuckDB and pyiceberg all read: Salesforce times are kept as text
 * by default, because Spark (3.5 and 4.0 with Iceberg 1.10) refuses to load any table with an
 * Iceberg `time` column; `timeAs: 'time'` keeps Iceberg's time for engines that read it. Each
 * column's doc is the field's label, marked when the field is a formula or a time kept as text.
 */

/** How Salesforce time fields are stored: 'HH:MM:SS.sss' text (default), or Iceberg's time. */
export type TimeMapping = 'string' | 'time';

/** How a Salesforce object's fields become columns: names, and the one choice among types. */
export interface ColumnMapping {
  naming: NamingConvention;
  timeAs?: TimeMapping;
}

/** The doc of a column that holds Salesforce times as text. */
export const TIME_TEXT_DOC = 'Salesforce time of day, as text HH:MM:SS.sss (sorts as time does)';

/** The doc's mark of a column fed by a formula (calculated) field. */
export const FORMULA_DOC = 'formula field (calculated by Salesforce; its changes do not move SystemModstamp)';

/**
 * A column's doc: the Salesforce field's label, then what a reader should know about its values
 * (a formula field's changes are not seen by incremental syncs; times kept as text). `type` is the
 * column's type in the table, which may differ from today's mapping (a time column stays time).
 */
export function columnDoc(field: SalesforceField, type: PrimitiveType): string | undefined {
  const marks = [...(field.calculated ? [FORMULA_DOC] : []), ...(field.type === 'time' && type === 'string' ? [TIME_TEXT_DOC] : [])];
  const parts = [...(field.label ? [field.label] : []), ...marks];
  return parts.length > 0 ? parts.join(' — ') : undefined;
}
const stringTypes: SalesforceFieldType[] = [
  'id',
  'string',
  'textarea',
  'picklist',
  'multipicklist',
  'reference',
  'email',
  'phone',
  'url',
  'combobox',
  'encryptedstring',
  'anyType',
  'json',
];

/** Salesforce allows up to 18 digits in number and currency fields. */
const MAX_SALESFORCE_PRECISION = 18;

export function icebergTypeOf(field: SalesforceField, timeAs: TimeMapping = 'string'): PrimitiveType {
  if (stringTypes.includes(field.type)) return 'string';
  switch (field.type) {
    case 'boolean':
      return 'boolean';
    case 'int':
      return 'int';
    case 'long':
      return 'long';
    case 'double':
    case 'percent':
      return 'double';
    case 'currency': {
      const precision = Math.min(Math.max(field.precision ?? MAX_SALESFORCE_PRECISION, 1), 38);
      const scale = Math.min(Math.max(field.scale ?? 2, 0), precision);
      return `decimal(${precision}, ${scale})`;
    }
    case 'date':
      return 'date';
    case 'datetime':
      return 'timestamptz';
    case 'time':
      return timeAs;
    case 'base64':
      return 'binary';
    default:
      throw new IncompatibleSchemaError(`Salesforce field ${field.name} has type ${field.type}, which has no Iceberg column (compound fields are synced as their components).`);
  }
}

/**
 * dlt-compatible snake_case: `OpportunityContactRole` → `opportunity_contact_role`,
 * `SystemModstamp` → `system_modstamp`, `My_Field__c` → `my_field_c`.
 */
export function snakeCase(name: string): string {
  let s = name.trim().replace(/[+\-*@|]/g, (c) => ({ '+': 'x', '-': '_', '*': 'x', '@': 'a', '|': 'l' })[c]!);
  s = s.replace(/[^a-zA-Z\d_]+/g, '_');
  s = s.replace(/([^_])([A-Z][a-z]+)/g, '$1_$2');
  s = s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  if (/^\d/.test(s)) s = `_${s}`;
  const stripped = s.replace(/_+$/, '');
  s = stripped + 'x'.repeat(s.length - stripped.length);
  return s.replace(/__+/g, '_');
}

export type NamingConvention = 'snake_case' | 'salesforce';

export function columnName(salesforceName: string, naming: NamingConvention): string {
  return naming === 'snake_case' ? snakeCase(salesforceName) : salesforceName;
}

export interface ColumnPlan {
  /** The Salesforce field each column comes from, in column order. */
  salesforceName: string;
  field: NestedField;
}

/** Iceberg's allowed type promotions (spec: "Schema Evolution"). */
export function canPromote(from: PrimitiveType, to: PrimitiveType): boolean {
  if (from === to) return true;
  if (from === 'int' && to === 'long') return true;
  if (from === 'float' && to === 'double') return true;
  const a = parseDecimal(from);
  const b = parseDecimal(to);
  return !!a && !!b && a.scale === b.scale && b.precision >= a.precision;
}

export interface SchemaPlan {
  /** The schema to write with (the current one, or a new one when `changed`). */
  schema: Schema;
  lastColumnId: number;
  changed: boolean;
  added: string[];
  promoted: string[];
  /** Existing columns whose doc changes (a label renamed in Salesforce, a field now a formula): no type changes. */
  documented: string[];
  /** Columns of the table that Salesforce no longer has: kept, null from now on. */
  missing: string[];
  columns: ColumnPlan[];
}

/**
 * Plans the table schema for a describe: a new schema for a new table (Id first, required, the
 * identifier field), or the evolution of the current one. Field ids are assigned once and never
 * reused; new fields are optional; removed fields stay; only allowed promotions; anything else is
 * an IncompatibleSchemaError that changes nothing.
 */
export function planSchema(
  fields: SalesforceField[],
  opts: { naming: NamingConvention; timeAs?: TimeMapping; current?: Schema; lastColumnId?: number; table?: string },
): SchemaPlan {
  const idField = fields.find((f) => f.name === 'Id');
  if (!idField) throw new IncompatibleSchemaError(`The Salesforce object${opts.table ? ` for ${opts.table}` : ''} has no Id field.`);
  const ordered = [idField, ...fields.filter((f) => f !== idField)];
  const byColumn = new Map<string, SalesforceField>();
  for (const f of ordered) {
    const name = columnName(f.name, opts.naming);
    const clash = byColumn.get(name);
    if (clash)
      throw new IncompatibleSchemaError(`Salesforce fields ${clash.name} and ${f.name} both map to column "${name}"; use the salesforce naming convention for this object.`);
    byColumn.set(name, f);
  }

  const current = opts.current;
  let lastId = opts.lastColumnId ?? current?.fields.reduce((m, f) => Math.max(m, f.id), 0) ?? 0;
  const existing = new Map((current?.fields ?? []).map((f) => [f.name, f]));
  const columns: ColumnPlan[] = [];
  const added: string[] = [];
  const promoted: string[] = [];
  const documented: string[] = [];
  const problems: string[] = [];
  const nextFields: NestedField[] = current ? current.fields.map((f) => ({ ...f })) : [];

  for (const [name, sf] of byColumn) {
    const type = icebergTypeOf(sf, opts.timeAs);
    const have = existing.get(name);
    if (!have) {
      const doc = columnDoc(sf, type);
      const field: NestedField = { id: ++lastId, name, required: !current && sf.name === 'Id', type, ...(doc ? { doc } : {}) };
      if (current) added.push(name);
      nextFields.push(field);
      columns.push({ salesforceName: sf.name, field });
      continue;
    }
    // A time column made under the other mapping keeps its type: both hold the same values.
    const timeEither = sf.type === 'time' && (have.type === 'time' || have.type === 'string');
    if (have.type !== type && !timeEither) {
      if (canPromote(have.type, type)) {
        nextFields.find((f) => f.id === have.id)!.type = type;
        promoted.push(`${name}: ${have.type} → ${type}`);
      } else if (!canPromote(type, have.type)) {
        // A narrower type than the column (e.g. long → int) still fits: keep the column's type.
        problems.push(`column ${name} is ${have.type} in the table but Salesforce field ${sf.name} is now ${sf.type} (${type})`);
      }
    }
    const next = nextFields.find((f) => f.id === have.id)!;
    // Docs follow Salesforce's labels (a doc-only schema change); the doc's type part follows the column as it is.
    const doc = columnDoc(sf, next.type);
    if (doc !== undefined && doc !== have.doc) {
      next.doc = doc;
      documented.push(name);
    }
    columns.push({ salesforceName: sf.name, field: next });
  }
  if (problems.length > 0) {
    throw new IncompatibleSchemaError(
      `Incompatible schema change${opts.table ? ` for ${opts.table}` : ''}: ${problems.join('; ')}. ` +
        'Iceberg allows only int→long, float→double and wider decimals; sync this object in replace mode into a new table, or drop the table.',
    );
  }
  const missing = current ? current.fields.filter((f) => !byColumn.has(f.name)).map((f) => f.name) : [];
  const changed = !current || added.length > 0 || promoted.length > 0 || documented.length > 0;
  const idColumn = columns[0]!.field;
  const schema: Schema = {
    type: 'struct',
    'schema-id': current ? (changed ? current['schema-id'] + 1 : current['schema-id']) : 0,
    // A table made elsewhere keeps its own; Id becomes one only where it is required (Iceberg allows no optional identifier).
    'identifier-field-ids': current?.['identifier-field-ids'] ?? (idColumn.required ? [idColumn.id] : []),
    fields: nextFields,
  };
  return { schema, lastColumnId: lastId, changed, added, promoted, documented, missing, columns };
}

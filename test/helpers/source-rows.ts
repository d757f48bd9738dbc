import type { SimField } from '../../src/salesforce-sim/objects';

/** A simulator value in the form the readers print it (test/readers/iceberg_readers.py `plain`). */
export function readerForm(field: SimField, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (field.type) {
    case 'datetime':
      return `${new Date(String(v)).toISOString().slice(0, 23)}000Z`;
    case 'time':
      // Salesforce times are text by default (Spark loads no table with an Iceberg time column).
      return String(v).replace(/Z$/, '');
    case 'currency':
      return Number(v).toFixed(field.scale ?? 2);
    default:
      return v;
  }
}

/** Each reader's type names in Iceberg's words, so the three compare. */
export function icebergType(reader: string, type: string): string {
  const t = type.toLowerCase().replace(/\s+/g, '');
  if (reader === 'spark') return ({ bigint: 'long', timestamp: 'timestamptz', timestamp_ntz: 'timestamp', integer: 'int' } as Record<string, string>)[t] ?? t;
  if (reader === 'duckdb')
    return ({ varchar: 'string', bigint: 'long', integer: 'int', timestampwithtimezone: 'timestamptz', timestamp: 'timestamp', blob: 'binary' } as Record<string, string>)[t] ?? t;
  return t;
}

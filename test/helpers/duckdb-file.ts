import { DuckDBInstance } from '@duckdb/node-api';

/** The first column of a query's rows as text, from a DuckDB file opened for this read alone (a destination's file between syncs). */
export async function duckdbColumn(file: string, sql: string): Promise<string[]> {
  const db = await DuckDBInstance.create(file);
  const c = await db.connect();
  try {
    return (await c.runAndReadAll(sql)).getRows().map((r) => String(r[0]));
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

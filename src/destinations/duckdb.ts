import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TableLayout } from '../iceberg/layout';
import type { DuckDBConnection } from '@duckdb/node-api';
import { planSchema, type ColumnMapping } from '../mapping/schema-mapping';
import type { NestedField, PrimitiveType } from '../iceberg/spec';
import type { SalesforceField } from '../salesforce/describe-types';
import { LocalObjectStore } from '../storage/local-fs';
import { CURSOR_PROPERTY } from '../table-contract';
import { changesNoRow, type CommitResult, type Created, type Destination, type Prepared, type WriteTarget, type TableRef } from './destination';
import { ERROR_CODES, SyncError } from '../errors';

/** DUMP_TO_DUCKDB=true: objects land in a local DuckDB file instead of Iceberg. */

/** Per-table sync state, kept in the DuckDB file next to the data it describes. */
const STATE_TABLE = '_salesforce_sync';
const RUNS_KEPT = 20;

/** The one place an Iceberg column type becomes a DuckDB column type. */
export function duckdbType(type: PrimitiveType): string {
  const decimal = /^decimal\((\d+),\s*(\d+)\)$/.exec(type);
  if (decimal) return `DECIMAL(${decimal[1]}, ${decimal[2]})`;
  if (type.startsWith('fixed[')) return 'BLOB';
  const map: Record<string, string> = {
    boolean: 'BOOLEAN',
    int: 'INTEGER',
    long: 'BIGINT',
    float: 'REAL',
    double: 'DOUBLE',
    date: 'DATE',
    time: 'TIME',
    timestamp: 'TIMESTAMP',
    timestamptz: 'TIMESTAMPTZ',
    string: 'VARCHAR',
    uuid: 'UUID',
    binary: 'BLOB',
  };
  const mapped = map[type];
  if (!mapped) throw new SyncError(`no DuckDB type for ${type}`, { code: ERROR_CODES.TABLE_UNSUPPORTED, retryable: false });
  return mapped;
}

/** database.schema.table: a schema named like the file (salesforce in salesforce.duckdb) is otherwise ambiguous. */
async function qualifiedName(c: DuckDBConnection, schema: string, table: string): Promise<string> {
  const db = String((await c.runAndReadAll('SELECT current_database()')).getRows()[0]![0]);
  return [db, schema, table].map(ident).join('.');
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

/**
 * The DuckDB fallback (DUMP_TO_DUCKDB=true): the same objects land as tables of a local DuckDB
 * file, schema = namespace. Extraction writes the same Parquet files (to a local folder beside the database file);
 * a commit loads them in one DuckDB transaction, so a table is never half-synced, and records the
 * run id there too, so a retried commit changes nothing. The file is opened per step and closed
 * after it, so `duckdb salesforce.duckdb` can look at it between syncs.
 */
export class DuckDbDestination implements Destination {
  private readonly file: string;
  private readonly filesRoot: string;
  private readonly store = new LocalObjectStore();
  /** One step at a time: DuckDB allows one writer per file. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(file: string) {
    this.file = path.resolve(file);
    this.filesRoot = `${this.file}.files`;
  }

  private withConnection<T>(work: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      // Loaded on first use: the native library costs every worker ~24 MB of memory otherwise.
      const { DuckDBInstance } = await import('@duckdb/node-api');
      const instance = await DuckDBInstance.create(this.file);
      const connection = await instance.connect();
      try {
        await connection.run(
          `CREATE TABLE IF NOT EXISTS ${STATE_TABLE} (schema_name VARCHAR, table_name VARCHAR, columns VARCHAR, cursor VARCHAR, runs VARCHAR, synced_at TIMESTAMPTZ, PRIMARY KEY (schema_name, table_name))`,
        );
        return await work(connection);
      } finally {
        connection.closeSync();
        instance.closeSync();
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private static schemaOf(ref: TableRef): string {
    return ref.namespace.join('_');
  }

  private async state(c: DuckDBConnection, ref: TableRef): Promise<{ columns: NestedField[]; cursor?: string; runs: string[] } | undefined> {
    const rows = (
      await c.runAndReadAll(`SELECT columns, cursor, runs FROM ${STATE_TABLE} WHERE schema_name = $1 AND table_name = $2`, [DuckDbDestination.schemaOf(ref), ref.table])
    ).getRowObjects();
    const row = rows[0];
    if (!row) return undefined;
    return {
      columns: JSON.parse(String(row.columns)) as NestedField[],
      cursor: row.cursor === null ? undefined : String(row.cursor),
      runs: JSON.parse(String(row.runs)) as string[],
    };
  }

  async prepare(ref: TableRef, fields: SalesforceField[], { naming, timeAs }: ColumnMapping, _runId?: string, _described?: unknown, layout?: TableLayout): Promise<Prepared> {
    // Asked for, and not done, would be a silent surprise: said before anything is created.
    if (layout?.partitionBy?.length || layout?.sortBy?.length)
      throw new SyncError(
        `partitionBy and sortBy lay out Iceberg tables; the DuckDB destination writes plain DuckDB tables, so ${ref.table} was not prepared. Remove them from the sync's input, or sync into an Iceberg catalog.`,
        { code: ERROR_CODES.INPUT_INVALID, retryable: false },
      );
    return this.withConnection(async (c) => {
      const schema = DuckDbDestination.schemaOf(ref);
      const qualified = await qualifiedName(c, schema, ref.table);
      const before = await this.state(c, ref);
      // New columns are added; columns Salesforce no longer has stay (and get nulls).
      const plan = planSchema(fields, { naming, timeAs, table: `${schema}.${ref.table}` });
      const columns = [...(before?.columns ?? [])];
      for (const f of plan.schema.fields) if (!columns.some((x) => x.name === f.name)) columns.push({ ...f, id: columns.length + 1 });
      await c.run(`CREATE SCHEMA IF NOT EXISTS ${qualified.slice(0, qualified.lastIndexOf('.'))}`);
      await c.run(`CREATE TABLE IF NOT EXISTS ${qualified} (${columns.map((f) => `${ident(f.name)} ${duckdbType(f.type)}`).join(', ')})`);
      const existing = new Set(
        (await c.runAndReadAll(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`, [schema, ref.table]))
          .getRowObjects()
          .map((r) => String(r.column_name)),
      );
      for (const f of columns) if (!existing.has(f.name)) await c.run(`ALTER TABLE ${qualified} ADD COLUMN ${ident(f.name)} ${duckdbType(f.type)}`);
      await c.run(`INSERT INTO ${STATE_TABLE} VALUES ($1, $2, $3, NULL, '[]', NULL) ON CONFLICT (schema_name, table_name) DO UPDATE SET columns = excluded.columns`, [
        schema,
        ref.table,
        JSON.stringify(columns),
      ]);
      // The columns this prepare added (a sync that added one and then failed does not fill it later).
      const newColumns = before ? columns.filter((f) => !before.columns.some((x) => x.name === f.name)).map((f) => f.name) : [];
      return { cursor: before?.cursor, created: { table: before === undefined, namespace: false }, newColumns };
    });
  }

  async writeTarget(ref: TableRef): Promise<WriteTarget> {
    const state = await this.withConnection((c) => this.state(c, ref));
    if (!state)
      throw new SyncError(`${DuckDbDestination.schemaOf(ref)}.${ref.table} has not been prepared in ${this.file}`, { code: ERROR_CODES.CATALOG_NOT_FOUND, retryable: false });
    const location = pathToFileURL(path.join(this.filesRoot, DuckDbDestination.schemaOf(ref), ref.table)).href;
    return { columns: state.columns, store: this.store, location };
  }

  async commit(ref: TableRef, req: Parameters<Destination['commit']>[1]): Promise<CommitResult> {
    return this.withConnection(async (c) => {
      const schema = DuckDbDestination.schemaOf(ref);
      const qualified = await qualifiedName(c, schema, ref.table);
      const files = `[${req.files.map((f) => literal(fileURLToPath(f.filePath))).join(', ')}]`;
      await c.run('BEGIN TRANSACTION');
      try {
        const state = await this.state(c, ref);
        if (state?.runs.includes(req.runId)) {
          await c.run('ROLLBACK');
          return { snapshotId: `${schema}.${ref.table}@${req.runId}`, alreadyCommitted: true };
        }
        const mode = req.mode;
        if (mode.kind === 'overwrite') await c.run(`DELETE FROM ${qualified}`);
        if (mode.kind === 'merge') {
          const key = ident(mode.keyColumn);
          if (req.files.length > 0) await c.run(`DELETE FROM ${qualified} WHERE ${key} IN (SELECT ${key} FROM read_parquet(${files}))`);
          for (let i = 0; i < (mode.deleteKeys ?? []).length; i += 1000) {
            await c.run(
              `DELETE FROM ${qualified} WHERE ${key} IN (${mode
                .deleteKeys!.slice(i, i + 1000)
                .map(literal)
                .join(', ')})`,
            );
          }
        }
        if (req.files.length > 0) await c.run(`INSERT INTO ${qualified} BY NAME SELECT * FROM read_parquet(${files})`);
        const cursor = req.properties[CURSOR_PROPERTY];
        await c.run(`UPDATE ${STATE_TABLE} SET cursor = coalesce($1, cursor), runs = $2, synced_at = now() WHERE schema_name = $3 AND table_name = $4`, [
          cursor ?? null,
          JSON.stringify([req.runId, ...(state?.runs ?? [])].slice(0, RUNS_KEPT)),
          schema,
          ref.table,
        ]);
        await c.run('COMMIT');
        // Nothing but the cursor moved (DuckDB has no snapshots to spare).
        return { snapshotId: `${schema}.${ref.table}@${req.runId}`, alreadyCommitted: false, ...(req.unchangedWithoutSnapshot && changesNoRow(req) ? { unchanged: true } : {}) };
      } catch (error) {
        await c.run('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  /** The Parquet files are only a way in here: once loaded (or not), none is kept. */
  async runFilesInUse(): Promise<Set<string>> {
    return new Set();
  }

  async liveKeys(ref: TableRef, keyColumn: string, each: (keys: string[]) => Promise<void>): Promise<void> {
    await this.withConnection(async (c) => {
      const result = await c.stream(`SELECT ${ident(keyColumn)} FROM ${await qualifiedName(c, DuckDbDestination.schemaOf(ref), ref.table)} WHERE ${ident(keyColumn)} IS NOT NULL`);
      for await (const rows of result.yieldRows()) await each(rows.map((r) => String(r[0])));
    });
  }

  async storedCursor(ref: TableRef): Promise<string | undefined> {
    return this.withConnection(async (c) => (await this.state(c, ref))?.cursor);
  }

  async liveRows(ref: TableRef): Promise<number | undefined> {
    return this.withConnection(async (c) => {
      const result = await c.run(`SELECT count(*) FROM ${await qualifiedName(c, DuckDbDestination.schemaOf(ref), ref.table)}`);
      return Number((await result.getRows())[0]![0]);
    });
  }

  async discardUnused(ref: TableRef, _runId: string, created: Created): Promise<boolean> {
    if (!created.table) return false;
    return this.withConnection(async (c) => {
      const state = await this.state(c, ref);
      if (!state || state.runs.length > 0) return false;
      await c.run(`DROP TABLE IF EXISTS ${await qualifiedName(c, DuckDbDestination.schemaOf(ref), ref.table)}`);
      await c.run(`DELETE FROM ${STATE_TABLE} WHERE schema_name = $1 AND table_name = $2`, [DuckDbDestination.schemaOf(ref), ref.table]);
      return true;
    });
  }
}

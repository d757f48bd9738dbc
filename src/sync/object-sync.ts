import type { LoadTableResult, RestCatalog } from '../iceberg/catalog';
import { columnName, type NamingConvention } from '../iceberg/schema-mapping';
import { commitFiles, type WriteMode } from '../iceberg/snapshot-producer';
import { loadTable, prepareTable, type IcebergTable } from '../iceberg/table';
import { DataFileWriter } from '../parquet/writer';
import type { SalesforceClient } from '../salesforce/client';
import { cursorField, describeObject, syncableFields } from '../salesforce/describe';
import type { SalesforceField } from '../salesforce/describe-types';
import { readObject, type ReadApi } from '../salesforce/reader';
import type { ObjectStore } from '../storage/object-store';
import { defaultMode, type WriteModeName } from './objects';
import { readStaging, writeStaging } from './staging';

/** Everything the steps need, built once per worker from its environment. */
export interface SyncContext {
  salesforce: SalesforceClient;
  catalog: RestCatalog;
  storeFor: (loaded: LoadTableResult) => ObjectStore;
  naming?: NamingConvention;
  /** The window's upper bound trails "now" by this much, so rows still being written are left for next time. */
  lagMs?: number;
  api?: ReadApi;
}

export const CURSOR_PROPERTY = 'salesforce.cursor';

export interface ObjectSyncInput {
  object: string;
  namespace: string[];
  runId: string;
  mode?: WriteModeName;
  /** Ignore the stored cursor and read everything. */
  full?: boolean;
}

/** The small, serialisable result of prepare: what extract and commit work from. */
export interface PreparedObject extends ObjectSyncInput {
  table: string;
  mode: WriteModeName;
  cursorField?: string;
  after?: string;
  upTo: string;
  idColumn: string;
}

export interface ExtractResult {
  staging: string;
  rows: number;
  files: number;
  bytes: number;
  deleted: number;
}

export interface CommitSummary {
  snapshotId: string;
  rows: number;
  deleted: number;
  alreadyCommitted: boolean;
  cursor?: string;
}

/**
 * A point an interrupted extraction can resume from: every file written up to `last` is closed and
 * listed (with its keys) in the staging manifest `staging`. Small enough for a heartbeat.
 */
export interface ExtractCheckpoint {
  staging: string;
  rows: number;
  files: number;
  last: { id: string; cursor?: string };
}

export interface ExtractProgress {
  rows: number;
  files: number;
  last?: { id: string; cursor?: string };
  checkpoint?: ExtractCheckpoint;
}

export interface ExtractOptions {
  progress?: (p: ExtractProgress) => void;
  /** Resume after this checkpoint (from the last heartbeat of a failed attempt). */
  resume?: ExtractCheckpoint;
  /** Least time between checkpoints (each closes the open data file). Default 60 s. */
  checkpointMs?: number;
  signal?: AbortSignal;
}

export const DEFAULT_CHECKPOINT_MS = 60_000;

async function openTable(ctx: SyncContext, p: PreparedObject): Promise<IcebergTable> {
  return loadTable({ catalog: ctx.catalog, namespace: p.namespace, name: p.table, storeFor: ctx.storeFor });
}

/** Describes the object, creates or evolves its table, and fixes the incremental window. */
export async function prepareObject(ctx: SyncContext, input: ObjectSyncInput): Promise<PreparedObject> {
  const naming = ctx.naming ?? 'snake_case';
  const describe = await describeObject(ctx.salesforce, input.object);
  const fields = syncableFields(describe);
  const table = columnName(describe.name, naming);
  const { table: t } = await prepareTable({ catalog: ctx.catalog, namespace: input.namespace, name: table, storeFor: ctx.storeFor, fields, naming });
  const mode = input.mode ?? defaultMode(describe.name);
  const cursor = cursorField(describe);
  const stored = t.currentSnapshot()?.summary?.[CURSOR_PROPERTY];
  return {
    ...input,
    object: describe.name,
    table,
    mode,
    cursorField: cursor,
    after: mode !== 'replace' && !input.full && stored ? stored : undefined,
    upTo: new Date(Date.now() - (ctx.lagMs ?? 60_000)).toISOString(),
    idColumn: columnName('Id', naming),
  };
}

/**
 * Reads the object's rows (and deleted Ids) into data files; returns where the staging manifest is.
 * Every `checkpointMs` the open file is closed and what was written so far is recorded, so a new
 * attempt given that checkpoint reads on from the row after it instead of starting again.
 */
export async function extractObject(ctx: SyncContext, p: PreparedObject, opts: ExtractOptions = {}): Promise<ExtractResult> {
  const naming = ctx.naming ?? 'snake_case';
  const table = await openTable(ctx, p);
  const describe = await describeObject(ctx.salesforce, p.object);
  const byColumn = new Map(syncableFields(describe).map((f) => [columnName(f.name, naming), f]));
  const columns = table.schema().fields;
  // Table columns Salesforce no longer has are read as nulls.
  const fields: (SalesforceField | undefined)[] = columns.map((c) => byColumn.get(c.name));
  const present = fields.filter((f): f is SalesforceField => f !== undefined);
  const at = fields.map((f) => (f ? present.indexOf(f) : -1));
  const idAt = present.findIndex((f) => f.name === 'Id');
  const writer = new DataFileWriter({ fields: columns, store: table.store, location: `${table.location}/data`, namePrefix: safeName(p.runId) });
  const window = p.cursorField && p.mode !== 'replace' ? { field: p.cursorField, after: p.after, upTo: p.upTo } : undefined;
  const earlier = opts.resume ? await readStaging(table.store, opts.resume.staging) : undefined;
  const keys: string[] = earlier ? [...earlier.keys] : [];
  const fileCount = () => (earlier?.files.length ?? 0) + writer.files.length;
  const allFiles = () => [...(earlier?.files ?? []), ...writer.files];
  let rows = opts.resume?.rows ?? 0;
  let checkpoint = opts.resume;
  let checkpointedAt = Date.now();
  const every = opts.checkpointMs ?? DEFAULT_CHECKPOINT_MS;
  for await (const page of readObject({ client: ctx.salesforce, describe, fields: present, window, resumeAfter: opts.resume?.last, api: ctx.api })) {
    opts.signal?.throwIfAborted();
    await writer.write(page.rows.map((r) => at.map((i) => (i < 0 ? null : r[i]))));
    for (const r of page.rows) keys.push(String(r[idAt]));
    rows += page.rows.length;
    if (page.last && Date.now() - checkpointedAt >= every) {
      await writer.flush();
      const staging = `${stagingPrefix(table, p)}.at-${rows}.json`;
      await writeStaging(table.store, staging, { runId: p.runId, files: allFiles(), keys, deletedKeys: [] });
      checkpoint = { staging, rows, files: fileCount(), last: page.last };
      checkpointedAt = Date.now();
    }
    opts.progress?.({ rows, files: fileCount(), last: page.last, checkpoint });
  }
  await writer.close();
  const deletedKeys: string[] = [];
  if (window?.after && p.mode === 'merge') {
    const idField = describe.fields.filter((f) => f.name === 'Id');
    for await (const page of readObject({ client: ctx.salesforce, describe, fields: idField, window, deletedOnly: true, api: 'rest' })) {
      for (const r of page.rows) deletedKeys.push(String(r[0]));
    }
  }
  const staging = `${stagingPrefix(table, p)}.json`;
  const files = allFiles();
  await writeStaging(table.store, staging, { runId: p.runId, files, keys, deletedKeys });
  opts.progress?.({ rows, files: files.length, checkpoint });
  const bytes = files.reduce((sum, f) => sum + Number(f.fileSizeInBytes), 0);
  return { staging, rows, files: files.length, bytes, deleted: deletedKeys.length };
}

/** Commits the staged files as one snapshot; the cursor goes into the same snapshot's summary. */
export async function commitObject(ctx: SyncContext, p: PreparedObject, staging: string): Promise<CommitSummary> {
  const table = await openTable(ctx, p);
  const staged = await readStaging(table.store, staging);
  const mode: WriteMode =
    p.mode === 'replace' ? { kind: 'overwrite' } : p.mode === 'append' ? { kind: 'append' } : { kind: 'merge', keyColumn: p.idColumn, keys: staged.keys, deleteKeys: staged.deletedKeys };
  const cursor = p.cursorField ? p.upTo : undefined;
  const result = await commitFiles({
    table,
    runId: p.runId,
    files: staged.files,
    mode,
    properties: { 'salesforce.object': p.object, ...(cursor ? { [CURSOR_PROPERTY]: cursor } : {}) },
  });
  return { snapshotId: result.snapshotId.toString(), rows: staged.keys.length, deleted: staged.deletedKeys.length, alreadyCommitted: result.alreadyCommitted, cursor };
}

/** Deletes this run's data files that no snapshot references, and its staging manifest. */
export async function cleanupObject(ctx: SyncContext, p: PreparedObject): Promise<number> {
  let table: IcebergTable;
  try {
    table = await openTable(ctx, p);
  } catch {
    return 0;
  }
  const entries = await table.liveEntries();
  const live = new Set([...entries.data, ...entries.deletes].map((e) => e.dataFile.filePath));
  const orphans: string[] = [];
  for await (const o of table.store.list(`${table.location}/data/${safeName(p.runId)}-`)) if (!live.has(o.uri)) orphans.push(o.uri);
  const dataFiles = orphans.length;
  await table.store.abortUnfinished?.(`${table.location}/data/${safeName(p.runId)}-`);
  // The final staging manifest and every checkpoint's.
  for await (const o of table.store.list(stagingPrefix(table, p))) orphans.push(o.uri);
  if (orphans.length > 0) await table.store.delete(orphans);
  return dataFiles;
}

function stagingPrefix(table: IcebergTable, p: PreparedObject): string {
  return `${table.location}/staging/${safeName(p.runId)}`;
}

/** A run id as a file-name prefix. */
function safeName(runId: string): string {
  return runId.replace(/[^A-Za-z0-9._-]+/g, '_');
}

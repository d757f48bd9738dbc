import type { LoadTableResult, Namespace, RestCatalog } from '../iceberg/catalog';
import { loadTable, type IcebergTable } from '../iceberg/table';
import type { ParquetEncoderPool } from '../parquet/encoder-pool';
import type { ObjectStore } from '../storage/object-store';
import { compactTable } from './compact';
import { expireSnapshots } from './expire';
import { removeOrphans } from './orphans';
import type { CompactionReport, ExpiryReport, MaintenanceReport, OrphanReport } from './report';

/*
 * Table maintenance, one step at a time (each an activity of the maintainTable workflow): compaction
 * with deletes applied and manifest rewrite, snapshot expiry, orphan removal, and the report kept on
 * the table. No Temporal here.
 */

export { describeReport } from './report';
export type { CompactionReport, ExpiryReport, MaintenanceReport, OrphanReport } from './report';

/** How maintenance treats a table (worker settings, overridable per workflow). */
export interface MaintenanceSettings {
  targetFileBytes: number;
  /** The current snapshot's manifests are rewritten into one or two when it has more than this many. */
  maxManifests: number;
  keepSnapshots: number;
  keepSnapshotAgeMs: number;
  /** Unreferenced files younger than this are never removed. */
  orphanAgeMs: number;
}

/** What one maintenance run changes of the worker's settings (the workflows' input). */
export interface MaintenanceOverrides {
  steps?: ('compact' | 'expire' | 'orphans')[];
  targetFileMb?: number;
  maxManifests?: number;
  keepSnapshots?: number;
  keepSnapshotHours?: number;
  orphanAgeHours?: number;
  waitForSyncsMinutes?: number;
}

/** The worker's settings with what a run's input changes. */
export function settingsWith(base: MaintenanceSettings, o: MaintenanceOverrides): MaintenanceSettings {
  const hours = (h: number | undefined, fallback: number) => (h === undefined ? fallback : h * 3_600_000);
  return {
    targetFileBytes: o.targetFileMb === undefined ? base.targetFileBytes : Math.round(o.targetFileMb * 1024 * 1024),
    maxManifests: o.maxManifests ?? base.maxManifests,
    keepSnapshots: o.keepSnapshots ?? base.keepSnapshots,
    keepSnapshotAgeMs: hours(o.keepSnapshotHours, base.keepSnapshotAgeMs),
    orphanAgeMs: hours(o.orphanAgeHours, base.orphanAgeMs),
  };
}

/**
 * The keys maintenance writes into a table. This layer knows no writer: whoever runs maintenance
 * names them (the product's are in src/table-contract.ts).
 */
export interface MaintenanceKeys {
  /** The summary key naming the maintenance run that committed a snapshot. */
  runId: string;
  /** The table property holding the last maintenance's report (JSON). */
  report: string;
}

export interface MaintenanceContext {
  keys: MaintenanceKeys;
  catalog: RestCatalog;
  storeFor: (loaded: LoadTableResult) => ObjectStore;
  encoders?: ParquetEncoderPool;
  /** Bounds of the partitioned and sorting writer (PARQUET_MAX_OPEN_PARTITIONS, PARQUET_SORT_BUFFER_MB). */
  layout?: { maxOpenPartitions: number; sortBufferBytes: number };
  log?: (message: string) => void;
}

export async function openTable(ctx: MaintenanceContext, namespace: Namespace, name: string): Promise<IcebergTable> {
  return loadTable({ catalog: ctx.catalog, namespace, name, storeFor: ctx.storeFor });
}

/**
 * Whether the catalog keeps a table's history in a commit log of its own, with only the current
 * snapshot in table metadata (Nessie says so in its config): expiry and orphan removal there are
 * the catalog's garbage collection's job.
 */
export async function historyInCatalog(catalog: RestCatalog): Promise<boolean> {
  await catalog.init();
  return catalog.properties['nessie.is-nessie-catalog'] === 'true';
}

export async function compact(
  ctx: MaintenanceContext,
  namespace: Namespace,
  name: string,
  opts: { runId: string; settings: MaintenanceSettings; signal?: AbortSignal },
): Promise<CompactionReport> {
  const table = await openTable(ctx, namespace, name);
  return compactTable(table, {
    runId: opts.runId,
    runIdKey: ctx.keys.runId,
    targetFileBytes: opts.settings.targetFileBytes,
    maxManifests: opts.settings.maxManifests,
    encoders: ctx.encoders,
    layout: ctx.layout,
    signal: opts.signal,
    log: ctx.log,
  });
}

export async function expire(ctx: MaintenanceContext, namespace: Namespace, name: string, settings: MaintenanceSettings): Promise<ExpiryReport> {
  const table = await openTable(ctx, namespace, name);
  return expireSnapshots(table, {
    keepLast: settings.keepSnapshots,
    keepAgeMs: settings.keepSnapshotAgeMs,
    now: Date.now(),
    historyInCatalog: await historyInCatalog(ctx.catalog),
  });
}

export async function removeOrphanFiles(ctx: MaintenanceContext, namespace: Namespace, name: string, settings: MaintenanceSettings): Promise<OrphanReport> {
  const table = await openTable(ctx, namespace, name);
  return removeOrphans(table, { olderThan: new Date(Date.now() - settings.orphanAgeMs), historyInCatalog: await historyInCatalog(ctx.catalog) });
}

/** Keeps the report on the table (a property; no snapshot), where `npm run tables` reads it. */
export async function recordReport(ctx: MaintenanceContext, namespace: Namespace, name: string, report: MaintenanceReport): Promise<void> {
  const table = await openTable(ctx, namespace, name);
  await table.commit([{ action: 'set-properties', updates: { [ctx.keys.report]: JSON.stringify(report) } }]);
}

/** The last maintenance report a table holds in its property `key`, if any. */
export function lastReport(properties: Record<string, string> | undefined, key: string): MaintenanceReport | undefined {
  try {
    const text = properties?.[key];
    return text ? (JSON.parse(text) as MaintenanceReport) : undefined;
  } catch {
    return undefined;
  }
}

import type { DataFile } from '../iceberg/spec';
import type { UsageCounts } from '../salesforce/budget';
import type { BulkJobRef, ResultPageSet } from '../salesforce/bulk-reader';
import type { FieldRange } from '../salesforce/soql';
import { KeyList, type StagedExtraction } from './staging';

/*
 * One object's extraction split into partitions that run as separate activities, on any worker:
 * each partition reads a run of the Bulk job's result pages. Planning and combining the partitions'
 * results are plain functions here; partitioned-extract.ts does the reading and writing.
 */

/**
 * A partition: `pages` consecutive result pages of the job, from a listing and an offset in it —
 * or, with `range`, the rows of a range of CreatedDate, read by a Bulk job of the partition's own
 * (`from` and `pages` unused).
 */
export interface PartitionRange {
  index: number;
  /** The `resultPages` listing the range starts in (undefined: the first) and how many of its links come before it. */
  from: { set?: string; skip: number };
  pages: number;
  range?: FieldRange;
  /** The range's Bulk job, created by the plan so Salesforce runs it while earlier partitions are read. */
  job?: BulkJobRef;
}

/** What a plan gives the workflow: small (a few hundred bytes per partition). */
export interface ExtractPlan {
  /** The Bulk job the partitions read (or the single extraction reads on from); none for a REST read. */
  job?: BulkJobRef;
  /** Empty: the object is extracted by one activity (small, REST, or a read partitions cannot serve). */
  partitions: PartitionRange[];
  /** Partitions of this object extracted at once (the worker's SYNC_PARTITIONS_IN_FLIGHT). */
  inFlight: number;
  /** Staging manifest of what the plan itself read: the deleted Ids, and the Salesforce usage of prepare and plan. */
  staging?: string;
  /** Result pages of the job, when counted. */
  pages?: number;
  /** Rows the plan counted (a plan in CreatedDate ranges). */
  rows?: number;
  /** Deleted Ids the plan read (partitioned objects only). */
  deleted?: number;
  /** What prepare and the plan spent of the org's Salesforce limits (the single extraction goes on from it). */
  usage?: UsageCounts;
  /** Why the object is not partitioned (shown in the logs). */
  reason?: string;
}

export interface PartitionSettings {
  /** An object whose Bulk job has at least this many result pages is extracted in partitions (0: never). */
  minPages: number;
  /** Result pages per partition (more when the job has so many pages that `maxPartitions` would be passed). */
  pagesPerPartition: number;
  /** Partitions of one object extracted at once. */
  inFlight: number;
  /** At most this many partitions per object (each adds a few events to the object's history). */
  maxPartitions?: number;
  /** Rows per CreatedDate range of a table partitioned by time of CreatedDate (0 or absent: never ranges). */
  sliceRows?: number;
}

/** The time transforms whose partitions a CreatedDate range can hold whole. */
export type TimeUnit = 'year' | 'month' | 'day' | 'hour';

/** The start (UTC) of the unit an instant falls in. */
export function unitStart(ms: number, unit: TimeUnit): number {
  const d = new Date(ms);
  switch (unit) {
    case 'year':
      return Date.UTC(d.getUTCFullYear(), 0, 1);
    case 'month':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    case 'day':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    case 'hour':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours());
  }
}

/** `k` units after a unit's start (calendar months and years, not fixed lengths). */
export function addUnits(start: number, unit: TimeUnit, k: number): number {
  const d = new Date(start);
  switch (unit) {
    case 'year':
      return Date.UTC(d.getUTCFullYear() + k, 0, 1);
    case 'month':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + k, 1);
    case 'day':
      return start + k * 86_400_000;
    case 'hour':
      return start + k * 3_600_000;
  }
}

/** Units from the one `first` falls in to the one `last` falls in, both counted. */
export function unitsSpanned(first: number, last: number, unit: TimeUnit): number {
  const a = unitStart(first, unit);
  const b = unitStart(last, unit);
  const d0 = new Date(a);
  const d1 = new Date(b);
  switch (unit) {
    case 'year':
      return d1.getUTCFullYear() - d0.getUTCFullYear() + 1;
    case 'month':
      return (d1.getUTCFullYear() - d0.getUTCFullYear()) * 12 + d1.getUTCMonth() - d0.getUTCMonth() + 1;
    case 'day':
      return Math.round((b - a) / 86_400_000) + 1;
    case 'hour':
      return Math.round((b - a) / 3_600_000) + 1;
  }
}

/**
 * Splits the rows of a field no update changes (CreatedDate), `rows` of them from `first` to
 * `last`, into about rows / `rowsPerPartition` ranges (at most `maxPartitions`), each a whole
 * number of the table's time partitions: every table partition is then written by one extraction
 * partition. Ranges are of equal width in time, not in rows. The first is open below and the last
 * above, so every row is in exactly one whatever was created since `first` and `last` were read.
 * Empty when fewer than two ranges would come out.
 */
export function planRanges(opts: { field: string; first: string; last: string; unit: TimeUnit; rows: number; rowsPerPartition: number; maxPartitions?: number }): PartitionRange[] {
  const first = Date.parse(opts.first);
  const last = Date.parse(opts.last);
  if (!(opts.rowsPerPartition > 0) || !Number.isFinite(first) || !Number.isFinite(last) || last < first) return [];
  const units = unitsSpanned(first, last, opts.unit);
  const wanted = Math.min(units, Math.max(1, opts.maxPartitions ?? DEFAULT_MAX_PARTITIONS), Math.ceil(opts.rows / opts.rowsPerPartition));
  if (wanted < 2) return [];
  const perRange = Math.ceil(units / wanted);
  const count = Math.ceil(units / perRange);
  if (count < 2) return [];
  const start = unitStart(first, opts.unit);
  const bound = (k: number) => new Date(addUnits(start, opts.unit, k * perRange)).toISOString();
  return Array.from({ length: count }, (_, k) => ({
    index: k,
    from: { skip: 0 },
    pages: 0,
    range: { field: opts.field, ...(k > 0 ? { from: bound(k) } : {}), ...(k < count - 1 ? { before: bound(k + 1) } : {}) },
  }));
}

export const DEFAULT_MAX_PARTITIONS = 200;

/**
 * Splits a job's result pages, as its listings count them, into ranges of `pagesPerPartition`
 * (widened so there are at most `maxPartitions`). Every page is in exactly one range, in order.
 */
export function planPartitions(sets: readonly ResultPageSet[], settings: Pick<PartitionSettings, 'pagesPerPartition' | 'maxPartitions'>): PartitionRange[] {
  const total = sets.reduce((n, s) => n + s.links, 0);
  if (total === 0) return [];
  const max = Math.max(1, settings.maxPartitions ?? DEFAULT_MAX_PARTITIONS);
  const size = Math.max(1, settings.pagesPerPartition, Math.ceil(total / max));
  const out: PartitionRange[] = [];
  let page = 0;
  for (const s of sets) {
    for (let skip = 0; skip < s.links; skip++, page++) {
      if (page % size !== 0) continue;
      out.push({ index: out.length, from: { ...(s.set !== undefined ? { set: s.set } : {}), skip }, pages: Math.min(size, total - page) });
    }
  }
  return out;
}

/** Whether a job of `pages` result pages (`complete`: all counted) is worth partitioning. */
export function partitionWorthIt(pages: number, settings: Pick<PartitionSettings, 'minPages' | 'pagesPerPartition'>): boolean {
  return settings.minPages > 0 && pages >= settings.minPages && pages > Math.max(1, settings.pagesPerPartition);
}

export function addUsage(a: UsageCounts | undefined, b: UsageCounts | undefined): UsageCounts | undefined {
  if (!a) return b;
  if (!b) return a;
  return { apiCalls: a.apiCalls + b.apiCalls, bulkJobs: a.bulkJobs + b.bulkJobs, resultBytes: a.resultBytes + b.resultBytes };
}

/**
 * The staging manifests of a partitioned extraction (the plan's, then each partition's) as one:
 * every data file, every merge key, the deleted Ids once each, the usage summed. A data file named
 * twice (never, unless a manifest was passed twice) is taken once, and so are its keys.
 */
export function combineStaged(parts: readonly StagedExtraction[]): StagedExtraction {
  if (parts.length === 1) return parts[0]!;
  const seen = new Set<string>();
  const kept = parts.filter((p) => {
    const paths = p.files.map((f) => f.filePath);
    if (paths.length > 0 && paths.every((x) => seen.has(x))) return false;
    for (const x of paths) seen.add(x);
    return true;
  });
  const files: DataFile[] = kept.flatMap((p) => p.files);
  const deletedKeys = [...new Set(kept.flatMap((p) => p.deletedKeys))];
  const reconciled = kept.some((p) => p.reconciled !== undefined) ? kept.reduce((n, p) => n + (p.reconciled ?? 0), 0) : undefined;
  const usage = kept.reduce<UsageCounts | undefined>((u, p) => addUsage(u, p.usage), undefined);
  // A range read through REST (Bulk refused) says so for the whole object; the plan's manifest read no rows.
  const readApi = kept.find((p) => p.readApi?.api === 'rest')?.readApi ?? kept.find((p) => p.readApi)?.readApi;
  return {
    runId: parts[0]!.runId,
    files,
    keyCount: kept.reduce((n, p) => n + p.keyCount, 0),
    async loadKeys() {
      const lists: Uint8Array[] = [];
      for (const p of kept) lists.push((await p.loadKeys()).bytes());
      return new KeyList(Buffer.concat(lists));
    },
    deletedKeys,
    ...(usage ? { usage } : {}),
    ...(reconciled !== undefined ? { reconciled } : {}),
    ...(readApi ? { readApi } : {}),
  };
}

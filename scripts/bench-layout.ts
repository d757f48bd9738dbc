/**
 * `npm run bench -- layout [--rows N] [--partition-by SPEC] [--month YYYY-MM] [--runs R]`: what a
 * partitioned table gains a reader. The simulator's Task object (N rows created over three years,
 * at instants unrelated to the Id, so an unpartitioned table's per-file bounds cannot prune by
 * themselves) is synced twice through Temporal, each time by a fresh worker process: into an
 * unpartitioned table, and into one partitioned by `month(CreatedDate)`. Then a one-month filter on
 * created_date: the data files pyiceberg plans for it (plan_files) of all the table's files, and the
 * seconds the same query takes on both tables (pyiceberg scan with the filter into Arrow, planning
 * included; the median of R runs; DuckDB's iceberg extension beside it). The sync's wall seconds
 * and the worker's peak RSS are reported for both tables. The last line is JSON.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { connectIceberg } from '../src/iceberg/connect';
import { loadTable } from '../src/iceberg/table';
import { compactTable } from '../src/maintenance/compact';
import { maintenanceArea } from '../src/maintenance/settings';
import { MAINTENANCE_RUN_PROPERTY } from '../src/table-contract';
import { salesforceEnv as E } from '../src/salesforce/settings';
import type { ObjectOutcome } from '../workflows';
import { temporalConnection } from '../worker/temporal-connection';
import { WorkerProcess } from './lib/worker-process';

export interface LayoutBenchOptions {
  rows: number;
  /** The partitioned table's spec, as the sync input writes it. */
  partitionBy: string[];
  /** The month the filter selects (YYYY-MM). */
  month: string;
  /** Reads per table and reader; the median is reported. */
  runs: number;
  keep: boolean;
  /** Compact both tables afterwards (as scheduled maintenance does) and measure again. */
  compact: boolean;
}

export interface LayoutBenchDeps {
  up: () => Promise<void>;
  settings: () => Record<string, string | undefined>;
  startSimulator: (rows: string) => Promise<{ url: string; stop: () => void }>;
  simUser: { username: string; password: string; securityToken: string };
}

const readersScript = path.join(__dirname, '..', 'test', 'readers', 'iceberg_readers.py');

/** One command of the independent readers (test/readers/iceberg_readers.py), its JSON answer. */
function readers<T>(env: Record<string, string | undefined>, args: string[]): Promise<T> {
  const python = env.READERS_PYTHON ?? 'python3';
  return new Promise((resolve, reject) => {
    const child = spawn(python, [readersScript, ...args], { env: { ...process.env, ...env } as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!) as T) : reject(new Error(`readers ${args.slice(0, 2).join(' ')} failed: ${err.trim().split('\n').at(-1)}`)),
    );
  });
}

interface Plan {
  planned: number;
  total: number;
  planned_records: number;
  total_records: number;
  specs: number[];
  planned_partitions: string[];
}
interface Scan {
  reader: string;
  rows: number;
  runs: number[];
  median_seconds: number;
}

/** The month's bounds as instants: [first day 00:00 UTC, first day of the next month). */
export function monthRange(month: string): { from: string; to: string } {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) throw new Error(`--month must be YYYY-MM (it is ${month})`);
  const start = Date.UTC(Number(m[1]), Number(m[2]) - 1, 1);
  const end = Date.UTC(Number(m[1]), Number(m[2]), 1);
  return { from: new Date(start).toISOString(), to: new Date(end).toISOString() };
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
const round = (x: number, digits = 3) => Number(x.toFixed(digits));

export async function benchLayout(opts: LayoutBenchOptions, deps: LayoutBenchDeps): Promise<Record<string, unknown>> {
  await deps.up();
  const settings = deps.settings();
  const { from, to } = monthRange(opts.month);
  const sim = await deps.startSimulator(`Task=${opts.rows}`);
  const U = deps.simUser;
  const sfEnv = { [E.domain]: sim.url, [E.userName]: U.username, [E.password]: U.password, [E.securityToken]: U.securityToken };
  const stamp = Date.now().toString(36);
  const temporal = temporalConnection(settings);
  const connection = await Connection.connect(temporal.options);
  const client = new Client({ connection, namespace: temporal.namespace });
  const { catalog, storeFor } = connectIceberg(settings);
  const variants = [
    { key: 'unpartitioned', namespace: `bench_layout_flat_${stamp}`, input: {} },
    { key: 'partitioned', namespace: `bench_layout_part_${stamp}`, input: { overrides: { Task: { partitionBy: opts.partitionBy } } } },
  ] as const;
  const syncs: Record<string, { wall: number; rows: number; peakRss: number }> = {};
  try {
    for (const v of variants) {
      // A worker of its own per table: its peak RSS is this sync's alone.
      const taskQueue = `bench-layout-${v.key}-${stamp}`;
      const worker = new WorkerProcess({ ...settings, ...sfEnv, SYNC_LAG_MS: '0', TEMPORAL_TASK_QUEUE: taskQueue } as Record<string, string>);
      try {
        await worker.ready();
        const started = performance.now();
        const [outcome] = (await client.workflow
          .execute('salesforceSync', { taskQueue, workflowId: `${taskQueue}-sync`, args: [{ objects: ['Task'], namespace: v.namespace, ...v.input }] })
          .catch((e: Error & { cause?: Error }) => {
            throw new Error(`the ${v.key} sync failed: ${e.cause?.message ?? e.message}`);
          })) as ObjectOutcome[];
        const wall = (performance.now() - started) / 1000;
        if (outcome?.status !== 'succeeded') throw new Error(`the ${v.key} sync failed: ${outcome?.error}`);
        syncs[v.key] = { wall, rows: outcome.result!.rows, peakRss: worker.peakRss() ?? 0 };
        console.log(
          `${v.key}: synced ${outcome.result!.rows} Task rows in ${wall.toFixed(1)} s (${Math.round(outcome.result!.rows / wall)} rows/s), worker peak RSS ${mb(syncs[v.key]!.peakRss)} MB`,
        );
      } finally {
        await worker.kill('SIGTERM');
      }
    }

    const filter = ['--column', 'created_date', '--from', from, '--to', to];
    const plans: Record<string, Plan> = {};
    const scans: Record<string, Record<string, Scan>> = { pyiceberg: {}, duckdb: {} };
    for (const v of variants) plans[v.key] = await readers<Plan>(settings, ['plan', v.namespace, 'task', ...filter]);
    // Both tables one after the other per reader, so a burst of load on the shared machine hits both.
    for (const reader of ['pyiceberg', 'duckdb'] as const)
      for (const v of variants) scans[reader]![v.key] = await readers<Scan>(settings, ['scan', '--reader', reader, v.namespace, 'task', ...filter, '--runs', String(opts.runs)]);
    const rowsIn = new Set(Object.values(scans).flatMap((byTable) => Object.values(byTable).map((s) => s.rows)));
    if (rowsIn.size !== 1) throw new Error(`the month's rows differ between tables or readers: ${JSON.stringify(scans)}`);
    const part = plans.partitioned!;
    const flat = plans.unpartitioned!;
    const py = scans.pyiceberg!;
    const duck = scans.duckdb!;
    const figures = {
      bench: 'layout',
      rows: opts.rows,
      object: 'Task',
      partition_by: opts.partitionBy,
      filter: { column: 'created_date', from, to },
      month_rows: [...rowsIn][0],
      files_planned: part.planned,
      files_total: part.total,
      files_planned_unpartitioned: flat.planned,
      files_total_unpartitioned: flat.total,
      planned_fraction: round(part.planned / part.total, 4),
      scan_reader: 'pyiceberg (scan with the filter, to_arrow; planning included)',
      scan_runs: opts.runs,
      scan_s_partitioned: py.partitioned!.median_seconds,
      scan_s_unpartitioned: py.unpartitioned!.median_seconds,
      scan_speedup: round(py.unpartitioned!.median_seconds / py.partitioned!.median_seconds, 1),
      duckdb_scan_s_partitioned: duck.partitioned!.median_seconds,
      duckdb_scan_s_unpartitioned: duck.unpartitioned!.median_seconds,
      duckdb_scan_speedup: round(duck.unpartitioned!.median_seconds / duck.partitioned!.median_seconds, 1),
      sync_s_partitioned: round(syncs.partitioned!.wall, 2),
      sync_s_unpartitioned: round(syncs.unpartitioned!.wall, 2),
      sync_rows_per_s_partitioned: Math.round(syncs.partitioned!.rows / syncs.partitioned!.wall),
      sync_rows_per_s_unpartitioned: Math.round(syncs.unpartitioned!.rows / syncs.unpartitioned!.wall),
      sync_peak_rss_mb_partitioned: mb(syncs.partitioned!.peakRss),
      sync_peak_rss_mb_unpartitioned: mb(syncs.unpartitioned!.peakRss),
      // The bars: at most 1/20 of the files planned, a scan at least 10x faster, and the
      // partitioned sync within 15 % of the unpartitioned one in time and memory.
      meets: {
        files_planned_at_most_a_twentieth: part.planned * 20 <= part.total,
        scan_at_least_10x_faster: py.unpartitioned!.median_seconds >= 10 * py.partitioned!.median_seconds,
        sync_time_within_15_percent: syncs.partitioned!.wall <= 1.15 * syncs.unpartitioned!.wall,
        sync_memory_within_15_percent: syncs.partitioned!.peakRss <= 1.15 * syncs.unpartitioned!.peakRss,
      },
      scans,
    };
    if (opts.compact) Object.assign(figures, await compacted());
    console.log(
      `A one-month filter (${opts.month}, ${figures.month_rows} rows): pyiceberg plans ${part.planned} of ${part.total} data files on the partitioned table (${flat.planned} of ${flat.total} on the unpartitioned one); scan ${figures.scan_s_partitioned} s partitioned vs ${figures.scan_s_unpartitioned} s unpartitioned (${figures.scan_speedup}x; DuckDB ${figures.duckdb_scan_speedup}x).`,
    );
    return figures;

    /** Both tables compacted as maintenance does (its default target file size), then planned and scanned again. */
    async function compacted(): Promise<Record<string, unknown>> {
      const target = maintenanceArea.parse(settings).MAINTENANCE_TARGET_FILE_MB * 1024 * 1024;
      const seconds: Record<string, number> = {};
      for (const v of variants) {
        const table = await loadTable({ catalog, namespace: [v.namespace], name: 'task', storeFor });
        const started = performance.now();
        const report = await compactTable(table, { runId: `bench-layout-compact-${v.key}-${stamp}`, runIdKey: MAINTENANCE_RUN_PROPERTY, targetFileBytes: target, maxManifests: 8 });
        seconds[v.key] = round((performance.now() - started) / 1000, 2);
        console.log(`${v.key}: compacted ${report.filesBefore} data files into ${report.filesAfter} in ${seconds[v.key]} s`);
      }
      const after: Record<string, Plan> = {};
      const scanned: Record<string, Scan> = {};
      for (const v of variants) after[v.key] = await readers<Plan>(settings, ['plan', v.namespace, 'task', ...filter]);
      for (const v of variants) scanned[v.key] = await readers<Scan>(settings, ['scan', '--reader', 'pyiceberg', v.namespace, 'task', ...filter, '--runs', String(opts.runs)]);
      if (new Set([...rowsIn, ...Object.values(scanned).map((s) => s.rows)]).size !== 1) throw new Error(`compaction changed the month's rows: ${JSON.stringify(scanned)}`);
      const [p, u] = [scanned.partitioned!.median_seconds, scanned.unpartitioned!.median_seconds];
      return {
        compacted: {
          compact_s_partitioned: seconds.partitioned,
          compact_s_unpartitioned: seconds.unpartitioned,
          files_planned: after.partitioned!.planned,
          files_total: after.partitioned!.total,
          files_total_unpartitioned: after.unpartitioned!.total,
          scan_s_partitioned: p,
          scan_s_unpartitioned: u,
          scan_speedup: round(u / p, 1),
          scan_at_least_10x_faster: u >= 10 * p,
        },
      };
    }
  } finally {
    sim.stop();
    await connection.close();
    if (!opts.keep)
      for (const v of variants) {
        await readers(settings, ['drop', v.namespace]).catch(() => undefined);
        await catalog.dropNamespace([v.namespace]).catch(() => undefined);
      }
  }
}

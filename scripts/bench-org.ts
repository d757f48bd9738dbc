/**
 * `npm run bench -- org [--objects 200] [--incrementals 3] [--workers 1,3]`: a sync of a whole
 * org of many objects, most of them small, as large Salesforce orgs are. The simulator makes an
 * org of N objects (its fixed ones and generated ones: see SimConfig.generatedObjects); one
 * salesforceSync over all of them syncs it once, then incrementally a few times, each after a few
 * changes to every object (updates, creates, now and then a delete: /__sim/touch). Once on one
 * worker and again, into a fresh namespace, on several workers polling one task queue.
 *
 * Per incremental sync: wall seconds, Bulk jobs created and API requests the sync made (the
 * simulator's counts), snapshots added, worker CPU seconds and peak RSS. From them, the daily cost
 * of an incremental sync every 15 minutes (96 a day) beside the org's daily limits. The last line
 * is JSON.
 */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { connectIceberg } from '../src/iceberg/connect';
import { SalesforceClient } from '../src/salesforce/client';
import { listObjects } from '../src/salesforce/describe';
import { parseSalesforceSettings, salesforceEnv as E } from '../src/salesforce/settings';
import { simObjects } from '../src/salesforce-sim/objects';
import { defaultWriteMode } from '../src/sync/objects';
import type { SimUsage } from '../src/salesforce-sim/types';
import type { ObjectOutcome } from '../workflows';
import { temporalConnection } from '../worker/temporal-connection';
import { WorkerProcess, cpuMeter } from './lib/worker-process';
import { startSimulatorProcess } from './lib/sim-process';

/**
 * The org's DailyApiRequests by default: Salesforce allocates an Enterprise Edition org 100,000
 * requests per 24 hours plus 1,000 per Salesforce licence ("API Request Limits and Allocations");
 * a 200-licence Enterprise org, a mid-sized org of a few hundred objects, has 300,000.
 */
export const DEFAULT_DAILY_API_REQUESTS = 100_000 + 200 * 1_000;
/** Incremental syncs a day at a 15-minute cadence. */
const SYNCS_PER_DAY = 96;

export interface OrgBenchOptions {
  /** Objects the sync reads: the simulator's fixed ones (those a whole-object read can read) and generated ones up to this many. */
  objects: number;
  incrementals: number;
  /** Worker processes of each run (one run per entry, each into its own namespace). */
  workers: number[];
  /** Objects synced at the same time per worker (the sync's `concurrency` is this times the workers). */
  concurrency: number;
  /** Changes before each incremental: rows updated and created in every object, rows deleted in every deleteEvery-th object. */
  updates: number;
  creates: number;
  deletes: number;
  deleteEvery: number;
  /** The generated objects' sizes, as `npm run sim` takes them ("min-max"). */
  objectFields: string;
  smallRows: string;
  largeObjects: number;
  largeRows: string;
  /** The org's DailyApiRequests Max. */
  dailyApiRequests: number;
  /**
   * merge: every object merged, as a team syncing an org every 15 minutes sets it up (a replace
   * object re-reads every row, through Bulk, on every sync); defaults: the product's per-object
   * defaults (User, Contact, Lead and a few others replaced).
   */
  writeMode: 'merge' | 'defaults';
  keep: boolean;
}

export interface OrgBenchDeps {
  up: () => Promise<void>;
  settings: () => Record<string, string | undefined>;
  simUser: { username: string; password: string; securityToken: string };
}

interface IncrementalFigures {
  wall_s: number;
  bulk_jobs: number;
  api_requests: number;
  /** The API requests by what they asked for (describe, count, bulk-poll, …): where each object's requests go. */
  api_requests_by_kind: Record<string, number>;
  snapshots_added: number;
  objects_unchanged: number;
  rows_read: number;
  rows_deleted: number;
  read_api: { bulk: number; rest: number };
  worker_cpu_s: number;
  worker_peak_rss_mb: number;
  /** Mean seconds per object and per activity (see activityTimes). */
  time_per_object?: Record<string, unknown>;
  /** The changes made in the org before it (incrementals only). */
  changes?: { updated: number; created: number; deleted: number };
}

const round = (x: number, digits = 2) => Number(x.toFixed(digits));
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Resets a process's peak RSS (VmHWM) to its current RSS (Linux: 5 written to /proc/<pid>/clear_refs),
 * so the next reading is the peak of what follows. False where the kernel does not allow it.
 */
function resetPeakRss(pid: number | undefined): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Seconds between two history event times (protobuf Timestamps). */
function between(from?: unknown, to?: unknown): number {
  const ms = (t: unknown) => {
    const ts = t as { seconds?: { toNumber?: () => number } | number; nanos?: number } | undefined;
    const s = typeof ts?.seconds === 'number' ? ts.seconds : (ts?.seconds?.toNumber?.() ?? 0);
    return s * 1000 + (ts?.nanos ?? 0) / 1e6;
  };
  return from && to ? (ms(to) - ms(from)) / 1000 : 0;
}

/**
 * Where the objects' time went: per activity type, how many ran, the mean seconds one ran
 * (started to completed) and waited for a worker slot (scheduled to started), over every object's
 * child workflow; and the mean seconds of one child from start to close.
 */
async function activityTimes(client: Client, workflowId: string, objects: string[]): Promise<Record<string, unknown>> {
  const byType: Record<string, { count: number; run: number; wait: number }> = {};
  let childSeconds = 0;
  for (const object of objects) {
    const events = (await client.workflow.getHandle(`${workflowId}/${object}`).fetchHistory()).events ?? [];
    childSeconds += between(events[0]?.eventTime, events.at(-1)?.eventTime);
    for (const e of events) {
      const done = e.activityTaskCompletedEventAttributes;
      if (!done) continue;
      const scheduled = events.find((x) => String(x.eventId) === String(done.scheduledEventId));
      const started = events.find((x) => String(x.eventId) === String(done.startedEventId));
      const type = scheduled?.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
      const t = (byType[type] ??= { count: 0, run: 0, wait: 0 });
      t.count++;
      t.run += between(started?.eventTime, e.eventTime);
      t.wait += between(scheduled?.eventTime, started?.eventTime);
    }
  }
  return {
    object_mean_s: round(childSeconds / Math.max(1, objects.length)),
    activities: Object.fromEntries(Object.entries(byType).map(([type, t]) => [type, { count: t.count, mean_run_s: round(t.run / t.count), mean_wait_s: round(t.wait / t.count) }])),
  };
}

async function simControl<T>(url: string, name: string, body?: unknown): Promise<T> {
  const r = await fetch(`${url}/__sim/${name}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
  if (!r.ok) throw new Error(`/__sim/${name}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

export async function benchOrg(opts: OrgBenchOptions, deps: OrgBenchDeps): Promise<Record<string, unknown>> {
  await deps.up();
  const settings = deps.settings();
  // Salesforce refuses any read of some objects that does not filter by Id (ContentDocumentLink):
  // no sync of a whole object can read them, so the bench leaves them out of the sync (and of N).
  const fixed = simObjects();
  const unreadable = fixed.filter((o) => o.requiresFilterOn).map((o) => o.name);
  const generated = Math.max(0, opts.objects - (fixed.length - unreadable.length));
  const simArgs = [
    '--generated-objects',
    String(generated),
    '--object-fields',
    opts.objectFields,
    '--small-rows',
    opts.smallRows,
    '--large-objects',
    String(opts.largeObjects),
    '--large-rows',
    opts.largeRows,
  ];
  const temporal = temporalConnection(settings);
  const connection = await Connection.connect(temporal.options);
  const client = new Client({ connection, namespace: temporal.namespace });
  const { catalog } = connectIceberg(settings);
  const runs: Record<string, unknown>[] = [];
  try {
    for (const workerCount of opts.workers) runs.push(await run(workerCount));
  } finally {
    await connection.close();
  }
  const first = runs[0] as { incrementals: IncrementalFigures[]; limits: { DailyApiRequests: number; DailyBulkV2QueryJobs: number } };
  const mean = (k: 'bulk_jobs' | 'api_requests') => first.incrementals.reduce((n, x) => n + x[k], 0) / first.incrementals.length;
  const oneWorker = (runs as { workers: number; incremental_mean: { wall_s: number } }[]).find((r) => r.workers === 1);
  const bulkPerDay = Math.round(mean('bulk_jobs') * SYNCS_PER_DAY);
  const apiPerDay = Math.round(mean('api_requests') * SYNCS_PER_DAY);
  const figures = {
    bench: 'org',
    objects: opts.objects,
    generated_objects: generated,
    left_out: unreadable,
    write_mode: opts.writeMode === 'merge' ? 'merge for every object (--write-mode merge)' : "the product's per-object defaults (--write-mode defaults)",
    sizes: { object_fields: opts.objectFields, small_rows: opts.smallRows, large_objects: opts.largeObjects, large_rows: opts.largeRows },
    changes_per_incremental: { updates_per_object: opts.updates, creates_per_object: opts.creates, deletes: `${opts.deletes} in every ${opts.deleteEvery}th object` },
    runs,
    // The daily cost at a 15-minute cadence, from the first run's incrementals (the workers do not change what is asked of Salesforce).
    projection: {
      cadence: '15 minutes (96 incremental syncs a day)',
      bulk_jobs_per_day: bulkPerDay,
      bulk_jobs_daily_limit: first.limits.DailyBulkV2QueryJobs,
      bulk_jobs_share_percent: round((100 * bulkPerDay) / first.limits.DailyBulkV2QueryJobs, 1),
      api_requests_per_day: apiPerDay,
      api_requests_daily_limit: first.limits.DailyApiRequests,
      api_requests_limit_basis: `Enterprise Edition: 100,000 + 1,000 per licence; ${opts.dailyApiRequests === DEFAULT_DAILY_API_REQUESTS ? '200 licences' : 'set by --daily-api-requests'}`,
      api_requests_share_percent: round((100 * apiPerDay) / first.limits.DailyApiRequests, 1),
    },
    targets: {
      incremental_under_60_s_on_one_worker: oneWorker ? oneWorker.incremental_mean.wall_s < 60 : null,
      bulk_jobs_under_10_percent_of_daily: (100 * bulkPerDay) / first.limits.DailyBulkV2QueryJobs < 10,
      api_requests_under_10_percent_of_daily: (100 * apiPerDay) / first.limits.DailyApiRequests < 10,
    },
  };
  if (oneWorker) console.log(`An incremental sync of ${opts.objects} objects on one worker: ${oneWorker.incremental_mean.wall_s} s on average (target under 60 s).`);
  console.log(
    `At one incremental sync of ${opts.objects} objects every 15 minutes: ${bulkPerDay} Bulk jobs a day (${figures.projection.bulk_jobs_share_percent}% of ${first.limits.DailyBulkV2QueryJobs}; target under 10%), ${apiPerDay} API requests a day (${figures.projection.api_requests_share_percent}% of ${first.limits.DailyApiRequests}; target under 10%).`,
  );
  return figures;

  /** One run: a fresh simulator and namespace, `workerCount` workers on one task queue, the initial sync and the incrementals. */
  async function run(workerCount: number): Promise<Record<string, unknown>> {
    const sim = await startSimulatorProcess(simArgs);
    const U = deps.simUser;
    const sfEnv = { [E.domain]: sim.url, [E.userName]: U.username, [E.password]: U.password, [E.securityToken]: U.securityToken };
    const stamp = Date.now().toString(36);
    const namespace = `bench_org_${workerCount}w_${stamp}`;
    const taskQueue = `bench-org-${workerCount}w-${stamp}`;
    const concurrency = Math.min(100, opts.concurrency * workerCount);
    const workers = Array.from(
      { length: workerCount },
      () => new WorkerProcess({ ...settings, ...sfEnv, SYNC_LAG_MS: '0', TEMPORAL_TASK_QUEUE: taskQueue } as Record<string, string>),
    );
    let syncedObjects: string[] = [];
    try {
      const limitsNow = await simControl<Record<string, { Max: number }>>(sim.url, 'limits', { DailyApiRequests: { Max: opts.dailyApiRequests } });
      const limits = { DailyApiRequests: limitsNow.DailyApiRequests!.Max, DailyBulkV2QueryJobs: limitsNow.DailyBulkV2QueryJobs!.Max };
      // The org's object list as a user finds it: describe global.
      const sf = new SalesforceClient(parseSalesforceSettings(sfEnv));
      syncedObjects = (await listObjects(sf)).map((o) => o.name).filter((name) => !unreadable.includes(name));
      await Promise.all(workers.map((w) => w.ready()));

      const replaced = syncedObjects.filter((o) => defaultWriteMode(o) === 'replace');
      const overrides = opts.writeMode === 'merge' && replaced.length > 0 ? Object.fromEntries(replaced.map((o) => [o, { writeMode: 'merge' as const }])) : undefined;
      const sync = async (label: string) => {
        const workflowId = `${taskQueue}-${label}`;
        const usageBefore = await simControl<SimUsage>(sim.url, 'usage');
        const cpuSince = cpuMeter(workers);
        const rssReset = workers.map((w) => resetPeakRss(w.child.pid)).every(Boolean);
        const started = performance.now();
        const outcomes = (await client.workflow
          .execute('salesforceSync', { taskQueue, workflowId, args: [{ objects: syncedObjects, namespace, concurrency, ...(overrides ? { overrides } : {}) }] })
          .catch((e: Error & { cause?: Error }) => {
            throw new Error(`the ${label} sync on ${workerCount} worker(s) failed: ${e.cause?.message ?? e.message}`);
          })) as ObjectOutcome[];
        const wall = (performance.now() - started) / 1000;
        const usageAfter = await simControl<SimUsage>(sim.url, 'usage');
        const failed = outcomes.filter((o) => o.status !== 'succeeded');
        if (failed.length) throw new Error(`the ${label} sync failed for ${failed.map((f) => `${f.object}: ${f.error}`).join('; ')}`);
        const results = outcomes.map((o) => o.result!);
        const figures: IncrementalFigures = {
          wall_s: round(wall),
          bulk_jobs: usageAfter.bulkJobs - usageBefore.bulkJobs,
          api_requests: usageAfter.apiRequests - usageBefore.apiRequests,
          api_requests_by_kind: Object.fromEntries(
            Object.entries(usageAfter.apiRequestsByKind ?? {})
              .map(([kind, n]) => [kind, n - (usageBefore.apiRequestsByKind?.[kind] ?? 0)] as const)
              .filter(([, n]) => n > 0),
          ),
          snapshots_added: results.filter((r) => !r.unchanged && !r.alreadyCommitted).length,
          objects_unchanged: results.filter((r) => r.unchanged).length,
          rows_read: results.reduce((n, r) => n + r.rows, 0),
          rows_deleted: results.reduce((n, r) => n + r.deleted, 0),
          read_api: { bulk: results.filter((r) => r.readApi?.api === 'bulk').length, rest: results.filter((r) => r.readApi?.api === 'rest').length },
          worker_cpu_s: round(cpuSince() ?? 0),
          // The largest worker's peak during this sync (since the process started where the kernel allows no reset).
          worker_peak_rss_mb: Math.max(...workers.map((w) => mb(w.peakRss() ?? 0))),
        };
        if (!rssReset) Object.assign(figures, { worker_peak_rss_since_start: true });
        // Read after the figures (it loads only the Temporal server, not the workers or the simulator).
        figures.time_per_object = await activityTimes(client, workflowId, syncedObjects);
        console.log(
          `${workerCount} worker(s), ${label}: ${syncedObjects.length} objects in ${figures.wall_s} s; ${figures.bulk_jobs} Bulk jobs, ${figures.api_requests} API requests, ${figures.snapshots_added} snapshots, ${figures.rows_read} rows read, ${figures.worker_cpu_s} worker CPU s, peak RSS ${figures.worker_peak_rss_mb} MB`,
        );
        return figures;
      };

      const initial = await sync('initial');
      const incrementals: IncrementalFigures[] = [];
      for (let i = 1; i <= opts.incrementals; i++) {
        const touched = await simControl<{ updated: number; created: number; deleted: number; lastStamp: string }>(sim.url, 'touch', {
          updates: opts.updates,
          creates: opts.creates,
          deletes: opts.deletes,
          deleteEvery: opts.deleteEvery,
          round: i,
          objects: syncedObjects,
        });
        // A sync reads up to "now": changes stamped later (a burst is stamped 1 ms apart, ahead of the clock) would wait for the next one.
        while (Date.now() <= Date.parse(touched.lastStamp) + 1000) await sleep(100);
        incrementals.push({ ...(await sync(`incremental-${i}`)), changes: { updated: touched.updated, created: touched.created, deleted: touched.deleted } });
      }
      const mean = (k: keyof IncrementalFigures) => round(incrementals.reduce((n, x) => n + (x[k] as number), 0) / incrementals.length);
      return {
        workers: workerCount,
        concurrency,
        objects_synced: syncedObjects.length,
        initial_wall_s: initial.wall_s,
        initial,
        incrementals,
        incremental_mean: { wall_s: mean('wall_s'), bulk_jobs: mean('bulk_jobs'), api_requests: mean('api_requests'), worker_cpu_s: mean('worker_cpu_s') },
        limits,
      };
    } finally {
      await Promise.all(workers.map((w) => w.kill('SIGTERM')));
      sim.stop();
      if (!opts.keep) await dropNamespace(namespace);
    }
  }

  /** Drops the run's tables and namespace (every table the catalog lists in it). */
  async function dropNamespace(namespace: string): Promise<void> {
    const tables = await catalog.listTables([namespace]).catch(() => [] as string[]);
    for (const name of tables) await catalog.dropTable([namespace], name, true).catch(() => undefined);
    await catalog.dropNamespace([namespace]).catch(() => undefined);
  }
}

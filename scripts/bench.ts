/**
 * `npm run bench [-- --rows N --objects Account,Contact --mix-rows M]`: a real sync end to end
 * (see benchSync), then a smaller one over the default objects; the last line is one JSON object.
 *
 * `npm run bench -- sink [--rows N] [--target-mb M]`: writes N Account-shaped rows (60 columns:
 * strings, doubles, currency, datetimes, dates, booleans, an int) through the Iceberg sink into
 * the local stack as ONE snapshot, and prints its figures, the last line as JSON. Rows are
 * generated as they are written, so memory reflects the sink, not the generator.
 *
 * `npm run bench -- layout [--rows N]`: the Task object synced into an unpartitioned and a
 * month(CreatedDate)-partitioned table, and a one-month filter planned and scanned on both (see
 * bench-layout.ts); the last line is JSON.
 */
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { readBulk } from '../src/salesforce/bulk-reader';
import { SalesforceClient } from '../src/salesforce/client';
import { describeObject, syncableFields } from '../src/salesforce/describe';
import { parseSalesforceSettings, salesforceEnv as E } from '../src/salesforce/settings';
import { buildSoql } from '../src/salesforce/soql';
import { planSchema } from '../src/mapping/schema-mapping';
import { DEFAULT_ROW_GROUP_BYTES, RowBuffer } from '../src/parquet/writer';
import { SIM_DEFAULTS, type SimStats } from '../src/salesforce-sim/server';
import { salesforceId } from '../src/salesforce-sim/ids';
import { loadSettings } from '../src/config/env-file';
import { connectIceberg } from '../src/iceberg/connect';
import { runPaths } from '../src/iceberg/run-paths';
import { commitFiles } from '../src/iceberg/snapshot-producer';
import { prepareTable } from '../src/destinations/iceberg';
import { DataFileWriter } from '../src/parquet/writer';
import type { SalesforceField } from '../src/salesforce/describe-types';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { columnName } from '../src/mapping/schema-mapping';
import { loadTable } from '../src/iceberg/table';
import type { ExtractResult } from '../src/sync/types';
import { DEFAULT_OBJECTS } from '../src/sync/objects';
import type { ObjectOutcome } from '../workflows';
import { WorkerProcess, cpuMeter } from './lib/worker-process';
import { startSimulatorProcess } from './lib/sim-process';
import { lastCatalog, up } from './stack/index';
import { temporalConnection } from '../worker/temporal-connection';
import { benchMaintenance } from './bench-maintenance';
import { benchLayout } from './bench-layout';
import { DEFAULT_DAILY_API_REQUESTS, benchOrg } from './bench-org';
import { PIPELINES, type PipelineKey, benchCompare } from './bench-compare';
import { perMillionRows } from './compare/summary';
import { SYNC_RUNS_PROPERTY, SYNC_RUN_KEYS } from '../src/table-contract';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function accountShape(): SalesforceField[] {
  const fields: SalesforceField[] = [{ name: 'Id', type: 'id' }];
  for (let i = 0; i < 35; i++) fields.push({ name: `Text${i}__c`, type: i % 5 === 0 ? 'picklist' : 'string' });
  for (let i = 0; i < 10; i++) fields.push({ name: `Number${i}__c`, type: 'double' });
  for (let i = 0; i < 4; i++) fields.push({ name: `Amount${i}__c`, type: 'currency', precision: 18, scale: 2 });
  for (let i = 0; i < 5; i++) fields.push({ name: `When${i}__c`, type: 'datetime' });
  for (let i = 0; i < 2; i++) fields.push({ name: `Day${i}__c`, type: 'date' });
  for (let i = 0; i < 2; i++) fields.push({ name: `Flag${i}__c`, type: 'boolean' });
  fields.push({ name: 'Employees__c', type: 'int' });
  return fields;
}

const picklist = ['Prospect', 'Customer - Direct', 'Customer - Channel', 'Partner', 'Other'];

/** Deterministic rows 0..count-1, values in column order, in the forms the column builders take. */
function rows(count: number, columns: number): Generator<unknown[]> {
  return rowsOf(
    {
      [Symbol.iterator]: function* () {
        for (let i = 0; i < count; i++) yield i;
      },
    },
    columns,
    0,
  );
}

/** Deterministic rows of the numbers given; a later version `v` of a row changes its text. */
function* rowsOf(numbers: Iterable<number>, columns: number, v: number): Generator<unknown[]> {
  const base = Date.UTC(2024, 0, 1) * 1000;
  for (const i of numbers) {
    const row = new Array<unknown>(columns);
    let c = 0;
    row[c++] = `001${i.toString(36).padStart(15, '0')}`;
    for (let k = 0; k < 35; k++) row[c++] = k % 5 === 0 ? picklist[(i + k) % 5] : (i + k) % 11 === 0 ? null : `Value ${k} of account ${i}${v ? ` v${v}` : ''}`;
    for (let k = 0; k < 10; k++) row[c++] = (i * (k + 1)) / 7;
    for (let k = 0; k < 4; k++) row[c++] = BigInt(i * 100 + k); // unscaled cents
    for (let k = 0; k < 5; k++) row[c++] = base + i * 1_000_000 + k;
    for (let k = 0; k < 2; k++) row[c++] = 19000 + ((i + k) % 1000);
    for (let k = 0; k < 2; k++) row[c++] = (i + k) % 2 === 0;
    row[c++] = i % 100_000;
    yield row;
  }
}

async function benchSink(opts: { rows: number; targetMb: number; rowGroupMb: number; keep: boolean }) {
  const settings = loadSettings();
  const { catalog, storeFor } = connectIceberg(settings);
  const namespace = ['bench'];
  const name = `account_${Date.now().toString(36)}`;
  const fields = accountShape();
  const runId = `bench-${name}`;
  const { table } = await prepareTable({ catalog, namespace, name, storeFor, fields, naming: 'snake_case', runId });
  const schemaFields = table.schema().fields;
  const writer = new DataFileWriter({
    fields: schemaFields,
    store: table.store,
    location: runPaths(table.location, runId).dataFolder,
    namePrefix: runPaths(table.location, runId).segment,
    targetFileBytes: opts.targetMb * 1024 * 1024,
    rowGroupBytes: opts.rowGroupMb * 1024 * 1024,
  });
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const started = performance.now();
  await writer.write(rows(opts.rows, schemaFields.length));
  const files = await writer.close();
  const written = performance.now();
  const result = await commitFiles({ keys: SYNC_RUN_KEYS, table, runId, files, mode: { kind: 'append' } });
  const done = performance.now();
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);

  const seconds = (done - started) / 1000;
  const figures = {
    bench: 'sink',
    rows: opts.rows,
    columns: schemaFields.length,
    wall_s: Number(seconds.toFixed(2)),
    rows_per_s: Math.round(opts.rows / seconds),
    // Encoding and uploading overlap (parts go up while later row groups encode): one figure.
    build_encode_upload_s: Number(((written - started) / 1000).toFixed(2)),
    commit_s: Number(((done - written) / 1000).toFixed(2)),
    files: files.length,
    parquet_bytes: writer.bytesWritten,
    mean_file_mb: Number((writer.bytesWritten / files.length / 1024 / 1024).toFixed(1)),
    target_file_mb: opts.targetMb,
    row_group_mb: opts.rowGroupMb,
    snapshots_created: result.alreadyCommitted ? 0 : 1,
    total_records: Number(result.summary['total-records']),
    peak_rss_mb: Math.round(peakRss / 1024 / 1024),
  };
  console.log(
    `Wrote ${opts.rows} rows × ${schemaFields.length} columns into ${table.identifier}: ${files.length} files, ${(writer.bytesWritten / 1e6).toFixed(1)} MB, one snapshot.`,
  );
  if (!opts.keep) await catalog.dropTable(namespace, name, true).catch(() => undefined);
  if (!opts.keep) await table.store.delete(files.map((f) => f.filePath)).catch(() => undefined);
  console.log(JSON.stringify(figures));
}

/** The simulator with `rows` per object, in its own process. */
async function startSimulator(rows: string): Promise<{ url: string; stop: () => void }> {
  return startSimulatorProcess(['--rows', rows]);
}

/** A Bulk query job of `soql`, once the simulator has completed it. */
async function completedJob(client: SalesforceClient, soql: string): Promise<{ id: string }> {
  const job = (await (await client.request('POST', '/jobs/query', { 'content-type': 'application/json' }, JSON.stringify({ operation: 'query', query: soql }))).json()) as {
    id: string;
  };
  while ((await client.get<{ state: string }>(`/jobs/query/${job.id}`)).state !== 'JobComplete') await new Promise((r) => setTimeout(r, 50));
  return job;
}

/** The simulator serving a Bulk job alone: CSV pages fetched and dropped, nothing parsed. */
async function measureServing(client: SalesforceClient, soql: string, pageRecords: number): Promise<{ served: number; servedBytes: number; serveSeconds: number }> {
  const t = performance.now();
  const job = await completedJob(client, soql);
  let locator: string | null = null;
  let served = 0;
  let servedBytes = 0;
  do {
    const q = new URLSearchParams({ maxRecords: String(pageRecords), ...(locator ? { locator } : {}) });
    const response = await client.request('GET', `/jobs/query/${job.id}/results?${q}`);
    servedBytes += (await response.arrayBuffer()).byteLength;
    served += Number(response.headers.get('sforce-numberofrecords'));
    locator = response.headers.get('sforce-locator');
  } while (locator && locator !== 'null');
  await client.request('DELETE', `/jobs/query/${job.id}`).catch(() => undefined);
  return { served, servedBytes, serveSeconds: (performance.now() - t) / 1000 };
}

/**
 * The simulator serving a Bulk job's parallel result pages (`resultPages`, as the sync reads them)
 * `inFlight` at once: CSV fetched and dropped, nothing parsed.
 */
async function measureParallelServing(
  client: SalesforceClient,
  soql: string,
  inFlight: number,
): Promise<{ served: number; servedBytes: number; serveSeconds: number; jobSeconds: number }> {
  const t = performance.now();
  const job = await completedJob(client, soql);
  const jobSeconds = (performance.now() - t) / 1000;
  const urls: string[] = [];
  for (let set: string | undefined = `/jobs/query/${job.id}/resultPages`; set; ) {
    const listing: { resultPages: { resultUrl?: string; resultLink?: string }[]; done?: boolean; nextRecordsUrl?: string | null } = await client.get(set);
    for (const p of listing.resultPages) if (p.resultUrl ?? p.resultLink) urls.push((p.resultUrl ?? p.resultLink)!);
    set = listing.done || !listing.nextRecordsUrl ? undefined : listing.nextRecordsUrl;
  }
  let served = 0;
  let servedBytes = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let url = urls.shift(); url; url = urls.shift()) {
        const response = await client.request('GET', url, { accept: 'text/csv' });
        servedBytes += (await response.arrayBuffer()).byteLength;
        served += Number(response.headers.get('sforce-numberofrecords'));
      }
    }),
  );
  await client.request('DELETE', `/jobs/query/${job.id}`).catch(() => undefined);
  return { served, servedBytes, serveSeconds: (performance.now() - t) / 1000, jobSeconds };
}

/** Result pages the cached serving rate is measured with at once (what several partitions download). */
const CACHED_SERVING_IN_FLIGHT = 4;

/** The simulator's parallel result page size (its resultPageRecords default): what the sync downloads. */
const SIM_RESULT_PAGE_RECORDS = 10_000;

/** Per-page latency of the source-rate runs: a model of Salesforce preparing each results page. */
const RESULT_LATENCY_MS = 250;
const SOURCE_RATE_ROWS = 200_000;

/**
 * The Bulk reader's delivery rate (download + CSV scan, no writing) with 1 and with 4 result
 * pages in flight, over the same job query, while each page takes RESULT_LATENCY_MS to start:
 * the simulator generates rows on this machine's cores, so without that latency it could not
 * show what serving pages in parallel (as Salesforce does) gains.
 */
async function measureSourceRates(simUrl: string, client: SalesforceClient, soql: string, fields: SalesforceField[]): Promise<Record<string, number>> {
  const control = (path: string, body: unknown) => fetch(`${simUrl}/__sim/${path}`, { method: 'POST', body: JSON.stringify(body) });
  await control('result-latency', { ms: RESULT_LATENCY_MS });
  const rates: Record<string, number> = {};
  try {
    for (const inFlight of [1, 4]) {
      await control('reset-stats', {});
      const t = performance.now();
      let read = 0;
      for await (const page of readBulk({ client, soql, fields, pagesInFlight: inFlight, pollMs: 50 })) {
        read += page.csv.length;
        if (read >= SOURCE_RATE_ROWS) break;
      }
      rates[`pages_in_flight_${inFlight}`] = Math.round(read / ((performance.now() - t) / 1000));
      // What the simulator saw: pages it was serving at the same moment.
      rates[`served_at_once_${inFlight}`] = (await simStats(simUrl)).maxResultsInFlight;
    }
  } finally {
    await control('result-latency', { ms: 0 });
  }
  return { ...rates, result_latency_ms: RESULT_LATENCY_MS, rows: SOURCE_RATE_ROWS };
}

async function simStats(simUrl: string): Promise<SimStats> {
  return (await (await fetch(`${simUrl}/__sim/stats`)).json()) as SimStats;
}

async function benchSource(opts: { rows: number; pageRecords: number }) {
  const sim = await startSimulator(`Account=${opts.rows}`);
  try {
    const U = SIM_DEFAULTS.user;
    const client = new SalesforceClient(parseSalesforceSettings({ [E.domain]: sim.url, [E.userName]: U.username, [E.password]: U.password, [E.securityToken]: U.securityToken }));
    const d = await describeObject(client, 'Account');
    const fields = syncableFields(d);
    const soql = buildSoql(
      d,
      fields.map((f) => f.name),
      { window: { field: 'SystemModstamp' }, ordered: false },
    );

    // 1. The simulator serving alone: a Bulk job's CSV pages fetched and dropped, nothing parsed.
    const { served, servedBytes, serveSeconds } = await measureServing(client, soql, opts.pageRecords);
    let t: number;

    // 2. The Bulk reader: CSV parsed, values normalised, rows appended to Arrow column builders.
    const schema = planSchema(fields, { naming: 'snake_case' }).schema;
    let peakRss = 0;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
    t = performance.now();
    const cpuBefore = process.cpuUsage();
    let read = 0;
    let batch = new RowBuffer(schema.fields);
    const all = fields.map((_, i) => i);
    for await (const page of readBulk({ client, soql, fields, maxRecords: opts.pageRecords, pollMs: 50 })) {
      page.csv.columns(all).appendTo(batch.builders, 0, page.csv.length);
      read += page.csv.length;
      if (batch.length >= 50_000) {
        batch.toRecordBatch();
        batch = new RowBuffer(schema.fields);
      }
    }
    const readSeconds = (performance.now() - t) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const readerCpuSeconds = (cpu.user + cpu.system) / 1e6;
    clearInterval(sampler);
    const figures = {
      bench: 'source',
      rows: opts.rows,
      columns: fields.length,
      simulator_serving_rows_per_s: Math.round(served / serveSeconds),
      simulator_serving_mb: Number((servedBytes / 1e6).toFixed(1)),
      bulk_reader_rows_per_s: Math.round(read / readSeconds),
      bulk_reader_s: Number(readSeconds.toFixed(2)),
      // The reader's own cost: rows per CPU-second of this process (the wall time above includes
      // waiting for the simulator, which generates every row on the same two cores).
      bulk_reader_rows_per_cpu_s: Math.round(read / readerCpuSeconds),
      rows_read: read,
      reader_peak_rss_mb: Math.round(peakRss / 1024 / 1024),
    };
    console.log(`Read ${read} Account rows × ${fields.length} fields through Bulk API 2.0 from the simulator.`);
    console.log(JSON.stringify(figures));
  } finally {
    sim.stop();
  }
}

/** Events of a history, and its largest payload (inputs, results, failures) in bytes. */
function historyFigures(history: { events?: unknown[] | null }): { events: number; largestPayload: number } {
  let largest = 0;
  const visit = (v: unknown): void => {
    if (!v || typeof v !== 'object') return;
    if (v instanceof Uint8Array) return;
    const o = v as Record<string, unknown>;
    if (o.data instanceof Uint8Array && 'metadata' in o) {
      const meta = Object.values((o.metadata ?? {}) as Record<string, Uint8Array>).reduce((n, m) => n + m.length, 0);
      largest = Math.max(largest, o.data.length + meta);
      return;
    }
    for (const x of Object.values(o)) visit(x);
  };
  for (const e of history.events ?? []) visit(e);
  return { events: history.events?.length ?? 0, largestPayload: largest };
}

const seconds = (from?: unknown, to?: unknown) => {
  const ms = (t: unknown) => {
    const ts = t as { seconds?: { toNumber?: () => number } | number; nanos?: number } | undefined;
    const s = typeof ts?.seconds === 'number' ? ts.seconds : (ts?.seconds?.toNumber?.() ?? 0);
    return s * 1000 + (ts?.nanos ?? 0) / 1e6;
  };
  return (ms(to) - ms(from)) / 1000;
};

/** Encoder-thread counts the ceiling runs compare (PARQUET_ENCODER_THREADS); the default's figure is the ceiling. */
const CEILING_ENCODER_THREADS = [0, 1, 2];
const DEFAULT_ENCODER_THREADS = 1;
/**
 * Runs per encoder-thread count; the faster counts. A ceiling run is ~10 s on two shared cores, and
 * one stall of another process (MinIO, Temporal, the simulator) moved a single run by 30 %: noise
 * only ever slows a run down, so the faster of two is the closer figure (both are reported).
 */
const CEILING_RUNS = 2;

/**
 * The pipeline's own ceiling: the simulator's page cache on, every results page rendered once by
 * a first pass (its rate is the ordinary serving rate at the sync's page size), the cached serving
 * rate measured, then the same sync by a fresh worker per encoder-thread count into a namespace of
 * its own, with the source no longer the bottleneck.
 */
async function measureCeiling(opts: {
  simUrl: string;
  sf: SalesforceClient;
  soql: string;
  client: Client;
  objects: string[];
  env: Record<string, string>;
  catalog: ReturnType<typeof connectIceberg>['catalog'];
}) {
  const control = (path: string, body: unknown) => fetch(`${opts.simUrl}/__sim/${path}`, { method: 'POST', body: JSON.stringify(body) });
  await control('page-cache', { on: true });
  try {
    // The sync reads parallel result pages of the simulator's default size: render exactly those.
    const render = await measureServing(opts.sf, opts.soql, SIM_RESULT_PAGE_RECORDS);
    const cached = await measureServing(opts.sf, opts.soql, SIM_RESULT_PAGE_RECORDS);
    const cachedParallel = await measureParallelServing(opts.sf, opts.soql, CACHED_SERVING_IN_FLIGHT);
    const runs = new Map<number, { rows_per_s: number; wall_s: number; worker_peak_rss_mb: number; worker_cpu_s_per_million_rows: number | null }[]>(
      CEILING_ENCODER_THREADS.map((n) => [n, []]),
    );
    for (let run = 0; run < CEILING_RUNS; run++)
      for (const threads of CEILING_ENCODER_THREADS) {
        const taskQueue = `bench-ceiling-${threads}-${Date.now().toString(36)}`;
        const namespace = `bench_ceiling_${threads}_${Date.now().toString(36)}`;
        const worker = new WorkerProcess({ ...opts.env, TEMPORAL_TASK_QUEUE: taskQueue, PARQUET_ENCODER_THREADS: String(threads) });
        try {
          await worker.ready();
          const cpuSince = cpuMeter([worker]);
          const started = performance.now();
          const outcomes = (await opts.client.workflow.execute('salesforceSync', {
            taskQueue,
            workflowId: `${taskQueue}-sync`,
            args: [{ objects: opts.objects, namespace }],
          })) as ObjectOutcome[];
          const wall = (performance.now() - started) / 1000;
          const cpu = cpuSince();
          const failed = outcomes.filter((o) => o.status === 'failed');
          if (failed.length) throw new Error(`the ceiling sync failed: ${failed.map((f) => `${f.object}: ${f.error}`).join('; ')}`);
          const rows = outcomes.reduce((n, o) => n + (o.result?.rows ?? 0), 0);
          runs.get(threads)!.push({
            rows_per_s: Math.round(rows / wall),
            wall_s: Number(wall.toFixed(2)),
            worker_peak_rss_mb: Math.round((worker.peakRss() ?? 0) / 1024 / 1024),
            worker_cpu_s_per_million_rows: perMillionRows(cpu, rows),
          });
        } finally {
          await worker.kill('SIGTERM');
          for (const o of opts.objects) await opts.catalog.dropTable([namespace], columnName(o, 'snake_case'), true).catch(() => undefined);
          await opts.catalog.dropNamespace([namespace]).catch(() => undefined);
        }
      }
    // Each count's faster run, with both runs' speeds and the higher peak.
    const byThreads = Object.fromEntries(
      [...runs].map(([threads, r]) => [
        `encoder_threads_${threads}`,
        {
          ...r.reduce((a, b) => (b.rows_per_s > a.rows_per_s ? b : a)),
          worker_peak_rss_mb: Math.max(...r.map((x) => x.worker_peak_rss_mb)),
          runs_rows_per_s: r.map((x) => x.rows_per_s),
        },
      ]),
    );
    const multiWorker = await measureMultiWorker(opts, MULTI_WORKERS);
    const hits = (await (await fetch(`${opts.simUrl}/__sim/page-cache-stats`)).json()) as { hits: number };
    return {
      rows_per_s: byThreads[`encoder_threads_${DEFAULT_ENCODER_THREADS}`]!.rows_per_s,
      worker_cpu_s_per_million_rows: byThreads[`encoder_threads_${DEFAULT_ENCODER_THREADS}`]!.worker_cpu_s_per_million_rows,
      simulator_rendering_rows_per_s: Math.round(render.served / render.serveSeconds),
      simulator_cached_serving_rows_per_s: Math.round(cached.served / cached.serveSeconds),
      // The same pages as the sync reads them: parallel result pages, several at once.
      simulator_cached_serving_parallel_rows_per_s: Math.round(cachedParallel.served / cachedParallel.serveSeconds),
      // The job's creation and polls (its rows selected, as Salesforce does before the first page)
      // are in the rates above; the pages alone, from the first result request to the last:
      simulator_cached_job_s: Number(cachedParallel.jobSeconds.toFixed(2)),
      simulator_cached_pages_parallel_rows_per_s: Math.round(cachedParallel.served / (cachedParallel.serveSeconds - cachedParallel.jobSeconds)),
      simulator_cached_serving_parallel_pages_in_flight: CACHED_SERVING_IN_FLIGHT,
      cached_pages_served: hits.hits,
      by_encoder_threads: byThreads,
      multi_worker: multiWorker,
    };
  } finally {
    await control('page-cache', { on: false });
  }
}

/** Worker processes of the multi-worker run (one task queue; the object is split into partitions). */
const MULTI_WORKERS = 3;

/**
 * The same sync with `workers` worker processes polling one task queue, pages pre-rendered:
 * rows/s, and which activities each worker ran (from the child's history: who started each).
 */
async function measureMultiWorker(
  opts: { client: Client; objects: string[]; env: Record<string, string>; catalog: ReturnType<typeof connectIceberg>['catalog'] },
  workers: number,
): Promise<{ workers: number; rows_per_s: number; wall_s: number; activities_per_worker: Record<string, Record<string, number>>; worker_peak_rss_mb: number[] }> {
  const taskQueue = `bench-multi-${Date.now().toString(36)}`;
  const namespace = `bench_multi_${Date.now().toString(36)}`;
  const procs = Array.from({ length: workers }, () => new WorkerProcess({ ...opts.env, TEMPORAL_TASK_QUEUE: taskQueue }));
  try {
    await Promise.all(procs.map((w) => w.ready()));
    const workflowId = `${taskQueue}-sync`;
    const started = performance.now();
    const outcomes = (await opts.client.workflow.execute('salesforceSync', { taskQueue, workflowId, args: [{ objects: opts.objects, namespace }] })) as ObjectOutcome[];
    const wall = (performance.now() - started) / 1000;
    const rows = outcomes.reduce((n, o) => n + (o.result?.rows ?? 0), 0);
    const pids = new Map(procs.map((w, i) => [String(w.child.pid), `worker_${i + 1}`]));
    const perWorker: Record<string, Record<string, number>> = {};
    for (const o of opts.objects) {
      const history = await opts.client.workflow.getHandle(`${workflowId}/${o}`).fetchHistory();
      const events = history.events ?? [];
      for (const e of events) {
        const a = e.activityTaskStartedEventAttributes;
        if (!a) continue;
        const type = events.find((x) => String(x.eventId) === String(a.scheduledEventId))?.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
        const worker = pids.get(/^(\d+)@/.exec(a.identity ?? '')?.[1] ?? '') ?? a.identity ?? '?';
        perWorker[worker] ??= {};
        perWorker[worker][type] = (perWorker[worker][type] ?? 0) + 1;
      }
    }
    return {
      workers,
      rows_per_s: Math.round(rows / wall),
      wall_s: Number(wall.toFixed(2)),
      activities_per_worker: perWorker,
      worker_peak_rss_mb: procs.map((w) => Math.round((w.peakRss() ?? 0) / 1024 / 1024)),
    };
  } finally {
    await Promise.all(procs.map((w) => w.kill('SIGTERM')));
    for (const o of opts.objects) await opts.catalog.dropTable([namespace], columnName(o, 'snake_case'), true).catch(() => undefined);
    await opts.catalog.dropNamespace([namespace]).catch(() => undefined);
  }
}

/**
 * The real thing, end to end: the simulator (own process) holds the rows, a worker (own process,
 * as `npm run worker` runs it) syncs them through Temporal into Iceberg, and the figures come from
 * the run itself: wall time, the extraction's own stage timings (its result in the history), the
 * commit activity's duration, the worker's peak RSS (VmHWM) and CPU, histories and payload sizes.
 */
async function benchSync(opts: { counts: Record<string, number>; label: string; pageRecords: number; keep: boolean; ceiling?: boolean; workers?: number }) {
  await upAsItWas();
  const settings = loadSettings();
  const objects = Object.keys(opts.counts);
  const sim = await startSimulator(
    Object.entries(opts.counts)
      .map(([o, n]) => `${o}=${n}`)
      .join(','),
  );
  const U = SIM_DEFAULTS.user;
  const sfEnv = { [E.domain]: sim.url, [E.userName]: U.username, [E.password]: U.password, [E.securityToken]: U.securityToken };
  const { catalog, storeFor } = connectIceberg(settings);
  const namespace = `bench_${Date.now().toString(36)}`;
  const taskQueue = `bench-${Date.now().toString(36)}`;
  const temporal = temporalConnection(settings);
  const connection = await Connection.connect(temporal.options);
  const client = new Client({ connection, namespace: temporal.namespace });
  const workerEnv = { ...settings, ...sfEnv, SYNC_LAG_MS: '0' } as Record<string, string>;
  // The first worker's figures are the run's; with --workers, more poll the same task queue.
  const workers = Array.from({ length: Math.max(1, opts.workers ?? 1) }, () => new WorkerProcess({ ...workerEnv, TEMPORAL_TASK_QUEUE: taskQueue }));
  const worker = workers[0]!;
  try {
    // The source alone, first: what any sync of the first object is bounded by.
    const sf = new SalesforceClient(parseSalesforceSettings(sfEnv));
    const first = await describeObject(sf, objects[0]!);
    const firstFields = syncableFields(first);
    const soql = buildSoql(
      first,
      firstFields.map((f) => f.name),
      { window: { field: 'SystemModstamp' }, ordered: false },
    );
    const serving = await measureServing(sf, soql, opts.pageRecords);
    const before = await simStats(sim.url);
    await Promise.all(workers.map((w) => w.ready()));
    const idle = worker.peakRss() ?? 0;

    const workflowId = `bench-${opts.label}-${Date.now().toString(36)}`;
    // Every worker's CPU over the sync (all of its threads: encoders included).
    const cpuSince = cpuMeter(workers);
    const started = performance.now();
    const outcomes = (await client.workflow.execute('salesforceSync', { taskQueue, workflowId, args: [{ objects, namespace }] })) as ObjectOutcome[];
    const wall = (performance.now() - started) / 1000;
    const cpu = cpuSince();
    const peakRss = worker.peakRss() ?? 0;
    const peaks = workers.map((w) => Math.round((w.peakRss() ?? 0) / 1024 / 1024));
    const failed = outcomes.filter((o) => o.status === 'failed');
    if (failed.length) throw new Error(`the sync failed: ${failed.map((f) => `${f.object}: ${f.error}`).join('; ')}`);
    const after = await simStats(sim.url);
    const sourceRates = await measureSourceRates(sim.url, sf, soql, firstFields);
    const ceiling = opts.ceiling ? await measureCeiling({ simUrl: sim.url, sf, soql, client, objects, env: workerEnv, catalog }) : undefined;

    const perObject: {
      object: string;
      rows: number;
      extract_s: number;
      commit_s: number;
      files: number;
      partitions: number;
      parquet_bytes: number;
      timings: ExtractResult['timings'];
      snapshots_created: number;
      history_events: number;
      largest_payload_bytes: number;
    }[] = [];
    let maxEvents = 0;
    let maxPayload = 0;
    for (const o of outcomes) {
      const childId = `${workflowId}/${o.object}`;
      const history = await client.workflow.getHandle(childId).fetchHistory();
      const h = historyFigures(history);
      maxEvents = Math.max(maxEvents, h.events);
      maxPayload = Math.max(maxPayload, h.largestPayload);
      const events = history.events ?? [];
      const typeOf = (id: unknown) => events.find((e) => String(e.eventId) === String(id))?.activityTaskScheduledEventAttributes?.activityType?.name;
      const completed = events.filter((e) => e.activityTaskCompletedEventAttributes);
      /** Every completed activity of a type: result and time from scheduled to completed. */
      const resultsOf = (name: string) =>
        completed
          .filter((e) => typeOf(e.activityTaskCompletedEventAttributes!.scheduledEventId) === name)
          .map((c) => {
            const payload = c.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
            const scheduled = events.find((e) => String(e.eventId) === String(c.activityTaskCompletedEventAttributes?.scheduledEventId));
            return {
              value: payload ? defaultPayloadConverter.fromPayload<unknown>(payload as never) : undefined,
              seconds: seconds(scheduled?.eventTime, c.eventTime),
              at: c.eventTime,
            };
          });
      const commit = resultsOf('commitObject')[0]!;
      // One extraction, or a plan and its partitions: the extraction's wall time runs from the
      // plan's (or the extraction's) scheduling to the last partition's completion.
      const parts = [...resultsOf('extractObject'), ...resultsOf('extractPartition')];
      const firstScheduled = events.find((e) => ['planObject', 'extractObject'].includes(e.activityTaskScheduledEventAttributes?.activityType?.name ?? ''));
      const lastDone = parts.reduce<unknown>((latest, p) => (latest === undefined || seconds(latest, p.at) > 0 ? p.at : latest), undefined);
      const extract = { seconds: seconds(firstScheduled?.eventTime, lastDone) };
      const values = parts.map((p) => p.value as ExtractResult);
      const add = (k: keyof ExtractResult['timings']) => Number(values.reduce((n, v) => n + v.timings[k], 0).toFixed(2));
      const x = {
        files: values.reduce((n, v) => n + v.files, 0),
        bytes: values.reduce((n, v) => n + v.bytes, 0),
        partitions: resultsOf('extractPartition').length,
        timings: { readS: add('readS'), readCpuS: add('readCpuS'), buildS: add('buildS'), encodeS: add('encodeS'), uploadS: add('uploadS') },
      };
      const table = await loadTable({ catalog, namespace: [namespace], name: columnName(o.object, 'snake_case'), storeFor });
      const runs = (JSON.parse(table.metadata.properties?.[SYNC_RUNS_PROPERTY] ?? '[]') as { run: string }[]).filter((r) => r.run.startsWith(`${childId}@`));
      perObject.push({
        object: o.object,
        rows: o.result!.rows,
        extract_s: Number(extract.seconds.toFixed(2)),
        commit_s: Number(commit.seconds.toFixed(2)),
        files: x.files,
        partitions: x.partitions,
        parquet_bytes: x.bytes,
        timings: x.timings,
        snapshots_created: runs.length,
        history_events: h.events,
        largest_payload_bytes: h.largestPayload,
      });
      if (!opts.keep) await catalog.dropTable([namespace], table.name, true).catch(() => undefined);
    }
    const parent = historyFigures(await client.workflow.getHandle(workflowId).fetchHistory());
    const rows = perObject.reduce((n, o) => n + o.rows, 0);
    const sum = (k: 'readCpuS' | 'buildS' | 'encodeS' | 'uploadS') => perObject.reduce((n, o) => n + o.timings[k], 0);
    const rate = (secs: number) => (secs > 0 ? Math.round(rows / secs) : null);
    const figures = {
      bench: 'sync',
      label: opts.label,
      objects: Object.fromEntries(perObject.map((o) => [o.object, o.rows])),
      rows,
      wall_s: Number(wall.toFixed(2)),
      rows_per_s: Math.round(rows / wall),
      worker_cpu_s: cpu === undefined ? null : Number(cpu.toFixed(2)),
      worker_cpu_s_per_million_rows: perMillionRows(cpu, rows),
      pipeline_ceiling_worker_cpu_s_per_million_rows: ceiling?.worker_cpu_s_per_million_rows ?? null,
      stages_rows_per_s: {
        simulator_serving_alone: Math.round(serving.served / serving.serveSeconds),
        // CPU-seconds of the worker while it waited for pages (scanning CSV into cells). With
        // several objects at once that CPU is shared by all of them: no per-stage figure then.
        extraction_to_batches: perObject.length === 1 ? rate(sum('readCpuS')) : null,
        column_building: rate(sum('buildS')),
        parquet_encoding: rate(sum('encodeS')),
        upload: rate(sum('uploadS')),
        commit: rate(perObject.reduce((n, o) => n + o.commit_s, 0)),
      },
      // Bulk jobs the sync created with ORDER BY or LIMIT on objects too large for one chunk.
      bulk_jobs_ordered: after.orderedBulkJobs - before.orderedBulkJobs,
      bulk_jobs: after.bulkJobs - before.bulkJobs,
      source_rows_per_s: sourceRates,
      // The pipeline's own ceiling: the same sync with every results page already rendered.
      pipeline_ceiling_rows_per_s: ceiling?.rows_per_s ?? null,
      pipeline_ceiling: ceiling ?? null,
      multi_worker: ceiling?.multi_worker ?? null,
      worker_peak_rss_mb: Math.round(peakRss / 1024 / 1024),
      worker_idle_rss_mb: Math.round(idle / 1024 / 1024),
      workers: workers.length,
      workers_peak_rss_mb: peaks,
      parquet_bytes: perObject.reduce((n, o) => n + o.parquet_bytes, 0),
      parquet_files: perObject.reduce((n, o) => n + o.files, 0),
      snapshots_created: perObject.reduce((n, o) => n + o.snapshots_created, 0),
      history_events_max_per_object: maxEvents,
      largest_payload_bytes: Math.max(maxPayload, parent.largestPayload),
      parent_history_events: parent.events,
      per_object: perObject,
    };
    for (const o of perObject) {
      console.log(
        `${o.object}: ${o.rows} rows, ${o.files} files (${(o.parquet_bytes / 1e6).toFixed(1)} MB), extract ${o.extract_s} s (read ${o.timings.readS} s, parse CPU ${o.timings.readCpuS} s, build ${o.timings.buildS} s, encode ${o.timings.encodeS} s, upload ${o.timings.uploadS} s), commit ${o.commit_s} s, ${o.snapshots_created} snapshot, ${o.history_events} events`,
      );
    }
    console.log(
      `${opts.label}: ${rows} rows in ${wall.toFixed(1)} s (${figures.rows_per_s} rows/s); worker CPU ${figures.worker_cpu_s} s (${figures.worker_cpu_s_per_million_rows} s per million rows); worker peak RSS ${figures.worker_peak_rss_mb} MB; ${figures.bulk_jobs} Bulk jobs, ${figures.bulk_jobs_ordered} of them ordered.`,
    );
    if (ceiling) {
      console.log(
        `Pipeline ceiling (pages pre-rendered; the simulator serves them at ${ceiling.simulator_cached_serving_rows_per_s} rows/s): ${ceiling.rows_per_s} rows/s; by encoder threads: ${Object.entries(
          ceiling.by_encoder_threads,
        )
          .map(([n, f]) => `${n}: ${f.rows_per_s} rows/s, ${f.worker_cpu_s_per_million_rows} CPU-s per million rows, peak RSS ${f.worker_peak_rss_mb} MB`)
          .join('; ')}.`,
      );
    }
    console.log(
      `Source alone (${objects[0]}, ${SOURCE_RATE_ROWS} rows, ${RESULT_LATENCY_MS} ms before each page): ${sourceRates.pages_in_flight_1} rows/s with 1 result page in flight, ${sourceRates.pages_in_flight_4} rows/s with 4.`,
    );
    return figures;
  } finally {
    await Promise.all(workers.map((w) => w.kill('SIGTERM')));
    sim.stop();
    await connection.close();
  }
}

/**
 * A large table, then the incremental merge that matters day to day: a full sync of `rows` Account
 * rows, then `changed` rows updated and `deleted` rows deleted in the source, spread evenly over
 * the Ids (every data file's Id bounds can match: the merge's worst case), and the next sync timed
 * end to end (prepare + extract + commit, the child workflow's own wall time). Its own simulator,
 * worker and namespace.
 */
async function benchMerge(opts: { rows: number; changed: number; deleted: number; keep: boolean }) {
  await upAsItWas();
  const settings = loadSettings();
  const sim = await startSimulator(`Account=${opts.rows}`);
  const U = SIM_DEFAULTS.user;
  const sfEnv = { [E.domain]: sim.url, [E.userName]: U.username, [E.password]: U.password, [E.securityToken]: U.securityToken };
  const { catalog, storeFor } = connectIceberg(settings);
  const namespace = `bench_merge_${Date.now().toString(36)}`;
  const taskQueue = `bench-merge-${Date.now().toString(36)}`;
  const temporal = temporalConnection(settings);
  const connection = await Connection.connect(temporal.options);
  const client = new Client({ connection, namespace: temporal.namespace });
  const worker = new WorkerProcess({ ...settings, ...sfEnv, SYNC_LAG_MS: '0', TEMPORAL_TASK_QUEUE: taskQueue } as Record<string, string>);
  const sync = async (label: string) => {
    const workflowId = `${taskQueue}-${label}`;
    const started = performance.now();
    const [outcome] = (await client.workflow.execute('salesforceSync', { taskQueue, workflowId, args: [{ objects: ['Account'], namespace }] })) as ObjectOutcome[];
    const wall = (performance.now() - started) / 1000;
    if (outcome?.status !== 'succeeded') throw new Error(`the ${label} sync failed: ${outcome?.error}`);
    const child = await client.workflow.getHandle(`${workflowId}/Account`).describe();
    const objectSeconds = child.closeTime && child.startTime ? (child.closeTime.getTime() - child.startTime.getTime()) / 1000 : wall;
    // Time of each activity type (scheduled to completed, summed over its runs).
    const events = (await client.workflow.getHandle(`${workflowId}/Account`).fetchHistory()).events ?? [];
    const activities: Record<string, number> = {};
    for (const e of events) {
      const done = e.activityTaskCompletedEventAttributes;
      if (!done) continue;
      const scheduled = events.find((x) => String(x.eventId) === String(done.scheduledEventId));
      const type = scheduled?.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
      activities[type] = Number(((activities[type] ?? 0) + seconds(scheduled?.eventTime, e.eventTime)).toFixed(2));
    }
    return { result: outcome.result!, wall, objectSeconds, activities, peakRss: worker.peakRss() ?? 0 };
  };
  try {
    await worker.ready();
    const full = await sync('full');
    console.log(
      `Full sync: ${full.result.rows} rows in ${full.wall.toFixed(1)} s (${Math.round(full.result.rows / full.wall)} rows/s), worker peak RSS ${Math.round(full.peakRss / 1048576)} MB.`,
    );

    // Changes spread over the whole Id range: updates and deletes interleaved.
    // The simulator stamps each change later than the one before (1 ms apart when they come
    // faster): a burst of changes is stamped up to seconds ahead of the clock.
    let lastStamp = 0;
    const control = (path: string, body: unknown) =>
      fetch(`${sim.url}/__sim/${path}`, { method: 'POST', body: JSON.stringify(body) }).then(async (r) => {
        if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
        const stamp = Date.parse(String(((await r.json()) as { SystemModstamp?: string }).SystemModstamp ?? ''));
        if (stamp > lastStamp) lastStamp = stamp;
      });
    const total = opts.changed + opts.deleted;
    const step = Math.floor(opts.rows / total);
    const changes = Array.from({ length: total }, (_, i) => ({ id: salesforceId('001', i * step + 1), remove: i % Math.round(total / opts.deleted) === 0 }));
    const removed = changes.filter((c) => c.remove).slice(0, opts.deleted);
    const updated = changes.filter((c) => !c.remove).slice(0, opts.changed);
    const queue = [
      ...removed.map((c) => () => control('delete', { object: 'Account', id: c.id })),
      ...updated.map((c, i) => () => control('update', { object: 'Account', id: c.id, values: { Name: `Merged account ${i}` } })),
    ];
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let next = queue.shift(); next; next = queue.shift()) await next();
      }),
    );

    // A sync reads up to "now": changes stamped later wait for the next one. Start once all are past.
    while (Date.now() <= lastStamp + 1000) await new Promise((r) => setTimeout(r, 200));
    const merge = await sync('merge');
    const table = await loadTable({ catalog, namespace: [namespace], name: 'account', storeFor });
    const summary: Record<string, string> = table.currentSnapshot()?.summary ?? {};
    const figures = {
      bench: 'merge',
      rows: opts.rows,
      full_sync_s: Number(full.wall.toFixed(2)),
      full_sync_rows_per_s: Math.round(full.result.rows / full.wall),
      full_sync_worker_peak_rss_mb: Math.round(full.peakRss / 1048576),
      changed: updated.length,
      deleted: removed.length,
      merge_s: Number(merge.objectSeconds.toFixed(2)),
      merge_activity_s: merge.activities,
      merge_wall_s: Number(merge.wall.toFixed(2)),
      merge_rows_read: merge.result.rows,
      merge_deleted: merge.result.deleted,
      merge_worker_peak_rss_mb: Math.round(merge.peakRss / 1048576),
      // Live rows: every data file's rows less the positions deleted (each deleted once).
      live_rows_after: Number(summary['total-records'] ?? NaN) - Number(summary['total-position-deletes'] ?? 0),
      expected_records_after: opts.rows - removed.length,
      data_files_after: Number(summary['total-data-files'] ?? NaN),
      delete_files_after: Number(summary['total-delete-files'] ?? NaN),
    };
    console.log(
      `Merge of ${updated.length} changed and ${removed.length} deleted rows into ${opts.rows}: ${figures.merge_s} s for the object (prepare + extract + commit); the table holds ${figures.live_rows_after} rows (expected ${figures.expected_records_after}).`,
    );
    if (!opts.keep) await catalog.dropTable([namespace], 'account', true).catch(() => undefined);
    if (!opts.keep) await catalog.dropNamespace([namespace]).catch(() => undefined);
    return figures;
  } finally {
    await worker.kill('SIGTERM');
    sim.stop();
    await connection.close();
  }
}

/** The local stack up, with the catalogs it had (a bench must not drop the reference catalog from stack.env). */
async function upAsItWas(): Promise<void> {
  await up({ log: () => undefined, catalog: process.env.STACK_CATALOG ? undefined : lastCatalog() });
}

const program = new Command('bench').description('benchmarks that print their figures (the last line is JSON)');
program
  .command('sync', { isDefault: true })
  .description('the real workflow end to end: simulator → worker → Iceberg, with per-stage figures (default)')
  .option('--rows <n>', 'rows of each object of --objects', (v) => Number(v), 1_000_000)
  .option('--objects <names>', 'objects to sync, comma-separated', 'Account')
  .option('--mix-rows <n>', 'rows per object in the second run over the default objects (0: no second run)', (v) => Number(v), 20_000)
  .option('--page-records <n>', 'maxRecords per Bulk results page when measuring the simulator', (v) => Number(v), 50_000)
  .option('--keep', 'keep the tables afterwards')
  .option('--no-ceiling', 'skip the pipeline-ceiling runs (pages pre-rendered, one per encoder-thread count)')
  .option('--workers <n>', "worker processes on the task queue in the first run (its figures are the first worker's; workers_peak_rss_mb lists each)", (v) => Number(v), 1)
  .option('--merge-rows <n>', 'rows of the table the incremental-merge run merges 10,000 changed and 1,000 deleted rows into (0: no merge run)', (v) => Number(v), 10_000_000)
  .action(async (opts: { rows: number; objects: string; mixRows: number; pageRecords: number; keep?: boolean; ceiling: boolean; mergeRows: number; workers: number }) => {
    const objects = opts.objects
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean);
    const main = await benchSync({
      counts: Object.fromEntries(objects.map((o) => [o, opts.rows])),
      label: `${objects.join('-')}-${opts.rows}`,
      pageRecords: opts.pageRecords,
      keep: !!opts.keep,
      ceiling: opts.ceiling,
      workers: opts.workers,
    });
    const mix =
      opts.mixRows > 0
        ? await benchSync({
            counts: Object.fromEntries(DEFAULT_OBJECTS.map((o) => [o, opts.mixRows])),
            label: `default-objects-${opts.mixRows}`,
            pageRecords: opts.pageRecords,
            keep: !!opts.keep,
          })
        : undefined;
    const merge = opts.mergeRows > 0 ? await benchMerge({ rows: opts.mergeRows, changed: 10_000, deleted: 1_000, keep: !!opts.keep }) : undefined;
    console.log(JSON.stringify({ ...main, mix, merge_10k_into_10m_s: merge && opts.mergeRows === 10_000_000 ? merge.merge_s : null, merge }));
    process.exit(0);
  });
program
  .command('merge')
  .description('a full sync of --rows Account rows, then an incremental merge of --changed updated and --deleted deleted rows, timed')
  .option('--rows <n>', 'Account rows of the table', (v) => Number(v), 10_000_000)
  .option('--changed <n>', 'rows updated in the source before the merge', (v) => Number(v), 10_000)
  .option('--deleted <n>', 'rows deleted in the source before the merge', (v) => Number(v), 1_000)
  .option('--keep', 'keep the table afterwards')
  .action(async (opts: { rows: number; changed: number; deleted: number; keep?: boolean }) => {
    const merge = await benchMerge({ ...opts, keep: !!opts.keep });
    console.log(JSON.stringify({ ...merge, merge_10k_into_10m_s: opts.rows === 10_000_000 && opts.changed === 10_000 && opts.deleted === 1_000 ? merge.merge_s : null }));
    process.exit(0);
  });
program
  .command('sink')
  .description('write Account-shaped rows through the Iceberg sink as one snapshot (needs `npm run stack -- up`)')
  .option('--rows <n>', 'rows to write', (v) => Number(v), 1_000_000)
  .option('--target-mb <mb>', 'target (compressed) megabytes per data file', (v) => Number(v), 128)
  .option('--row-group-mb <mb>', 'raw megabytes buffered per row group', (v) => Number(v), DEFAULT_ROW_GROUP_BYTES / 1024 / 1024)
  .option('--keep', 'keep the table afterwards')
  .action(async (opts: { rows: number; targetMb: number; rowGroupMb: number; keep?: boolean }) => {
    await benchSink({ rows: opts.rows, targetMb: opts.targetMb, rowGroupMb: opts.rowGroupMb, keep: !!opts.keep });
  });
program
  .command('source')
  .description('stream Account rows from the Salesforce simulator through the Bulk reader into column batches')
  .option('--rows <n>', 'Account rows in the simulator', (v) => Number(v), 1_000_000)
  .option('--page-records <n>', 'maxRecords per results page', (v) => Number(v), 50_000)
  .action(async (opts: { rows: number; pageRecords: number }) => {
    await benchSource(opts);
  });
program
  .command('maintenance')
  .description('a table after many incremental merges, before and after its maintenance: files, delete files, manifests, pyiceberg scan time (needs `npm run stack -- up`)')
  .option('--rows <n>', 'rows of the table', (v) => Number(v), 1_000_000)
  .option('--syncs <n>', 'incremental merges before maintenance', (v) => Number(v), 100)
  .option('--change-percent <p>', 'rows each merge updates, in percent', (v) => Number(v), 1)
  .option('--target-mb <mb>', 'target (compressed) megabytes per data file', (v) => Number(v), 128)
  .option('--catalog <name>', 'nessie, or rest (the reference catalog of `stack up --catalog both`)', 'nessie')
  .option('--keep', 'keep the table afterwards')
  .action(async (opts: { rows: number; syncs: number; changePercent: number; targetMb: number; catalog: string; keep?: boolean }) => {
    const env: Record<string, string | undefined> = { ...loadSettings() };
    if (opts.catalog === 'rest') {
      if (!env.STACK_REST_CATALOG_URI) throw new Error('--catalog rest needs the reference catalog: npm run stack -- up --catalog both');
      env.ICEBERG_CATALOG_URI = env.STACK_REST_CATALOG_URI;
    }
    await benchMaintenance({ ...opts, keep: !!opts.keep, env, fields: accountShape(), rowsOf });
  });
program
  .command('layout')
  .description(
    'the Task object (created over three years) synced into an unpartitioned and a partitioned table; a one-month filter: files pyiceberg plans, scan seconds on both, sync time and memory of both',
  )
  .option('--rows <n>', 'Task rows in the simulator', (v) => Number(v), 10_000_000)
  .option('--partition-by <spec>', "the partitioned table's partitionBy, comma-separated", 'month(CreatedDate)')
  .option('--month <yyyy-mm>', 'the month the filter selects', '2024-06')
  .option('--runs <n>', 'scans per table and reader (the median is reported)', (v) => Number(v), 3)
  .option('--keep', 'keep the tables afterwards')
  .option('--compact', 'then compact both tables as maintenance does, and plan and scan again (figures under "compacted")')
  .action(async (opts: { rows: number; partitionBy: string; month: string; runs: number; keep?: boolean; compact?: boolean }) => {
    const partitionBy = opts.partitionBy
      .split(/,(?![^(]*\))/)
      .map((p) => p.trim())
      .filter(Boolean);
    const figures = await benchLayout(
      { rows: opts.rows, partitionBy, month: opts.month, runs: opts.runs, keep: !!opts.keep, compact: !!opts.compact },
      { up: upAsItWas, settings: loadSettings, startSimulator, simUser: SIM_DEFAULTS.user },
    );
    console.log(JSON.stringify(figures));
    process.exit(0);
  });
program
  .command('org')
  .description('an org of many objects (mostly small, a few large): an initial sync of all, then incrementals after a few changes to each; on one worker and on several')
  .option('--objects <n>', 'objects synced (the simulator generates those beyond its own)', (v) => Number(v), 200)
  .option('--incrementals <n>', 'incremental syncs after the initial one', (v) => Number(v), 3)
  .option('--workers <list>', 'worker processes of each run, comma-separated (a run each, fresh namespace)', '1,3')
  .option('--concurrency <n>', 'objects synced at the same time per worker', (v) => Number(v), 8)
  .option('--updates <n>', 'rows updated in every object before each incremental', (v) => Number(v), 5)
  .option('--creates <n>', 'rows created in every object before each incremental', (v) => Number(v), 2)
  .option('--deletes <n>', 'rows deleted before each incremental in every --delete-every-th object', (v) => Number(v), 1)
  .option('--delete-every <n>', 'which objects get deletes (every n-th)', (v) => Number(v), 10)
  .option('--object-fields <min-max>', 'fields of each generated object', '10-80')
  .option('--small-rows <min-max>', 'rows of each small generated object', '50-2000')
  .option('--large-objects <n>', 'generated objects that are large', (v) => Number(v), 3)
  .option('--large-rows <min-max>', 'rows of each large generated object', '100000-300000')
  .option('--daily-api-requests <n>', "the org's DailyApiRequests (default: a 200-licence Enterprise Edition org)", (v) => Number(v), DEFAULT_DAILY_API_REQUESTS)
  .option(
    '--write-mode <mode>',
    "merge: every object merged (how an org synced every 15 minutes is set up); defaults: the product's per-object defaults (User, Contact, Lead, … replaced)",
    'merge',
  )
  .option('--keep', 'keep the tables afterwards')
  .action(async (opts: Omit<Parameters<typeof benchOrg>[0], 'workers' | 'keep'> & { workers: string; keep?: boolean }) => {
    if (opts.writeMode !== 'merge' && opts.writeMode !== 'defaults') throw new Error(`--write-mode must be merge or defaults, not ${String(opts.writeMode)}`);
    const workers = opts.workers.split(',').map((w) => Number(w.trim()));
    const figures = await benchOrg({ ...opts, workers, keep: !!opts.keep }, { up: upAsItWas, settings: loadSettings, simUser: SIM_DEFAULTS.user });
    console.log(JSON.stringify(figures));
    process.exit(0);
  });
program
  .command('compare')
  .description("this project's sync beside the original pipeline (dlt + pyiceberg, one snapshot per batch) and dlt's filesystem Iceberg route, same simulator and stack; medians")
  .option('--rows <n>', 'Account rows', (v) => Number(v), 200_000)
  .option('--rounds <n>', 'rounds, back to back', (v) => Number(v), 2)
  .option('--batch-size <n>', 'rows per batch (and snapshot) of the original pipeline', (v) => Number(v), 1000)
  .option('--dlt-source <dir>', "folder holding dlt's salesforce source package (dlt init salesforce duckdb, or verified-sources/sources)", process.env.DLT_SALESFORCE_SOURCE)
  .option('--pipelines <list>', `comma-separated, of ${PIPELINES.join(', ')}`, PIPELINES.join(','))
  .option('--keep', 'keep the tables afterwards')
  .action(async (opts: { rows: number; rounds: number; batchSize: number; dltSource?: string; pipelines: string; keep?: boolean }) => {
    const pipelines = opts.pipelines.split(',').map((p) => p.trim()) as PipelineKey[];
    const unknown = pipelines.filter((p) => !PIPELINES.includes(p));
    if (unknown.length) throw new Error(`unknown pipeline(s) ${unknown.join(', ')}: use ${PIPELINES.join(', ')}`);
    await benchCompare({ ...opts, pipelines, keep: !!opts.keep }, { benchSync, startSimulator, up: upAsItWas, settings: loadSettings, simUser: SIM_DEFAULTS.user });
    process.exit(0);
  });
program.parseAsync(process.argv).catch((error) => {
  console.error(error instanceof Error ? (process.env.BENCH_STACK ? error.stack : error.message) : error);
  process.exit(1);
});

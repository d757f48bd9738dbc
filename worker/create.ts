import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, createMaintenanceActivities } from '../activities';
import { settingsProblems } from '../src/settings/settings';
import { bundleCacheDir, cachedWorkflowBundle, removeLegacyBundles, workflowSourceHash } from './bundle-cache';
import { connectIceberg } from '../src/iceberg/connect';
import { SalesforceClient } from '../src/salesforce/client';
import { IcebergDestination } from '../src/destinations/iceberg';
import { DuckDbDestination } from '../src/destinations/duckdb';
import { syncArea } from '../src/sync/settings';
import { workerArea } from '../src/config/worker-settings';
import { layoutLimits, parquetArea } from '../src/parquet/settings';
import { duckdbArea } from '../src/destinations/duckdb-settings';
import { maintenanceSettings } from '../src/maintenance/settings';
import { salesforceReadArea } from '../src/salesforce/read-settings';
import { partitionTaskQueue } from '../src/sync/objects';
import { ParquetEncoderPool } from '../src/parquet/encoder-pool';
import { parseSalesforceSettings } from '../src/salesforce/settings';
import { MAINTENANCE_KEYS } from '../src/table-contract';
import { syncDefaults } from '../src/sync/sync-defaults';
import { connectionFix, describeConnection, temporalConnection } from './temporal-connection';

function icebergDestination(env: Record<string, string | undefined>): IcebergDestination {
  const { catalog, storeFor } = connectIceberg(env);
  return new IcebergDestination(catalog, storeFor);
}

/**
 * The workflow bundle, built by a separate process (worker/bundle.ts) so webpack's memory is not
 * the worker's: its peak RSS stays about 100 MB lower. Kept in a cache keyed by a hash of the
 * workflow sources and reused by later starts (worker/bundle-cache.ts says why): no file per
 * process, so a killed worker leaves nothing in the temp folder.
 */
async function bundleWorkflows(env: Record<string, string | undefined>): Promise<string> {
  removeLegacyBundles();
  const { execFile } = await import('node:child_process');
  const { path: bundle } = await cachedWorkflowBundle({
    dir: bundleCacheDir(env),
    hash: workflowSourceHash(),
    build: (out) =>
      new Promise<void>((resolve, reject) =>
        execFile(process.execPath, ['--import', 'tsx', path.join(__dirname, 'bundle.ts'), out], { cwd: path.join(__dirname, '..') }, (error, _stdout, stderr) =>
          error ? reject(new Error(`bundling the workflow code failed: ${stderr || error.message}`)) : resolve(),
        ),
      ),
  });
  return bundle;
}

/** Builds a worker from settings; throws with every configuration problem listed. */
export async function createSyncWorker(
  env: Record<string, string | undefined>,
  opts: { taskQueue?: string } = {},
): Promise<{ worker: Worker; partitions: Worker; connection: NativeConnection; encoders?: ParquetEncoderPool; run: () => Promise<void>; shutdown: () => void }> {
  const problems = settingsProblems(env);
  if (problems.length > 0) throw new Error(`The worker cannot start:\n${problems.map((p) => `  - ${p.replace(/\n/g, '\n    ')}`).join('\n')}`);
  const temporal = temporalConnection(env);
  const sync = syncArea.parse(env);
  const read = salesforceReadArea.parse(env);
  const workerSettings = workerArea.parse(env);
  const duckdb = duckdbArea.parse(env);
  const parquet = parquetArea.parse(env);
  const { PARQUET_ENCODER_THREADS: encoderThreads } = parquet;
  const layout = layoutLimits(parquet);
  const salesforce = new SalesforceClient(parseSalesforceSettings(env));
  const destination = duckdb.DUMP_TO_DUCKDB ? new DuckDbDestination(duckdb.DUCKDB_PATH) : icebergDestination(env);
  const encoders = encoderThreads > 0 ? new ParquetEncoderPool(encoderThreads) : undefined;
  const maintenance = duckdb.DUMP_TO_DUCKDB ? undefined : { context: { ...connectIceberg(env), keys: MAINTENANCE_KEYS, encoders, layout }, settings: maintenanceSettings(env) };
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect(temporal.options);
  } catch (error) {
    const message = (error as Error).message;
    throw new Error(`Could not connect to Temporal at ${describeConnection(temporal)}: ${message}\n  Fix: ${connectionFix(temporal, message)}`);
  }
  const taskQueue = opts.taskQueue ?? temporal.taskQueue;
  const activities = createActivities({
    salesforce,
    destination,
    lagMs: sync.SYNC_LAG_MS,
    checkpointMs: sync.SYNC_CHECKPOINT_SECONDS * 1000,
    api: read.SALESFORCE_READ_API,
    restWindowRows: read.SALESFORCE_REST_WINDOW_ROWS,
    pagesInFlight: read.SALESFORCE_BULK_PAGES_IN_FLIGHT,
    sliceFloorMs: read.SALESFORCE_BULK_MIN_SLICE_MINUTES * 60_000,
    reconcileMaxShare: sync.SYNC_RECONCILE_MAX_PERCENT / 100,
    countCheck: sync.SYNC_COUNT_CHECK,
    getDeleted: sync.SYNC_GET_DELETED,
    partitions: {
      minPages: sync.SYNC_PARTITION_MIN_PAGES,
      pagesPerPartition: sync.SYNC_PARTITION_PAGES,
      sliceRows: sync.SYNC_PARTITION_SLICE_ROWS,
      inFlight: sync.SYNC_PARTITIONS_IN_FLIGHT,
    },
    timeAs: sync.SYNC_TIME_TYPE,
    encoders,
    layout,
    defaults: syncDefaults(env),
  });
  // Heartbeats reach the server at most every 5 s (the SDK's default waits up to 80% of the
  // heartbeat timeout): the Web UI shows fresh progress, and a retry resumes from a recent checkpoint.
  const heartbeats = { maxHeartbeatThrottleInterval: '5 seconds', defaultHeartbeatThrottleInterval: '5 seconds' } as const;
  const worker = await Worker.create({
    connection,
    namespace: temporal.namespace,
    taskQueue,
    workflowBundle: { codePath: await bundleWorkflows(env) },
    activities: { ...createMaintenanceActivities({ maintenance }), ...activities },
    maxConcurrentActivityTaskExecutions: workerSettings.WORKER_MAX_ACTIVITIES,
    ...heartbeats,
  });
  // Partitions have a queue of their own so that each worker takes at most WORKER_MAX_PARTITIONS
  // of them (Temporal bounds a worker's activities per task queue, not per type).
  const partitions = await Worker.create({
    connection,
    namespace: temporal.namespace,
    taskQueue: partitionTaskQueue(taskQueue),
    activities: { extractPartition: activities.extractPartition },
    maxConcurrentActivityTaskExecutions: workerSettings.WORKER_MAX_PARTITIONS,
    ...heartbeats,
  });
  // Both poll until SIGINT/SIGTERM (the SDK stops each gracefully); one failing stops the other.
  const shutdown = () => {
    for (const w of [worker, partitions]) if (w.getState() === 'RUNNING') w.shutdown();
  };
  const run = async () => {
    const runs = [worker.run(), partitions.run()];
    try {
      await Promise.race(runs);
    } finally {
      shutdown();
      await Promise.allSettled(runs);
    }
    await Promise.all(runs);
  };
  return { worker, partitions, connection, encoders, run, shutdown };
}

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, configurationProblems } from '../activities';
import { connectIceberg } from '../src/iceberg/connect';
import { SalesforceClient } from '../src/salesforce/client';
import type { ReadApi } from '../src/salesforce/reader';
import type { TimeMapping } from '../src/iceberg/schema-mapping';
import { IcebergDestination } from '../src/sync/destination';
import { DuckDbDestination, duckdbMode } from '../src/duckdb/destination';
import { parseSalesforceSettings } from '../src/salesforce/settings';

export const DEFAULT_TASK_QUEUE = 'salesforce-sync';
export const DEFAULT_DUCKDB_PATH = 'salesforce_sync.duckdb';

function icebergDestination(env: Record<string, string | undefined>): IcebergDestination {
  const { catalog, storeFor } = connectIceberg(env);
  return new IcebergDestination(catalog, storeFor);
}

/**
 * The workflow bundle, built by a separate process (worker/bundle.ts) so webpack's memory is not
 * the worker's: its peak RSS stays about 100 MB lower. One file per process, removed at exit.
 */
async function bundleWorkflows(): Promise<string> {
  const out = path.join(os.tmpdir(), `sf-iceberg-workflows-${process.pid}-${crypto.randomUUID()}.js`);
  const { execFile } = await import('node:child_process');
  await new Promise<void>((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', path.join(__dirname, 'bundle.ts'), out], { cwd: path.join(__dirname, '..') }, (error, _stdout, stderr) =>
      error ? reject(new Error(`bundling the workflow code failed: ${stderr || error.message}`)) : resolve(),
    ),
  );
  process.once('exit', () => fs.rmSync(out, { force: true }));
  return out;
}

/** Builds a worker from settings; throws with every configuration problem listed. */
export async function createSyncWorker(env: Record<string, string | undefined>, opts: { taskQueue?: string } = {}): Promise<{ worker: Worker; connection: NativeConnection }> {
  const problems = configurationProblems(env);
  if (problems.length > 0) throw new Error(`The worker cannot start:\n${problems.map((p) => `  - ${p.replace(/\n/g, '\n    ')}`).join('\n')}`);
  const salesforce = new SalesforceClient(parseSalesforceSettings(env));
  const destination = duckdbMode(env) ? new DuckDbDestination(env.DUCKDB_PATH || DEFAULT_DUCKDB_PATH) : icebergDestination(env);
  const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
  const worker = await Worker.create({
    connection,
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: opts.taskQueue ?? env.TEMPORAL_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
    workflowBundle: { codePath: await bundleWorkflows() },
    activities: createActivities({ salesforce, destination, lagMs: Number(env.SYNC_LAG_MS ?? 60_000), checkpointMs: Number(env.SYNC_CHECKPOINT_SECONDS ?? 60) * 1000, api: (env.SALESFORCE_READ_API || 'auto') as ReadApi, timeAs: (env.SYNC_TIME_TYPE || 'string') as TimeMapping }),
    maxConcurrentActivityTaskExecutions: Number(env.WORKER_MAX_ACTIVITIES ?? 8),
    // Heartbeats reach the server at most every 5 s (the SDK's default waits up to 80% of the
    // heartbeat timeout): the Web UI shows fresh progress, and a retry resumes from a recent checkpoint.
    maxHeartbeatThrottleInterval: '5 seconds',
    defaultHeartbeatThrottleInterval: '5 seconds',
  });
  return { worker, connection };
}

/**
 * The worker process: `npm run worker [-- --no-preflight]`. Runs the preflight first (the checks
 * of `npm run check`: settings, Salesforce, catalog, storage, Temporal) and exits with code 1,
 * without polling, when one fails; then polls the task queue until SIGINT/SIGTERM, finishing or
 * handing back its running tasks before it exits. `--no-preflight` or WORKER_PREFLIGHT=false
 * skip the checks (the settings are still validated).
 */
import { Runtime } from '@temporalio/worker';
import { WorkerLogger } from './logger';
import { loadSettings } from '../src/config/env-file';
import { workerArea } from '../src/config/worker-settings';
import { describeConnection, temporalConnection } from './temporal-connection';
import { formatResult, preflightFailed } from '../src/preflight/checks';
import { createSyncWorker } from './create';
import { preflight } from './preflight';
import { startMemoryLog } from './memory-log';
import { batchSizeNote } from '../src/sync/sync-defaults';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<void> {
  const env = loadSettings();
  const skip = process.argv.includes('--no-preflight') || (workerArea.problems(env).length === 0 && !workerArea.parse(env).WORKER_PREFLIGHT);
  if (!skip) {
    console.log('Preflight (npm run check):');
    const results = await preflight(env, (r) => console.log(`  ${formatResult(r)}`));
    if (preflightFailed(results)) {
      console.error('The worker does not start: fix what failed above (--no-preflight or WORKER_PREFLIGHT=false skip these checks).');
      process.exit(1);
    }
  }
  // Before anything starts Temporal's runtime: the level applies to the SDK's and the sync's lines.
  if (workerArea.problems(env).length === 0) Runtime.install({ logger: new WorkerLogger(workerArea.parse(env).WORKER_LOG_LEVEL) });
  const { worker, connection, encoders, run } = await createSyncWorker(env);
  const note = batchSizeNote(env);
  if (note) console.log(note);
  console.log(`Worker polling task queue ${worker.options.taskQueue} on ${describeConnection(temporalConnection(env))}, namespace ${worker.options.namespace}`);
  const stopMemoryLog = startMemoryLog(workerArea.parse(env).WORKER_MEMORY_LOG_SECONDS, (line) => console.log(line), encoders);
  await run(); // the SDK stops it gracefully on SIGINT/SIGTERM
  stopMemoryLog();
  await connection.close();
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});

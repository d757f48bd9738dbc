/**
 * The worker process: `npm run worker`. Checks its configuration first (and refuses to start with
 * a list of what is wrong), then polls the task queue until SIGINT/SIGTERM, finishing or handing
 * back its running tasks before it exits.
 */
import { loadSettings } from '../src/config/env-file';
import { createSyncWorker } from './create';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

createSyncWorker(loadSettings())
  .then(async ({ worker, connection }) => {
    console.log(`Worker polling task queue ${worker.options.taskQueue} on ${loadSettings().TEMPORAL_ADDRESS ?? '127.0.0.1:7233'}`);
    await worker.run(); // the SDK stops it gracefully on SIGINT/SIGTERM
    await connection.close();
  })
  .catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });

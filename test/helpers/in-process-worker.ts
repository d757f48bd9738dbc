import { Runtime } from '@temporalio/worker';
import { WorkerLogger } from '../../worker/logger';
import { createSyncWorker } from '../../worker/create';

// Quiet worker logs in tests; installed once per test file (each file has its own module graph).
Runtime.install({ logger: new WorkerLogger('WARN') });

/** A sync worker in the test's own process, polling until `stop()`. */
export async function runSyncWorker(env: Record<string, string | undefined>, taskQueue: string): Promise<{ stop: () => Promise<void> }> {
  const { run, shutdown, connection } = await createSyncWorker(env, { taskQueue });
  const running = run();
  return {
    stop: async () => {
      shutdown();
      await running;
      await connection.close();
    },
  };
}

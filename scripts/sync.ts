/**
 * `npm run sync -- [objects...] [--full] [--atomic] [--namespace ns] [--write-mode Object=replace]`: starts
 * salesforceSync through the Temporal client (a worker must be running: `npm run worker`), shows
 * per-object progress until it ends, and exits non-zero if any object failed.
 */
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { Command } from 'commander';
import { followProgress } from './lib/follow';
import { syncInput, temporalClient, withSyncInputOptions, type SyncInputOptions } from './lib/sync-input';
import { loadSettings } from '../src/config/env-file';
import type { ObjectOutcome } from '../workflows';

withSyncInputOptions(new Command('sync').description('start a salesforceSync workflow and follow it'))
  .option('--workflow-id <id>', 'workflow id (default: salesforce-sync-<time>)')
  .option('--no-wait', 'start and return at once')
  .action(async (objects: string[], opts: SyncInputOptions & { workflowId?: string; taskQueue?: string; wait: boolean }) => {
    const env = loadSettings();
    const input = syncInput(objects, opts);
    const { client, connection, temporal } = await temporalClient(env);
    const workflowId = opts.workflowId ?? `salesforce-sync-${Date.now()}`;
    const handle = await client.workflow.start('salesforceSync', { taskQueue: opts.taskQueue ?? temporal.taskQueue, workflowId, args: [input] });
    const ui = `${temporal.uiUrl}/namespaces/${temporal.namespace}/workflows/${workflowId}`;
    console.log(`Started ${workflowId}\n  ${ui}`);
    if (!opts.wait) return connection.close();
    const stopFollowing = followProgress(handle);
    try {
      printOutcomes((await handle.result()) as ObjectOutcome[]);
    } catch (error) {
      const cause = error instanceof WorkflowFailedError ? error.cause?.message : (error as Error).message;
      console.error(`The sync failed: ${cause}`);
      // A failed sync's details are its per-object outcomes: each failed object with its code and why.
      const failure = error instanceof WorkflowFailedError ? error.cause : undefined;
      if (failure instanceof ApplicationFailure && failure.type === 'SyncFailed' && Array.isArray(failure.details?.[0])) printOutcomes(failure.details[0] as ObjectOutcome[]);
      process.exitCode = 1;
    } finally {
      stopFollowing();
      await connection.close();
    }
  })
  .parseAsync(process.argv)
  .catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });

/** One line per object: rows, or the failure's code and reason. */
function printOutcomes(outcomes: ObjectOutcome[]): void {
  for (const o of outcomes) {
    if (o.status === 'failed') {
      console.log(`  ${o.object.padEnd(24)} failed  ${o.code ? `${o.code}: ` : ''}${o.error}`);
      continue;
    }
    const reconciled =
      o.result?.reconciled !== undefined ? `, ${o.result.reconciled} removed by reconciliation` : o.result?.reconcileSkipped ? ` (${o.result.reconcileSkipped})` : '';
    console.log(`  ${o.object.padEnd(24)} ${o.status}  ${o.result?.rows ?? 0} rows${reconciled}`);
  }
}

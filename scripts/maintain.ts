/**
 * `npm run maintain -- [tables...] [--namespace ns] [--steps compact,expire,orphans] [...]`: starts
 * maintainTable for each table named (or maintainNamespace for all of the namespace's tables)
 * through the Temporal client, waits, and prints what each step did. A worker must be running
 * (`npm run worker`). A table whose maintenance already runs is joined, not started twice.
 */
import { WorkflowFailedError, WorkflowIdConflictPolicy } from '@temporalio/client';
import { Command } from 'commander';
import { followProgress } from './lib/follow';
import { temporalClient } from './lib/sync-input';
import { loadSettings } from '../src/config/env-file';
import { defaultNamespace } from '../src/sync/sync-defaults';
import { describeReport, type MaintenanceOverrides, type MaintenanceReport } from '../src/maintenance';
import { maintainTableId, maintainNamespaceInput, maintainTableInput, type TableOutcome } from '../workflows/maintenance';

const num = (v: string) => Number(v);

interface Options {
  namespace?: string;
  steps?: string;
  targetFileMb?: number;
  maxManifests?: number;
  keepSnapshots?: number;
  keepSnapshotHours?: number;
  orphanAgeHours?: number;
  taskQueue?: string;
  wait: boolean;
}

new Command('maintain')
  .description('compact tables, expire snapshots and remove orphan files (maintainTable / maintainNamespace workflows)')
  .argument('[tables...]', 'tables of the namespace (default: every table, one maintainNamespace workflow)')
  .option('--namespace <ns>', 'Iceberg namespace (default: SYNC_NAMESPACE or ICEBERG_NAMESPACE, else salesforce)')
  .option('--steps <list>', 'steps to run, comma-separated: compact, expire, orphans (default: all)')
  .option('--target-file-mb <n>', 'target data file size (default: MAINTENANCE_TARGET_FILE_MB)', num)
  .option('--max-manifests <n>', 'rewrite manifests above this many (default: MAINTENANCE_MAX_MANIFESTS)', num)
  .option('--keep-snapshots <n>', 'snapshots kept per branch (default: MAINTENANCE_KEEP_SNAPSHOTS)', num)
  .option('--keep-snapshot-hours <n>', 'snapshots younger than this are kept (default: MAINTENANCE_KEEP_SNAPSHOT_HOURS)', num)
  .option('--orphan-age-hours <n>', 'unreferenced files younger than this are kept (default: MAINTENANCE_ORPHAN_HOURS)', num)
  .option('--task-queue <queue>', "the worker's task queue (default: TEMPORAL_TASK_QUEUE)")
  .option('--no-wait', 'start and return at once')
  .action(async (tables: string[], opts: Options) => {
    const env = loadSettings();
    const namespace = opts.namespace ?? defaultNamespace(env);
    const overrides: MaintenanceOverrides = Object.fromEntries(
      Object.entries({
        steps: opts.steps?.split(',').map((s) => s.trim()),
        targetFileMb: opts.targetFileMb,
        maxManifests: opts.maxManifests,
        keepSnapshots: opts.keepSnapshots,
        keepSnapshotHours: opts.keepSnapshotHours,
        orphanAgeHours: opts.orphanAgeHours,
      }).filter(([, v]) => v !== undefined),
    );
    // Refused here in the workflows' own words, before anything starts.
    if (tables.length > 0) for (const table of tables) maintainTableInput.parse({ namespace, table, ...overrides });
    else maintainNamespaceInput.parse({ namespace, ...overrides });
    const { client, connection, temporal } = await temporalClient(env);
    const taskQueue = opts.taskQueue ?? temporal.taskQueue;
    try {
      const started =
        tables.length > 0
          ? await Promise.all(
              tables.map((table) =>
                client.workflow.start('maintainTable', {
                  taskQueue,
                  workflowId: maintainTableId(namespace, table),
                  args: [{ namespace, table, ...overrides }],
                  workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
                }),
              ),
            )
          : [
              await client.workflow.start('maintainNamespace', {
                taskQueue,
                workflowId: `maintain/${namespace}`,
                args: [{ namespace, ...overrides }],
                workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
              }),
            ];
      for (const h of started) console.log(`Started ${h.workflowId}\n  ${temporal.uiUrl}/namespaces/${temporal.namespace}/workflows/${encodeURIComponent(h.workflowId)}`);
      if (!opts.wait) return;
      for (const handle of started) {
        const stop = followProgress(handle);
        try {
          const result = (await handle.result()) as MaintenanceReport | TableOutcome[];
          const reports = Array.isArray(result) ? result : [{ table: (result as MaintenanceReport).table, status: 'succeeded', report: result } as TableOutcome];
          for (const o of reports) {
            console.log(`\n${o.table}: ${o.status}${o.error ? ` (${o.error})` : ''}`);
            if (o.report) for (const line of describeReport(o.report)) console.log(`  ${line}`);
          }
        } catch (error) {
          console.error(`${handle.workflowId} failed: ${error instanceof WorkflowFailedError ? error.cause?.message : (error as Error).message}`);
          process.exitCode = 1;
        } finally {
          stop();
        }
      }
    } finally {
      await connection.close();
    }
  })
  .parseAsync(process.argv)
  .catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });

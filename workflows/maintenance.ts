import { ApplicationFailure, defineQuery, executeChild, isCancellation, log, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import { z } from 'zod';
import type { MaintenanceActivities } from '../activities';
import type { MaintenanceOverrides, MaintenanceReport } from '../src/maintenance';
import { maintainTableId } from '../src/maintenance/workflow-ids';

/** The same query as the sync workflows' `progress`: where the run stands. */
const progressQuery = defineQuery<Record<string, string>>('progress');

/*
 * Table maintenance as workflows: maintainTable (one table: wait for its syncs, compact, expire
 * snapshots, remove orphans, keep the report on the table) and maintainNamespace (one child per
 * table). A table's maintenance has one workflow id (maintainTableId), so two never run at once.
 */

export type MaintenanceStep = 'compact' | 'expire' | 'orphans';
export const MAINTENANCE_STEPS: readonly MaintenanceStep[] = ['compact', 'expire', 'orphans'];

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;
const namespace = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/, { message: 'must be an Iceberg namespace such as salesforce' });

/** What a maintenance run may change of the worker's MAINTENANCE_* settings. */
const overrides = {
  steps: z
    .array(z.enum(['compact', 'expire', 'orphans']))
    .min(1)
    .optional(),
  targetFileMb: z.number().positive().optional(),
  maxManifests: z.number().int().min(1).optional(),
  keepSnapshots: z.number().int().min(1).optional(),
  keepSnapshotHours: z.number().min(0).optional(),
  /** Unreferenced files younger than this are kept (a fraction of an hour is allowed; 0 only for tests and emptied tables). */
  orphanAgeHours: z.number().min(0).optional(),
  /** Wait at most this long (minutes) for running syncs of the table to end (default 360). */
  waitForSyncsMinutes: z.number().min(0).optional(),
};

export const maintainTableInput = z.object({ namespace, table: z.string().regex(identifier, { message: 'must be a table name' }), ...overrides }).strict();
export const maintainNamespaceInput = z
  .object({ namespace, tables: z.array(z.string().regex(identifier)).optional(), concurrency: z.number().int().min(1).max(16).optional(), ...overrides })
  .strict();

export type MaintainTableInput = z.infer<typeof maintainTableInput>;
export type MaintainNamespaceInput = z.infer<typeof maintainNamespaceInput>;

export { maintainTableId };

function checked<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
  throw ApplicationFailure.nonRetryable(`Invalid ${what}: ${problems.join('; ')}`, 'InvalidInput', problems);
}

function activities(waitMinutes: number) {
  const retry = { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' };
  const step = proxyActivities<MaintenanceActivities>({ startToCloseTimeout: '12 hours', heartbeatTimeout: '2 minutes', retry: { ...retry, maximumAttempts: 5 } });
  // Retried (every minute at most) until the table's syncs have ended, or the wait is over.
  const { waitForSyncs } = proxyActivities<MaintenanceActivities>({
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: `${Math.max(1, waitMinutes)} minutes`,
    retry: { ...retry, initialInterval: '10 seconds' },
  });
  const { listTables } = proxyActivities<MaintenanceActivities>({ startToCloseTimeout: '5 minutes', retry: { ...retry, maximumAttempts: 5 } });
  // A proxy has no own keys to spread: name each activity.
  const { compactTable, expireTableSnapshots, removeTableOrphans, recordMaintenance } = step;
  return { compactTable, expireTableSnapshots, removeTableOrphans, recordMaintenance, waitForSyncs, listTables };
}

/**
 * Maintains one table: waits until no sync of it runs, then compaction (with manifest rewrite),
 * snapshot expiry and orphan removal, each an activity that reports what it did; the report is
 * the result and is kept on the table.
 */
export async function maintainTable(raw: MaintainTableInput): Promise<MaintenanceReport> {
  const input = checked(maintainTableInput, raw, 'maintainTable input');
  const { namespace: ns, table } = input;
  const steps = new Set(input.steps ?? MAINTENANCE_STEPS);
  const act = activities(input.waitForSyncsMinutes ?? 360);
  const overrides: MaintenanceOverrides = { ...input };
  let stage = 'waiting for syncs of the table to end';
  const report: MaintenanceReport = { table: `${ns}.${table}`, startedAt: new Date(Date.now()).toISOString(), finishedAt: '' };
  const show = () => setCurrentDetails([`**${ns}.${table}**`, `stage: ${stage}`].join('\n\n'));
  setHandler(progressQuery, () => ({ table: `${ns}.${table}`, stage }));
  const moveTo = (next: string) => {
    stage = next;
    show();
  };
  show();
  await act.waitForSyncs(ns, table, workflowInfo().runStartTime.getTime());
  if (steps.has('compact')) {
    moveTo('compacting');
    report.compaction = await act.compactTable(ns, table, overrides);
  }
  if (steps.has('expire')) {
    moveTo('expiring snapshots');
    report.expiry = await act.expireTableSnapshots(ns, table, overrides);
  }
  if (steps.has('orphans')) {
    moveTo('removing orphan files');
    report.orphans = await act.removeTableOrphans(ns, table, overrides);
  }
  report.finishedAt = new Date(Date.now()).toISOString();
  moveTo('recording the report');
  await act.recordMaintenance(ns, table, report);
  moveTo('done');
  return report;
}

export interface TableOutcome {
  table: string;
  status: 'succeeded' | 'failed' | 'skipped';
  report?: MaintenanceReport;
  error?: string;
}

/**
 * Maintains every table of a namespace (or the ones named), one maintainTable child per table
 * under the table's own maintenance id: a table whose maintenance already runs is skipped. One
 * table failing does not stop the others; the workflow fails after the rest, naming it.
 */
export async function maintainNamespace(raw: MaintainNamespaceInput): Promise<TableOutcome[]> {
  const input = checked(maintainNamespaceInput, raw, 'maintainNamespace input');
  const { namespace: ns, tables: only, concurrency, ...overrides } = input;
  const act = activities(0);
  const tables = only ?? (await act.listTables(ns));
  const status: Record<string, string> = Object.fromEntries(tables.map((t) => [t, 'waiting']));
  const show = () =>
    setCurrentDetails(
      Object.entries(status)
        .map(([t, s]) => `- **${t}**: ${s}`)
        .join('\n'),
    );
  setHandler(progressQuery, () => status);
  show();
  const queue = [...tables];
  const outcomes: TableOutcome[] = [];
  const lane = async () => {
    while (queue.length > 0) {
      const table = queue.shift()!;
      status[table] = 'running';
      show();
      let outcome: TableOutcome;
      try {
        const report = await executeChild(maintainTable, {
          workflowId: maintainTableId(ns, table),
          args: [{ namespace: ns, table, ...overrides }],
          staticSummary: `maintain ${ns}.${table}`,
        });
        outcome = { table, status: 'succeeded', report };
      } catch (error) {
        if (isCancellation(error)) throw error;
        const message = rootMessage(error);
        const already = /already (started|running)/i.test(message);
        outcome = { table, status: already ? 'skipped' : 'failed', error: already ? 'its maintenance is already running' : message };
        if (!already) log.warn(`maintenance of ${ns}.${table} failed: ${message}`);
      }
      outcomes.push(outcome);
      status[table] = outcome.status === 'succeeded' ? 'done' : `${outcome.status}: ${outcome.error}`;
      show();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency ?? 1, Math.max(1, tables.length)) }, lane));
  const failed = outcomes.filter((o) => o.status === 'failed');
  if (failed.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `${failed.length} of ${outcomes.length} tables failed: ${failed.map((f) => `${f.table}: ${f.error}`).join('; ')}`,
      'MaintenanceFailed',
      outcomes,
    );
  }
  return outcomes;
}

function rootMessage(error: unknown): string {
  let root = error as Error & { cause?: unknown };
  while (root.cause instanceof Error) root = root.cause as Error & { cause?: unknown };
  return root.message;
}

import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll } from 'vitest';
import type { ObjectOutcome, SalesforceSyncInput } from '../../workflows';
import type { SalesforceSimulator } from '../../src/salesforce-sim/server';
import { runSyncWorker } from './in-process-worker';
import { readersAt } from './readers';
import { stackSettings, uniqueName, type StackSettings } from './stack';
import { temporalConnection } from '../../worker/temporal-connection';

/**
 * What a test file of whole syncs needs, set up before its tests and taken down after: the
 * simulator started, in-process workers polling their own task queues (the main one, plus one per
 * entry of `workers`, named `<main>-<suffix>`, with extra settings), a Temporal client, and fresh
 * namespaces that are dropped at the end, so no test depends on what another left behind.
 */
export function syncHarness(opts: { name: string; sim: SalesforceSimulator; env?: Record<string, string>; workers?: Record<string, Record<string, string>> }) {
  const settings: StackSettings = stackSettings();
  const taskQueue = uniqueName(opts.name);
  const namespaces: { name: string; env: Record<string, string> }[] = [];
  const running: { stop: () => Promise<void> }[] = [];
  let client: Client | undefined;

  beforeAll(async () => {
    await opts.sim.start();
    const env = { ...settings, ...opts.sim.settingsEnv(), SYNC_LAG_MS: '0', ...opts.env };
    running.push(await runSyncWorker(env, taskQueue));
    for (const [suffix, extra] of Object.entries(opts.workers ?? {})) running.push(await runSyncWorker({ ...env, ...extra }, `${taskQueue}-${suffix}`));
    // The client connects as the workers do (opts.env may point them at another server, or through TLS).
    const temporal = temporalConnection(env);
    client = new Client({ connection: await Connection.connect(temporal.options), namespace: temporal.namespace });
  });

  afterAll(async () => {
    for (const w of running) await w.stop();
    await opts.sim.stop();
    for (const ns of namespaces) await readersAt(ns.env, 'drop', ns.name).catch(() => undefined);
  });

  return {
    settings,
    taskQueue,
    get client(): Client {
      if (!client) throw new Error('the sync harness is not set up yet (use it inside tests)');
      return client;
    },
    /**
     * A namespace of the test's own, dropped after the file's tests (from the stack's catalog, or
     * the one at `catalog`: its URI, or settings laid over the stack's such as another warehouse).
     */
    namespace(catalog: string | Record<string, string> = settings.ICEBERG_CATALOG_URI): string {
      const ns = uniqueName(opts.name);
      namespaces.push({ name: ns, env: typeof catalog === 'string' ? { ICEBERG_CATALOG_URI: catalog } : catalog });
      return ns;
    },
    /** Runs salesforceSync to its end (on the worker of `queue`, a suffix of `workers`); `workflowId` defaults to a fresh one. */
    sync(input: SalesforceSyncInput, run: { queue?: string; workflowId?: string } = {}): Promise<ObjectOutcome[]> {
      return this.client.workflow.execute('salesforceSync', {
        taskQueue: run.queue ? `${taskQueue}-${run.queue}` : taskQueue,
        workflowId: run.workflowId ?? uniqueName('sync'),
        args: [input],
      });
    },
    /** Like `sync`, but a sync that failed for some objects answers every object's outcome too (its failure's details). */
    async outcomes(input: SalesforceSyncInput, run: { queue?: string; workflowId?: string } = {}): Promise<ObjectOutcome[]> {
      try {
        return await this.sync(input, run);
      } catch (error) {
        const details = ((error as { cause?: { details?: unknown[] } }).cause?.details?.[0] as ObjectOutcome[] | undefined) ?? undefined;
        if (!details) throw error;
        return details;
      }
    },
  };
}

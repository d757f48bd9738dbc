import path from 'node:path';
import { msToTs } from '@temporalio/common/lib/time';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchAttributeProblems, type SyncActivities } from '../../activities';
import { temporalCheck } from '../../worker/preflight';
import { ensureSearchAttributes, searchAttributeState } from '../../activities/search-attribute-state';
import type { salesforceSync } from '../../workflows';
import { runPreflight } from '../../src/preflight/checks';
import { temporalCliPath } from '../helpers/temporal-cli';
import { salesforceSearchAttributes } from '../helpers/search-attributes';

// A dev server of its own that starts without the sync's search attributes (as another Temporal would).
Runtime.install({ logger: new DefaultLogger('WARN') });

let env: TestWorkflowEnvironment;
let code: string;
let queues = 0;

beforeAll(async () => {
  [env, { code }] = await Promise.all([
    TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: temporalCliPath() } } }),
    bundleWorkflowCode({ workflowsPath: path.join(__dirname, '..', '..', 'workflows', 'index.ts'), logger: new DefaultLogger('WARN') }),
  ]);
});

afterAll(() => env?.teardown());

/** Activities that do nothing but answer as the real ones would; the search-attribute check is the real one. */
const stubs: SyncActivities = {
  prepareObject: async (input) => ({ ...input, table: input.object.toLowerCase(), writeMode: input.writeMode ?? 'merge', upTo: '2024-01-01T00:00:00.000Z', idColumn: 'id' }),
  extractObject: async (p) => ({ staging: `staging/${p.object}`, rows: 7, files: 1, bytes: 1, deleted: 0, timings: { readS: 0, readCpuS: 0, buildS: 0, encodeS: 0, uploadS: 0 } }),
  commitObject: async (_p, staging) => ({ snapshotId: `${staging}#1`, rows: 7, deleted: 0, alreadyCommitted: false }),
  cleanupObject: async () => 0,
  planObject: async () => ({ partitions: [], inFlight: 1 }),
  extractPartition: async () => {
    throw new Error('not partitioned');
  },
  reconcileObject: async () => {
    throw new Error('not reconciled');
  },
  searchAttributeProblems,
  waitForMaintenance: async () => undefined,
  maintenanceRunning: async () => undefined,
  syncDefaults: async () => ({}),
  checkAtomicPublish: async () => undefined,
  checkObjectNames: async () => [],
  publishObjects: async () => [],
};

async function sync(workflowId: string) {
  const taskQueue = `attrs-${++queues}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: { code }, activities: stubs });
  return worker.runUntil(env.client.workflow.execute<typeof salesforceSync>('salesforceSync', { taskQueue, workflowId, args: [{ objects: ['Account'] }] }));
}

const salesforceAttributes = (id: string) => salesforceSearchAttributes(env.client, id);

const operator = () => env.connection.operatorService;

describe('the sync on a Temporal namespace without its search attributes', () => {
  it('runs, without them, and the preflight names the commands that create them', async () => {
    expect((await searchAttributeState(operator(), 'default')).missing.map((k) => k.name)).toEqual([
      'SalesforceObject',
      'SalesforceSyncMode',
      'SalesforceWriteMode',
      'SalesforceNamespace',
      'SalesforceRows',
    ]);
    expect(await sync('bare')).toMatchObject([{ object: 'Account', status: 'succeeded' }]);
    expect(await salesforceAttributes('bare/Account')).toEqual({});

    const [result] = await runPreflight({ TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default' }, { checks: [temporalCheck] });
    expect(result!.status).toBe('ok');
    expect(result!.message).toContain(
      'search attributes: lacks SalesforceObject, SalesforceSyncMode, SalesforceWriteMode, SalesforceNamespace, SalesforceRows (syncs run without them; to list syncs by them, create them: ',
    );
    expect(result!.message).toContain('temporal operator search-attribute create --namespace default --name SalesforceRows --type Int');
  });

  it('once registered (as `stack up` does, idempotently), the next sync sets them', async () => {
    expect(await ensureSearchAttributes(operator(), 'default')).toEqual(['SalesforceObject', 'SalesforceSyncMode', 'SalesforceWriteMode', 'SalesforceNamespace', 'SalesforceRows']);
    expect(await ensureSearchAttributes(operator(), 'default')).toEqual([]);
    expect(await sync('registered')).toMatchObject([{ object: 'Account', status: 'succeeded' }]);
    expect(await salesforceAttributes('registered/Account')).toEqual({
      SalesforceObject: 'Account',
      SalesforceSyncMode: 'incremental',
      SalesforceWriteMode: 'merge',
      SalesforceNamespace: 'salesforce',
      SalesforceRows: 7,
    });
    const [result] = await runPreflight({ TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default' }, { checks: [temporalCheck] });
    expect(result!.message).not.toContain('search attributes');
  });

  it('one registered with another type is refused by name', async () => {
    await env.connection.workflowService.registerNamespace({ namespace: 'typed', workflowExecutionRetentionPeriod: msToTs('1 day') });
    await operator().addSearchAttributes({ namespace: 'typed', searchAttributes: { SalesforceRows: 2 /* Keyword */ } });
    await expect(ensureSearchAttributes(operator(), 'typed')).rejects.toThrow(
      'Temporal namespace typed has search attributes of the wrong type: SalesforceRows is KEYWORD, not INT',
    );
  });
});

import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { temporalConnection } from '../../worker/temporal-connection';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectIceberg } from '../../src/iceberg/connect';
import { loadTable } from '../../src/iceberg/table';
import type { ObjectOutcome } from '../../workflows';
import { startCatalogProxy } from '../helpers/catalog-proxy';
import { runSyncWorker } from '../helpers/in-process-worker';
import { readers } from '../helpers/readers';
import { stackSettings, uniqueName, until } from '../helpers/stack';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';

/*
 * Failures retrying cannot fix end at once, non-retryably, with a message that says what to do, and
 * a failed sync leaves the catalog as it found it. Real stack; the catalog is reached through a
 * pass-through that can refuse data commits.
 */
const settings = stackSettings();
const sim = new SalesforceSimulator({ rowCounts: { Account: 5_000, Contact: 20 } });
const { catalog, storeFor } = connectIceberg(settings);
const taskQueue = uniqueName('failures');
const namespaces: string[] = [];
let client: Client;
let proxy: Awaited<ReturnType<typeof startCatalogProxy>>;
/** Status the pass-through answers every data commit with (undefined: forward it). */
let refuseCommits: number | undefined;
const workers: { stop: () => Promise<void> }[] = [];

beforeAll(async () => {
  await sim.start();
  proxy = await startCatalogProxy(settings.ICEBERG_CATALOG_URI, {
    before: async (req) =>
      req.isDataCommit && refuseCommits
        ? { status: refuseCommits, body: { error: { message: 'Requirement failed: this catalog refuses the commit', type: 'BadRequestException', code: refuseCommits } } }
        : undefined,
  });
  const proxied = proxy.uri;
  const env = { ...settings, ...sim.settingsEnv(), SYNC_LAG_MS: '0', SALESFORCE_READ_API: 'rest', ICEBERG_CATALOG_URI: proxied };
  workers.push(await runSyncWorker(env, taskQueue));
  // The same stack with a wrong S3 secret key, on a queue of its own.
  workers.push(await runSyncWorker({ ...env, S3_SECRET_ACCESS_KEY: 'not-the-secret-key' }, `${taskQueue}-bad-s3`));
  client = new Client({ connection: await Connection.connect(temporalConnection(settings).options) });
});

afterAll(async () => {
  for (const w of workers) await w.stop();
  await proxy?.close();
  await sim.stop();
  for (const ns of namespaces) await readers('drop', ns).catch(() => undefined);
});

function freshNamespace(): string {
  const ns = uniqueName('failures');
  namespaces.push(ns);
  return ns;
}

/** Runs a sync that must fail; returns the parent's message and the child's history. */
async function failingSync(objects: string[], namespace: string, queue = taskQueue) {
  const workflowId = uniqueName('failing');
  const error = await client.workflow.execute('salesforceSync', { taskQueue: queue, workflowId, args: [{ objects, namespace }] }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = (error as WorkflowFailedError).cause as Error & { details?: unknown[] };
  const history = await client.workflow.getHandle(`${workflowId}/${objects[0]}`).fetchHistory();
  // Attempts of the sync's steps (the wait for a maintenance of the table, which has none to wait for, aside).
  const waits = new Set((history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'waitForMaintenance').map((e) => String(e.eventId)));
  const attempts = (history.events ?? [])
    .filter((e) => e.activityTaskStartedEventAttributes && !waits.has(String(e.activityTaskStartedEventAttributes.scheduledEventId)))
    .map((e) => e.activityTaskStartedEventAttributes!.attempt);
  return { message: cause.message, outcomes: cause.details?.[0] as ObjectOutcome[], attempts };
}

describe('faults that can heal (real stack)', () => {
  it('are retried, and while they are the reason shows in the heartbeat and in both progress queries', async () => {
    const namespace = freshNamespace();
    // Salesforce answers Contact's query with 503 six times: the client's own retries (its
    // heartbeat says why), then the activity's first attempt fails and Temporal retries it.
    // (The extraction's first page, by its ORDER BY: prepare's field probe, a LIMIT 1 query, is not hit.)
    const read = 'ORDER%20BY';
    sim.addFault({ kind: 'unavailable', path: '/query', search: read, count: 6 });
    const fourth = sim.hold({ path: '/query', object: 'Contact', search: read, skip: 3 });
    const workflowId = uniqueName('healing');
    const handle = await client.workflow.start('salesforceSync', { taskQueue, workflowId, args: [{ objects: ['Contact'], namespace }] });
    const child = client.workflow.getHandle(`${workflowId}/Contact`);
    await fourth.arrived;
    const beat = await until('a heartbeat saying why the extraction waits', async () => {
      const pending = (await child.describe()).raw.pendingActivities?.[0];
      const payload = pending?.heartbeatDetails?.payloads?.[0];
      const details = payload ? defaultPayloadConverter.fromPayload<{ retrying?: string }>(payload) : undefined;
      return details?.retrying ? details.retrying : undefined;
    });
    expect(beat).toMatch(/Salesforce answered GET \/query with 503 SERVER_UNAVAILABLE; attempt 4 of 6 follows/);
    // The retried attempt's first query is held: progress is read while Temporal retries.
    const retried = sim.hold({ path: '/query', object: 'Contact', search: read, skip: 2 });
    fourth.release();
    await retried.arrived;
    const childProgress = await until('the child to say it retries', async () => {
      const p = await child.query<Record<string, string>>('progress');
      return p.retrying ? p : undefined;
    });
    expect(childProgress).toMatchObject({
      object: 'Contact',
      stage: 'extracting',
      retrying: expect.stringMatching(/^extractObject attempt 1 failed: Salesforce answered GET \/query with 503 SERVER_UNAVAILABLE.*; retrying$/),
    });
    const parentProgress = await until('the parent to say it retries', async () => {
      const p = await handle.query<Record<string, string>>('progress');
      return p.Contact?.startsWith('running (') ? p : undefined;
    });
    expect(parentProgress.Contact).toMatch(/^running \(extractObject attempt 1 failed: .*503 SERVER_UNAVAILABLE/);
    retried.release();
    const outcomes = (await handle.result()) as ObjectOutcome[];
    expect(outcomes).toMatchObject([{ object: 'Contact', status: 'succeeded', result: { rows: 20 } }]);
  });

  it('an expired query locator mid-read: the retry queries again and the table equals the source', async () => {
    const namespace = freshNamespace();
    sim.addFault({ kind: 'invalid-locator', path: '/query/', count: 1 });
    const workflowId = uniqueName('locator');
    const outcomes = (await client.workflow.execute('salesforceSync', { taskQueue, workflowId, args: [{ objects: ['Account'], namespace }] })) as ObjectOutcome[];
    expect(outcomes).toMatchObject([{ object: 'Account', status: 'succeeded', result: { rows: 5_000 } }]);
    const history = await client.workflow.getHandle(`${workflowId}/Account`).fetchHistory();
    // A retried activity's history keeps the started event of its last attempt only.
    const events = history.events ?? [];
    const extractScheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'extractObject')!;
    const extractStarted = events.filter((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(extractScheduled.eventId));
    expect(extractStarted.map((e) => e.activityTaskStartedEventAttributes!.attempt)).toEqual([2]);
    const read = await readers<{ rows: { id: string }[] }>('read', '--reader', 'pyiceberg', namespace, 'account');
    expect(read.rows.map((r) => String(r.id)).sort()).toEqual([...sim.org.records(sim.org.object('Account')!, false)].map((r) => String(r.Id)).sort());
  });
});

describe('failures that retrying cannot fix (real stack)', () => {
  it('a catalog that refuses data commits (400): fails at once, and the table and namespace the sync created are gone again', async () => {
    const namespace = freshNamespace();
    refuseCommits = 400;
    try {
      const { message, attempts, outcomes } = await failingSync(['Account'], namespace);
      expect(message).toMatch(/1 of 1 objects failed: Account: The catalog refused the request: .*this catalog refuses the commit/);
      expect(outcomes[0]?.code).toBe('CATALOG_REFUSED');
      // prepare, extract, commit once each, then cleanup: no attempt 2 of anything.
      expect(attempts.every((a) => a === 1)).toBe(true);
    } finally {
      refuseCommits = undefined;
    }
    expect(await catalog.namespaceExists([namespace])).toBe(false);
  });

  it('a table made elsewhere without an id column is refused and left unchanged', async () => {
    const namespace = freshNamespace();
    await catalog.ensureNamespace([namespace]);
    const created = await catalog.createTable([namespace], {
      name: 'account',
      schema: { type: 'struct', 'schema-id': 0, fields: [{ id: 1, name: 'name', type: 'string', required: false }] },
      properties: { 'format-version': '2' },
    });
    const { message, attempts, outcomes } = await failingSync(['Account'], namespace);
    expect(message).toMatch(/Account: Table .*\.account exists but has no column "id"/);
    expect(outcomes[0]?.code).toBe('SCHEMA_INCOMPATIBLE');
    expect(attempts).toEqual([1]);
    const after = await loadTable({ catalog, namespace: [namespace], name: 'account', storeFor });
    expect(after.metadata.schemas).toHaveLength(created.metadata.schemas.length);
    expect(after.schema().fields.map((f) => f.name)).toEqual(['name']);
    expect(after.currentSnapshot()).toBeUndefined();
  });

  it('a wrong S3 secret key: fails at once naming the setting, and leaves no table behind', async () => {
    const namespace = freshNamespace();
    const { message, attempts, outcomes } = await failingSync(['Contact'], namespace, `${taskQueue}-bad-s3`);
    expect(message).toMatch(/Contact: .*S3_SECRET_ACCESS_KEY.*SignatureDoesNotMatch/);
    expect(outcomes[0]?.code).toBe('S3_BAD_SIGNATURE');
    expect(message).not.toContain('not-the-secret-key');
    expect(attempts).toEqual([1]);
    expect(await catalog.tableExists([namespace], 'contact')).toBe(false);
    expect(await catalog.namespaceExists([namespace])).toBe(false);
  });

  it('unknown objects among known ones: checked against the org before any child starts, each named with the closest match; the others land, nothing is made for them', async () => {
    const namespace = freshNamespace();
    const workflowId = uniqueName('names');
    const error = await client.workflow.execute('salesforceSync', { taskQueue, workflowId, args: [{ objects: ['Contact', 'NoSuchObject__c', 'Contcat'], namespace }] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const cause = (error as WorkflowFailedError).cause as Error & { details?: unknown[] };
    expect(cause.message).toMatch(
      /^2 of 3 objects failed: NoSuchObject__c: Salesforce has no object named NoSuchObject__c: it was not synced .*; Contcat: Salesforce has no object named Contcat \(did you mean Contact\?\)/,
    );
    expect((cause.details?.[0] as ObjectOutcome[]).map((o) => [o.object, o.status, o.code])).toEqual([
      ['Contact', 'succeeded', undefined],
      ['NoSuchObject__c', 'failed', 'UNKNOWN_OBJECT'],
      ['Contcat', 'failed', 'UNKNOWN_OBJECT'],
    ]);
    // One child workflow (Contact's), started after the check.
    const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const started = events.flatMap((e) => (e.startChildWorkflowExecutionInitiatedEventAttributes ? [e.startChildWorkflowExecutionInitiatedEventAttributes.workflowId] : []));
    expect(started).toEqual([`${workflowId}/Contact`]);
    expect(await catalog.listTables([namespace])).toEqual(['contact']);
  });
});

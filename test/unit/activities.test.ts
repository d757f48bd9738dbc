import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { CancelledFailure } from '@temporalio/common';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities, withWriteMode, type ExtractHeartbeat } from '../../activities';
import { DuckDbDestination } from '../../src/destinations/duckdb';
import { SalesforceClient } from '../../src/salesforce/client';
import { describeObject } from '../../src/salesforce/describe';
import { CatalogUnavailableError } from '../../src/iceberg/errors';
import { classifyFailure } from '../../src/sync/failures';
import type { Destination } from '../../src/destinations/destination';
import { parseSalesforceSettings, salesforceEnv } from '../../src/salesforce/settings';
import type { ExtractResult, PrepareObjectInput, PreparedObject } from '../../src/sync/types';
import type { ExtractPlan } from '../../src/sync/partitions';
import type { WriteModeName } from '../../src/sync/objects';
import { until } from '../helpers/stack';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';

/*
 * The sync's activities run in MockActivityEnvironment: no Temporal server, no catalog, no S3.
 * Salesforce is the in-process simulator (REST pages of 2,000 rows), the destination a DuckDB file.
 */
const ACCOUNTS = 10_000;
const sim = new SalesforceSimulator({ rowCounts: { Account: ACCOUNTS, Contact: 10 } });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'activities-'));
const duckdbFile = path.join(dir, 'sync.duckdb');
/** Records served to the client, counted from the query pages it received (prepare's LIMIT 1 probe of the fields it may read aside). */
let served = 0;
let activities: ReturnType<typeof createActivities>;

beforeAll(async () => {
  await sim.start();
  const counting: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (String(input).includes('/query') && !decodeURIComponent(String(input)).endsWith(' LIMIT 1'))
      served += ((await response.clone().json()) as { records?: unknown[] }).records?.length ?? 0;
    return response;
  };
  const salesforce = new SalesforceClient(parseSalesforceSettings(sim.settingsEnv()), { fetch: counting, backoffMs: 5 });
  // A checkpoint after every page: the test knows which rows a checkpoint covers.
  activities = createActivities({ salesforce, destination: new DuckDbDestination(duckdbFile), lagMs: 0, api: 'rest', checkpointMs: 0 });
});

afterAll(async () => {
  await sim.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs an activity attempt in its own mock environment, keeping its last heartbeat. */
function attempt<R>(fn: () => Promise<R>, info: { attempt: number; heartbeatDetails?: unknown }) {
  const env = new MockActivityEnvironment(info);
  const seen: { last?: ExtractHeartbeat } = {};
  env.on('heartbeat', (d: ExtractHeartbeat) => (seen.last = d));
  const result = env.run(fn) as Promise<R>;
  // Handled here too: a cancelled attempt may reject before the test looks at it.
  result.catch(() => undefined);
  return { env, seen, result };
}

async function prepare(object: string, runId: string, namespace = 'unit', acts = activities): Promise<PreparedObject> {
  return new MockActivityEnvironment().run(acts.prepareObject, { object, namespace: [namespace], runId, writeMode: 'append' as const, full: true });
}

async function tableIds(table: string, namespace = 'unit'): Promise<string[]> {
  const db = await DuckDBInstance.create(duckdbFile);
  const c = await db.connect();
  try {
    const rows = (await c.runAndReadAll(`SELECT id FROM ${namespace}.${table} ORDER BY id`)).getRows();
    return rows.map((r) => String(r[0]));
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

const sourceIds = (object: string, from = sim) => [...from.org.records(from.org.object(object)!, false)].map((r) => String(r.Id)).sort();

describe('sync activities (MockActivityEnvironment, no servers)', () => {
  it('read the write mode under its old name, `mode`, as activities scheduled by an earlier version carry it', async () => {
    type Input = { object: string; writeMode?: WriteModeName };
    const read = (input: object) => withWriteMode(input as Input);
    expect(read({ object: 'Account', mode: 'append' })).toEqual({ object: 'Account', writeMode: 'append' });
    expect(read({ object: 'Account', writeMode: 'merge' })).toEqual({ object: 'Account', writeMode: 'merge' });
    expect(read({ object: 'Account', writeMode: 'merge', mode: 'merge' })).toEqual({ object: 'Account', writeMode: 'merge' });
    expect(read({ object: 'Account' })).toEqual({ object: 'Account' });
    // Account is merged by default: the old key decides.
    const old = { object: 'Account', namespace: ['unit_old_names'], runId: 'unit-old-names@1', mode: 'append', full: true };
    const prepared = (await new MockActivityEnvironment().run(activities.prepareObject, old as unknown as PrepareObjectInput)) as PreparedObject;
    expect(prepared).toMatchObject({ object: 'Account', writeMode: 'append' });
    expect(prepared).not.toHaveProperty('mode');
  });

  it("a second attempt given the first one's heartbeat reads on from its checkpoint: nothing lost, nothing doubled", async () => {
    const prepared = await prepare('Account', 'unit-resume@1');
    // The third page is held; the first attempt is stopped there with two pages checkpointed.
    const third = sim.hold({ path: '/query/', object: 'Account', skip: 1 });
    const first = attempt(() => activities.extractObject(prepared), { attempt: 1 });
    await third.arrived;
    const checkpointed = await until('a heartbeat with the checkpoint at 4,000 rows', async () => (first.seen.last?.checkpoint?.rows === 4_000 ? first.seen.last : undefined));
    first.env.cancel();
    await expect(first.result).rejects.toBeInstanceOf(CancelledFailure);
    third.release();
    expect(served).toBe(4_000);

    const second = attempt(() => activities.extractObject(prepared), { attempt: 2, heartbeatDetails: checkpointed });
    const extracted = await second.result;
    expect(second.seen.last?.resumedFrom).toBe(4_000);
    expect(extracted.rows).toBe(ACCOUNTS);
    // Only the rows after the checkpoint were read again, and the first attempt's files were kept.
    expect(served).toBe(ACCOUNTS);
    expect(extracted.files).toBeGreaterThanOrEqual(3);

    // Append mode: a row written twice would show up twice.
    const committed = await new MockActivityEnvironment().run(activities.commitObject, prepared, extracted.staging);
    expect(committed).toMatchObject({ rows: ACCOUNTS, alreadyCommitted: false });
    expect(await tableIds('account')).toEqual(sourceIds('Account'));
    // A retried commit finds the run's own commit and adds nothing.
    expect(await new MockActivityEnvironment().run(activities.commitObject, prepared, extracted.staging)).toMatchObject({ alreadyCommitted: true });
    expect(await tableIds('account')).toHaveLength(ACCOUNTS);
  });

  it('cancellation stops an extraction waiting for Salesforce at once, and cleanup removes what it wrote', async () => {
    const prepared = await prepare('Contact', 'unit-cancel@1');
    const firstPage = sim.hold({ path: '/query', object: 'Contact' });
    const run = attempt(() => activities.extractObject(prepared), { attempt: 1 });
    await firstPage.arrived;
    run.env.cancel();
    // The request in flight is abandoned, not awaited.
    await firstPage.dropped;
    await expect(run.result).rejects.toBeInstanceOf(CancelledFailure);
    firstPage.release();
    expect(await new MockActivityEnvironment().run(activities.cleanupObject, prepared)).toBe(0);
  });

  it('the cleanup heartbeats as an activity, and not at all as a local activity (which has no heartbeat)', async () => {
    const prepared = await prepare('Contact', 'unit-local-cleanup@1', 'unit_cleanup');
    const extracted = (await new MockActivityEnvironment().run(activities.extractObject, prepared)) as ExtractResult;
    await new MockActivityEnvironment().run(activities.commitObject, prepared, extracted.staging);
    for (const isLocal of [false, true]) {
      const env = new MockActivityEnvironment({ isLocal });
      let beats = 0;
      env.on('heartbeat', () => beats++);
      // The first removes the run's staging; the second finds nothing left.
      expect(((await env.run(activities.cleanupObject, prepared)) as number) > 0).toBe(!isLocal);
      expect(beats > 0).toBe(!isLocal);
    }
  });

  it('a failure retrying cannot fix is non-retryable, with the reason in its message', async () => {
    const error = await new MockActivityEnvironment().run(activities.prepareObject, { object: 'NoSuchObject__c', namespace: ['unit'], runId: 'unit-unknown@1', full: true }).then(
      () => undefined,
      (e: unknown) => e as { nonRetryable?: boolean; message: string; type?: string },
    );
    expect(error?.nonRetryable).toBe(true);
    expect(error?.type).toBe('UNKNOWN_OBJECT');
    expect(error?.message).toMatch(/Salesforce has no object named NoSuchObject__c/);
  });

  it('partitionBy asked of the DuckDB destination is refused before anything is created (it lays out Iceberg tables only)', async () => {
    const input = { object: 'Account', namespace: ['unit_layout'], runId: 'unit-layout@1', full: true, partitionBy: ['month(CreatedDate)'] };
    const error = await new MockActivityEnvironment().run(activities.prepareObject, input).then(
      () => undefined,
      (e: unknown) => e as { nonRetryable?: boolean; message: string; type?: string },
    );
    expect(error).toMatchObject({ nonRetryable: true, type: 'INPUT_INVALID' });
    expect(error?.message).toMatch(/DuckDB destination writes plain DuckDB tables/);
    const after = await new MockActivityEnvironment().run(activities.prepareObject, { ...input, partitionBy: undefined, runId: 'unit-layout@2' });
    expect(after).toMatchObject({ object: 'Account', created: { table: true } });
  });

  it('an API version the org does not offer is named as such, not as an unknown object', async () => {
    const client = new SalesforceClient(parseSalesforceSettings({ ...sim.settingsEnv(), SOURCES__SALESFORCE__VERSION: '99.0' }), { backoffMs: 5 });
    const error = await describeObject(client, 'Account').then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toBe('This org does not offer Salesforce API version 99.0 (SOURCES__SALESFORCE__VERSION); its newest is 62.0.');
    expect(classifyFailure(error).retryable).toBe(false);
  });
});

/*
 * Bulk reads: parallel result pages of 1,000 rows, two in flight. A checkpoint names the job and
 * the next page, not a row (Bulk jobs are unordered so that Salesforce can chunk them).
 */
describe('Bulk extraction attempts (MockActivityEnvironment, no servers)', () => {
  const bulkSim = new SalesforceSimulator({ rowCounts: { Account: ACCOUNTS }, resultPageRecords: 1_000 });
  let bulk: ReturnType<typeof createActivities>;
  let client: SalesforceClient;
  /** Records of Bulk result pages the client received (Sforce-NumberOfRecords). */
  let downloaded = 0;

  beforeAll(async () => {
    await bulkSim.start();
    const counting: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (String(input).includes('/results')) downloaded += Number(response.headers.get('sforce-numberofrecords') ?? 0);
      return response;
    };
    client = new SalesforceClient(parseSalesforceSettings(bulkSim.settingsEnv()), { fetch: counting, backoffMs: 5 });
    bulk = createActivities({ salesforce: client, destination: new DuckDbDestination(duckdbFile), lagMs: 0, api: 'bulk', pagesInFlight: 2, checkpointMs: 0 });
  });
  afterAll(() => bulkSim.stop());

  /** A first attempt stopped while the fourth page is held: three pages (3,000 rows) checkpointed. */
  async function stoppedAfterThreePages(prepared: PreparedObject): Promise<ExtractHeartbeat> {
    const fourth = bulkSim.hold({ path: '/results', skip: 3 });
    const first = attempt(() => bulk.extractObject(prepared), { attempt: 1 });
    await fourth.arrived;
    const checkpointed = await until('a heartbeat with the checkpoint at 3,000 rows', async () => (first.seen.last?.checkpoint?.rows === 3_000 ? first.seen.last : undefined));
    first.env.cancel();
    await expect(first.result).rejects.toBeInstanceOf(CancelledFailure);
    fourth.release();
    return checkpointed;
  }

  it('a second attempt reads on from the job and its next result page: nothing lost, nothing doubled', async () => {
    const prepared = await prepare('Account', 'unit-bulk-resume@1', 'bulk_resume', bulk);
    const checkpointed = await stoppedAfterThreePages(prepared);
    expect(checkpointed.checkpoint?.position).toMatchObject({ api: 'bulk', job: { jobId: expect.any(String), pages: { skip: 3 } } });
    downloaded = 0;
    const second = attempt(() => bulk.extractObject(prepared), { attempt: 2, heartbeatDetails: checkpointed });
    const extracted = await second.result;
    expect(second.seen.last?.resumedFrom).toBe(3_000);
    expect(extracted.rows).toBe(ACCOUNTS);
    // Only the seven pages after the checkpoint were downloaded again.
    expect(downloaded).toBe(ACCOUNTS - 3_000);
    expect(await new MockActivityEnvironment().run(bulk.commitObject, prepared, extracted.staging)).toMatchObject({ rows: ACCOUNTS });
    expect(await tableIds('account', 'bulk_resume')).toEqual(sourceIds('Account', bulkSim));
  });

  it('when the job is gone, the next attempt starts a new job over the same window and discards what was staged', async () => {
    const prepared = await prepare('Account', 'unit-bulk-gone@1', 'bulk_gone', bulk);
    const checkpointed = await stoppedAfterThreePages(prepared);
    const position = checkpointed.checkpoint?.position;
    if (position?.api !== 'bulk' || !position.job) throw new Error('expected a Bulk checkpoint');
    // Deleted (as expiry after about a week, or an admin, would).
    await client.request('DELETE', `/jobs/query/${position.job.jobId}`);
    downloaded = 0;
    const second = attempt(() => bulk.extractObject(prepared), { attempt: 2, heartbeatDetails: checkpointed });
    const extracted = await second.result;
    expect(extracted.rows).toBe(ACCOUNTS);
    expect(downloaded).toBe(ACCOUNTS);
    expect(await new MockActivityEnvironment().run(bulk.commitObject, prepared, extracted.staging)).toMatchObject({ rows: ACCOUNTS });
    // Append mode: a row staged by the first attempt and read again would be there twice.
    expect(await tableIds('account', 'bulk_gone')).toEqual(sourceIds('Account', bulkSim));
    // The first attempt's files are the run's garbage, removed by cleanup.
    expect(await new MockActivityEnvironment().run(bulk.cleanupObject, prepared)).toBeGreaterThanOrEqual(3);
  });
});

/*
 * A partitioned Bulk extraction: ten result pages of 1,000 rows, partitions of three pages. The plan
 * creates the job; each partition is its own activity attempt and resumes from its own checkpoint.
 */
describe('Partitioned Bulk extraction (MockActivityEnvironment, no servers)', () => {
  const partSim = new SalesforceSimulator({ rowCounts: { Account: ACCOUNTS }, resultPageRecords: 1_000 });
  let parts: ReturnType<typeof createActivities>;
  let downloaded = 0;

  beforeAll(async () => {
    await partSim.start();
    const counting: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (String(input).includes('/results')) downloaded += Number(response.headers.get('sforce-numberofrecords') ?? 0);
      return response;
    };
    const client = new SalesforceClient(parseSalesforceSettings(partSim.settingsEnv()), { fetch: counting, backoffMs: 5 });
    parts = createActivities({
      salesforce: client,
      destination: new DuckDbDestination(duckdbFile),
      lagMs: 0,
      api: 'bulk',
      pagesInFlight: 2,
      checkpointMs: 0,
      partitions: { minPages: 4, pagesPerPartition: 3, inFlight: 2 },
    });
  });
  afterAll(() => partSim.stop());

  it('plans four partitions over one job; a stopped partition resumes from its checkpoint; the commit takes them all once', async () => {
    const prepared = await prepare('Account', 'unit-parts@1', 'parts', parts);
    const jobsBefore = partSim.stats().bulkJobs;
    const plan = (await new MockActivityEnvironment().run(parts.planObject, prepared)) as ExtractPlan;
    expect(plan).toMatchObject({ pages: 10, inFlight: 2, job: { jobId: expect.any(String) } });
    expect(plan.partitions.map((x) => x.pages)).toEqual([3, 3, 3, 1]);
    downloaded = 0;
    // Partition 1's second page is held: its attempt stops with one page checkpointed.
    const held = partSim.hold({ path: '/results', skip: 1 });
    const first = attempt(() => parts.extractPartition(prepared, plan.job!, plan.partitions[1]!), { attempt: 1 });
    await held.arrived;
    const checkpointed = await until('a checkpoint after one page', async () => (first.seen.last?.checkpoint?.pages === 1 ? first.seen.last : undefined));
    expect(checkpointed).toMatchObject({ partition: 1, rows: 1_000 });
    first.env.cancel();
    await expect(first.result).rejects.toBeInstanceOf(CancelledFailure);
    held.release();
    downloaded = 0;
    const second = attempt(() => parts.extractPartition(prepared, plan.job!, plan.partitions[1]!), { attempt: 2, heartbeatDetails: checkpointed });
    expect(await second.result).toMatchObject({ rows: 3_000 });
    // Only the partition's two pages after its checkpoint.
    expect(downloaded).toBe(2_000);
    const others: ExtractResult[] = [];
    for (const i of [0, 2, 3]) others.push((await new MockActivityEnvironment().run(parts.extractPartition, prepared, plan.job!, plan.partitions[i]!)) as ExtractResult);
    expect(others.map((x) => x.rows)).toEqual([3_000, 3_000, 1_000]);
    const stagings = [plan.staging!, (await second.result).staging, ...others.map((x) => x.staging)];
    const committed = await new MockActivityEnvironment().run(parts.commitObject, prepared, stagings);
    expect(committed).toMatchObject({ rows: ACCOUNTS, alreadyCommitted: false });
    expect(await tableIds('account', 'parts')).toEqual(sourceIds('Account', partSim));
    // One job for the whole object; cleanup deletes it and the stopped attempt's unused files.
    expect(partSim.stats().bulkJobs - jobsBefore).toBe(1);
    expect(await new MockActivityEnvironment().run(parts.cleanupObject, prepared, plan.job)).toBeGreaterThanOrEqual(1);
    await expect(new SalesforceClient(parseSalesforceSettings(partSim.settingsEnv())).get(`/jobs/query/${plan.job!.jobId}`)).rejects.toThrow(/NOT_FOUND|404/);
  });

  it("a small object, or a REST read, is not partitioned: the single extraction reads the plan's job", async () => {
    const prepared = await prepare('Account', 'unit-parts@2', 'parts_small', parts);
    const rest = createActivities({
      salesforce: new SalesforceClient(parseSalesforceSettings(partSim.settingsEnv())),
      destination: new DuckDbDestination(duckdbFile),
      api: 'rest',
      partitions: { minPages: 4, pagesPerPartition: 3, inFlight: 2 },
    });
    expect(await new MockActivityEnvironment().run(rest.planObject, prepared)).toMatchObject({ partitions: [], reason: expect.stringMatching(/REST/) });
    const few = createActivities({
      salesforce: new SalesforceClient(parseSalesforceSettings(partSim.settingsEnv())),
      destination: new DuckDbDestination(duckdbFile),
      api: 'bulk',
      lagMs: 0,
      partitions: { minPages: 20, pagesPerPartition: 3, inFlight: 2 },
    });
    const jobsBefore = partSim.stats().bulkJobs;
    const plan = (await new MockActivityEnvironment().run(few.planObject, prepared)) as ExtractPlan;
    expect(plan).toMatchObject({ partitions: [], pages: 10, job: { jobId: expect.any(String) } });
    const extracted = (await new MockActivityEnvironment().run(few.extractObject, prepared, { job: plan.job, usage: plan.usage })) as ExtractResult;
    expect(extracted.rows).toBe(ACCOUNTS);
    expect(partSim.stats().bulkJobs - jobsBefore).toBe(1);
  });
});

/*
 * What a sync logs through Temporal's activity logger: retries, the Bulk → REST fallback,
 * checkpoints, pages, the commit and the cleanup — and never a credential.
 */
describe('activity logs (MockActivityEnvironment with a captured logger)', () => {
  // Bulk refused by the org: an `auto` read falls back to REST.
  const noBulk = new SalesforceSimulator({ rowCounts: { Account: 3_000 }, bulkEnabled: false });
  const entries: LogEntry[] = [];
  const logger = new DefaultLogger('DEBUG', (entry) => entries.push(entry));
  const run = <R>(fn: (...args: never[]) => Promise<R>, ...args: unknown[]) => new MockActivityEnvironment({}, { logger }).run(fn as (...a: unknown[]) => Promise<R>, ...args);
  let acts: ReturnType<typeof createActivities>;

  beforeAll(async () => {
    await noBulk.start();
    const salesforce = new SalesforceClient(parseSalesforceSettings(noBulk.settingsEnv()), { backoffMs: 5 });
    acts = createActivities({ salesforce, destination: new DuckDbDestination(duckdbFile), lagMs: 0, api: 'auto', checkpointMs: 0 });
  });
  afterAll(() => noBulk.stop());

  const at = (level: string) => entries.filter((e) => e.level === level).map((e) => e.message);

  it('logs retries and the fallback at warn, milestones at info, pages at debug; no secret anywhere', async () => {
    const prepared = (await run(acts.prepareObject, { object: 'Account', namespace: ['logs'], runId: 'unit-logs@1', writeMode: 'append', full: true })) as PreparedObject;
    // One 503 on the first REST page (not the Bulk job's request): the client backs off and asks again.
    noBulk.addFault({ kind: 'unavailable', path: `/v${parseSalesforceSettings(noBulk.settingsEnv()).apiVersion}/query`, count: 1 });
    const extracted = (await run(acts.extractObject, prepared)) as { staging: string; rows: number };
    expect(extracted.rows).toBe(3_000);
    const committed = (await run(acts.commitObject, prepared, extracted.staging)) as { snapshotId: string };
    await run(acts.cleanupObject, prepared);

    expect(at('WARN')).toEqual([
      'Bulk API 2.0 cannot run this query (FUNCTIONALITY_NOT_ENABLED: Bulk API is not enabled for this Organization); reading through the REST API instead.',
      'Salesforce answered GET /query with 503 SERVER_UNAVAILABLE; attempt 2 of 6 follows',
    ]);
    const info = at('INFO');
    expect(info[0]).toBe('Prepared Account: table logs.account, write mode append (asked for by the sync)');
    expect(info.filter((m) => m.startsWith('Checkpoint of Account at ')).length).toBeGreaterThanOrEqual(2);
    expect(info).toContain('Extracted Account: 3000 rows in ' + `${entries.find((e) => e.message.startsWith('Extracted'))?.meta?.files} files`);
    const commit = entries.find((e) => e.message.startsWith('Committed Account'));
    expect(commit?.meta).toMatchObject({ snapshotId: committed.snapshotId, rows: 3_000, alreadyCommitted: false, workflowId: expect.any(String) });
    expect(commit?.meta?.files).toBeGreaterThanOrEqual(1);
    expect(info.at(-1)).toMatch(/^Cleanup of Account: \d+ unreferenced files of the run removed$/);
    expect(at('DEBUG').filter((m) => m.startsWith('Page of ')).length).toBeGreaterThanOrEqual(2);

    // Neither the password, the security token nor a session id (00D…!AQ…) is in any entry.
    const env = noBulk.settingsEnv();
    const text = JSON.stringify(entries.map((e) => [e.message, e.meta]));
    for (const secret of [env[salesforceEnv.password], env[salesforceEnv.securityToken]]) {
      expect(secret).toBeTruthy();
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/!AQ/);
  });

  it('a fault that can heal leaves the activity as a retryable ApplicationFailure typed by its code, with no text but its message', async () => {
    // Only prepare is called.
    const unavailable = {
      prepare: async () => {
        // A stack formatted before the message was scrubbed still names the secret in its header.
        const error = new CatalogUnavailableError('Could not load table logs.x with token s3cr3t-t0ken');
        void error.stack;
        error.message = 'Could not load table logs.x: the catalog at http://catalog is unreachable: connection refused.';
        throw error;
      },
    } as unknown as Destination;
    const salesforce = new SalesforceClient(parseSalesforceSettings(noBulk.settingsEnv()), { backoffMs: 5 });
    const failing = createActivities({ salesforce, destination: unavailable, lagMs: 0 });
    const error = await run(failing.prepareObject, { object: 'Account', namespace: ['logs'], runId: 'unit-logs@2', full: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({
      type: 'CATALOG_UNAVAILABLE',
      nonRetryable: false,
      message: 'Could not load table logs.x: the catalog at http://catalog is unreachable: connection refused.',
    });
    // The frames of where it happened are kept, under the failure's own message only.
    const stack = (error as Error).stack ?? '';
    expect(stack).toMatch(/^ApplicationFailure: Could not load table logs\.x: the catalog/);
    expect(stack).toMatch(/\n\s+at /);
    expect(stack).not.toContain('s3cr3t-t0ken');
  });
});

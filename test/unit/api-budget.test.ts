import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createActivities, type ExtractHeartbeat } from '../../activities';
import { DuckDbDestination } from '../../src/destinations/duckdb';
import { ApiBudget, ApiBudgetExceededError, BUDGET_ENV, overBudget, parseLimits, usageSummary, waitingReason, type BudgetSettings } from '../../src/salesforce/budget';
import { readBulk } from '../../src/salesforce/bulk-reader';
import { SalesforceClient } from '../../src/salesforce/client';
import { describeObject } from '../../src/salesforce/describe';
import { parseSalesforceSettings, salesforceArea, salesforceSettingsProblems } from '../../src/salesforce/settings';
import { classifyFailure } from '../../src/sync/failures';
import type { ExtractResult, PreparedObject } from '../../src/sync/types';
import { LocalObjectStore } from '../../src/storage/local-fs';
import { KeyList, readStaging, writeStaging } from '../../src/sync/staging';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';

/*
 * The API budget without servers: the rules as pure functions, and the budget against the
 * in-process simulator (its /limits, its Sforce-Limit-Info, its control of the limits).
 */
const sim = new SalesforceSimulator({ rowCounts: { Account: 2_500, Contact: 10 } });
let client: SalesforceClient;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'budget-'));

beforeAll(async () => {
  await sim.start();
  client = new SalesforceClient(parseSalesforceSettings(sim.settingsEnv()), { backoffMs: 5 });
});

afterAll(async () => {
  await sim.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

// Each test starts with an org far from its limits.
beforeEach(() =>
  sim.setLimits({
    DailyApiRequests: { Max: 15000, Remaining: 15000 },
    DailyBulkV2QueryJobs: { Max: 10000, Remaining: 10000 },
    DailyBulkV2QueryFileStorageMB: { Max: 1048576, Remaining: 1048576 },
  }),
);

const settings = (s: Partial<BudgetSettings> = {}): BudgetSettings => ({ share: 0.8, action: 'wait', checkMs: 20, ...s });

describe('the budget rules', () => {
  it('reads the daily limits of /limits and finds the first one at or over its share', () => {
    const limits = parseLimits({
      DailyApiRequests: { Max: 15000, Remaining: 2900 },
      DailyBulkV2QueryJobs: { Max: 10000, Remaining: 10000 },
      DailyBulkV2QueryFileStorageMB: { Max: 1048576, Remaining: 100 },
      DailyAsyncApexExecutions: { Max: 250000, Remaining: 0 },
    });
    expect(limits).toEqual({
      DailyApiRequests: { name: 'DailyApiRequests', used: 12100, max: 15000 },
      DailyBulkV2QueryJobs: { name: 'DailyBulkV2QueryJobs', used: 0, max: 10000 },
      DailyBulkV2QueryFileStorageMB: { name: 'DailyBulkV2QueryFileStorageMB', used: 1048476, max: 1048576 },
    });
    expect(overBudget(limits, 0.8, { bulk: true })).toMatchObject({ name: 'DailyApiRequests', used: 12100 });
    expect(overBudget(limits, 0.81, { bulk: true })).toMatchObject({ name: 'DailyBulkV2QueryFileStorageMB' });
    // Reading through REST only, the Bulk limits do not hold the sync.
    expect(overBudget(limits, 0.81, { bulk: false })).toBeUndefined();
    // Exactly at the budget is over it.
    expect(overBudget({ DailyBulkV2QueryJobs: { name: 'DailyBulkV2QueryJobs', used: 8000, max: 10000 } }, 0.8, { bulk: true })).toMatchObject({ used: 8000 });
    expect(overBudget({ DailyBulkV2QueryJobs: { name: 'DailyBulkV2QueryJobs', used: 7999, max: 10000 } }, 0.8, { bulk: true })).toBeUndefined();
    // An org without Bulk has no Bulk limits; a limit without figures is left out.
    expect(parseLimits({ DailyApiRequests: { Max: 100, Remaining: 100 }, DailyBulkV2QueryJobs: {} })).toEqual({
      DailyApiRequests: { name: 'DailyApiRequests', used: 0, max: 100 },
    });
  });

  it('says which limit, its usage, the budget and that the limit is rolling; stop names the settings to change', () => {
    const over = { name: 'DailyApiRequests' as const, used: 12100, max: 15000, share: 0.8 };
    expect(waitingReason(over, new Date('2026-11-25T01:23:45.678Z'))).toBe(
      'waiting for the Salesforce API budget: DailyApiRequests 12,100 of 15,000 used (budget 80 %), a rolling 24-hour limit; checking again at 01:23:45Z',
    );
    expect(waitingReason({ name: 'DailyBulkV2QueryFileStorageMB', used: 943718.4, max: 1048576, share: 0.9 }, new Date(0))).toMatch(
      /DailyBulkV2QueryFileStorageMB 943,718 of 1,048,576 MB used \(budget 90 %\)/,
    );
    const stop = new ApiBudgetExceededError({ name: 'DailyBulkV2QueryJobs', used: 9500, max: 10000, share: 0.8 });
    expect(stop.message).toBe(
      'The Salesforce API budget is used up: DailyBulkV2QueryJobs 9,500 of 10,000 jobs used (budget 80 %), a rolling 24-hour limit. The sync stopped before reading ' +
        "(SOURCES__SALESFORCE__API_BUDGET_ACTION=stop): sync again once the org's usage has fallen, raise SOURCES__SALESFORCE__API_BUDGET_PERCENT, or set SOURCES__SALESFORCE__API_BUDGET_ACTION=wait to wait for it.",
    );
    // Retrying would only spend more: Temporal must not.
    expect(classifyFailure(stop)).toMatchObject({ retryable: false, code: 'API_BUDGET_EXCEEDED', message: stop.message });
  });

  it('settings: a percent (default 80), wait or stop (default wait), a re-check interval (default 300 s)', () => {
    const env = sim.settingsEnv();
    expect(parseSalesforceSettings(env).budget).toEqual({ share: 0.8, action: 'wait', checkMs: 300_000 });
    expect(parseSalesforceSettings({ ...env, [BUDGET_ENV.percent]: '90%', [BUDGET_ENV.action]: 'stop', [BUDGET_ENV.checkSeconds]: '600' }).budget).toEqual({
      share: 0.9,
      action: 'stop',
      checkMs: 600_000,
    });
    expect(parseSalesforceSettings({ ...env, [BUDGET_ENV.percent]: '100' }).budget?.share).toBe(1);
    for (const bad of ['0', '101', '0.8x', 'eighty']) {
      expect(salesforceSettingsProblems({ ...env, [BUDGET_ENV.percent]: bad })).toEqual([
        `SOURCES__SALESFORCE__API_BUDGET_PERCENT: must be a percentage above 0 and at most 100 (80 or 80%) (it is "${bad}")`,
      ]);
    }
    expect(salesforceSettingsProblems({ ...env, [BUDGET_ENV.action]: 'pause' })).toEqual(['SOURCES__SALESFORCE__API_BUDGET_ACTION: must be wait or stop (it is "pause")']);
    expect(salesforceSettingsProblems({ ...env, [BUDGET_ENV.checkSeconds]: '0' })).toHaveLength(1);
  });

  it('are in the settings reference (docs/settings.md) with the defaults they are declared with', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'settings.md'), 'utf8');
    for (const name of Object.values(BUDGET_ENV)) {
      const row = new RegExp(`^\\| \`${name}\` \\| .* \\| \`([^\`]*)\` \\|$`, 'm').exec(readme);
      expect([name, row?.[1]]).toEqual([name, salesforceArea.specs[name].default]);
    }
  });
});

/** Each budget reads the limits itself: the tests change them between budgets. */
const OWN_READING = { sharedReadingMs: 0 };

describe('the budget against the simulator', () => {
  it('counts the API calls, Bulk jobs and result bytes a read spends, as the org counts them', async () => {
    const before = sim.usage;
    const budget = new ApiBudget(settings(), { ...OWN_READING, spent: { apiCalls: 7, bulkJobs: 1, resultBytes: 10 } });
    const metered = client.withBudget(budget);
    await budget.check(metered);
    const describe = await describeObject(metered, 'Account');
    const fields = describe.fields.filter((f) => ['Id', 'Name'].includes(f.name));
    let rows = 0;
    for await (const page of readBulk({ client: metered, soql: 'SELECT Id, Name FROM Account', fields, maxRecords: 1000, pollMs: 1 })) rows += page.csv.length;
    expect(rows).toBe(2500);
    const after = sim.usage;
    expect(after.bulkJobs - before.bulkJobs).toBe(1);
    expect(after.resultBytes - before.resultBytes).toBeGreaterThan(2500 * 20);
    // What earlier attempts spent, plus this read: /limits, describe, job create, polls, 3 pages, delete.
    expect(budget.usage).toEqual({ apiCalls: 7 + after.apiRequests - before.apiRequests, bulkJobs: 2, resultBytes: 10 + after.resultBytes - before.resultBytes });
    expect(usageSummary(budget.usage)).toEqual({
      'salesforce.api-calls': String(budget.usage.apiCalls),
      'salesforce.bulk-jobs': '2',
      'salesforce.result-bytes': String(budget.usage.resultBytes),
    });
  });

  it('wait: reports why and reads /limits again until the org is under budget', async () => {
    sim.setLimits({ DailyApiRequests: { Remaining: 2900 } });
    const reasons: (string | undefined)[] = [];
    const budget = new ApiBudget(settings(), {
      ...OWN_READING,
      onWaiting: (reason) => {
        reasons.push(reason);
        // The org's usage falls once the sync has said it waits.
        if (reason) sim.setLimits({ DailyApiRequests: { Remaining: 10000 } });
      },
    });
    await budget.check(client.withBudget(budget));
    expect(reasons).toHaveLength(2);
    expect(reasons[0]).toMatch(
      /^waiting for the Salesforce API budget: DailyApiRequests 12,10\d of 15,000 used \(budget 80 %\), a rolling 24-hour limit; checking again at \d\d:\d\d:\d\dZ$/,
    );
    expect(reasons[1]).toBeUndefined();
  });

  it('wait: Sforce-Limit-Info over budget holds the next request, and the Bulk limits count what the sync spent since the reading', async () => {
    const reasons: (string | undefined)[] = [];
    const budget = new ApiBudget(settings(), { ...OWN_READING, onWaiting: (r) => (reasons.push(r), r && sim.setLimits({ DailyApiRequests: { Remaining: 10000 } })) });
    const metered = client.withBudget(budget);
    await budget.check(metered);
    expect(reasons).toEqual([]);
    // Other clients of the org use it up meanwhile; the next answer's header tells.
    sim.setLimits({ DailyApiRequests: { Remaining: 100 } });
    await describeObject(metered, 'Contact');
    expect(budget.over()).toMatchObject({ name: 'DailyApiRequests', used: expect.any(Number) });
    expect(budget.over()!.used).toBeGreaterThanOrEqual(14900);
    await describeObject(metered, 'Account');
    expect(reasons[0]).toMatch(/DailyApiRequests 14,90\d of 15,000 used/);
    expect(reasons.at(-1)).toBeUndefined();
    // Jobs: one short of the budget at the reading; the job this sync creates reaches it.
    sim.setLimits({ DailyBulkV2QueryJobs: { Max: 10, Remaining: 3 } });
    const jobs = new ApiBudget(settings({ action: 'stop' }), OWN_READING);
    const meteredJobs = client.withBudget(jobs);
    await jobs.check(meteredJobs);
    await meteredJobs.request('POST', '/jobs/query', { 'content-type': 'application/json' }, JSON.stringify({ operation: 'query', query: 'SELECT Id FROM Contact' }));
    await expect(describeObject(meteredJobs, 'Contact')).rejects.toThrow(/DailyBulkV2QueryJobs 8 of 10 jobs used \(budget 80 %\)/);
  });

  it('stop: fails at once with the limit, its usage and the setting to change', async () => {
    sim.setLimits({ DailyBulkV2QueryFileStorageMB: { Remaining: 1000 } });
    const budget = new ApiBudget(settings({ action: 'stop' }), OWN_READING);
    const error = await budget.check(client.withBudget(budget)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiBudgetExceededError);
    expect((error as Error).message).toMatch(/DailyBulkV2QueryFileStorageMB 1,047,576 of 1,048,576 MB used \(budget 80 %\).*SOURCES__SALESFORCE__API_BUDGET_ACTION=stop/);
    // Reading through REST only, the Bulk result storage does not stop the sync.
    const rest = new ApiBudget(settings({ action: 'stop' }), { ...OWN_READING, bulk: false });
    await expect(rest.check(client.withBudget(rest))).resolves.toBeUndefined();
  });

  it('a cancelled sync stops waiting at once', async () => {
    sim.setLimits({ DailyApiRequests: { Remaining: 0 } });
    const cancel = new AbortController();
    const budget = new ApiBudget(settings({ checkMs: 3_600_000 }), { ...OWN_READING, onWaiting: (r) => r && cancel.abort(new Error('cancelled by the test')) });
    await expect(budget.check(client.withSignal(cancel.signal).withBudget(budget))).rejects.toThrow('cancelled by the test');
  });

  it('the control API sets limits as a test or the demo would over HTTP', async () => {
    const set = await fetch(`${sim.url}/__sim/limits`, { method: 'POST', body: JSON.stringify({ DailyApiRequests: { Max: 100, Remaining: 10 } }) });
    expect(((await set.json()) as Record<string, unknown>).DailyApiRequests).toEqual({ Max: 100, Remaining: 10 });
    expect(parseLimits(await client.get('/limits')).DailyApiRequests).toEqual({ name: 'DailyApiRequests', used: 91, max: 100 });
    const usage = (await (await fetch(`${sim.url}/__sim/usage`)).json()) as { apiRequests: number };
    expect(usage.apiRequests).toBe(sim.usage.apiRequests);
    const refused = await fetch(`${sim.url}/__sim/limits`, { method: 'POST', body: JSON.stringify({ DailyApiCalls: { Max: 1 } }) });
    expect(refused.status).toBe(400);
  });
});

describe('usage across attempts', () => {
  it('the staging manifest carries the counts to the commit', async () => {
    const store = new LocalObjectStore();
    const uri = `file://${dir}/staging.json`;
    await writeStaging(store, uri, { runId: 'r', files: [], keys: new KeyList(), deletedKeys: [], usage: { apiCalls: 12, bulkJobs: 2, resultBytes: 3456 } });
    expect((await readStaging(store, uri)).usage).toEqual({ apiCalls: 12, bulkJobs: 2, resultBytes: 3456 });
  });

  it('a retried extraction adds its own requests to what the failed attempt reported in its heartbeat', async () => {
    const activities = createActivities({ salesforce: client, destination: new DuckDbDestination(path.join(dir, 'sync.duckdb')), lagMs: 0, api: 'rest', checkpointMs: 0 });
    const prepared: PreparedObject = await new MockActivityEnvironment().run(activities.prepareObject, {
      object: 'Contact',
      namespace: ['unit'],
      runId: 'budget@1',
      mode: 'append' as const,
      full: true,
    });
    expect(prepared.usage?.apiCalls).toBeGreaterThan(0);
    const before = sim.usage.apiRequests;
    const spent = { apiCalls: 40, bulkJobs: 3, resultBytes: 5000 };
    const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { object: 'Contact', rows: 0, files: 0, usage: spent } satisfies ExtractHeartbeat });
    const beats: ExtractHeartbeat[] = [];
    env.on('heartbeat', (d: ExtractHeartbeat) => beats.push(d));
    const result = (await env.run(activities.extractObject, prepared)) as ExtractResult;
    const own = sim.usage.apiRequests - before;
    expect(result.usage).toEqual({ apiCalls: 40 + own, bulkJobs: 3, resultBytes: 5000 });
    // From its first heartbeat on: an attempt failing before its first request loses nothing either.
    expect(beats[0]?.usage).toEqual(spent);
    expect((await readStaging(new LocalObjectStore(), result.staging)).usage).toEqual(result.usage);
  });
});

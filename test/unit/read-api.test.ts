import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SalesforceApiError, SalesforceClient } from '../../src/salesforce/client';
import { parseSalesforceSettings } from '../../src/salesforce/settings';
import { countRows } from '../../src/salesforce/rest-reader';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';
import { chooseReadApi, DEFAULT_REST_WINDOW_ROWS } from '../../src/sync/read-api';
import { describeObject, syncableFields, type SObjectDescribe } from '../../src/salesforce/describe';
import { readObject } from '../../src/salesforce/reader';
import type { PrefetchedWindow } from '../../src/salesforce/rest-reader';
import { prefetchWindow } from '../../src/sync/prefetch';

/*
 * Which API reads a window (REST for small incremental windows, Bulk otherwise), the Composite
 * requests that ask a window's questions in one API call, and the simulator's Bulk queue time.
 */
/** A simulator for the enclosing block, and a client of it that records each request's method and path. */
function recordingSimulator(config: ConstructorParameters<typeof SalesforceSimulator>[0]) {
  const sim = new SalesforceSimulator(config);
  const recorded = { sim, requests: [] as string[], client: undefined as unknown as SalesforceClient };
  beforeAll(async () => {
    await sim.start();
    const recording: typeof fetch = async (input, init) => {
      recorded.requests.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
      return fetch(input, init);
    };
    recorded.client = new SalesforceClient(parseSalesforceSettings(sim.settingsEnv()), { fetch: recording, backoffMs: 5 });
    await recorded.client.login();
  });
  afterAll(() => sim.stop());
  return recorded;
}

describe('read API choice', () => {
  it('reads a small incremental window through REST and says why', () => {
    const small = chooseReadApi({ api: 'auto', incremental: true, windowRows: 12 });
    expect(small.api).toBe('rest');
    expect(small.reason).toBe(`the window holds 12 rows, at most SALESFORCE_REST_WINDOW_ROWS (${DEFAULT_REST_WINDOW_ROWS})`);
    expect(chooseReadApi({ api: 'auto', incremental: true, windowRows: DEFAULT_REST_WINDOW_ROWS }).api).toBe('rest');
  });

  it('reads large windows, reads of every row and uncounted windows through Bulk', () => {
    expect(chooseReadApi({ api: 'auto', incremental: true, windowRows: DEFAULT_REST_WINDOW_ROWS + 1 })).toEqual({
      api: 'bulk',
      reason: `the window holds ${DEFAULT_REST_WINDOW_ROWS + 1} rows, more than SALESFORCE_REST_WINDOW_ROWS (${DEFAULT_REST_WINDOW_ROWS})`,
    });
    expect(chooseReadApi({ api: 'auto', incremental: false, windowRows: 3 })).toEqual({ api: 'bulk', reason: 'a read of every row' });
    expect(chooseReadApi({ api: 'auto', incremental: true })).toEqual({ api: 'bulk', reason: 'Salesforce did not count the window' });
    expect(chooseReadApi({ api: 'auto', incremental: true, windowRows: 3, restWindowRows: 0 }).api).toBe('bulk');
    expect(chooseReadApi({ api: 'auto', incremental: true, windowRows: 30, restWindowRows: 20 }).api).toBe('bulk');
  });

  it('keeps what the worker asks for', () => {
    expect(chooseReadApi({ api: 'bulk', incremental: true, windowRows: 1 }).api).toBe('bulk');
    expect(chooseReadApi({ api: 'rest', incremental: false }).api).toBe('rest');
  });
});

describe('composite requests and the Bulk queue (simulator)', () => {
  const recorded = recordingSimulator({ rowCounts: { Account: 50, Contact: 20 }, bulkQueueMs: 400 });
  const { sim, requests } = recorded;
  let client: SalesforceClient;
  beforeAll(() => void (client = recorded.client));

  it('sends GETs made together as one Composite request, counted as one API call, each answering as alone', async () => {
    const alone = await Promise.all([countRows(client, 'SELECT COUNT() FROM Account'), client.get<{ name: string }>('/sobjects/Contact/describe')]);
    requests.length = 0;
    const before = sim.usage.apiRequests;
    const together = client.batching();
    const [accounts, contacts, described] = await Promise.all([
      countRows(together, 'SELECT COUNT() FROM Account'),
      countRows(together, 'SELECT COUNT() FROM Contact'),
      together.get<{ name: string }>('/sobjects/Contact/describe'),
    ]);
    expect(requests).toEqual([expect.stringMatching(/^POST \/services\/data\/v[\d.]+\/composite$/)]);
    expect(sim.usage.apiRequests - before).toBe(1);
    expect([accounts, contacts, described.name]).toEqual([alone[0], 20, alone[1].name]);
  });

  it('fails only the GET whose subrequest Salesforce refused, with the error it would have alone', async () => {
    const together = client.batching();
    const [good, bad] = await Promise.allSettled([countRows(together, 'SELECT COUNT() FROM Account'), countRows(together, 'SELECT COUNT() FROM NoSuchThing__c')]);
    expect(good).toEqual({ status: 'fulfilled', value: 50 });
    expect(bad.status).toBe('rejected');
    const error = (bad as PromiseRejectedResult).reason as SalesforceApiError;
    expect(error).toBeInstanceOf(SalesforceApiError);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^Salesforce answered GET \/query with 400 INVALID_TYPE/);
  });

  it('splits more queries than one Composite request takes (5) over several', async () => {
    requests.length = 0;
    const together = client.batching();
    const counts = await Promise.all(Array.from({ length: 7 }, () => countRows(together, 'SELECT COUNT() FROM Contact')));
    expect(counts).toEqual(Array(7).fill(20));
    expect(requests.filter((r) => r.endsWith('/composite'))).toHaveLength(2);
  });

  it("keeps a Bulk job in Salesforce's queue for bulkQueueMs before it runs", async () => {
    const created = Date.now();
    const job = await (
      await client.request('POST', '/jobs/query', { 'content-type': 'application/json' }, JSON.stringify({ operation: 'query', query: 'SELECT Id FROM Account' }))
    ).json();
    const states: string[] = [];
    for (;;) {
      const info = await client.get<{ state: string }>(`/jobs/query/${(job as { id: string }).id}`);
      states.push(info.state);
      if (info.state === 'JobComplete') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(Date.now() - created).toBeGreaterThanOrEqual(400);
    expect(states[0]).toBe('UploadComplete');
  });
});

describe("a small window's rows asked with prepare's questions (simulator)", () => {
  const recorded = recordingSimulator({ rowCounts: { Account: 50 } });
  const { sim, requests } = recorded;
  let client: SalesforceClient;
  beforeAll(() => void (client = recorded.client));

  const everything = { field: 'SystemModstamp', after: '1990-01-01T00:00:00.000Z', upTo: '2100-01-01T00:00:00.000Z' };
  const read = async (opts: { describe: SObjectDescribe; fields: SObjectDescribe['fields']; prefetched?: PrefetchedWindow; window?: typeof everything }) => {
    const rows: unknown[][] = [];
    for await (const page of readObject({ client, api: 'rest', window: everything, ...opts })) rows.push(...page.rows);
    return rows;
  };

  it('reads a window one page holds through the prefetched page, asking Salesforce nothing more; the same rows as a read', async () => {
    const describe = await describeObject(client, 'Account');
    const fields = syncableFields(describe);
    const prefetched = await prefetchWindow(client, describe, everything);
    expect(prefetched?.records).toHaveLength(50);
    requests.length = 0;
    const taken = await read({ describe, fields, prefetched });
    expect(requests).toEqual([]);
    expect(taken).toEqual(await read({ describe, fields }));
    // Only the window it was asked for, and only fields its query selected.
    requests.length = 0;
    await read({ describe, fields, prefetched, window: { ...everything, after: '2000-01-01T00:00:00.000Z' } });
    expect(requests).toHaveLength(1);
    requests.length = 0;
    await read({ describe, fields, prefetched: { ...prefetched!, fields: prefetched!.fields.filter((f) => f !== 'Phone') } });
    expect(requests).toHaveLength(1);
  });

  it('keeps nothing when the window is more than a page, or when Salesforce refuses the query (a hidden field)', async () => {
    const describe = await describeObject(client, 'Account');
    sim.org.addRecords('Account', 2_000);
    expect(await prefetchWindow(client, describe, everything)).toBeUndefined();
    sim.org.hideField('Account', 'Phone');
    try {
      expect(await prefetchWindow(client, describe, { ...everything, after: '2100-01-01T00:00:00.000Z' })).toBeUndefined();
    } finally {
      sim.org.unhideField('Account', 'Phone');
    }
    expect(await prefetchWindow(client, describe, { ...everything, after: '2099-01-01T00:00:00.000Z' })).toEqual({
      window: { ...everything, after: '2099-01-01T00:00:00.000Z' },
      fields: syncableFields(describe).map((f) => f.name),
      records: [],
    });
  });
});

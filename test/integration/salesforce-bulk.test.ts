import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BulkJobFailedError, BulkJobGoneError, BulkUnavailableError, bulkJobAlive, readBulk } from '../../src/salesforce/bulk-reader';
import { SalesforceClient } from '../../src/salesforce/client';
import { cursorField, describeObject, syncableFields } from '../../src/salesforce/describe';
import { readObject, splitSlice } from '../../src/salesforce/reader';
import { readRest } from '../../src/salesforce/rest-reader';
import { parseSalesforceSettings, salesforceEnv as E } from '../../src/salesforce/settings';
import { buildSoql } from '../../src/salesforce/soql';
import { until } from '../helpers/stack';
import { SIM_DEFAULTS, SalesforceSimulator } from '../../src/salesforce-sim/server';

// PK chunks of 1,000 rows and parallel result pages of 400: a 2,500-row object is "large" here.
const sim = new SalesforceSimulator({ rowCounts: { Account: 2500, Opportunity: 40 }, bulkChunkRows: 1000, resultPageRecords: 400 });
const noBulk = new SalesforceSimulator({ rowCounts: { Account: 30 }, bulkEnabled: false });
const U = SIM_DEFAULTS.user;
const clientFor = (s: SalesforceSimulator, version = '62.0') =>
  new SalesforceClient(
    parseSalesforceSettings({ [E.domain]: s.url, [E.userName]: U.username, [E.password]: U.password, [E.securityToken]: U.securityToken, [E.version]: version }),
    { backoffMs: 5 },
  );
const byId = (rows: unknown[][]) => [...rows].sort((a, b) => String(a[0]).localeCompare(String(b[0])));

beforeAll(async () => {
  await sim.start();
  await noBulk.start();
});
afterAll(async () => {
  await sim.stop();
  await noBulk.stop();
});

async function collect<T extends { rows: unknown[][] }>(pages: AsyncIterable<T>): Promise<{ rows: unknown[][]; pages: T[] }> {
  const all: T[] = [];
  for await (const p of pages) all.push(p);
  return { rows: all.flatMap((p) => p.rows), pages: all };
}

describe('Bulk API 2.0 reads', () => {
  it('give exactly the batches REST gives for the same query', async () => {
    const client = clientFor(sim);
    const d = await describeObject(client, 'Account');
    const fields = syncableFields(d);
    const soql = buildSoql(
      d,
      fields.map((f) => f.name),
      { window: { field: cursorField(d)! } },
    );
    const bulk = await collect(readBulk({ client, soql, fields, maxRecords: 1000, cursorField: 'SystemModstamp', pollMs: 5, pagesInFlight: 1 }));
    const rest = await collect(readRest({ client, soql, fields }));
    expect(bulk.pages.map((p) => p.rows.length)).toEqual([1000, 1000, 500]);
    expect(bulk.rows).toHaveLength(2500);
    expect(bulk.rows).toEqual(rest.rows);
    // Every Salesforce type that reaches the table appears, with the same normalised value.
    const types = new Set(fields.map((f) => f.type));
    for (const t of [
      'id',
      'string',
      'picklist',
      'multipicklist',
      'textarea',
      'reference',
      'email',
      'phone',
      'url',
      'boolean',
      'int',
      'double',
      'percent',
      'currency',
      'date',
      'datetime',
      'time',
    ])
      expect(types).toContain(t);
  });

  it('resumes from a job and locator; a vanished job says so', async () => {
    const client = clientFor(sim);
    const d = await describeObject(client, 'Opportunity');
    const fields = syncableFields(d);
    const soql = buildSoql(
      d,
      fields.map((f) => f.name),
      { window: { field: 'SystemModstamp' } },
    );
    const pages = readBulk({ client, soql, fields, maxRecords: 15, pollMs: 5, pagesInFlight: 1 });
    const first = (await pages.next()).value!;
    expect(first.rows).toHaveLength(15);
    // A retried attempt picks up where the first stopped.
    const rest = await collect(readBulk({ client, soql, fields, maxRecords: 15, resume: first.next, pollMs: 5 }));
    const whole = await collect(readRest({ client, soql, fields }));
    expect([...first.rows, ...rest.rows]).toEqual(whole.rows);
    // The finished read deleted its job: resuming it again cannot work.
    await expect(collect(readBulk({ client, soql, fields, resume: first.next, pollMs: 5 }))).rejects.toThrow(BulkJobGoneError);
  });

  it('an org without Bulk: a clear refusal, and auto falls back to REST', async () => {
    const client = clientFor(noBulk);
    const d = await describeObject(client, 'Account');
    const fields = syncableFields(d);
    const soql = buildSoql(
      d,
      fields.map((f) => f.name),
      { ordered: false },
    );
    await expect(collect(readBulk({ client, soql, fields }))).rejects.toThrow(BulkUnavailableError);
    const reasons: string[] = [];
    const read = await collect(readObject({ client, describe: d, fields, onFallback: (r) => reasons.push(r) }));
    expect(read.rows).toHaveLength(30);
    expect(read.pages.every((p) => p.api === 'rest')).toBe(true);
    expect(reasons[0]).toMatch(/FUNCTIONALITY_NOT_ENABLED/);
  });

  it('refuses compound and base64 fields as Salesforce does', async () => {
    const client = clientFor(sim);
    const d = await describeObject(client, 'Account');
    for (const field of ['BillingAddress', 'Logo__c']) {
      const f = d.fields.filter((x) => x.name === 'Id' || x.name === field);
      await expect(
        collect(
          readBulk({
            client,
            soql: buildSoql(
              d,
              f.map((x) => x.name),
            ),
            fields: f,
          }),
        ),
      ).rejects.toThrow(BulkUnavailableError);
    }
  });
});

describe('Bulk API 2.0 at scale', () => {
  const accountRead = async (client: SalesforceClient) => {
    const d = await describeObject(client, 'Account');
    const fields = syncableFields(d).filter((f) => ['Id', 'Name', 'SystemModstamp', 'AnnualRevenue'].includes(f.name));
    return { d, fields, window: { field: 'SystemModstamp', upTo: new Date().toISOString() } };
  };

  it('jobs carry no ORDER BY, so Salesforce chunks them; rows arrive in chunk order, every one once', async () => {
    const client = clientFor(sim);
    const { d, fields, window } = await accountRead(client);
    sim.resetStats();
    const bulk = await collect(readObject({ client, describe: d, fields, window, api: 'bulk', pollMs: 5 }));
    const rest = await collect(readObject({ client, describe: d, fields, window, api: 'rest' }));
    expect(sim.stats()).toMatchObject({ bulkJobs: 1, orderedBulkJobs: 0 });
    expect(bulk.rows).toHaveLength(2500);
    // Not in Id order (the last chunk came first), but the same rows as the ordered REST read.
    expect(bulk.rows.map((r) => r[0])).not.toEqual(rest.rows.map((r) => r[0]));
    expect(byId(bulk.rows)).toEqual(byId(rest.rows));
    // The simulator does count a job that would stop chunking.
    await collect(readBulk({ client, soql: buildSoql(d, ['Id'], { window }), fields: fields.slice(0, 1), pollMs: 5 }));
    expect(sim.stats().orderedBulkJobs).toBe(1);
  });

  it('API 62.0: result pages download in parallel, compressed; a read resumes from a set of pages', async () => {
    const client = clientFor(sim);
    const { d, fields, window } = await accountRead(client);
    const soql = buildSoql(
      d,
      fields.map((f) => f.name),
      { window, ordered: false },
    );
    sim.resetStats();
    // While the first page is held, the reader must already be fetching the next three.
    const firstPage = sim.hold({ path: '/results' });
    const pages = readBulk({ client, soql, fields, pagesInFlight: 4, pollMs: 5 });
    const first = pages.next();
    await firstPage.arrived;
    await until('three more pages downloaded while the first is held', async () => sim.stats().resultDownloads === 3 || undefined);
    firstPage.release();
    const head = [(await first).value!];
    head.push((await pages.next()).value!);
    // Two of seven pages read: resume in a new read (as a retried attempt would), then finish.
    expect(head[1]!.next?.pages).toEqual({ set: undefined, skip: 2 });
    await pages.return(undefined);
    const tail = await collect(readBulk({ client, soql, fields, resume: head[1]!.next, pagesInFlight: 4, pollMs: 5 }));
    const rows = [...head.flatMap((p) => p.rows), ...tail.rows];
    expect(rows).toHaveLength(2500);
    expect(new Set(rows.map((r) => r[0])).size).toBe(2500);
    const stats = sim.stats();
    expect(stats.resultPagesCalls).toBeGreaterThanOrEqual(3);
    expect(stats.maxResultsInFlight).toBeGreaterThanOrEqual(2);
    expect(stats.gzipResults).toBe(stats.resultDownloads);
    // A finished read deletes its job: its resume point names a job that is gone.
    expect(await bulkJobAlive(client, head[1]!.next!)).toBe(false);
  });

  it('before API 62.0 (or with one page in flight) it follows the locator chain', async () => {
    for (const [client, inFlight] of [
      [clientFor(sim, '61.0'), 4],
      [clientFor(sim), 1],
    ] as const) {
      const { d, fields, window } = await accountRead(client);
      sim.resetStats();
      const read = await collect(
        readBulk({
          client,
          soql: buildSoql(
            d,
            fields.map((f) => f.name),
            { window, ordered: false },
          ),
          fields,
          maxRecords: 1000,
          pagesInFlight: inFlight,
          pollMs: 5,
        }),
      );
      expect(read.rows).toHaveLength(2500);
      expect(sim.stats()).toMatchObject({ resultPagesCalls: 0, maxResultsInFlight: 1, resultDownloads: 3 });
      expect(read.pages.map((p) => p.next?.locator !== undefined)).toEqual([true, true, false]);
    }
  });

  it('parallel result pages must be fetched with the API version that created the job', async () => {
    const client = clientFor(sim);
    const { d, fields, window } = await accountRead(client);
    const pages = readBulk({ client, soql: buildSoql(d, ['Id'], { window, ordered: false }), fields: fields.slice(0, 1), pollMs: 5 });
    const first = (await pages.next()).value!;
    const other = clientFor(sim, '61.0');
    await expect(other.get(`/jobs/query/${first.next!.jobId}/resultPages`)).rejects.toMatchObject({ status: 409 });
    // The resume point carries the job's version, so even a client on another version resumes it.
    const rest = await collect(readBulk({ client: other, soql: '', fields: fields.slice(0, 1), resume: first.next, pollMs: 5 }));
    expect(first.rows.length + rest.rows.length).toBe(2500);
    await pages.return(undefined);
  });

  it("a job Salesforce fails (QUERY_TIMEOUT) is read again in smaller time slices; at the floor it fails with the job's message", async () => {
    const client = clientFor(sim);
    const { d, fields, window } = await accountRead(client);
    sim.setBulkTimeoutRows(1000);
    try {
      const splits: string[] = [];
      const read = await collect(readObject({ client, describe: d, fields, window, api: 'bulk', sliceFloorMs: 60_000, pollMs: 5, onSplit: (r) => splits.push(r) }));
      const rest = await collect(readObject({ client, describe: d, fields, window, api: 'rest' }));
      expect(byId(read.rows)).toEqual(byId(rest.rows));
      expect(splits.length).toBeGreaterThanOrEqual(2);
      expect(splits[0]).toMatch(/QUERY_TIMEOUT: Your query request was running for too long.*two halves/);
      // With a floor wider than the window nothing can be split: the job's own error.
      const error = await collect(readObject({ client, describe: d, fields, window, api: 'bulk', sliceFloorMs: 100 * 365 * 86_400_000, pollMs: 5 })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BulkJobFailedError);
      expect((error as Error).message).toMatch(/failed in Salesforce: Failed to process query: QUERY_TIMEOUT/);
    } finally {
      sim.setBulkTimeoutRows(undefined);
    }
  });

  it('halves time slices down to the floor, never leaving a gap', () => {
    const slice = { after: '2024-01-01T00:00:00.000Z', upTo: '2024-01-02T00:00:00.000Z' };
    expect(splitSlice(slice, 3_600_000)).toEqual([
      { after: slice.after, upTo: '2024-01-01T12:00:00.000Z' },
      { after: '2024-01-01T12:00:00.000Z', upTo: slice.upTo },
    ]);
    expect(splitSlice({ after: slice.after, upTo: '2024-01-01T01:59:59.000Z' }, 3_600_000)).toBeUndefined();
    expect(splitSlice({ upTo: slice.upTo }, 3_600_000)?.[0]).toMatchObject({ after: undefined });
    expect(splitSlice({ after: slice.after }, 3_600_000)).toBeUndefined();
  });
});

describe("the simulator's page cache (benchmarks of the pipeline itself)", () => {
  it('serves a later job over the same rows from pages rendered once, byte for byte; without it, every page is rendered', async () => {
    const cached = new SalesforceSimulator({ rowCounts: { Account: 1200 }, resultPageRecords: 500, pageCache: true });
    await cached.start();
    try {
      const client = clientFor(cached);
      const d = await describeObject(client, 'Account');
      const fields = syncableFields(d);
      // Two windows that hold the same rows: two different queries over one result.
      const soql = (upTo: string) =>
        buildSoql(
          d,
          fields.map((f) => f.name),
          { window: { field: 'SystemModstamp', upTo }, ordered: false },
        );
      const first = await collect(readBulk({ client, soql: soql('2100-01-01T00:00:00.000Z'), fields, pollMs: 5 }));
      expect(cached.pageCache!.hits).toBe(0);
      const second = await collect(readBulk({ client, soql: soql('2200-01-01T00:00:00.000Z'), fields, pollMs: 5 }));
      expect(cached.pageCache!.hits).toBe(3);
      expect(byId(second.rows)).toEqual(byId(first.rows));
      expect(second.rows).toHaveLength(1200);
      // Off again: the files are gone and pages are rendered.
      cached.setPageCache(false);
      expect(cached.pageCache).toBeUndefined();
    } finally {
      await cached.stop();
    }
  });
});

import jsforce, { type Connection } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIM_DEFAULTS, SalesforceSimulator } from '../../src/salesforce-sim/server';
import { apiDatetime } from '../../src/salesforce-sim/org';
import type { SimField } from '../../src/salesforce-sim/objects';
import { salesforceEnv } from '../../src/salesforce/settings';

/*
 * jsforce (npm), a Salesforce client this project did not write, used as its documentation says
 * against the simulator: both logins, describe, REST query paging, Bulk API 2.0 queries, errors.
 * It talks only to the simulator on 127.0.0.1 (login URL and instance URL are the simulator's).
 */

const ROWS = 4_500;
// 750 records per parallel result page: a job's pages come in two sets (five links, then one).
const sim = new SalesforceSimulator({ rowCounts: { Account: ROWS }, resultPageRecords: 750 });
// jsforce's bulk2.query never sends maxRecords: results come in sets of 50,000 (the simulator's
// default size), so more rows than that give several sets; larger than one PK chunk, too.
const BIG_ROWS = 60_001;
const bigSim = new SalesforceSimulator({ rowCounts: { Account: BIG_ROWS }, bulkChunkRows: 25_000 });
const env = () => sim.settingsEnv();
const password = () => env()[salesforceEnv.password]! + env()[salesforceEnv.securityToken]!;
const username = () => env()[salesforceEnv.userName]!;
const loginUrl = () => env()[salesforceEnv.domain]!;
const oauth2 = () => ({ loginUrl: loginUrl(), clientId: SIM_DEFAULTS.client.clientId, clientSecret: SIM_DEFAULTS.client.clientSecret });

const account = (org = sim) => org.org.object('Account')!;
// Every scalar field: compound address and base64 are not queryable through Bulk and come back as
// an object and a URL through REST.
const scalarFields = () => account().fields.filter((f) => f.type !== 'address' && f.type !== 'base64');
const soql = (fields = scalarFields()) => `SELECT ${fields.map((f) => f.name).join(', ')} FROM Account`;

/** What the org holds, field by field, as Salesforce's REST JSON writes it. */
function restValue(f: SimField, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  return f.type === 'datetime' ? apiDatetime(String(v)) : v;
}

/** What the org holds as Bulk API 2.0 CSV text (jsforce hands CSV cells over as strings; null is empty). */
function csvValue(f: SimField, v: unknown): string {
  if (v === null || v === undefined) return '';
  return f.type === 'datetime' ? new Date(String(v)).toISOString() : String(v);
}

/**
 * Compares rows read (by Id) with what the org holds, converted by `value`: the Ids missing, the
 * Ids not in the org, and the first differing values (a field-by-field loop: 60,000 rows).
 */
function compareWithOrg(rows: Map<string, Record<string, unknown>>, value: (f: SimField, v: unknown) => unknown, fields = scalarFields(), org = sim) {
  const missing: string[] = [];
  const differences: string[] = [];
  const seen = new Set<string>();
  for (const r of org.org.records(account(org), false)) {
    const id = String(r.Id);
    seen.add(id);
    const got = rows.get(id);
    if (!got) {
      missing.push(id);
      continue;
    }
    for (const f of fields) {
      const want = value(f, r[f.name]);
      if (got[f.name] !== want && differences.length < 5) differences.push(`${id}.${f.name}: ${JSON.stringify(got[f.name])} != ${JSON.stringify(want)}`);
    }
    if (Object.keys(got).length !== fields.length && differences.length < 5) differences.push(`${id}: fields ${Object.keys(got).join(',')}`);
  }
  return { missing: missing.slice(0, 5), extra: [...rows.keys()].filter((id) => !seen.has(id)).slice(0, 5), differences };
}

const ALL_EQUAL = { missing: [], extra: [], differences: [] };

/** Rows by Id, and the Ids read more than once. */
function byId(records: Record<string, unknown>[]): { rows: Map<string, Record<string, unknown>>; twice: string[] } {
  const rows = new Map<string, Record<string, unknown>>();
  const twice: string[] = [];
  for (const { attributes: _attributes, ...r } of records) {
    if (rows.has(String(r.Id))) twice.push(String(r.Id));
    rows.set(String(r.Id), r);
  }
  return { rows, twice };
}

async function soapLogin(): Promise<Connection> {
  const conn = new jsforce.Connection({ loginUrl: loginUrl(), version: '62.0' });
  await conn.login(username(), password());
  return conn;
}

async function oauthLogin(org = sim): Promise<Connection> {
  const conn = new jsforce.Connection({ oauth2: { ...oauth2(), loginUrl: org.url }, version: '62.0' });
  await conn.login(username(), password());
  return conn;
}

/** A Bulk 2.0 query through jsforce's record stream: every record it emits. */
async function bulkRecords(conn: Connection, query: string): Promise<Record<string, string>[]> {
  const stream = await conn.bulk2.query(query, { pollInterval: 10, pollTimeout: 60_000 });
  const records: Record<string, string>[] = [];
  await new Promise<void>((resolve, reject) => {
    stream
      .on('record', (r: Record<string, string>) => records.push(r))
      .on('end', () => resolve())
      .on('error', reject);
  });
  return records;
}

beforeAll(async () => {
  await Promise.all([sim.start(), bigSim.start()]);
});
afterAll(() => Promise.all([sim.stop(), bigSim.stop()]));

describe('jsforce against the Salesforce simulator', () => {
  it('logs in through SOAP and through the OAuth2 username-password flow, and both see the same org and user', async () => {
    const soap = await soapLogin();
    const oauth = await oauthLogin();
    for (const conn of [soap, oauth]) {
      expect(conn.instanceUrl).toBe(sim.url);
      expect(conn.instanceUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(conn.accessToken).toMatch(/^00D5g000004SIMA!/);
      expect(conn.userInfo).toMatchObject({ id: '005000000000001AAA', organizationId: SIM_DEFAULTS.orgId });
      // The identity URL (the OAuth response's `id`; jsforce builds it for SOAP logins).
      const identity = await conn.identity();
      expect(identity).toMatchObject({ user_id: '005000000000001AAA', organization_id: SIM_DEFAULTS.orgId, username: username() });
    }
    expect(soap.accessToken).not.toBe(oauth.accessToken);
    // A connection made from a session id alone finds its identity through the version's resources.
    const bare = new jsforce.Connection({ instanceUrl: sim.url, accessToken: oauth.accessToken!, version: '62.0' });
    expect((await bare.identity()).user_id).toBe('005000000000001AAA');
  });

  it("works on jsforce's default API version (50.0), which Salesforce still serves", async () => {
    const conn = new jsforce.Connection({ loginUrl: loginUrl() });
    await conn.login(username(), password());
    expect(conn.version).toBe('50.0');
    expect((await conn.query('SELECT Id FROM Account', { autoFetch: false })).totalSize).toBe(ROWS);
  });

  it("describes Account with the org's field names, types, labels and formula marks", async () => {
    const conn = await oauthLogin();
    const described = await conn.sobject('Account').describe();
    expect(described.name).toBe('Account');
    expect(described.fields.map((f) => ({ name: f.name, type: f.type, label: f.label, calculated: f.calculated }))).toEqual(
      account().fields.map((f) => ({ name: f.name, type: f.type, label: f.label, calculated: f.calculated ?? false })),
    );
    expect(described.fields.find((f) => f.name === 'RatingScore__c')).toMatchObject({ calculated: true, label: 'Account Rating Score', type: 'double' });
    expect(described.fields.find((f) => f.name === 'AnnualRevenue')).toMatchObject({ type: 'currency', precision: 18, scale: 2 });
    expect(described.fields.find((f) => f.name === 'BillingCity')).toMatchObject({ compoundFieldName: 'BillingAddress' });
  });

  it('reads Account through REST, following nextRecordsUrl: every row once, values as the org holds them', async () => {
    const conn = await soapLogin();
    const result = await conn.query<Record<string, unknown>>(soql(), { autoFetch: true, maxFetch: ROWS + 1 });
    expect(result).toMatchObject({ done: true, totalSize: ROWS });
    const { rows, twice } = byId(result.records);
    expect(twice).toEqual([]);
    expect(compareWithOrg(rows, restValue)).toEqual(ALL_EQUAL);
    // JSON types, not text: the sample covers every kind of value.
    const some = [...rows.values()];
    expect(some.find((r) => r.AnnualRevenue !== null)!.AnnualRevenue).toEqual(expect.any(Number));
    expect(some.some((r) => r.AnnualRevenue === null)).toBe(true);
    expect(some.find((r) => r.NumberOfEmployees !== null)!.NumberOfEmployees).toEqual(expect.any(Number));
    expect(some[0]!.IsActive__c).toEqual(expect.any(Boolean));
    expect(some[0]!.SystemModstamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);

    // The same by hand: the first page and queryMore over its nextRecordsUrl, 500 records a page.
    const headers = { 'Sforce-Query-Options': 'batchSize=500' };
    const first = await conn.query<Record<string, unknown>>('SELECT Id FROM Account', { autoFetch: false, headers });
    expect(first).toMatchObject({ done: false, totalSize: ROWS });
    expect(first.records).toHaveLength(500);
    expect(first.nextRecordsUrl).toMatch(/\/query\/01g[0-9a-f]+-500$/);
    // (jsforce's typings want every query option here.)
    const second = await conn.queryMore<Record<string, unknown>>(first.nextRecordsUrl!, {
      headers,
      autoFetch: false,
      maxFetch: 500,
      scanAll: false,
      responseTarget: 'QueryResult',
    });
    expect(second.records).toHaveLength(500);
    expect([...rows.keys()].slice(500, 1000)).toEqual(second.records.map((r) => r.Id));
  });

  it('runs a Bulk API 2.0 query with bulk2.query: every row once, values as the org holds them, gzip-compressed', async () => {
    const conn = await oauthLogin();
    sim.resetStats();
    const records = await bulkRecords(conn, soql());
    expect(sim.stats()).toMatchObject({ bulkJobs: 1, resultPagesCalls: 0, resultDownloads: 1 });
    // node-fetch under jsforce asks for gzip: the results came compressed and were decoded.
    expect(sim.stats().gzipResults).toBe(1);
    const { rows, twice } = byId(records);
    expect(twice).toEqual([]);
    expect(compareWithOrg(rows, csvValue)).toEqual(ALL_EQUAL);
  });

  it('reads a job as parallel result pages (resultPages) through jsforce requests: every row once', async () => {
    const conn = await oauthLogin();
    sim.resetStats();
    const job = await conn.request<{ id: string; apiVersion: number }>({
      method: 'POST',
      url: '/jobs/query',
      body: JSON.stringify({ operation: 'query', query: soql() }),
      headers: { 'content-type': 'application/json' },
    });
    expect(job.apiVersion).toBe(62);
    await conn.bulk2.job('query', { id: job.id }).poll(10, 60_000);
    const records: Record<string, string>[] = [];
    const pagesPerSet: number[] = [];
    for (let next: string | null = `/jobs/query/${job.id}/resultPages`; next; ) {
      const set: { resultPages: { resultUrl: string }[]; nextRecordsUrl: string | null } = await conn.request(next);
      pagesPerSet.push(set.resultPages.length);
      // jsforce parses each text/csv answer on its own (each page starts with its header row).
      const pages = await Promise.all(set.resultPages.map((p) => conn.request<Record<string, string>[]>({ method: 'GET', url: p.resultUrl, headers: { Accept: 'text/csv' } })));
      for (const page of pages) records.push(...page);
      next = set.nextRecordsUrl;
    }
    expect(pagesPerSet).toEqual([5, 1]);
    expect(sim.stats()).toMatchObject({ resultPagesCalls: 2, resultDownloads: 6, gzipResults: 6 });
    expect(sim.stats().maxResultsInFlight).toBeGreaterThan(1);
    const { rows, twice } = byId(records);
    expect(twice).toEqual([]);
    expect(compareWithOrg(rows, csvValue)).toEqual(ALL_EQUAL);
  });

  it("carries Salesforce's error codes: a wrong password, an unknown object", async () => {
    const soap = new jsforce.Connection({ loginUrl: loginUrl(), version: '62.0' });
    await expect(soap.login(username(), 'wrong-password')).rejects.toThrow(/^INVALID_LOGIN: Invalid username, password, security token; or user locked out\.$/);
    // The OAuth2 token endpoint answers as OAuth does: invalid_grant, "authentication failure".
    const oauth = new jsforce.Connection({ oauth2: oauth2(), version: '62.0' });
    await expect(oauth.login(username(), 'wrong-password')).rejects.toMatchObject({ name: 'invalid_grant', message: 'authentication failure' });

    const conn = await oauthLogin();
    await expect(conn.query('SELECT Id FROM Nope__c')).rejects.toMatchObject({
      errorCode: 'INVALID_TYPE',
      message: expect.stringContaining("sObject type 'Nope__c' is not supported"),
    });
    await expect(conn.sobject('Nope__c').describe()).rejects.toMatchObject({ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' });
  });

  // Last: this read takes seconds of this process's event loop, which jsforce and both simulators
  // share; a request right after it could take a kept-alive connection to the other simulator that
  // the simulator is closing for idleness at that very moment.
  it('follows the Sforce-Locator of a Bulk job whose results come in several sets: every row once', async () => {
    const conn = await oauthLogin(bigSim);
    // Text with quotes, commas and line breaks, numbers, booleans, dates, datetimes, nulls.
    const fields = ['Id', 'Name', 'Description', 'AnnualRevenue', 'NumberOfEmployees', 'IsActive__c', 'CustomerSince__c', 'SystemModstamp'].map(
      (n) => bigSim.org.field(account(bigSim), n)!,
    );
    bigSim.resetStats();
    const records = await bulkRecords(conn, soql(fields));
    const stats = bigSim.stats();
    expect(stats).toMatchObject({ bulkJobs: 1, resultDownloads: 2, gzipResults: 2 });
    // jsforce 3.10 pipes every results set into one CSV parser, so the header row each set starts
    // with (as Salesforce sends them) comes out as a record from the second set on.
    const headerRows = records.filter((r) => r.Id === 'Id');
    expect(headerRows).toEqual([Object.fromEntries(fields.map((f) => [f.name, f.name]))]);
    const { rows, twice } = byId(records.filter((r) => r.Id !== 'Id'));
    expect(twice).toEqual([]);
    expect(compareWithOrg(rows, csvValue, fields, bigSim)).toEqual(ALL_EQUAL);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BulkJobGoneError, BulkUnavailableError, readBulk } from '../../src/salesforce/bulk-reader';
import { SalesforceClient } from '../../src/salesforce/client';
import { cursorField, describeObject, syncableFields } from '../../src/salesforce/describe';
import { readRecords } from '../../src/salesforce/reader';
import { readRest } from '../../src/salesforce/rest-reader';
import { parseSalesforceSettings, salesforceEnv as E } from '../../src/salesforce/settings';
import { buildSoql } from '../../src/salesforce/soql';
import { SIM_DEFAULTS, SalesforceSimulator } from '../salesforce-sim/server';

const sim = new SalesforceSimulator({ rowCounts: { Account: 2500, Opportunity: 40 } });
const noBulk = new SalesforceSimulator({ rowCounts: { Account: 30 }, bulkEnabled: false });
const U = SIM_DEFAULTS.user;
const clientFor = (s: SalesforceSimulator) =>
  new SalesforceClient(parseSalesforceSettings({ [E.domain]: s.url, [E.userName]: U.username, [E.password]: U.password, [E.securityToken]: U.securityToken }), { backoffMs: 5 });

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
    const soql = buildSoql(d, fields.map((f) => f.name), { window: { field: cursorField(d)! } });
    const bulk = await collect(readBulk({ client, soql, fields, maxRecords: 1000, cursorField: 'SystemModstamp', pollMs: 5 }));
    const rest = await collect(readRest({ client, soql, fields }));
    expect(bulk.pages.map((p) => p.rows.length)).toEqual([1000, 1000, 500]);
    expect(bulk.rows).toHaveLength(2500);
    expect(bulk.rows).toEqual(rest.rows);
    // Every Salesforce type that reaches the table appears, with the same normalised value.
    const types = new Set(fields.map((f) => f.type));
    for (const t of ['id', 'string', 'picklist', 'multipicklist', 'textarea', 'reference', 'email', 'phone', 'url', 'boolean', 'int', 'double', 'percent', 'currency', 'date', 'datetime', 'time']) expect(types).toContain(t);
  });

  it('resumes from a job and locator; a vanished job says so', async () => {
    const client = clientFor(sim);
    const d = await describeObject(client, 'Opportunity');
    const fields = syncableFields(d);
    const soql = buildSoql(d, fields.map((f) => f.name), { window: { field: 'SystemModstamp' } });
    const pages = readBulk({ client, soql, fields, maxRecords: 15, pollMs: 5 });
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
    const soql = buildSoql(d, fields.map((f) => f.name));
    await expect(collect(readBulk({ client, soql, fields }))).rejects.toThrow(BulkUnavailableError);
    const reasons: string[] = [];
    const read = await collect(readRecords({ client, soql, fields, onFallback: (r) => reasons.push(r) }));
    expect(read.rows).toHaveLength(30);
    expect(read.pages.every((p) => p.api === 'rest')).toBe(true);
    expect(reasons[0]).toMatch(/FUNCTIONALITY_NOT_ENABLED/);
  });

  it('refuses compound and base64 fields as Salesforce does', async () => {
    const client = clientFor(sim);
    const d = await describeObject(client, 'Account');
    for (const field of ['BillingAddress', 'Logo__c']) {
      const f = d.fields.filter((x) => x.name === 'Id' || x.name === field);
      await expect(collect(readBulk({ client, soql: buildSoql(d, f.map((x) => x.name)), fields: f }))).rejects.toThrow(BulkUnavailableError);
    }
  });
});

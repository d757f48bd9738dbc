import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SalesforceApiError, SalesforceClient } from '../../src/salesforce/client';
import { describeObject, syncableFields } from '../../src/salesforce/describe';
import { readObject } from '../../src/salesforce/reader';
import { readRest } from '../../src/salesforce/rest-reader';
import { parseSalesforceSettings, salesforceEnv as E } from '../../src/salesforce/settings';
import { buildSoql } from '../../src/salesforce/soql';
import { fromRestJson } from '../../src/salesforce/values';
import { SIM_DEFAULTS, SalesforceSimulator } from '../../src/salesforce-sim/server';

const sim = new SalesforceSimulator({ rowCounts: { Wide_Measurement__c: 700 } });
const U = SIM_DEFAULTS.user;

beforeAll(async () => {
  await sim.start();
});
afterAll(() => sim.stop());

describe('objects too wide for one query', () => {
  it('are read in field chunks joined by Id through REST, and in one job through Bulk (its limit is 100,000 characters)', async () => {
    const client = new SalesforceClient(parseSalesforceSettings({ [E.domain]: sim.url, [E.userName]: U.username, [E.password]: U.password, [E.securityToken]: U.securityToken }), {
      backoffMs: 5,
    });
    const d = await describeObject(client, 'Wide_Measurement__c');
    const fields = syncableFields(d);
    expect(fields.length).toBeGreaterThan(600);
    // One query would be refused: its URL is over Salesforce's limit.
    const whole = buildSoql(
      d,
      fields.map((f) => f.name),
      { window: { field: 'SystemModstamp' } },
    );
    await expect(readRest({ client, soql: whole, fields }).next()).rejects.toThrow(SalesforceApiError);

    const o = sim.org.object('Wide_Measurement__c')!;
    const source = [...sim.org.records(o, false)].sort(
      (a, b) => Date.parse(String(a.SystemModstamp)) - Date.parse(String(b.SystemModstamp)) || String(a.Id).localeCompare(String(b.Id)),
    );
    const expected = source.map((r) => fields.map((f) => fromRestJson(f.type, f.type === 'datetime' && r[f.name] ? String(r[f.name]).replace('Z', '+0000') : r[f.name])));
    for (const api of ['rest', 'bulk'] as const) {
      const rows: unknown[][] = [];
      let pages = 0;
      for await (const page of readObject({ client, describe: d, fields, window: { field: 'SystemModstamp' }, api })) {
        rows.push(...page.rows);
        pages++;
        expect(page.last?.cursor).toMatch(/^\d{4}-.*Z$/);
      }
      // Bulk jobs are unordered (so that Salesforce can chunk them): the same rows, in any order.
      const idAt = fields.findIndex((f) => f.name === 'Id');
      const byId = (all: unknown[][]) => (api === 'rest' ? all : [...all].sort((a, b) => String(a[idAt]).localeCompare(String(b[idAt]))));
      expect(byId(rows), api).toEqual(byId(expected));
      expect(pages).toBeGreaterThanOrEqual(1);
    }
  });
});

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIM_DEFAULTS, SalesforceSimulator } from '../../src/salesforce-sim/server';
import { stackSettings } from '../helpers/stack';

const run = promisify(execFile);
const publicHost = 'simorg.my.salesforce.com';
const sim = new SalesforceSimulator({ publicUrl: `https://${publicHost}`, rowCounts: { Account: 450 } });

beforeAll(async () => {
  await sim.start();
});
afterAll(() => sim.stop());

describe('the Salesforce simulator, seen by a client we did not write', () => {
  it('simple_salesforce logs in with a security token, describes, and queries with paging', async () => {
    const { stdout } = await run(stackSettings().READERS_PYTHON, [
      path.join(__dirname, '..', 'readers', 'simple_salesforce_check.py'),
      sim.url,
      publicHost,
      SIM_DEFAULTS.user.username,
      SIM_DEFAULTS.user.password,
      SIM_DEFAULTS.user.securityToken,
    ]);
    const seen = JSON.parse(stdout) as {
      bad_login: string;
      instance: string;
      account_fields: Record<string, { type: string; compound: string | null; precision: number; scale: number }>;
      objects: string[];
      first_page: { size: number; done: boolean; total: number; next: string | null };
      all: { Id: string; Name: string; AnnualRevenue: number | null; SystemModstamp: string }[];
      invalid_field: string;
      bulk_v1_base64: string;
      bulk_v1: { pages: number; rows: { Id: string; Name: string; SystemModstamp: number }[] };
    };
    expect(seen.bad_login).toBe('INVALID_LOGIN');
    expect(seen.instance).toBe(publicHost);
    expect(seen.objects).toEqual(expect.arrayContaining(['Account', 'Contact', 'Opportunity', 'Invoice__c']));
    expect(seen.account_fields.AnnualRevenue).toMatchObject({ type: 'currency', precision: 18, scale: 2 });
    expect(seen.account_fields.BillingCity).toMatchObject({ type: 'string', compound: 'BillingAddress' });
    expect(seen.account_fields.BillingAddress!.type).toBe('address');
    expect(seen.first_page).toMatchObject({ size: 200, done: false, total: 450 });
    expect(seen.first_page.next).toMatch(/^\/services\/data\/v62\.0\/query\/01g[0-9a-f]+-200$/);
    expect(seen.all).toHaveLength(450);
    expect(new Set(seen.all.map((r) => r.Id)).size).toBe(450);
    expect(seen.all[0]!.Id).toMatch(/^001[0-9A-Za-z]{15}$/);
    expect(seen.all[0]!.SystemModstamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);
    expect(seen.invalid_field).toBe('INVALID_FIELD');
    // Bulk API 1.0 through simple_salesforce's own bulk handler: the same rows, datetimes as epoch milliseconds.
    expect(seen.bulk_v1.pages).toBe(1);
    expect(seen.bulk_v1.rows.map((r) => r.Id)).toEqual(seen.all.map((r) => r.Id));
    expect(seen.bulk_v1.rows[0]!.SystemModstamp).toBe(Date.parse(seen.all[0]!.SystemModstamp.replace('+0000', 'Z')));
    expect(seen.bulk_v1_base64).toBe('Failed');
  });
});

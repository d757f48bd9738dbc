import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';
import { SimOrg } from '../../src/salesforce-sim/org';
import { SoqlError, parseSoql } from '../../src/salesforce-sim/soql';
import { SalesforceApiError, SalesforceClient } from '../../src/salesforce/client';
import { BASE64_SKIPPED, describeObject, syncableFields } from '../../src/salesforce/describe';
import { findHiddenFields, hiddenFieldsWarning, refusedField } from '../../src/salesforce/hidden-fields';
import { parseSalesforceSettings } from '../../src/salesforce/settings';
import { DuckDbDestination } from '../../src/destinations/duckdb';
import { prepareObject } from '../../src/sync/object-sync';
import type { Logger } from '../../src/log';

/*
 * Fields the integration user cannot see (field-level security): the simulator lists them in
 * describe and refuses any SOQL naming them, as Salesforce does; the sync finds them with a LIMIT 1
 * probe, leaves them out and says so.
 */

const sim = new SalesforceSimulator({ rowCounts: { Account: 50, Wide_Measurement__c: 5 } });
let client: SalesforceClient;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hidden-fields-'));

beforeAll(async () => {
  await sim.start();
  client = new SalesforceClient(parseSalesforceSettings(sim.settingsEnv()), { backoffMs: 5 });
});

afterAll(async () => {
  await sim.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return error as SoqlError;
  }
  throw new Error('no refusal');
};

describe('hidden fields in the simulator', () => {
  it('hidden field: SOQL naming it fails with INVALID_FIELD as for a field that does not exist; the other fields and an unhidden field read', () => {
    const org = new SimOrg({ Account: 5 });
    org.hideField('Account', 'annualrevenue');
    const error = refusal(() => org.run(parseSoql('SELECT Id, AnnualRevenue FROM Account'), false));
    expect(error).toBeInstanceOf(SoqlError);
    expect(error.errorCode).toBe('INVALID_FIELD');
    expect(error.message).toContain(
      "No such column 'AnnualRevenue' on entity 'Account'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
    );
    // Salesforce points at the field: column 12 of "SELECT Id, AnnualRevenue".
    expect(error.message).toContain('ERROR at Row:1:Column:12');
    // In a filter or an order too, and whatever the case of the name.
    expect(refusal(() => org.run(parseSoql('SELECT Id FROM Account WHERE annualrevenue > 5'), false)).errorCode).toBe('INVALID_FIELD');
    expect(refusal(() => org.run(parseSoql('SELECT Id FROM Account ORDER BY AnnualRevenue'), true)).errorCode).toBe('INVALID_FIELD');
    expect(org.run(parseSoql('SELECT Id, Name FROM Account'), false).numbers).toHaveLength(5);
    org.unhideField('Account', 'AnnualRevenue');
    expect(org.run(parseSoql('SELECT Id, AnnualRevenue FROM Account'), false).numbers).toHaveLength(5);
    expect(() => org.hideField('Account', 'NoSuchField__c')).toThrow(/no field/);
  });

  it('hidden field: describe lists it with the same metadata; REST query, queryAll and Bulk job creation refuse it (control endpoint)', async () => {
    const before = (await describeObject(client, 'Account')).fields.find((f) => f.name === 'Industry');
    const hide = await fetch(`${sim.instanceUrl}/__sim/hide-field`, { method: 'POST', body: JSON.stringify({ object: 'Account', field: 'Industry' }) });
    expect(hide.status).toBe(200);
    try {
      expect((await describeObject(client, 'Account')).fields.find((f) => f.name === 'Industry')).toEqual(before);
      for (const resource of ['/query', '/queryAll']) {
        const error = await client.get(`${resource}?q=${encodeURIComponent('SELECT Id, Industry FROM Account')}`).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SalesforceApiError);
        expect(error).toMatchObject({ errorCode: 'INVALID_FIELD', status: 400 });
        expect((error as Error).message).toContain("No such column 'Industry' on entity 'Account'");
      }
      const job = await client
        .request('POST', '/jobs/query', { 'content-type': 'application/json' }, JSON.stringify({ operation: 'query', query: 'SELECT Id, Industry FROM Account' }))
        .catch((e: unknown) => e);
      expect(job).toMatchObject({ errorCode: 'INVALID_FIELD' });
    } finally {
      await fetch(`${sim.instanceUrl}/__sim/unhide-field`, { method: 'POST', body: JSON.stringify({ object: 'Account', field: 'Industry' }) });
    }
    const page = await client.get<{ totalSize: number }>(`/query?q=${encodeURIComponent('SELECT Id, Industry FROM Account')}`);
    expect(page.totalSize).toBe(50);
  });
});

describe('hidden field detection', () => {
  it('hidden field: refusedField reads the field an INVALID_FIELD names, only when it is one asked for', () => {
    const names = ['Id', 'AnnualRevenue'];
    const invalid = (message: string) => new SalesforceApiError(`Salesforce answered GET /query with 400 INVALID_FIELD: ${message}`, 'INVALID_FIELD', 400, false);
    expect(refusedField(invalid("\nSELECT Id, AnnualRevenue FROM Account\n^\nNo such column 'annualrevenue' on entity 'Account'. If you are ..."), names)).toBe('AnnualRevenue');
    expect(refusedField(invalid("No such column 'AnnualRevenue' on sobject of type Account"), names)).toBe('AnnualRevenue');
    expect(refusedField(invalid("No such column 'Other__c' on entity 'Account'."), names)).toBeUndefined();
    expect(refusedField(new SalesforceApiError("No such column 'AnnualRevenue' on entity 'Account'.", 'MALFORMED_QUERY', 400, false), names)).toBeUndefined();
    expect(refusedField(new Error("No such column 'AnnualRevenue' on entity 'Account'."), names)).toBeUndefined();
  });

  it('hidden field: one call when every field can be read, one more per hidden field; a wide object is probed in chunks short enough for a URL', async () => {
    const account = await describeObject(client, 'Account');
    expect(await findHiddenFields(client, account, syncableFields(account))).toEqual({ hidden: [], calls: 1 });
    sim.org.hideField('Account', 'Industry');
    sim.org.hideField('Account', 'AnnualRevenue');
    try {
      const found = await findHiddenFields(client, account, syncableFields(account));
      expect(found.hidden.sort()).toEqual(['AnnualRevenue', 'Industry']);
      expect(found.calls).toBe(3);
    } finally {
      sim.org.unhideField('Account', 'Industry');
      sim.org.unhideField('Account', 'AnnualRevenue');
    }
    const wide = await describeObject(client, 'Wide_Measurement__c');
    const fields = syncableFields(wide);
    expect(fields.length).toBeGreaterThan(600);
    const hiddenWide = fields.at(-1)!.name;
    sim.org.hideField('Wide_Measurement__c', hiddenWide);
    try {
      const found = await findHiddenFields(client, wide, fields, { maxQueryLength: 4_000 });
      expect(found.hidden).toEqual([hiddenWide]);
      // Several chunks (each under 4,000 characters), plus the one the hidden field was refused in.
      expect(found.calls).toBeGreaterThan(2);
      expect(found.calls).toBeLessThan(fields.length);
    } finally {
      sim.org.unhideField('Wide_Measurement__c', hiddenWide);
    }
  });

  it('hidden field: another refusal of the probe stops the check and says why; a retryable one is thrown', async () => {
    const account = await describeObject(client, 'Account');
    const query = `/v${client.apiVersion}/query`;
    // An object Salesforce queries only with a filter: the probe is refused for that, not for a field.
    const refusing: typeof fetch = async (input, init) =>
      String(input).includes('/query?')
        ? new Response(JSON.stringify([{ errorCode: 'MALFORMED_QUERY', message: 'Implementation restriction: this object requires a filter' }]), { status: 400 })
        : fetch(input, init);
    const filtered = new SalesforceClient(parseSalesforceSettings(sim.settingsEnv()), { backoffMs: 1, fetch: refusing });
    const stopped = await findHiddenFields(filtered, account, syncableFields(account));
    expect(stopped).toMatchObject({ hidden: [], calls: 1, unchecked: expect.stringContaining('MALFORMED_QUERY') });
    const impatient = new SalesforceClient(parseSalesforceSettings(sim.settingsEnv()), { backoffMs: 1, maxAttempts: 1 });
    sim.addFault({ kind: 'unavailable', path: query, count: 1 });
    await expect(findHiddenFields(impatient, account, syncableFields(account))).rejects.toMatchObject({ retryable: true });
    sim.clearFaults();
  });

  it('hidden field: prepare leaves it out of a new table, lists it, warns once naming the fix, counts the probe; base64 fields are listed as skipped', async () => {
    const warnings: string[] = [];
    const log: Logger = { debug: () => undefined, info: () => undefined, warn: (message: string) => void warnings.push(message) };
    const destination = new DuckDbDestination(path.join(dir, 'prepare.duckdb'));
    sim.org.hideField('Account', 'AnnualRevenue');
    try {
      const p = await prepareObject({ salesforce: client, destination, log }, { object: 'Account', namespace: ['unit_hidden'], runId: 'unit-hidden@1', full: true });
      expect(p.hiddenFields).toEqual(['AnnualRevenue']);
      expect(p.skippedFields).toEqual([{ field: 'Logo__c', reason: BASE64_SKIPPED }]);
      expect(BASE64_SKIPPED).toMatch(/^base64 \(file contents\): not synced; /);
      // describe, the probe refused once, the probe again (and no other call of prepare on a first sync).
      expect(p.usage?.apiCalls).toBe(3);
      expect(warnings).toEqual([hiddenFieldsWarning('Account', ['AnnualRevenue'])]);
      expect(warnings[0]).toContain('field-level security');
      const columns = (await destination.writeTarget(p)).columns.map((c) => c.name);
      expect(columns).toContain('industry');
      expect(columns).not.toContain('annual_revenue');
    } finally {
      sim.org.unhideField('Account', 'AnnualRevenue');
    }
  });
});

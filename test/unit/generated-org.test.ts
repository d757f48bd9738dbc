import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snakeCase } from '../../src/mapping/schema-mapping';
import { SalesforceClient } from '../../src/salesforce/client';
import { cursorField, describeObject, listObjects, syncableFields } from '../../src/salesforce/describe';
import { parseSalesforceSettings } from '../../src/salesforce/settings';
import { salesforceId } from '../../src/salesforce-sim/ids';
import { GENERATED_DEFAULTS, simObjects } from '../../src/salesforce-sim/objects';
import { SimOrg } from '../../src/salesforce-sim/org';
import { parseSoql } from '../../src/salesforce-sim/soql';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';
import { countQuery } from '../../src/sync/count-check';

/*
 * An org of many objects (SimConfig.generatedObjects): the fixed objects plus generated ones, each
 * with its own key prefix, the audit fields incremental merge needs, and rows every API serves.
 */

const FIXED = simObjects().length;
const GENERATED = 179;
// Small large objects: the test reads them whole.
const sim = new SalesforceSimulator({ generatedObjects: { objects: GENERATED, largeObjects: 3, largeRows: [3_000, 5_000] } });
let client: SalesforceClient;

beforeAll(async () => {
  await sim.start();
  client = new SalesforceClient(parseSalesforceSettings(sim.settingsEnv()), { backoffMs: 5 });
});
afterAll(() => sim.stop());

describe('simulator org of many objects', () => {
  it('has the fixed objects and the generated ones, with unique names, tables and key prefixes (none another object references)', () => {
    const objects = [...sim.org.objects.values()];
    expect(objects).toHaveLength(FIXED + GENERATED);
    const names = objects.map((o) => o.name);
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(names.length);
    expect(new Set(names.map(snakeCase)).size).toBe(names.length);
    const prefixes = objects.map((o) => o.keyPrefix);
    expect(new Set(prefixes).size).toBe(prefixes.length);
    for (const p of prefixes) expect(p).toMatch(/^[0-9a-zA-Z]{3}$/);
    // 069 (ContentDocument) is referenced but not simulated: no generated object takes it.
    expect(prefixes).not.toContain('069');
    const generated = objects.slice(FIXED);
    expect(generated.filter((o) => o.custom).length).toBeGreaterThan(GENERATED / 2);
    expect(generated.filter((o) => !o.custom).length).toBeGreaterThan(GENERATED / 8);
    for (const o of generated) {
      expect(o.name).toMatch(o.custom ? /^[A-Za-z][A-Za-z0-9_]*__c$/ : /^[A-Z][A-Za-z0-9]*$/);
      expect(o.fields.length).toBeGreaterThanOrEqual(GENERATED_DEFAULTS.fields[0]);
      expect(o.fields.length).toBeLessThanOrEqual(GENERATED_DEFAULTS.fields[1]);
      expect(new Set(o.fields.map((f) => snakeCase(f.name))).size).toBe(o.fields.length);
    }
    expect(new Set(generated.map((o) => o.fields.length)).size).toBeGreaterThan(20);
    // Mostly small, three large.
    const rows = generated.map((o) => sim.org.count(o.name));
    expect(rows.filter((n) => n >= 3_000)).toHaveLength(3);
    for (const n of rows.filter((n) => n < 3_000)) expect(n).toBeGreaterThanOrEqual(GENERATED_DEFAULTS.smallRows[0]);
  });

  it('the same spec makes the same org; rowCounts overrides a generated object’s rows', () => {
    const a = new SimOrg({}, { objects: 30 });
    const names = [...a.objects.values()].map((o) => `${o.name}:${o.keyPrefix}:${o.fields.length}:${a.count(o.name)}`);
    const target = [...a.objects.values()][FIXED + 5]!.name;
    const b = new SimOrg({ [target]: 7 }, { objects: 30 });
    expect([...b.objects.values()].map((o) => `${o.name}:${o.keyPrefix}:${o.fields.length}:${o.name === target ? a.count(o.name) : b.count(o.name)}`)).toEqual(names);
    expect(b.count(target)).toBe(7);
    expect(new SimOrg().objects.size).toBe(FIXED);
  });

  it('global describe lists them; describe gives fields the sync can read, with SystemModstamp as cursor', async () => {
    const listed = await listObjects(client);
    expect(listed).toHaveLength(FIXED + GENERATED);
    for (const o of [...sim.org.objects.values()].slice(FIXED)) {
      const d = await describeObject(client, o.name);
      expect(d.fields.map((f) => f.name)).toEqual(expect.arrayContaining(['Id', 'IsDeleted', 'CreatedDate', 'LastModifiedDate', 'SystemModstamp']));
      expect(cursorField(d)).toBe('SystemModstamp');
      expect(syncableFields(d).length).toBe(o.fields.length);
    }
  });

  it('COUNT(), REST query and Bulk 2.0 serve every row of a generated object', async () => {
    const large = [...sim.org.objects.values()].slice(FIXED).find((o) => sim.org.count(o.name) >= 3_000)!;
    const d = await describeObject(client, large.name);
    const count = countQuery(d, { writeMode: 'merge', upTo: new Date().toISOString(), cursorField: 'SystemModstamp' });
    expect('soql' in count).toBe(true);
    const counted = await client.get<{ totalSize: number }>(`/query?q=${encodeURIComponent((count as { soql: string }).soql)}`);
    expect(counted.totalSize).toBe(sim.org.count(large.name));
    const rest = await client.get<{ totalSize: number; records: Record<string, unknown>[] }>(`/query?q=${encodeURIComponent(`SELECT Id, Name FROM ${large.name} LIMIT 5`)}`);
    expect(rest.records[0]!.Id).toBe(salesforceId(large.keyPrefix, 1));
    const job = (await (
      await client.request('POST', '/jobs/query', { 'content-type': 'application/json' }, JSON.stringify({ operation: 'query', query: `SELECT Id FROM ${large.name}` }))
    ).json()) as { id: string };
    while ((await client.get<{ state: string }>(`/jobs/query/${job.id}`)).state !== 'JobComplete') await new Promise((r) => setTimeout(r, 10));
    const results = await (await client.request('GET', `/jobs/query/${job.id}/results?maxRecords=10000`)).text();
    expect(results.trim().split('\n')).toHaveLength(sim.org.count(large.name) + 1);
    // The requests, counted by what they asked for.
    expect(sim.usage.apiRequestsByKind).toMatchObject({ 'describe-global': 1, count: 1, query: 1, 'bulk-create': 1, 'bulk-results': 1 });
    expect(sim.usage.apiRequestsByKind['bulk-poll']).toBeGreaterThanOrEqual(1);
    expect(sim.usage.apiRequestsByKind.describe).toBeGreaterThanOrEqual(GENERATED);
  });

  it('touch changes every object at once: updates move SystemModstamp, creates add rows, deletes reach getDeleted; history objects get creates only', async () => {
    const objects = [...sim.org.objects.values()];
    const before = Object.fromEntries(objects.map((o) => [o.name, sim.org.count(o.name)]));
    const since = new Date(Date.now() - 120_000).toISOString();
    const answer = await fetch(`${sim.url}/__sim/touch`, { method: 'POST', body: JSON.stringify({ updates: 3, creates: 2, deletes: 1, deleteEvery: 10, round: 1 }) });
    const touched = (await answer.json()) as { objects: number; updated: number; created: number; deleted: number; lastStamp: string };
    const stamped = objects.filter((o) => o.fields.some((f) => f.name === 'SystemModstamp'));
    expect(touched).toMatchObject({ objects: objects.length, updated: 3 * stamped.length, created: 2 * objects.length });
    expect(touched.deleted).toBeGreaterThan(0);
    for (const o of objects) expect(sim.org.count(o.name)).toBe(before[o.name]! + 2);
    const o = objects[FIXED]!;
    const changed = sim.org.run(parseSoql(`SELECT Id FROM ${o.name} WHERE SystemModstamp > ${since}`), false).numbers;
    // Its updates, its creates, less a delete (the first object of every ten).
    expect(changed.length).toBe(3 + 2 - (FIXED % 10 === 0 ? 1 : 0));
    const history = sim.org.run(parseSoql(`SELECT Id FROM AccountHistory WHERE CreatedDate > ${since}`), false).numbers;
    expect(history).toHaveLength(2);
    const first = objects[0]!;
    const end = new Date(Date.parse(touched.lastStamp) + 120_000).toISOString();
    const deleted = await client.get<{ deletedRecords: unknown[] }>(`/sobjects/${first.name}/deleted/?start=${encodeURIComponent(since)}&end=${encodeURIComponent(end)}`);
    expect(deleted.deletedRecords).toHaveLength(1);
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { icebergTypeOf } from '../../src/mapping/schema-mapping';
import { SIM_EPOCH_MS } from '../../src/salesforce-sim/objects';
import { SimOrg } from '../../src/salesforce-sim/org';
import { parseSoql } from '../../src/salesforce-sim/soql';
import { cursorField, type SObjectDescribe } from '../../src/salesforce/describe';
import { LocalObjectStore } from '../../src/storage/local-fs';
import { countQuery } from '../../src/sync/count-check';
import { Checkpointer } from '../../src/sync/extract/checkpointer';
import { chooseWriteMode, defaultWriteMode } from '../../src/sync/objects';
import { combineStaged } from '../../src/sync/partitions';
import { KeyList, readStaging, writeStaging, type StagedExtraction } from '../../src/sync/staging';

/*
 * History objects (AccountHistory, OpportunityFieldHistory): shaped as Salesforce shapes them in
 * the simulator, synced in append mode on CreatedDate by default; and which API read an object,
 * carried through staging manifests.
 */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'history-objects-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What describe says of a simulated object (the fields the sync looks at). */
function describeOf(org: SimOrg, name: string): SObjectDescribe {
  const o = org.object(name)!;
  return { name: o.name, label: o.label, custom: o.custom, fields: o.fields.map(({ name, type }) => ({ name, type })) };
}

describe('simulator history objects', () => {
  it('AccountHistory and OpportunityFieldHistory: Salesforce’s fields and key prefixes, CreatedDate as only cursor, anyType values as text or null, Bulk-queryable', () => {
    const org = new SimOrg({ AccountHistory: 600, OpportunityFieldHistory: 300 });
    for (const [name, prefix, parent] of [
      ['AccountHistory', '017', 'AccountId'],
      ['OpportunityFieldHistory', '0BP', 'OpportunityId'],
    ] as const) {
      const o = org.object(name)!;
      expect(o.keyPrefix).toBe(prefix);
      expect(o.bulkQueryable).toBe(true);
      expect(Object.fromEntries(o.fields.map((f) => [f.name, f.type]))).toEqual({
        Id: 'id',
        IsDeleted: 'boolean',
        [parent]: 'reference',
        CreatedById: 'reference',
        CreatedDate: 'datetime',
        Field: 'picklist',
        DataType: 'picklist',
        OldValue: 'anyType',
        NewValue: 'anyType',
      });
      expect(cursorField(describeOf(org, name))).toBe('CreatedDate');
      expect(icebergTypeOf(org.field(o, 'NewValue')!)).toBe('string');
      const rows = [...org.records(o, false)];
      expect(rows).toHaveLength(name === 'AccountHistory' ? 600 : 300);
      expect(String(rows[0]!.Id).startsWith(prefix)).toBe(true);
      expect(String(rows[0]![parent]).startsWith(name === 'AccountHistory' ? '001' : '006')).toBe(true);
      expect(String(rows[0]!.CreatedById).startsWith('005')).toBe(true);
      for (const r of rows) {
        expect(Date.parse(String(r.CreatedDate))).toBeLessThan(SIM_EPOCH_MS);
        for (const v of [r.OldValue, r.NewValue]) expect(v === null || typeof v === 'string').toBe(true);
        if (r.Field === 'created') expect([r.OldValue, r.NewValue]).toEqual([null, null]);
      }
      // Both kinds of rows, and changes of several fields.
      expect(new Set(rows.map((r) => r.Field)).size).toBeGreaterThan(3);
      expect(rows.some((r) => r.Field === 'created')).toBe(true);
    }
    // Generated deterministically: another org has the same rows.
    const again = new SimOrg({ AccountHistory: 600 });
    expect([...again.records(again.object('AccountHistory')!, false)]).toEqual([...org.records(org.object('AccountHistory')!, false)]);
  });

  it('addRecords creates rows now, after every generated one: an incremental read after the old last CreatedDate sees exactly them', () => {
    const org = new SimOrg({ AccountHistory: 50 });
    const o = org.object('AccountHistory')!;
    const last = [...org.records(o, false)]
      .map((r) => String(r.CreatedDate))
      .sort()
      .at(-1)!;
    const before = Date.now();
    const ids = org.addRecords('AccountHistory', 3);
    expect(ids).toHaveLength(3);
    expect(org.count('AccountHistory')).toBe(53);
    const added = ids.map((id) => [...org.records(o, false)].find((r) => r.Id === id)!);
    for (const r of added) expect(Date.parse(String(r.CreatedDate))).toBeGreaterThanOrEqual(before);
    expect(added.map((r) => r.CreatedDate)).toEqual([...added.map((r) => r.CreatedDate)].sort());
    const seen = org.run(parseSoql(`SELECT Id FROM AccountHistory WHERE CreatedDate > ${last}`), false).numbers;
    expect(seen).toEqual([50, 51, 52]);
    // An object with audit fields gets SystemModstamp stamped too.
    const [account] = org.addRecords('Account', 1);
    const row = [...org.records(org.object('Account')!, false)].find((r) => r.Id === account)!;
    expect(row.SystemModstamp).toBe(row.CreatedDate);
    expect(Date.parse(String(row.SystemModstamp))).toBeGreaterThanOrEqual(before);
  });
});

describe('default write mode', () => {
  it('history object: append on its CreatedDate cursor unless the sync asks for a mode; others keep their defaults', () => {
    expect(chooseWriteMode('AccountHistory', 'CreatedDate')).toEqual({ writeMode: 'append', reason: expect.stringContaining('no SystemModstamp or LastModifiedDate') });
    expect(chooseWriteMode('AccountHistory', 'CreatedDate', 'merge')).toEqual({ writeMode: 'merge', reason: 'asked for by the sync' });
    expect(chooseWriteMode('Account', 'SystemModstamp')).toMatchObject({ writeMode: 'merge' });
    expect(chooseWriteMode('Contact', 'SystemModstamp')).toMatchObject({ writeMode: 'replace', reason: expect.stringContaining('Contact') });
    expect(chooseWriteMode('Thing__c', 'LastModifiedDate')).toMatchObject({ writeMode: 'merge' });
    // No datetime cursor at all: the name's default (every sync reads every row).
    expect(chooseWriteMode('Thing__c', undefined)).toMatchObject({ writeMode: defaultWriteMode('Thing__c') });
  });

  it('history object: its append table is counted like a merge table (each row once), other append tables are not', () => {
    const org = new SimOrg();
    const upTo = '2026-12-01T00:00:00.000Z';
    expect(countQuery(describeOf(org, 'AccountHistory'), { writeMode: 'append', upTo, cursorField: 'CreatedDate' })).toEqual({
      soql: 'SELECT COUNT() FROM AccountHistory WHERE CreatedDate < 2026-12-01T00:00:00.001Z',
    });
    expect(countQuery(describeOf(org, 'Account'), { writeMode: 'append', upTo, cursorField: 'SystemModstamp' })).toMatchObject({ skipped: expect.any(String) });
  });
});

describe('read API in staging manifests', () => {
  const store = new LocalObjectStore();
  const writer = () => ({ files: [], flush: async () => {} });
  const opts = (name: string) => ({
    store,
    runId: 'run',
    stagingPath: (suffix?: string) => pathToFileURL(path.join(dir, `${name}${suffix ? `.${suffix}` : ''}.json`)).href,
    writer: writer(),
    everyMs: 0,
  });
  const page = { length: 1, text: () => '0D5000000000001AAA', last: { id: '0D5000000000001AAA' }, position: { api: 'rest' as const, after: { id: '0D5000000000001AAA' } } };

  it('Bulk-refused object: the reason survives a checkpoint and a resumed attempt; older manifests have none', async () => {
    const first = await Checkpointer.open(opts('refused'));
    first.fellBack("Entity 'AccountFeed' is not supported by the Bulk API.");
    first.add(page, 0);
    first.noteApi('rest');
    const checkpoint = await first.save(page);
    // The next attempt resumes in the REST read: Bulk is not asked again, the reason is still known.
    const second = await Checkpointer.open(opts('refused'), checkpoint);
    second.noteApi('rest');
    const staged = await readStaging(store, await second.finish({ deletedKeys: [], usage: { apiCalls: 1, bulkJobs: 0, resultBytes: 0 } }));
    expect(staged.readApi).toEqual({ api: 'rest', reason: "Entity 'AccountFeed' is not supported by the Bulk API." });

    const bulk = await Checkpointer.open(opts('bulk'));
    bulk.noteApi('bulk');
    expect((await readStaging(store, await bulk.finish({ deletedKeys: [], usage: { apiCalls: 1, bulkJobs: 1, resultBytes: 0 } }))).readApi).toEqual({ api: 'bulk' });

    const asked = await Checkpointer.open(opts('asked'));
    asked.noteApi('rest', { api: 'rest', reason: 'the worker reads through REST (SALESFORCE_READ_API=rest)' });
    expect(asked.readApi).toEqual({ api: 'rest', reason: 'the worker reads through REST (SALESFORCE_READ_API=rest)' });

    const old = pathToFileURL(path.join(dir, 'old.json')).href;
    await writeStaging(store, old, { runId: 'run', files: [], keys: new KeyList(), deletedKeys: [] });
    expect('readApi' in (await readStaging(store, old))).toBe(false);
  });

  it('Bulk-refused object: partitions combined say REST with its reason when any range was read through REST', () => {
    const part = (readApi?: StagedExtraction['readApi']): StagedExtraction => ({
      runId: 'run',
      files: [],
      keyCount: 0,
      loadKeys: async () => new KeyList(),
      deletedKeys: [],
      ...(readApi ? { readApi } : {}),
    });
    expect(combineStaged([part(), part({ api: 'bulk' }), part({ api: 'rest', reason: 'refused' })]).readApi).toEqual({ api: 'rest', reason: 'refused' });
    expect(combineStaged([part(), part({ api: 'bulk' })]).readApi).toEqual({ api: 'bulk' });
    expect(combineStaged([part(), part()]).readApi).toBeUndefined();
  });
});

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbDestination } from '../../src/destinations/duckdb';
import { SalesforceClient } from '../../src/salesforce/client';
import { describeObject } from '../../src/salesforce/describe';
import { readBulk } from '../../src/salesforce/bulk-reader';
import type { ReadApi } from '../../src/salesforce/reader';
import { readRest } from '../../src/salesforce/rest-reader';
import { parseSalesforceSettings } from '../../src/salesforce/settings';
import { IdDifference, type IdDifferenceOptions } from '../../src/sync/id-difference';
import { commitObject, extractObject, prepareObject } from '../../src/sync/object-sync';
import type { SyncContext } from '../../src/sync/types';
import { reconcileIds, reconcileObject } from '../../src/sync/reconcile';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';
import { duckdbColumn } from '../helpers/duckdb-file';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reconcile-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Ids like Salesforce's: 18 characters, sequential. */
const id = (n: number) => `001${String(n).padStart(15, '0')}`;

async function difference(
  live: string[],
  kept: string[],
  opts: IdDifferenceOptions = {},
): Promise<{ missing: string[]; spilled: string[]; folder: string; largestBucket: number }> {
  const diff = await IdDifference.create({ tmpDir: dir, ...opts });
  try {
    for (const x of live) diff.live(x);
    for (const x of kept) diff.keep(x);
    await diff.flush();
    const spilled = fs.readdirSync(diff.folder);
    const missing: string[] = [];
    for await (const batch of diff.missing()) missing.push(...batch);
    return { missing: missing.sort(), spilled, folder: diff.folder, largestBucket: diff.stats.largestBucket };
  } finally {
    await diff.close();
  }
}

describe('IdDifference: live − kept in bounded memory', () => {
  it('equals the plain set difference, each missing Id once, whether it stays in memory, spills, or splits buckets again', async () => {
    // Random sets with overlap, duplicates on both sides, Ids on one side only.
    let seed = 7;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const live: string[] = [];
    const kept: string[] = [];
    for (let n = 0; n < 30_000; n++) {
      const r = random();
      if (r < 0.7) live.push(id(n));
      if (r > 0.05) kept.push(id(n));
      if (r > 0.99) live.push(id(n)); // a duplicate
    }
    kept.push(id(999_999)); // kept only: removes nothing
    const keptSet = new Set(kept);
    const expected = [...new Set(live.filter((x) => !keptSet.has(x)))].sort();
    expect(expected.length).toBeGreaterThan(500);

    const inMemory = await difference(live, kept);
    expect(inMemory.missing).toEqual(expected);
    expect(inMemory.spilled).toEqual([]); // small inputs never touch the disk
    expect(inMemory.largestBucket).toBeGreaterThan(0);

    // Tiny buffers and a 100-Id memory bound: buckets spill, and each of the 8 buckets (~3,500
    // kept Ids) is split again (twice) before it is compared.
    const spilled = await difference(live, kept, { buckets: 8, bufferBytes: 1024, memoryIds: 100 });
    expect(spilled.spilled.length).toBeGreaterThan(8);
    expect(spilled.largestBucket).toBeLessThanOrEqual(100);
    expect(spilled.largestBucket).toBeGreaterThan(10);
    expect(spilled.missing).toEqual(expected);
    expect(fs.existsSync(spilled.folder)).toBe(false);
  });

  it('keeps nothing when every live Id is kept, and finds every one when none is', async () => {
    const ids = Array.from({ length: 5_000 }, (_, n) => id(n));
    expect((await difference(ids, [...ids].reverse(), { buckets: 4, bufferBytes: 512, memoryIds: 50 })).missing).toEqual([]);
    expect((await difference(ids, [], { buckets: 4, bufferBytes: 512, memoryIds: 50 })).missing).toEqual(ids);
    expect((await difference([], ids)).missing).toEqual([]);
  });

  it('removes the temp folders of processes that died before removing their own', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const abandoned = path.join(dir, `sf-iceberg-reconcile-${dead}-abc123`);
    const mine = path.join(dir, `sf-iceberg-reconcile-${process.pid}-def456`);
    for (const d of [abandoned, mine]) fs.mkdirSync(d);
    fs.writeFileSync(path.join(abandoned, '0.live'), `${id(1)}\n`);
    const diff = await IdDifference.create({ tmpDir: dir });
    await diff.close();
    expect(fs.existsSync(abandoned)).toBe(false);
    expect(fs.existsSync(mine)).toBe(true); // this process's: it may still be in use
  });
});

/*
 * The sync steps without Temporal: Salesforce is the in-process simulator, the destination a
 * DuckDB file (the integration test does the same on Iceberg through the real stack).
 */
const sim = new SalesforceSimulator({ rowCounts: { Account: 3_000 } });
const duckdbFile = path.join(dir, 'sync.duckdb');
let salesforce: SalesforceClient;
let ctx: SyncContext;
/** The Bulk API 2.0 query jobs the client created: operation and SOQL. */
const jobs: { operation: string; query: string }[] = [];

beforeAll(async () => {
  await sim.start();
  const recording: typeof fetch = async (input, init) => {
    if (init?.method === 'POST' && String(input).endsWith('/jobs/query')) jobs.push(JSON.parse(String(init.body)) as { operation: string; query: string });
    return fetch(input, init);
  };
  salesforce = new SalesforceClient(parseSalesforceSettings(sim.settingsEnv()), { fetch: recording, backoffMs: 5 });
  // Deletes from queryAll, as before Salesforce's delete log was read: hard deletes only by reconciling (test/unit/deleted-log.test.ts reads the log).
  ctx = { salesforce, destination: new DuckDbDestination(duckdbFile), lagMs: 0, getDeleted: false };
});
afterAll(() => sim.stop());

const sourceIds = () => [...sim.org.records(sim.org.object('Account')!, false)].map((r) => String(r.Id)).sort();

const tableIds = () => duckdbColumn(duckdbFile, 'SELECT id FROM unit.account ORDER BY id');

let runs = 0;
/**
 * One sync's steps. A reconciling one compares Ids in its own step (reconcileObject) between the
 * extraction and the commit, or, as syncs that started before that step did, inside the extraction.
 */
async function sync(opts: { reconcile?: boolean; writeMode?: 'merge' | 'append' | 'replace'; inExtraction?: boolean } = {}) {
  const p = await prepareObject(ctx, {
    object: 'Account',
    namespace: ['unit'],
    runId: `unit-reconcile@${++runs}`,
    writeMode: opts.writeMode ?? 'merge',
    reconcile: opts.reconcile,
  });
  const heartbeats: string[] = [];
  const progress = (x: { reconciling?: string }) => x.reconciling && heartbeats.push(x.reconciling);
  const extracted = await extractObject(ctx, p, { progress, reconcile: opts.inExtraction });
  const reconciled = opts.reconcile && !opts.inExtraction ? await reconcileObject(ctx, p, extracted.staging, { progress }) : undefined;
  const staging = reconciled ? [extracted.staging, reconciled.staging] : extracted.staging;
  return { extracted, reconciled, committed: await commitObject(ctx, p, staging), heartbeats };
}

describe('the simulator’s hard deletes and emptied Recycle Bin', () => {
  it('take rows out of query and queryAll, through REST and Bulk alike; a soft delete stays in queryAll until the bin is emptied', async () => {
    const sim2 = new SalesforceSimulator({ rowCounts: { Account: 50 } });
    await sim2.start();
    try {
      const client = new SalesforceClient(parseSalesforceSettings(sim2.settingsEnv()), { backoffMs: 5 });
      const describe = await describeObject(client, 'Account');
      const idField = describe.fields.filter((f) => f.name === 'Id');
      const read = async (api: ReadApi, all: boolean) => {
        const out: string[] = [];
        const opts = { client, soql: 'SELECT Id FROM Account', fields: idField, includeDeleted: all };
        const pages = api === 'bulk' ? readBulk(opts) : readRest(opts);
        for await (const page of pages) for (const row of page.rows) out.push(String(row[0]));
        return out.sort();
      };
      const ids = await read('rest', false);
      const post = (what: string, body: unknown) =>
        fetch(`${sim2.url}/__sim/${what}`, { method: 'POST', body: JSON.stringify(body) }).then(async (r) => [r.status, await r.json()]);
      expect(await post('hard-delete', { object: 'Account', id: ids[1] })).toEqual([200, { hardDeleted: ids[1] }]);
      expect(await post('delete', { object: 'Account', id: ids[2] })).toEqual([200, { deleted: ids[2] }]);
      for (const api of ['rest', 'bulk'] as const) {
        expect(await read(api, false), api).toEqual(ids.filter((x) => x !== ids[1] && x !== ids[2]));
        expect(await read(api, true), api).toEqual(ids.filter((x) => x !== ids[1]));
      }
      expect(await post('empty-recycle-bin', { object: 'Account' })).toEqual([200, { purged: 1 }]);
      for (const api of ['rest', 'bulk'] as const) expect(await read(api, true), api).toEqual(ids.filter((x) => x !== ids[1] && x !== ids[2]));
      // A record gone for good can be neither changed nor deleted again.
      expect((await post('update', { object: 'Account', id: ids[1], values: { Name: 'x' } }))[1]).toEqual({ error: `entity is deleted: ${ids[1]}` });
      expect((await post('hard-delete', { object: 'Nope', id: ids[1] }))[0]).toBe(400);
    } finally {
      await sim2.stop();
    }
  });
});

describe('a reconciling sync (sync steps on the simulator and DuckDB, no servers)', () => {
  it('an incremental sync keeps hard-deleted and purged rows; a reconciling one removes exactly them, in one commit', async () => {
    const first = await sync();
    expect(first.committed).toMatchObject({ rows: 3_000, deleted: 0 });
    expect(first.committed.reconciled).toBeUndefined();
    const ids = sourceIds();
    expect(await tableIds()).toEqual(ids);

    sim.org.hardDelete('Account', ids[10]!);
    sim.org.delete('Account', ids[20]!);
    sim.org.emptyRecycleBin('Account');
    sim.org.delete('Account', ids[30]!); // still in the bin: queryAll sees it
    sim.org.update('Account', ids[40]!, { Name: 'Renamed' });

    const incremental = await sync();
    expect(incremental.committed).toMatchObject({ rows: 1, deleted: 1 });
    const afterIncremental = await tableIds();
    expect(afterIncremental).toEqual(ids.filter((x) => x !== ids[30]));
    expect(afterIncremental).toContain(ids[10]);
    expect(afterIncremental).toContain(ids[20]);

    sim.org.update('Account', ids[50]!, { Name: 'Renamed too' });
    jobs.length = 0;
    const reconciling = await sync({ reconcile: true });
    // The Ids are read through Bulk API 2.0, with query (rows in the Recycle Bin count as gone)
    // and without ORDER BY (so Salesforce can chunk a large object).
    expect(jobs.filter((j) => j.query.startsWith('SELECT Id FROM'))).toEqual([{ operation: 'query', query: 'SELECT Id FROM Account' }]);
    expect(reconciling.committed).toMatchObject({ rows: 1, deleted: 0, reconciled: 2 });
    // Found by the reconcile step, after the extraction (which found none itself).
    expect(reconciling.extracted).toMatchObject({ deleted: 0 });
    expect(reconciling.extracted.reconciled).toBeUndefined();
    expect(reconciling.reconciled).toMatchObject({ reconciled: 2 });
    expect(reconciling.heartbeats.at(-1)).toBe('reconciled: 2 of 2999 table rows are gone from Salesforce');
    expect(await tableIds()).toEqual(sourceIds());
    expect(await tableIds()).toEqual(ids.filter((x) => ![ids[10], ids[20], ids[30]].includes(x)));

    // Nothing more to remove: a second reconciliation finds nothing.
    expect((await sync({ reconcile: true })).committed).toMatchObject({ rows: 0, reconciled: 0 });
  });

  it('a sync that started before the reconcile step existed still reconciles inside its extraction', async () => {
    const ids = sourceIds();
    sim.org.hardDelete('Account', ids[60]!);
    const inside = await sync({ reconcile: true, inExtraction: true });
    expect(inside.extracted).toMatchObject({ deleted: 0, reconciled: 1 });
    expect(inside.committed).toMatchObject({ rows: 0, deleted: 0, reconciled: 1 });
    expect(inside.heartbeats.at(-1)).toBe(`reconciled: 1 of ${ids.length} table rows are gone from Salesforce`);
    expect(await tableIds()).toEqual(ids.filter((x) => x !== ids[60]));
  });

  it('never removes a row the sync itself read, even when Salesforce no longer returns it', async () => {
    const ids = sourceIds();
    sim.org.hardDelete('Account', ids[100]!);
    sim.org.hardDelete('Account', ids[101]!);
    const describe = await describeObject(salesforce, 'Account');
    const found = await reconcileIds({ salesforce, destination: ctx.destination, table: { namespace: ['unit'], table: 'account' }, describe, idColumn: 'id', keep: [[ids[101]!]] });
    expect(found).toMatchObject({ removed: [ids[100]], tableIds: ids.length });
    expect(found.salesforceIds).toBe(ids.length - 2);
  });

  it('an object not synced in merge mode is not reconciled, and the result says why', async () => {
    const appended = await sync({ reconcile: true, writeMode: 'append' });
    expect(appended.committed.reconciled).toBeUndefined();
    expect(appended.committed.reconcileSkipped).toBe('Account is synced in append mode, which keeps every row it ever read: not reconciled');
    expect(appended.heartbeats).toEqual([appended.committed.reconcileSkipped]);
  });
});

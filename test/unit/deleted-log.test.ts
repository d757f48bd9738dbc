import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbDestination } from '../../src/destinations/duckdb';
import { SalesforceClient } from '../../src/salesforce/client';
import { DeleteLogUnavailable, deleteLogMinutes, deleteLogTooOld, readDeleteLog } from '../../src/salesforce/deleted-log';
import { parseSalesforceSettings } from '../../src/salesforce/settings';
import { commitObject, extractObject, prepareObject } from '../../src/sync/object-sync';
import { reconcileObject } from '../../src/sync/reconcile';
import type { SyncContext } from '../../src/sync/types';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';
import { duckdbColumn } from '../helpers/duckdb-file';

/*
 * Salesforce's delete log (sObject Get Deleted) as the simulator serves it and as the sync reads
 * it: the documented rules of the resource, the client's windows, and the sync steps on the
 * simulator and a DuckDB file (test/integration/deleted-log.test.ts does the same on the real stack).
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deleted-log-'));
const sim = new SalesforceSimulator({ rowCounts: { Account: 500 } });
const duckdbFile = path.join(dir, 'sync.duckdb');
/** Every request path the client made. */
const requests: string[] = [];
let salesforce: SalesforceClient;
let ctx: SyncContext;

beforeAll(async () => {
  await sim.start();
  const recording: typeof fetch = async (input, init) => {
    requests.push(`${init?.method ?? 'GET'} ${decodeURIComponent(new URL(String(input)).pathname + new URL(String(input)).search)} ${String(init?.body ?? '')}`);
    return fetch(input, init);
  };
  salesforce = new SalesforceClient(parseSalesforceSettings(sim.settingsEnv()), { fetch: recording, backoffMs: 5 });
  ctx = { salesforce, destination: new DuckDbDestination(duckdbFile), lagMs: 0 };
});
afterAll(async () => {
  await sim.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
const liveIds = (object = 'Account') => [...sim.org.records(sim.org.object(object)!, false)].map((r) => String(r.Id));

async function getDeleted(object: string, start: number, end: number): Promise<[number, any]> {
  const token = (await salesforce.login()).accessToken;
  const url = `${sim.url}/services/data/v62.0/sobjects/${object}/deleted/?start=${encodeURIComponent(iso(start))}&end=${encodeURIComponent(iso(end))}`;
  const r = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  return [r.status, await r.json()];
}

describe('getDeleted in the simulator, as Salesforce documents it', () => {
  it('getDeleted lists soft and hard deletes of the window to the minute, refuses windows of a minute or less, past 15 days or before a purge, and names unknown objects', async () => {
    // Opportunity: the sync test below has Account's log to itself.
    const ids = liveIds('Opportunity');
    const before = Date.now() - 5 * MINUTE;
    sim.org.delete('Opportunity', ids[1]!);
    sim.org.hardDelete('Opportunity', ids[2]!);
    const after = Date.now() + 2 * MINUTE;
    const [ok, body] = await getDeleted('Opportunity', before, after);
    expect(ok).toBe(200);
    expect(body.deletedRecords.map((r: { id: string }) => r.id)).toEqual([ids[1], ids[2]]);
    expect(body.deletedRecords[0].deletedDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    expect(Date.parse(body.earliestDateAvailable)).toBeLessThanOrEqual(before);
    expect(Date.parse(body.latestDateCovered)).toBeLessThanOrEqual(after);
    // Seconds are ignored: a window whose end falls in the minute before the deletes (or earlier) has none of them.
    const deletedAt = Date.parse(body.deletedRecords[0].deletedDate);
    const [, earlier] = await getDeleted('Opportunity', before - 10 * MINUTE, deletedAt - (deletedAt % MINUTE) - 1);
    expect(earlier.deletedRecords).toEqual([]);

    const refused = async (start: number, end: number) => {
      const [status, answer] = await getDeleted('Opportunity', start, end);
      expect(status).toBe(400);
      expect(answer[0].errorCode).toBe('INVALID_REPLICATION_DATE');
      return answer[0].message as string;
    };
    expect(await refused(before, before + MINUTE)).toContain('more than one minute');
    expect(await refused(Date.now() - 16 * 86_400_000, Date.now())).toContain('15 days');
    // Emptying the Recycle Bin purges the log: nothing before it can be answered, what follows can.
    sim.org.emptyRecycleBin('Opportunity');
    expect(await refused(before, after)).toContain('earliest date available');
    sim.org.delete('Opportunity', ids[3]!);
    const [, since] = await getDeleted('Opportunity', Date.now() + MINUTE, Date.now() + 3 * MINUTE);
    expect(since.deletedRecords).toEqual([]);
    expect((await getDeleted('Nope__c', before, after))[0]).toBe(404);
  });
});

describe('reading the delete log', () => {
  it('getDeleted windows: whole minutes covering the window, at least two apart; a cursor older than the 15 days is refused before any call', () => {
    const w = deleteLogMinutes({ after: '2026-03-01T10:00:30.500Z', upTo: '2026-03-01T10:07:10.000Z' });
    expect([iso(w.start), iso(w.end)]).toEqual(['2026-03-01T10:00:00.000Z', '2026-03-01T10:08:00.000Z']);
    // Syncs seconds apart: the start goes back so Salesforce gets more than a minute.
    const close = deleteLogMinutes({ after: '2026-03-01T10:07:05.000Z', upTo: '2026-03-01T10:07:10.000Z' });
    expect([iso(close.start), iso(close.end)]).toEqual(['2026-03-01T10:06:00.000Z', '2026-03-01T10:08:00.000Z']);
    const now = Date.parse('2026-03-20T00:00:00Z');
    expect(deleteLogTooOld({ after: '2026-03-10T00:00:00Z', upTo: '2026-03-19T23:59:00Z' }, now)).toBeUndefined();
    expect(deleteLogTooOld({ after: '2026-03-04T00:00:00Z', upTo: '2026-03-19T23:59:00Z' }, now)).toContain('16 days old');
  });

  it('getDeleted over 600,000 Ids is read again in halves; a window Salesforce cannot cover is unavailable with its reason', async () => {
    // Salesforce's answers for a window with 4,000 deletes a minute: over the limit beyond 150 minutes.
    const calls: string[] = [];
    let purgedAt: number | undefined;
    const answer: typeof fetch = async (input) => {
      const url = new URL(String(input));
      if (url.pathname.endsWith('/token')) return Response.json({ access_token: 'x', instance_url: url.origin, token_type: 'Bearer' });
      const [start, end] = ['start', 'end'].map((k) => Date.parse(url.searchParams.get(k)!));
      calls.push(`${iso(start!)}..${iso(end!)}`);
      if (purgedAt !== undefined && start! < purgedAt) return Response.json([{ errorCode: 'INVALID_REPLICATION_DATE', message: 'purged' }], { status: 400 });
      if (end! - start! > 150 * MINUTE) return Response.json([{ errorCode: 'EXCEEDED_ID_LIMIT', message: 'too many' }], { status: 400 });
      const minutes = (end! - start!) / MINUTE;
      return Response.json({
        deletedRecords: Array.from({ length: minutes }, (_, i) => ({ id: `001${String(start! / MINUTE + i).padStart(15, '0')}` })),
        earliestDateAvailable: iso(start! - 86_400_000),
        latestDateCovered: iso(end!),
      });
    };
    const client = new SalesforceClient(parseSalesforceSettings(sim.settingsEnv()), { fetch: answer, backoffMs: 1 });
    const upTo = Date.now() - (Date.now() % MINUTE);
    const ids = await readDeleteLog(client, 'Account', { after: iso(upTo - 400 * MINUTE), upTo: iso(upTo) });
    // 400 minutes: refused whole, then in halves of 200, then quarters of 100 (and the halves' shared minutes read once).
    expect(calls.length).toBe(1 + 2 + 4);
    expect(ids.length).toBe(400);
    expect(new Set(ids).size).toBe(ids.length);
    // A purged log: unavailable, Salesforce's reason kept; a cursor past the 15 days is refused before any call.
    purgedAt = upTo - 10 * MINUTE;
    const purged = await readDeleteLog(client, 'Account', { after: iso(upTo - 20 * MINUTE), upTo: iso(upTo) }).catch((e: unknown) => e);
    expect(purged).toBeInstanceOf(DeleteLogUnavailable);
    expect((purged as Error).message).toContain('INVALID_REPLICATION_DATE: purged');
    calls.length = 0;
    const old = await readDeleteLog(client, 'Account', { after: iso(upTo - 20 * 86_400_000), upTo: iso(upTo) }).catch((e: unknown) => e);
    expect((old as Error).message).toContain('20 days old');
    expect(calls).toEqual([]);
  });
});

const tableIds = () => duckdbColumn(duckdbFile, 'SELECT id FROM unit.account ORDER BY id');

let runs = 0;
async function sync(opts: { extractSmallWindow?: boolean } = {}) {
  const p = await prepareObject(ctx, { object: 'Account', namespace: ['unit'], runId: `unit-deleted-log@${++runs}`, writeMode: 'merge', ...opts });
  // As the workflow does: no extract step when prepare wrote the window itself.
  const extracted = p.extracted ?? (await extractObject(ctx, p, {}));
  const reconciled = p.reconcile ? await reconcileObject(ctx, p, extracted.staging) : undefined;
  return { p, committed: await commitObject(ctx, p, reconciled ? [extracted.staging, reconciled.staging] : extracted.staging) };
}

describe('a merge sync reads its deletes from the delete log (sync steps on the simulator and DuckDB)', () => {
  it('getDeleted: soft and hard deletes removed without queryAll or an Id read; a purged log falls back to a reconciliation and says why', async () => {
    const first = await sync();
    expect(first.p.deletes).toBeUndefined(); // the first sync reads every row: nothing to delete
    const ids = liveIds();
    expect(await tableIds()).toEqual([...ids].sort());

    sim.org.delete('Account', ids[10]!);
    sim.org.hardDelete('Account', ids[11]!);
    sim.org.update('Account', ids[12]!, { Name: 'Changed' });
    requests.length = 0;
    const second = await sync();
    expect(second.p.deletes).toMatchObject({ from: 'getDeleted', ids: 2 });
    expect(second.committed).toMatchObject({ rows: 1, deleted: 2, deletesFrom: expect.stringContaining('getDeleted') });
    expect(second.committed.reconciled).toBeUndefined();
    expect(await tableIds()).toEqual(liveIds().sort());
    // One call in all: prepare's Composite request, with the describe (this client kept the first
    // sync's, so the questions are asked of its fields at once), the field probe, the log, the
    // window's COUNT(), the count check's and the window's rows through REST (3 rows: one page),
    // which the extraction takes from staging. No queryAll, no read of every Id, no Bulk job
    // (the limits read by the first sync still serve).
    expect(requests.map((r) => r.split(' ').slice(0, 2).join(' ').replace(/\?.*/, ''))).toEqual(['POST /services/data/v62.0/composite']);
    const together = decodeURIComponent(requests[0]!);
    expect(together).toMatch(
      /\/sobjects\/Account\/describe.*LIMIT 1.*\/deleted\/.*SELECT COUNT\(\) FROM Account WHERE SystemModstamp.*SELECT COUNT\(\) FROM Account WHERE CreatedDate.*SELECT Id, .* FROM Account WHERE SystemModstamp > .* ORDER BY SystemModstamp, Id/,
    );
    expect(together).not.toMatch(/queryAll|IsDeleted = true|\/jobs\/query/);
    expect(second.p.prefetched).toMatch(/staging\/.*prefetched\.json$/);
    expect(second.committed.readApi).toEqual({ api: 'rest', reason: 'the window holds 1 row, at most SALESFORCE_REST_WINDOW_ROWS (10000)' });

    // Asked to (as the workflow does), prepare writes a window that came back whole itself: nothing
    // staged for an extract step, the same single request, the row and the delete in the table.
    sim.org.update('Account', ids[15]!, { Name: 'Written by prepare' });
    sim.org.delete('Account', ids[16]!);
    requests.length = 0;
    const inPrepare = await sync({ extractSmallWindow: true });
    expect(requests.map((r) => r.split(' ').slice(0, 2).join(' ').replace(/\?.*/, ''))).toEqual(['POST /services/data/v62.0/composite']);
    expect(inPrepare.p.prefetched).toBeUndefined();
    // The log's deleted Id is staged beside the rows, as for an extract step, and counted at the commit.
    expect(inPrepare.p.extracted).toMatchObject({ rows: 1, files: 1 });
    expect(inPrepare.committed).toMatchObject({ rows: 1, deleted: 1, readApi: { api: 'rest' } });
    expect(await tableIds()).toEqual(liveIds().sort());
    expect(await duckdbColumn(duckdbFile, `SELECT name FROM unit.account WHERE id = '${ids[15]}'`)).toEqual(['Written by prepare']);

    // Nothing changed since: the log's answer for the window's whole minutes holds the last sync's deletes, which are not read again.
    const quiet = await sync();
    expect(quiet.p.deletes).toMatchObject({ from: 'getDeleted', ids: 0 });
    expect(quiet.committed).toMatchObject({ rows: 0, deleted: 0, unchanged: true });

    // The log purged since the last sync (its Recycle Bin emptied): every Id is compared instead.
    sim.org.hardDelete('Account', ids[13]!);
    sim.org.emptyRecycleBin('Account');
    const third = await sync();
    expect(third.p.deletes).toMatchObject({ from: 'queryAll', reconcile: true });
    expect(third.p.reconcile).toBe(true);
    expect(third.committed.deletesFrom).toContain('earliest date available');
    expect(third.committed).toMatchObject({ reconciled: 1 });
    expect(await tableIds()).toEqual(liveIds().sort());

    // A field added since the describe this client kept: the questions asked of the old fields are
    // asked again of the new ones (a second Composite request), and the table gains its column.
    sim.org.addField('Account', { name: 'Tier__c', type: 'string', label: 'Tier', length: 20, custom: true, gen: (n) => `tier-${n % 3}` });
    sim.org.update('Account', ids[14]!, { Name: 'Changed again' });
    requests.length = 0;
    const fourth = await sync();
    expect(requests.slice(0, 2).map((r) => r.split(' ').slice(0, 2).join(' '))).toEqual(['POST /services/data/v62.0/composite', 'POST /services/data/v62.0/composite']);
    expect(decodeURIComponent(requests[0]!)).not.toContain('Tier__c');
    expect(decodeURIComponent(requests[1]!)).toContain('Tier__c');
    expect(fourth.p.newColumns).toEqual(['tier_c']);
    expect(await tableIds()).toEqual(liveIds().sort());
  });
});

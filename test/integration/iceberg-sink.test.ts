import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectIceberg } from '../../src/iceberg/connect';
import { IncompatibleSchemaError } from '../../src/iceberg/errors';
import { commitFiles, type WriteMode } from '../../src/iceberg/snapshot-producer';
import { readRows } from '../../src/iceberg/reader';
import { RestCatalog } from '../../src/iceberg/catalog';
import { prepareTable } from '../../src/destinations/iceberg';
import { loadTable, type IcebergTable } from '../../src/iceberg/table';
import { DataFileWriter } from '../../src/parquet/writer';
import type { SalesforceField } from '../../src/salesforce/describe-types';
import { readers, type ReadResult } from '../helpers/readers';
import { stackSettings, uniqueName } from '../helpers/stack';
import { SYNC_RUN_KEYS } from '../../src/table-contract';

const settings = stackSettings();
const { catalog, storeFor } = connectIceberg(settings);
const namespace = [uniqueName('sink')];

const accountFields: SalesforceField[] = [
  { name: 'Id', type: 'id' },
  { name: 'Name', type: 'string' },
  { name: 'AnnualRevenue', type: 'currency', precision: 18, scale: 2 },
  { name: 'NumberOfEmployees', type: 'int' },
  { name: 'IsDeleted', type: 'boolean' },
  { name: 'Rating__c', type: 'percent' },
  { name: 'SystemModstamp', type: 'datetime' },
  { name: 'LastActivityDate', type: 'date' },
];

interface Account {
  Id: string;
  Name: string | null;
  AnnualRevenue: string | null;
  NumberOfEmployees: number | null;
  IsDeleted: boolean;
  Rating__c: number | null;
  SystemModstamp: string;
  LastActivityDate: string | null;
  Region__c?: string | null;
}

function account(i: number, overrides: Partial<Account> = {}): Account {
  return {
    Id: `001${String(i).padStart(15, '0')}`,
    Name: i % 7 === 0 ? null : `Account ${i} — Ünïcode`,
    AnnualRevenue: i % 5 === 0 ? null : `${i * 1000}.${String(i % 100).padStart(2, '0')}`,
    NumberOfEmployees: i % 3 === 0 ? null : i * 10,
    IsDeleted: false,
    Rating__c: i % 4 === 0 ? null : i / 8,
    SystemModstamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i, i % 1000)).toISOString(),
    LastActivityDate: i % 6 === 0 ? null : `2026-02-${String((i % 28) + 1).padStart(2, '0')}`,
    ...overrides,
  };
}

/** What the independent readers print for an account (see test/readers/iceberg_readers.py). */
function expected(a: Account, withRegion = false): Record<string, unknown> {
  const row: Record<string, unknown> = {
    id: a.Id,
    name: a.Name,
    annual_revenue: a.AnnualRevenue === null ? null : Number(a.AnnualRevenue).toFixed(2),
    number_of_employees: a.NumberOfEmployees,
    is_deleted: a.IsDeleted,
    rating_c: a.Rating__c,
    system_modstamp: `${a.SystemModstamp.slice(0, 23)}000Z`,
    last_activity_date: a.LastActivityDate,
  };
  if (withRegion) row.region_c = a.Region__c ?? null;
  return row;
}

const byId = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => String(a.id).localeCompare(String(b.id)));

async function readBoth(table: string): Promise<{ py: ReadResult; duck: ReadResult }> {
  const [py, duck] = await Promise.all([
    readers<ReadResult>('read', '--reader', 'pyiceberg', namespace[0]!, table),
    readers<ReadResult>('read', '--reader', 'duckdb', namespace[0]!, table),
  ]);
  return { py, duck };
}

async function sync(
  table: IcebergTable,
  columns: string[],
  rows: Account[],
  mode: WriteMode | 'merge',
  runId: string,
  extra: { deleteKeys?: string[]; maxRowsPerFile?: number; beforeCommit?: (attempt: number) => Promise<void> } = {},
) {
  const writer = new DataFileWriter({
    fields: table.schema().fields,
    store: table.store,
    location: `${table.location}/data`,
    namePrefix: runId,
    maxRowsPerFile: extra.maxRowsPerFile,
    rowGroupRows: extra.maxRowsPerFile ? 32 : undefined,
  });
  const fieldByColumn = new Map(table.schema().fields.map((f, i) => [f.name, i]));
  const salesforceOf = new Map(columns.map((c) => [c.split('=')[0]!, c.split('=')[1]!]));
  await writer.write(
    rows.map((r) =>
      table.schema().fields.map((f) => {
        const sf = salesforceOf.get(f.name);
        return sf === undefined ? null : ((r as unknown as Record<string, unknown>)[sf] ?? null);
      }),
    ),
  );
  void fieldByColumn;
  const files = await writer.close();
  const m: WriteMode = mode === 'merge' ? { kind: 'merge', keyColumn: 'id', keys: rows.map((r) => r.Id), deleteKeys: extra.deleteKeys ?? [] } : mode;
  return commitFiles({
    keys: SYNC_RUN_KEYS,
    table,
    runId,
    files,
    mode: m,
    properties: { 'salesforce.cursor': rows.at(-1)?.SystemModstamp ?? '' },
    beforeCommit: extra.beforeCommit,
  });
}

async function open(name: string, fields = accountFields) {
  const { table, plan } = await prepareTable({ catalog, namespace, name, storeFor, fields, naming: 'snake_case', runId: `create-${name}` });
  return { table, columns: plan.columns.map((c) => `${c.field.name}=${c.salesforceName}`) };
}

describe('Iceberg sink on Nessie + MinIO, read back by pyiceberg and DuckDB', () => {
  beforeAll(async () => {
    await catalog.ensureNamespace(namespace);
  });
  afterAll(async () => {
    await readers('drop', namespace[0]!).catch(() => undefined);
  });

  it('creates the table with mapped types, Id required and the identifier field', async () => {
    const { table } = await open('account_types');
    const schema = table.schema();
    expect(schema.fields.map((f) => [f.name, f.type, f.required])).toEqual([
      ['id', 'string', true],
      ['name', 'string', false],
      ['annual_revenue', 'decimal(18, 2)', false],
      ['number_of_employees', 'int', false],
      ['is_deleted', 'boolean', false],
      ['rating_c', 'double', false],
      ['system_modstamp', 'timestamptz', false],
      ['last_activity_date', 'date', false],
    ]);
    expect(schema['identifier-field-ids']).toEqual([schema.fields[0]!.id]);
  });

  it('append, overwrite, merge with updates and deletes, schema change: both readers see exactly the source', async () => {
    const { table, columns } = await open('account');
    let source = new Map<string, Account>();

    // 1. Append 300 rows across several files: one snapshot.
    const first = Array.from({ length: 300 }, (_, i) => account(i + 1));
    const r1 = await sync(table, columns, first, { kind: 'append' }, uniqueName('run'), { maxRowsPerFile: 64 });
    first.forEach((a) => source.set(a.Id, a));
    expect(r1.alreadyCommitted).toBe(false);
    expect(Number(r1.summary['added-data-files'])).toBeGreaterThan(1);
    let { py, duck } = await readBoth('account');
    expect(byId(py.rows)).toEqual(byId([...source.values()].map((a) => expected(a))));
    expect(byId(duck.rows)).toEqual(byId(py.rows));
    // Sequence 1 is the empty snapshot the table was created with; this append is 2.
    expect(py.sequence_number).toBe(2);
    // 64-bit ids stay exact end to end: what pyiceberg reads is the id we generated.
    expect(py.snapshot_id).toBe(r1.snapshotId.toString());
    expect(py.columns.map((c) => c.type)).toEqual(['string', 'string', 'decimal(18, 2)', 'int', 'boolean', 'double', 'timestamptz', 'date']);
    expect(duck.columns.map((c) => c.type)).toEqual(['VARCHAR', 'VARCHAR', 'DECIMAL(18,2)', 'INTEGER', 'BOOLEAN', 'DOUBLE', 'TIMESTAMP WITH TIME ZONE', 'DATE']);

    // 2. Overwrite: the table becomes exactly the new rows.
    const replaced = Array.from({ length: 50 }, (_, i) => account(1000 + i));
    await sync(table, columns, replaced, { kind: 'overwrite' }, uniqueName('run'));
    source = new Map(replaced.map((a) => [a.Id, a]));
    ({ py, duck } = await readBoth('account'));
    expect(byId(py.rows)).toEqual(byId([...source.values()].map((a) => expected(a))));
    expect(byId(duck.rows)).toEqual(byId(py.rows));

    // 3. Merge: 10 updates, 5 inserts, 4 deletes — one snapshot with a position delete file.
    const updates = replaced.slice(0, 10).map((a, i) => ({ ...a, Name: `Updated ${i}`, AnnualRevenue: '1.50', SystemModstamp: '2026-03-01T10:00:00.000Z' }));
    const inserts = Array.from({ length: 5 }, (_, i) => account(2000 + i));
    const deleteKeys = replaced.slice(20, 24).map((a) => a.Id);
    const r3 = await sync(table, columns, [...updates, ...inserts], 'merge', uniqueName('run'), { deleteKeys });
    for (const a of [...updates, ...inserts]) source.set(a.Id, a);
    for (const id of deleteKeys) source.delete(id);
    expect(r3.summary['added-position-deletes']).toBe('14');
    ({ py, duck } = await readBoth('account'));
    expect(byId(py.rows)).toEqual(byId([...source.values()].map((a) => expected(a))));
    expect(byId(duck.rows)).toEqual(byId(py.rows));
    // Our own reader agrees too.
    expect((await readRows(table)).length).toBe(source.size);

    // 4. A second merge over the first: rows deleted before are not deleted twice.
    const again = updates.slice(0, 3).map((a) => ({ ...a, Name: 'Second update' }));
    const r4 = await sync(table, columns, again, 'merge', uniqueName('run'));
    for (const a of again) source.set(a.Id, a);
    expect(r4.summary['added-position-deletes']).toBe('3');
    ({ py, duck } = await readBoth('account'));
    expect(byId(py.rows)).toEqual(byId([...source.values()].map((a) => expected(a))));
    expect(byId(duck.rows)).toEqual(byId(py.rows));

    // 5. Schema change: a new Salesforce field becomes a new optional column; old rows read null.
    const evolved = await open('account', [...accountFields, { name: 'Region__c', type: 'picklist' }]);
    expect(evolved.table.schema().fields.at(-1)).toMatchObject({ name: 'region_c', type: 'string', required: false });
    const withRegion = [account(3000, { Region__c: 'EMEA' }), { ...updates[5]!, Region__c: 'APAC', Name: 'Moved' }];
    await sync(evolved.table, evolved.columns, withRegion, 'merge', uniqueName('run'));
    for (const a of withRegion) source.set(a.Id, a);
    ({ py, duck } = await readBoth('account'));
    expect(byId(py.rows)).toEqual(byId([...source.values()].map((a) => expected(a, true))));
    expect(byId(duck.rows)).toEqual(byId(py.rows));
    // One snapshot per commit: five commits, five sequence numbers (Nessie keeps only the current
    // snapshot in metadata, so the sequence number is what counts them).
    expect(py.sequence_number).toBe(1 + 5);
    expect(JSON.parse(py.properties!['salesforce.sync-runs']!)).toHaveLength(5);
  });

  it('a commit retried after it succeeded adds no second snapshot', async () => {
    const { table, columns } = await open('account_retry');
    const runId = uniqueName('run');
    const rows = Array.from({ length: 20 }, (_, i) => account(i));
    const first = await sync(table, columns, rows, { kind: 'append' }, runId);
    const second = await sync(table, columns, rows, { kind: 'append' }, runId);
    expect(second.alreadyCommitted).toBe(true);
    expect(second.snapshotId).toBe(first.snapshotId);
    await table.refresh();
    expect(table.metadata['last-sequence-number']).toBe(1n + 1n);
    const { py } = await readBoth('account_retry');
    expect(py.rows).toHaveLength(20);
    expect(py.summary?.['salesforce.sync-run-id']).toBe(runId);
  });

  it('two writers committing at the same time both land, nothing lost', async () => {
    const a = await open('account_concurrent');
    const b = await open('account_concurrent');
    const rowsA = Array.from({ length: 40 }, (_, i) => account(i));
    const rowsB = Array.from({ length: 60 }, (_, i) => account(500 + i));
    // Both build their first attempt on the same parent before either sends it: one lands, the
    // other is refused (409) and rebuilds on the first one's snapshot.
    let built = 0;
    let bothBuilt!: () => void;
    const barrier = new Promise<void>((r) => (bothBuilt = r));
    const beforeCommit = async (attempt: number) => {
      if (attempt !== 1) return;
      if (++built === 2) bothBuilt();
      await barrier;
    };
    const [ra, rb] = await Promise.all([
      sync(a.table, a.columns, rowsA, { kind: 'append' }, uniqueName('run-a'), { beforeCommit }),
      sync(b.table, b.columns, rowsB, { kind: 'append' }, uniqueName('run-b'), { beforeCommit }),
    ]);
    expect([ra.attempts, rb.attempts].sort()).toEqual([1, 2]);
    const { py, duck } = await readBoth('account_concurrent');
    expect(byId(py.rows)).toEqual(byId([...rowsA, ...rowsB].map((r) => expected(r))));
    expect(byId(duck.rows)).toEqual(byId(py.rows));
    expect(py.sequence_number).toBe(1 + 2);
    // Each writer finds its own run again: a retry of either adds nothing.
    const retryA = await sync(a.table, a.columns, rowsA, { kind: 'append' }, ra.summary['salesforce.sync-run-id']!);
    expect(retryA.alreadyCommitted).toBe(true);
    expect(retryA.snapshotId).toBe(ra.snapshotId);
    expect((await readBoth('account_concurrent')).py.rows).toHaveLength(100);
  });

  it('a 409 rebuilds on the new parent without rewriting data files', async () => {
    const a = await open('account_conflict');
    const b = await open('account_conflict');
    const rowsA = Array.from({ length: 30 }, (_, i) => account(i));
    const rowsB = Array.from({ length: 30 }, (_, i) => account(700 + i));
    const writer = new DataFileWriter({ fields: a.table.schema().fields, store: a.table.store, location: `${a.table.location}/data`, namePrefix: 'conflict' });
    const sfNames = a.columns.map((c) => c.split('=')[1]!);
    await writer.write(rowsA.map((r) => sfNames.map((n) => (r as unknown as Record<string, unknown>)[n] ?? null)));
    const files = await writer.close();
    const retries: string[] = [];
    const result = await commitFiles({
      keys: SYNC_RUN_KEYS,
      table: a.table,
      runId: uniqueName('run-a'),
      files,
      mode: { kind: 'append' },
      onRetry: (_attempt, reason) => retries.push(reason),
      // Writer B lands between A building its snapshot and sending it.
      beforeCommit: async (attempt) => {
        if (attempt === 1) await sync(b.table, b.columns, rowsB, { kind: 'append' }, uniqueName('run-b'));
      },
    });
    expect(result.attempts).toBe(2);
    expect(retries[0]).toMatch(/HTTP 409/);
    const { py, duck } = await readBoth('account_conflict');
    expect(byId(py.rows)).toEqual(byId([...rowsA, ...rowsB].map((r) => expected(r))));
    expect(byId(duck.rows)).toEqual(byId(py.rows));
    expect(py.sequence_number).toBe(1 + 2);
    // The same data files, not rewritten copies.
    const live = await a.table.liveEntries();
    for (const f of files) expect(live.data.map((e) => e.dataFile.filePath)).toContain(f.filePath);
  });

  it('a commit answered with 503 after it landed is found on reload, not committed twice', async () => {
    const { table, columns } = await open('account_unknown');
    // A catalog whose commit reaches the server but whose answer is lost as a 503.
    let lost = 0;
    const lossy = new RestCatalog({
      uri: settings.ICEBERG_CATALOG_URI,
      warehouse: settings.ICEBERG_WAREHOUSE,
      fetch: async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
        const response = await fetch(input, init);
        if (init?.method === 'POST' && String(input).includes('/tables/account_unknown') && lost === 0) {
          lost++;
          return new Response('{"error":{"message":"gateway","type":"ServiceUnavailable","code":503}}', { status: 503 });
        }
        return response;
      },
    });
    const t = await loadTable({ catalog: lossy, namespace, name: 'account_unknown', storeFor });
    const rows = Array.from({ length: 25 }, (_, i) => account(i));
    const writer = new DataFileWriter({ fields: t.schema().fields, store: t.store, location: `${t.location}/data`, namePrefix: 'unknown' });
    const sfNames = columns.map((c) => c.split('=')[1]!);
    await writer.write(rows.map((r) => sfNames.map((n) => (r as unknown as Record<string, unknown>)[n] ?? null)));
    const retries: string[] = [];
    const result = await commitFiles({
      keys: SYNC_RUN_KEYS,
      table: t,
      runId: uniqueName('run'),
      files: await writer.close(),
      mode: { kind: 'append' },
      onRetry: (_a, reason) => retries.push(reason),
    });
    expect(lost).toBe(1);
    expect(retries[0]).toMatch(/503.*may or may not have landed/);
    expect(result.attempts).toBe(2);
    await table.refresh();
    expect(table.metadata['last-sequence-number']).toBe(1n + 1n);
    expect((await readBoth('account_unknown')).py.rows).toHaveLength(25);
  });

  it('refuses an incompatible type change and changes nothing', async () => {
    await open('account_incompatible');
    const before = await catalog.loadTable(namespace, 'account_incompatible');
    const changed = accountFields.map((f) => (f.name === 'NumberOfEmployees' ? { ...f, type: 'datetime' as const } : f));
    await expect(open('account_incompatible', changed)).rejects.toThrow(IncompatibleSchemaError);
    await expect(open('account_incompatible', changed)).rejects.toThrow(/number_of_employees is int in the table but Salesforce field NumberOfEmployees is now datetime/);
    const after = await catalog.loadTable(namespace, 'account_incompatible');
    expect(after.metadata.schemas).toHaveLength(before.metadata.schemas.length);
  });
});

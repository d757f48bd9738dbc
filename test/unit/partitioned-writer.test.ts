import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readParquetFile } from '../../src/iceberg/reader';
import type { DataFile, NestedField, PartitionSpec, SortOrder } from '../../src/iceberg/spec';
import { applyTransform } from '../../src/iceberg/spec/partition';
import { ParquetEncoderPool } from '../../src/parquet/encoder-pool';
import { openTableWriter, PartitionedWriter } from '../../src/parquet/partitioned-writer';
import { DataFileWriter } from '../../src/parquet/writer';
import { BulkCsvPage } from '../../src/salesforce/bulk-csv';
import type { SalesforceField } from '../../src/salesforce/describe-types';
import { LocalObjectStore } from '../../src/storage/local-fs';

// Data files of partitioned and sorted tables: every row in the file of its partition, once, each
// file recording the tuple its rows have; at most the configured number of partitions open; rows
// of each file in the table's sort order.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'partitioned-'));
const pool = new ParquetEncoderPool(1);
afterAll(async () => {
  await pool.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
const store = new LocalObjectStore();
const fields: NestedField[] = [
  { id: 1, name: 'id', required: true, type: 'string' },
  { id: 2, name: 'created_date', required: false, type: 'timestamptz' },
  { id: 3, name: 'account_id', required: false, type: 'string' },
  { id: 4, name: 'amount', required: false, type: 'decimal(18, 2)' },
  { id: 5, name: 'close_date', required: false, type: 'date' },
];
const sfFields: SalesforceField[] = [
  { name: 'Id', type: 'id' },
  { name: 'CreatedDate', type: 'datetime' },
  { name: 'AccountId', type: 'reference' },
  { name: 'Amount', type: 'currency', precision: 18, scale: 2 },
  { name: 'CloseDate', type: 'date' },
];

interface Row {
  id: string;
  created: string | null;
  account: string | null;
  amount: string | null;
  close: string | null;
}

/** Rows over three years of CreatedDate, a few accounts (some null), in no particular order. */
function makeRows(n: number, seed = 7): Row[] {
  let x = seed;
  const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  return Array.from({ length: n }, (_, i) => {
    const created = Date.UTC(2023, 0, 1) + (next() % (3 * 365 * 86_400)) * 1000;
    return {
      id: `006${String(i).padStart(15, '0')}`,
      created: i % 97 === 0 ? null : new Date(created).toISOString().replace('Z', '+0000'),
      account: i % 13 === 0 ? null : `001ACC${String(next() % 40).padStart(3, '0')}`,
      amount: i % 11 === 0 ? null : ((next() % 1_000_000) / 100).toFixed(2),
      close: new Date(created).toISOString().slice(0, 10),
    };
  });
}

/** Rows as one Bulk API CSV page (the extraction's source). */
function csvPage(rows: Row[]): BulkCsvPage {
  const q = (v: string | null) => (v === null ? '' : `"${v}"`);
  const text = ['"Id","CreatedDate","AccountId","Amount","CloseDate"', ...rows.map((r) => [r.id, r.created, r.account, r.amount, r.close].map(q).join(','))].join('\n');
  return new BulkCsvPage(Buffer.from(text), sfFields);
}

const monthOf = (r: Row) => (r.created === null ? null : applyTransform({ kind: 'month' }, 'timestamptz', BigInt(Date.parse(r.created.replace('+0000', 'Z'))) * 1000n));
const bucketOf = (r: Row) => applyTransform({ kind: 'bucket', n: 4 }, 'string', r.account);

const monthAndBucket: PartitionSpec = {
  'spec-id': 3,
  fields: [
    { 'source-id': 2, 'field-id': 1000, name: 'created_date_month', transform: 'month' },
    { 'source-id': 3, 'field-id': 1001, name: 'account_id_bucket', transform: 'bucket[4]' },
  ],
};

async function idsOf(file: DataFile): Promise<string[]> {
  const table = await readParquetFile(store, file.filePath);
  return table.toArray().map((r) => (r.toJSON() as { id: string }).id);
}

async function writeAll(
  label: string,
  rows: Row[],
  opts: { spec?: PartitionSpec; sortOrder?: SortOrder; maxOpenPartitions?: number; sortBufferBytes?: number; pageRows?: number; idleRows?: number },
) {
  const location = pathToFileURL(fs.mkdtempSync(path.join(dir, `${label}-`))).href;
  const writer = openTableWriter({ fields, store, location: `${location}/data`, namePrefix: label, encoders: pool, ...opts });
  let mostOpen = 0;
  const pageRows = opts.pageRows ?? 1000;
  for (let i = 0; i < rows.length; i += pageRows) {
    await writer.writeColumns(csvPage(rows.slice(i, i + pageRows)).columns([0, 1, 2, 3, 4]));
    if (writer instanceof PartitionedWriter) mostOpen = Math.max(mostOpen, writer.openPartitions);
  }
  const files = await writer.close();
  return { writer, files, mostOpen, location };
}

describe('partitioned tables: the partitioned writer', () => {
  it('writes every row once, into a file of its own partition whose tuple it records', async () => {
    const rows = makeRows(12_000);
    const { files, mostOpen, writer } = await writeAll('parts', rows, { spec: monthAndBucket, maxOpenPartitions: 200 });
    expect(writer).toBeInstanceOf(PartitionedWriter);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const seen = new Set<string>();
    const partitions = new Set<string>();
    for (const file of files) {
      expect(file.specId).toBe(3);
      expect(file.sortOrderId).toBeUndefined();
      expect(file.filePath).toMatch(/\/data\/parts-\d{5}-[0-9a-f-]{36}\.parquet$/); // flat, with the run's prefix
      const ids = await idsOf(file);
      expect(BigInt(ids.length)).toBe(file.recordCount);
      for (const id of ids) {
        const row = byId.get(id)!;
        expect(file.partition).toEqual([monthOf(row), bucketOf(row)]);
        expect(seen.has(id)).toBe(false);
        seen.add(id);
      }
      partitions.add(JSON.stringify(file.partition));
    }
    expect(seen.size).toBe(rows.length);
    // 37 months (and nulls) × 4 buckets (and nulls): one file per partition, all open at once.
    expect(partitions.size).toBe(files.length);
    expect(partitions.size).toBeGreaterThan(100);
    expect(mostOpen).toBe(partitions.size);
  });

  it('keeps at most maxOpenPartitions open, closing the least recently used, and loses nothing', async () => {
    const rows = makeRows(3_000, 11);
    const { files, mostOpen, writer } = await writeAll('lru', rows, { spec: monthAndBucket, maxOpenPartitions: 5, pageRows: 500 });
    expect(mostOpen).toBeLessThanOrEqual(5);
    expect((writer as PartitionedWriter).evictions).toBeGreaterThan(0);
    const all = (await Promise.all(files.map(idsOf))).flat();
    expect(all.length).toBe(rows.length);
    expect(new Set(all).size).toBe(rows.length);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const file of files) for (const id of await idsOf(file)) expect(file.partition).toEqual([monthOf(byId.get(id)!), bucketOf(byId.get(id)!)]);
  });

  it('closes a partition idle for idleRows rows: rows in partition order keep few files open, one per partition', async () => {
    const rows = makeRows(4_000, 13).sort((a, b) => (a.created ?? '').localeCompare(b.created ?? ''));
    const spec: PartitionSpec = { 'spec-id': 1, fields: [{ 'source-id': 2, 'field-id': 1000, name: 'created_date_month', transform: 'month' }] };
    const { files, mostOpen } = await writeAll('idle', rows, { spec, idleRows: 300, pageRows: 100 });
    expect(mostOpen).toBeLessThanOrEqual(4);
    expect(new Set(files.map((f) => JSON.stringify(f.partition))).size).toBe(files.length);
    expect(files.reduce((n, f) => n + Number(f.recordCount), 0)).toBe(rows.length);
  });

  it('sorts each file by the sort order (nulls as it says), within its partition, and records the order id', async () => {
    const rows = makeRows(6_000, 3);
    const order: SortOrder = {
      'order-id': 2,
      fields: [
        { transform: 'identity', 'source-id': 3, direction: 'asc', 'null-order': 'nulls-last' },
        { transform: 'identity', 'source-id': 1, direction: 'desc', 'null-order': 'nulls-first' },
      ],
    };
    const spec: PartitionSpec = { 'spec-id': 1, fields: [{ 'source-id': 2, 'field-id': 1000, name: 'created_date_year', transform: 'year' }] };
    // A small sort buffer: several sorted files per partition.
    const { files } = await writeAll('sorted', rows, { spec, sortOrder: order, sortBufferBytes: 256 * 1024 });
    const byId = new Map(rows.map((r) => [r.id, r]));
    const all: string[] = [];
    for (const file of files) {
      expect(file.sortOrderId).toBe(2);
      const ids = await idsOf(file);
      all.push(...ids);
      const keys = ids.map((id) => [byId.get(id)!.account, id] as const);
      const expected = [...keys].sort(([a, x], [b, y]) => (a === b ? (x < y ? 1 : -1) : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1));
      expect(keys).toEqual(expected);
      for (const id of ids) {
        const created = byId.get(id)!.created;
        expect(file.partition).toEqual([created === null ? null : new Date(created.replace('+0000', 'Z')).getUTCFullYear() - 1970]);
      }
    }
    expect(files.length).toBeGreaterThan(4); // 3 years and nulls, the buffer filled more than once
    expect(all.length).toBe(rows.length);
    expect(new Set(all).size).toBe(rows.length);
  });

  it('a checkpoint (flush) closes every open partition: what was written is in closed files, and later rows go to new ones', async () => {
    const rows = makeRows(2_000, 17);
    const location = pathToFileURL(fs.mkdtempSync(path.join(dir, 'flush-'))).href;
    for (const sortOrder of [undefined, { 'order-id': 1, fields: [{ transform: 'identity', 'source-id': 1, direction: 'asc' as const, 'null-order': 'nulls-first' as const }] }]) {
      const writer = openTableWriter({ fields, store, location, namePrefix: 'flush', spec: monthAndBucket, sortOrder }) as PartitionedWriter;
      await writer.writeColumns(csvPage(rows.slice(0, 1000)).columns([0, 1, 2, 3, 4]));
      expect(writer.openPartitions).toBeGreaterThan(10);
      await writer.flush();
      expect(writer.openPartitions).toBe(0);
      const checkpointed = writer.files.map((f) => f.filePath);
      expect(writer.files.reduce((n, f) => n + Number(f.recordCount), 0)).toBe(1000);
      await writer.writeColumns(csvPage(rows.slice(1000)).columns([0, 1, 2, 3, 4]));
      const files = await writer.close();
      // The checkpoint's files stay as they were; the rest are new.
      expect(files.slice(0, checkpointed.length).map((f) => f.filePath)).toEqual(checkpointed);
      expect(files.length).toBeGreaterThan(checkpointed.length);
      expect(files.reduce((n, f) => n + Number(f.recordCount), 0)).toBe(rows.length);
    }
  });

  it('sorts an unpartitioned table with a sort order too', async () => {
    const rows = makeRows(3_000, 5);
    const order: SortOrder = { 'order-id': 1, fields: [{ transform: 'identity', 'source-id': 2, direction: 'asc', 'null-order': 'nulls-first' }] };
    const { files } = await writeAll('sort-only', rows, { spec: { 'spec-id': 0, fields: [] }, sortOrder: order });
    expect(files).toHaveLength(1);
    expect(files[0]!.partition).toEqual([]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const created = (await idsOf(files[0]!)).map((id) => byId.get(id)!.created);
    const time = (c: string | null) => (c === null ? -Infinity : Date.parse(c.replace('+0000', 'Z')));
    expect(created.map(time)).toEqual([...created.map(time)].sort((a, b) => a - b));
  });

  it('takes today’s writer for an unpartitioned, unsorted table', () => {
    const opts = { fields, store, location: `file://${dir}/plain`, namePrefix: 'plain' };
    expect(openTableWriter({ ...opts, spec: { 'spec-id': 0, fields: [] } })).toBeInstanceOf(DataFileWriter);
    expect(openTableWriter(opts)).toBeInstanceOf(DataFileWriter);
  });

  it('partitions on identity, truncate and day of other column types, as the files hold them', async () => {
    const rows = makeRows(2_000, 9);
    const spec: PartitionSpec = {
      'spec-id': 4,
      fields: [
        { 'source-id': 5, 'field-id': 1000, name: 'close_date_day', transform: 'day' },
        { 'source-id': 4, 'field-id': 1001, name: 'amount_trunc', transform: 'truncate[100000]' },
      ],
    };
    const { files } = await writeAll('types', rows, { spec, maxOpenPartitions: 10_000 });
    const byId = new Map(rows.map((r) => [r.id, r]));
    let count = 0;
    for (const file of files) {
      for (const id of await idsOf(file)) {
        const r = byId.get(id)!;
        const unscaled = r.amount === null ? null : BigInt(r.amount.replace('.', ''));
        expect(file.partition).toEqual([Date.parse(`${r.close}T00:00:00Z`) / 86_400_000, unscaled === null ? null : unscaled - (((unscaled % 100000n) + 100000n) % 100000n)]);
        count++;
      }
    }
    expect(count).toBe(rows.length);
  });
});

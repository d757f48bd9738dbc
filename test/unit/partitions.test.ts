import { describe, expect, it } from 'vitest';
import { addUnits, addUsage, combineStaged, partitionWorthIt, planPartitions, planRanges, unitStart, unitsSpanned } from '../../src/sync/partitions';
import { KeyList, type StagedExtraction } from '../../src/sync/staging';
import type { DataFile } from '../../src/iceberg/spec';

/* Planning an object's partitions over a Bulk job's result pages, and combining what they staged. */

const sets = (...links: number[]) => links.map((n, i) => ({ ...(i > 0 ? { set: `/resultPages?locator=${i}` } : {}), links: n }));

/** The pages a range covers, as (listing, link) pairs, following the listings as a read does. */
function pagesOf(all: ReturnType<typeof sets>, r: { from: { set?: string; skip: number }; pages: number }): string[] {
  const flat = all.flatMap((s) => Array.from({ length: s.links }, (_, k) => `${s.set ?? 'first'}#${k}`));
  const start = flat.indexOf(`${r.from.set ?? 'first'}#${r.from.skip}`);
  return flat.slice(start, start + r.pages);
}

describe('planPartitions', () => {
  it('covers every result page exactly once, in order, across listings', () => {
    const listings = sets(5, 5, 5, 2);
    const plan = planPartitions(listings, { pagesPerPartition: 4 });
    expect(plan.map((p) => p.index)).toEqual([0, 1, 2, 3, 4]);
    expect(plan.map((p) => p.pages)).toEqual([4, 4, 4, 4, 1]);
    expect(plan[1]!.from).toEqual({ skip: 4 });
    expect(plan[2]!.from).toEqual({ set: '/resultPages?locator=1', skip: 3 });
    const covered = plan.flatMap((p) => pagesOf(listings, p));
    expect(covered).toEqual(listings.flatMap((s) => Array.from({ length: s.links }, (_, k) => `${s.set ?? 'first'}#${k}`)));
  });

  it('widens partitions so there are at most maxPartitions', () => {
    const listings = sets(...Array.from({ length: 200 }, () => 5));
    const plan = planPartitions(listings, { pagesPerPartition: 2, maxPartitions: 30 });
    expect(plan.length).toBeLessThanOrEqual(30);
    expect(plan.reduce((n, p) => n + p.pages, 0)).toBe(1_000);
    expect(new Set(plan.slice(0, -1).map((p) => p.pages))).toEqual(new Set([34]));
  });

  it('gives nothing for a job without pages', () => {
    expect(planPartitions([{ links: 0 }], { pagesPerPartition: 3 })).toEqual([]);
  });

  it('partitions only at and above the threshold, and never into one partition; 0 turns it off', () => {
    expect(partitionWorthIt(19, { minPages: 20, pagesPerPartition: 10 })).toBe(false);
    expect(partitionWorthIt(20, { minPages: 20, pagesPerPartition: 10 })).toBe(true);
    expect(partitionWorthIt(4, { minPages: 2, pagesPerPartition: 4 })).toBe(false);
    expect(partitionWorthIt(1_000, { minPages: 0, pagesPerPartition: 10 })).toBe(false);
  });
});

describe('combineStaged', () => {
  const file = (name: string, rows: number): DataFile => ({
    content: 0,
    filePath: `s3://b/t/data/${name}.parquet`,
    fileFormat: 'PARQUET',
    recordCount: BigInt(rows),
    fileSizeInBytes: 100n,
  });
  const staged = (files: DataFile[], keys: string[], deletedKeys: string[] = [], usage?: { apiCalls: number; bulkJobs: number; resultBytes: number }): StagedExtraction => ({
    runId: 'run@1',
    files,
    keyCount: keys.length,
    loadKeys: async () => KeyList.of(keys),
    deletedKeys,
    ...(usage ? { usage } : {}),
  });

  it("takes every partition's files and keys, the plan's deleted Ids, and sums what each spent", async () => {
    const plan = staged([], [], ['001D1', '001D2'], { apiCalls: 5, bulkJobs: 1, resultBytes: 0 });
    const a = staged([file('a1', 2), file('a2', 1)], ['001A', '001B', '001C'], [], { apiCalls: 3, bulkJobs: 0, resultBytes: 300 });
    const b = staged([file('b1', 2)], ['001X', '001Y'], [], { apiCalls: 2, bulkJobs: 0, resultBytes: 200 });
    const all = combineStaged([plan, a, b]);
    expect(all.files.map((f) => f.filePath.split('/').at(-1))).toEqual(['a1.parquet', 'a2.parquet', 'b1.parquet']);
    expect(all.keyCount).toBe(5);
    expect((await all.loadKeys()).toArray()).toEqual(['001A', '001B', '001C', '001X', '001Y']);
    expect(all.deletedKeys).toEqual(['001D1', '001D2']);
    expect(all.usage).toEqual({ apiCalls: 10, bulkJobs: 1, resultBytes: 500 });
    expect(all.reconciled).toBeUndefined();
  });

  it('takes a manifest passed twice once (no row twice)', async () => {
    const a = staged([file('a1', 2)], ['001A', '001B']);
    const all = combineStaged([staged([], [], ['001D']), a, a]);
    expect(all.files).toHaveLength(1);
    expect(all.keyCount).toBe(2);
    expect((await all.loadKeys()).toArray()).toEqual(['001A', '001B']);
  });

  it('is the manifest itself when there is one', () => {
    const a = staged([file('a1', 2)], ['001A', '001B']);
    expect(combineStaged([a])).toBe(a);
  });

  it('adds usage where either side has it', () => {
    expect(addUsage(undefined, undefined)).toBeUndefined();
    expect(addUsage({ apiCalls: 1, bulkJobs: 0, resultBytes: 2 }, undefined)).toEqual({ apiCalls: 1, bulkJobs: 0, resultBytes: 2 });
  });
});

describe('planRanges: CreatedDate ranges of a table partitioned by time of CreatedDate', () => {
  const months = (from: string, to: string) => unitsSpanned(Date.parse(from), Date.parse(to), 'month');

  it('holds whole months each, covers every instant once (open at both ends), and has about rows / rowsPerPartition ranges', () => {
    const plan = planRanges({
      field: 'CreatedDate',
      first: '2023-01-04T10:00:00.000Z',
      last: '2025-12-30T08:00:00.000Z',
      unit: 'month',
      rows: 1_000_000,
      rowsPerPartition: 100_000,
    });
    // 36 months in 10 ranges of 4 months: 9 ranges.
    expect(plan).toHaveLength(9);
    expect(plan.map((p) => p.index)).toEqual([...plan.keys()]);
    expect(plan[0]!.range).toEqual({ field: 'CreatedDate', before: '2023-05-01T00:00:00.000Z' });
    expect(plan.at(-1)!.range).toEqual({ field: 'CreatedDate', from: '2025-09-01T00:00:00.000Z' });
    for (let k = 1; k < plan.length; k++) {
      // Each range starts where the one before ends, at the start of a month.
      expect(plan[k]!.range!.from).toBe(plan[k - 1]!.range!.before);
      expect(new Date(plan[k]!.range!.from!).getUTCDate()).toBe(1);
      expect(new Date(plan[k]!.range!.from!).getUTCHours()).toBe(0);
    }
  });

  it('one range per month at most: 10M rows over 36 months are 36 ranges, not 100', () => {
    const plan = planRanges({
      field: 'CreatedDate',
      first: '2023-01-01T00:00:00.000Z',
      last: '2025-12-31T23:59:59.000Z',
      unit: 'month',
      rows: 10_000_000,
      rowsPerPartition: 100_000,
    });
    expect(plan).toHaveLength(36);
    expect(plan[12]!.range).toEqual({ field: 'CreatedDate', from: '2024-01-01T00:00:00.000Z', before: '2024-02-01T00:00:00.000Z' });
  });

  it('none when fewer than two ranges would come out: few rows, one unit, or no rows per partition', () => {
    expect(planRanges({ field: 'CreatedDate', first: '2023-01-01T00:00:00Z', last: '2025-01-01T00:00:00Z', unit: 'month', rows: 150_000, rowsPerPartition: 100_000 })).toHaveLength(
      2,
    );
    expect(planRanges({ field: 'CreatedDate', first: '2023-01-01T00:00:00Z', last: '2025-01-01T00:00:00Z', unit: 'month', rows: 90_000, rowsPerPartition: 100_000 })).toEqual([]);
    expect(planRanges({ field: 'CreatedDate', first: '2024-03-01T00:00:00Z', last: '2024-03-31T00:00:00Z', unit: 'month', rows: 5_000_000, rowsPerPartition: 100_000 })).toEqual(
      [],
    );
    expect(planRanges({ field: 'CreatedDate', first: '2023-01-01T00:00:00Z', last: '2025-01-01T00:00:00Z', unit: 'month', rows: 5_000_000, rowsPerPartition: 0 })).toEqual([]);
  });

  it('years, days and hours: ranges start at their unit, at most maxPartitions', () => {
    const years = planRanges({ field: 'CreatedDate', first: '2019-06-01T00:00:00Z', last: '2025-02-01T00:00:00Z', unit: 'year', rows: 10_000_000, rowsPerPartition: 100_000 });
    expect(years.map((p) => p.range!.from ?? null)).toEqual([null, ...[2020, 2021, 2022, 2023, 2024, 2025].map((y) => `${y}-01-01T00:00:00.000Z`)]);
    const days = planRanges({
      field: 'CreatedDate',
      first: '2024-01-01T05:00:00Z',
      last: '2024-12-31T05:00:00Z',
      unit: 'day',
      rows: 10_000_000,
      rowsPerPartition: 10_000,
      maxPartitions: 50,
    });
    expect(days.length).toBeLessThanOrEqual(50);
    expect(days.length).toBeGreaterThan(40);
    for (const p of days.slice(1)) expect(p.range!.from!.endsWith('T00:00:00.000Z')).toBe(true);
    const hours = planRanges({ field: 'CreatedDate', first: '2024-01-01T05:30:00Z', last: '2024-01-02T05:00:00Z', unit: 'hour', rows: 1000, rowsPerPartition: 100 });
    expect(hours).toHaveLength(9);
    expect(hours[1]!.range!.from).toBe('2024-01-01T08:00:00.000Z');
  });

  it('calendar arithmetic in UTC', () => {
    expect(new Date(unitStart(Date.parse('2024-02-29T13:14:15Z'), 'month')).toISOString()).toBe('2024-02-01T00:00:00.000Z');
    expect(new Date(addUnits(Date.parse('2024-11-01T00:00:00Z'), 'month', 3)).toISOString()).toBe('2025-02-01T00:00:00.000Z');
    expect(months('2023-01-31T00:00:00Z', '2023-02-01T00:00:00Z')).toBe(2);
    expect(months('2023-01-01T00:00:00Z', '2025-12-31T00:00:00Z')).toBe(36);
    expect(unitsSpanned(Date.parse('2024-03-10T23:00:00Z'), Date.parse('2024-03-11T01:00:00Z'), 'day')).toBe(2);
  });
});

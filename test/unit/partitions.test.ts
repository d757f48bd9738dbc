import { describe, expect, it } from 'vitest';
import { addUsage, combineStaged, partitionWorthIt, planPartitions } from '../../src/sync/partitions';
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

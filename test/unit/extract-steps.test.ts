import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runPaths } from '../../src/iceberg/run-paths';
import { FileContent, type DataFile } from '../../src/iceberg/spec';
import type { SalesforceField } from '../../src/salesforce/describe-types';
import { LocalObjectStore } from '../../src/storage/local-fs';
import { Checkpointer } from '../../src/sync/extract/checkpointer';
import { alignColumns } from '../../src/sync/extract/column-aligner';
import { deletedIdsWindow, readWindow } from '../../src/sync/extract/read-window';
import { positionOf } from '../../src/sync/extract/resume';
import { StageTimer } from '../../src/sync/extract/stage-timer';
import { readStaging } from '../../src/sync/staging';

/* The extraction's steps, each on its own (extractObject in src/sync/object-sync.ts composes them). */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'extract-steps-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const store = new LocalObjectStore();

describe('alignColumns', () => {
  const field = (name: string, type: SalesforceField['type'] = 'string'): SalesforceField => ({ name, type });
  const describeFields = [
    field('Id', 'id'),
    field('Name'),
    field('Industry', 'picklist'),
    field('OwnerId', 'reference'),
    field('IsDeleted', 'boolean'),
    field('AnnualRevenue', 'currency'),
  ];

  it('feeds each table column from its field, in the table’s order; columns Salesforce dropped get nulls (-1)', () => {
    const columns = [{ name: 'id' }, { name: 'industry' }, { name: 'gone_c' }, { name: 'name' }];
    const a = alignColumns(columns, describeFields, 'snake_case');
    // Only fields with a column are read, in column order.
    expect(a.fields.map((f) => f.name)).toEqual(['Id', 'Industry', 'Name']);
    expect(a.at).toEqual([0, 1, -1, 2]);
    expect(a.idAt).toBe(0);
  });

  it('matches by the naming convention the table was made with', () => {
    const a = alignColumns([{ name: 'Name' }, { name: 'Id' }], describeFields, 'salesforce');
    expect(a.fields.map((f) => f.name)).toEqual(['Name', 'Id']);
    expect(a.idAt).toBe(1);
    expect(alignColumns([{ name: 'Name' }], describeFields, 'snake_case').fields).toEqual([]);
  });

  it('gives a dictionary to picklists, references and flags only', () => {
    const columns = [{ name: 'id' }, { name: 'name' }, { name: 'industry' }, { name: 'owner_id' }, { name: 'is_deleted' }, { name: 'annual_revenue' }];
    expect([...alignColumns(columns, describeFields, 'snake_case').dictionaryColumns].sort()).toEqual(['industry', 'is_deleted', 'owner_id']);
  });
});

describe('read windows', () => {
  const base = { cursorField: 'SystemModstamp', upTo: '2026-01-02T00:00:00.000Z' };

  it('the main read: after the cursor up to the fixed upper bound; everything for replace or without a cursor field', () => {
    expect(readWindow({ ...base, writeMode: 'merge', after: '2026-01-01T00:00:00.000Z' })).toEqual({ field: 'SystemModstamp', after: '2026-01-01T00:00:00.000Z', upTo: base.upTo });
    expect(readWindow({ ...base, writeMode: 'append' })).toEqual({ field: 'SystemModstamp', after: undefined, upTo: base.upTo });
    expect(readWindow({ ...base, writeMode: 'replace', after: 'x' })).toBeUndefined();
    expect(readWindow({ writeMode: 'merge', upTo: base.upTo })).toBeUndefined();
  });

  it('deleted Ids: merge syncs with a lower bound only, the stored cursor when every row is re-read', () => {
    const after = '2026-01-01T00:00:00.000Z';
    expect(deletedIdsWindow({ ...base, writeMode: 'merge', after })).toEqual({ field: 'SystemModstamp', after, upTo: base.upTo });
    // A re-read has no `after` for the main read, but still removes what was deleted since the cursor.
    expect(deletedIdsWindow({ ...base, writeMode: 'merge', deletedAfter: after })).toEqual({ field: 'SystemModstamp', after, upTo: base.upTo });
    expect(deletedIdsWindow({ ...base, writeMode: 'merge' })).toBeUndefined(); // a first (full) load
    expect(deletedIdsWindow({ ...base, writeMode: 'append', after })).toBeUndefined();
    expect(deletedIdsWindow({ ...base, writeMode: 'replace', after })).toBeUndefined();
  });
});

describe('positionOf', () => {
  it('a checkpoint without a position resumes after its last row (REST)', () => {
    expect(positionOf({ staging: 's', rows: 1, files: 1, last: { id: '001', cursor: 'c' } })).toEqual({ api: 'rest', after: { id: '001', cursor: 'c' } });
    const position = { api: 'bulk' as const, job: { jobId: 'j', locator: 'l' } };
    expect(positionOf({ staging: 's', rows: 1, files: 1, last: { id: '001' }, position } as never)).toBe(position);
    expect(positionOf({ staging: 's', rows: 0, files: 0 })).toBeUndefined();
  });
});

describe('Checkpointer', () => {
  const file = (name: string, rows: number): DataFile => ({
    content: FileContent.Data,
    filePath: `${pathToFileURL(dir).href}/${name}`,
    fileFormat: 'PARQUET',
    recordCount: BigInt(rows),
    fileSizeInBytes: 100n,
  });
  /** A writer whose open file becomes a closed one on flush. */
  const fakeWriter = () => {
    const w = { files: [] as DataFile[], open: 0, flushes: 0, flush: async () => {} };
    w.flush = async () => {
      w.flushes++;
      if (w.open > 0) w.files.push(file(`f${w.files.length}-${w.open}.parquet`, w.open));
      w.open = 0;
    };
    return w;
  };
  const page = (ids: string[], position = true) => ({
    length: ids.length,
    text: (r: number) => ids[r]!,
    last: { id: ids.at(-1)! },
    position: position ? { api: 'rest' as const, after: { id: ids.at(-1)! } } : undefined,
  });
  const setup = (runId: string) => {
    let now = 1_000;
    const writer = fakeWriter();
    const paths = runPaths(pathToFileURL(path.join(dir, runId)).href, runId);
    const opts = { store, runId, stagingPath: paths.staging, writer, everyMs: 60_000, now: () => now };
    return { writer, paths, opts, advance: (ms: number) => (now += ms) };
  };

  it('checkpoints once `everyMs` has passed, and only after a page a read can go on from', async () => {
    const { writer, opts, advance } = setup('run-timing');
    const c = await Checkpointer.open(opts);
    expect(c.due(page(['a']))).toBe(false);
    advance(59_999);
    expect(c.due(page(['a']))).toBe(false);
    advance(1);
    expect(c.due(page(['a']))).toBe(true);
    expect(c.due(page(['a'], false))).toBe(false); // the last page of a Bulk read names no position
    await c.save(page(['a']));
    expect(writer.flushes).toBe(1);
    expect(c.due(page(['b']))).toBe(false); // the clock starts again at each checkpoint
    advance(60_000);
    expect(c.due(page(['b']))).toBe(true);
  });

  it('records the files and Ids staged so far as a checkpoint, and a new attempt goes on from it', async () => {
    const { writer, paths, opts } = setup('run-resume');
    const first = await Checkpointer.open(opts);
    writer.open = 2;
    first.add(page(['001a', '001b']), 0);
    const checkpoint = await first.save(page(['001a', '001b']));
    expect(checkpoint).toEqual({ staging: paths.staging('at-2'), rows: 2, files: 1, last: { id: '001b' }, position: { api: 'rest', after: { id: '001b' } } });
    const staged = await readStaging(store, checkpoint.staging);
    expect(staged.files.map((f) => f.filePath)).toEqual(writer.files.map((f) => f.filePath));
    expect((await staged.loadKeys()).toArray()).toEqual(['001a', '001b']);
    expect(staged.deletedKeys).toEqual([]);

    // The next attempt: a new writer, the earlier files and Ids read back from the checkpoint.
    const again = setup('run-resume');
    const second = await Checkpointer.open(again.opts, checkpoint);
    expect(second.rows).toBe(2);
    expect(second.checkpoint).toBe(checkpoint);
    expect(second.fileCount).toBe(1);
    again.writer.open = 1;
    second.add(page(['001c']), 0);
    await again.writer.flush();
    expect(second.files.map((f) => f.filePath)).toEqual([...writer.files, ...again.writer.files].map((f) => f.filePath));

    const final = await second.finish({ deletedKeys: ['001x'], reconciled: ['001y', '001z'], usage: { apiCalls: 3, bulkJobs: 0, resultBytes: 0 } });
    expect(final).toBe(paths.staging());
    const committed = await readStaging(store, final);
    expect(committed.keyCount).toBe(3);
    expect((await committed.loadKeys()).toArray()).toEqual(['001a', '001b', '001c']);
    // Reported deletes first, then those the reconciliation found, counted apart.
    expect(committed.deletedKeys).toEqual(['001x', '001y', '001z']);
    expect(committed.reconciled).toBe(2);
    expect(committed.usage).toEqual({ apiCalls: 3, bulkJobs: 0, resultBytes: 0 });
    expect(committed.files).toHaveLength(2);
  });

  it('a sync that does not reconcile records no reconciled count', async () => {
    const { opts } = setup('run-plain');
    const c = await Checkpointer.open(opts);
    const staged = await readStaging(store, await c.finish({ deletedKeys: [], usage: { apiCalls: 1, bulkJobs: 0, resultBytes: 0 } }));
    expect(staged.reconciled).toBeUndefined();
    expect(staged.keyCount).toBe(0);
  });
});

describe('StageTimer', () => {
  it('counts the time spent waiting for pages and the CPU used meanwhile; the writer’s stages in seconds', async () => {
    let now = 0;
    let cpu = 0;
    const timer = new StageTimer({ now: () => now, cpuUsage: (since) => ({ user: cpu - (since?.user ?? 0), system: 0 }) });
    const got = await timer.read(async () => {
      now += 1500.4;
      cpu += 250_000; // µs
      return 'page';
    });
    expect(got).toBe('page');
    // A failing read still counts.
    await expect(
      timer.read(async () => {
        now += 500;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(timer.timings({ buildMs: 1234.4, encodeMs: 2000, uploadMs: 0.6 })).toEqual({ readS: 2, readCpuS: 0.25, buildS: 1.234, encodeS: 2, uploadS: 0.001 });
  });
});

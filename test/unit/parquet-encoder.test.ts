import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as pw from 'parquet-wasm/node';
import { afterAll, describe, expect, it } from 'vitest';
import { readParquetFile } from '../../src/iceberg/reader';
import type { NestedField } from '../../src/iceberg/spec';
import { ParquetEncoderPool } from '../../src/parquet/encoder-pool';
import { DataFileWriter } from '../../src/parquet/writer';
import { LocalObjectStore } from '../../src/storage/local-fs';

// Parquet encoding on encoder threads (worker_threads) writes what encoding on the calling thread
// writes: the same rows, the same file descriptions.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'encoders-'));
const pool = new ParquetEncoderPool(2);
afterAll(async () => {
  await pool.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
const store = new LocalObjectStore();
const fields: NestedField[] = [
  { id: 1, name: 'id', required: true, type: 'string' },
  { id: 2, name: 'amount', required: false, type: 'decimal(18, 2)' },
  { id: 3, name: 'modified', required: false, type: 'timestamptz' },
  { id: 4, name: 'note', required: false, type: 'string' },
];
const rows = Array.from({ length: 25_000 }, (_, i) => [
  `001${String(i).padStart(15, '0')}`,
  i % 7 === 0 ? null : (i * 1.25).toFixed(2),
  i % 5 === 0 ? null : new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
  `Zürich "quoted", line\n${i}`,
]);

async function rowGroupRows(uri: string): Promise<number[]> {
  const file = await pw.ParquetFile.fromFile(new Blob([await store.get(uri)]));
  const meta = file.metadata();
  return Array.from({ length: meta.numRowGroups() }, (_, i) => meta.rowGroup(i).numRows());
}

async function write(label: string, encoders?: ParquetEncoderPool) {
  const location = pathToFileURL(fs.mkdtempSync(path.join(dir, `${label}-`))).href;
  const writer = new DataFileWriter({ fields, store, location, namePrefix: label, maxRowsPerFile: 10_000, rowGroupRows: 2_000, encoders });
  await writer.write(rows);
  return writer.close();
}

describe('Parquet encoder threads', () => {
  it('write the same files as the calling thread: rows, counts, bounds and sizes', async () => {
    const [here, threaded] = await Promise.all([write('here'), write('threaded', pool)]);
    expect(threaded.map((f) => f.recordCount)).toEqual([10_000n, 10_000n, 5_000n]);
    const strip = (f: (typeof here)[number]) => ({ ...f, filePath: undefined });
    expect(threaded.map(strip)).toEqual(here.map(strip));
    const read = async (files: typeof here) => (await Promise.all(files.map((f) => readParquetFile(store, f.filePath)))).flatMap((t) => t.toArray().map((r) => r.toJSON()));
    const got = await read(threaded);
    expect(got).toEqual(await read(here));
    expect(got.map((r) => r.id)).toEqual(rows.map((r) => r[0]));
  });

  it('encode a row group from several slices: row groups of rowGroupBytes, not one per slice, and the same rows', async () => {
    const location = pathToFileURL(fs.mkdtempSync(path.join(dir, 'slices-'))).href;
    const opts = { fields, store, location, namePrefix: 'slices', rowGroupBytes: 512 * 1024 };
    const sliced = new DataFileWriter({ ...opts, sliceBytes: 32 * 1024, encoders: pool });
    await sliced.write(rows);
    const [file] = await sliced.close();
    const whole = new DataFileWriter({ ...opts, sliceBytes: 512 * 1024 });
    await whole.write(rows);
    const [reference] = await whole.close();
    const groups = await rowGroupRows(file!.filePath);
    // About 60 bytes a row: 512 KB row groups hold thousands of rows; a 32 KB slice a few hundred.
    expect(groups.length).toBeGreaterThan(1);
    expect(groups.slice(0, -1).every((n) => n === groups[0] && n > 5_000)).toBe(true);
    expect(groups.reduce((a, b) => a + b, 0)).toBe(rows.length);
    expect((await readParquetFile(store, file!.filePath)).toArray().map((r) => r.toJSON())).toEqual(
      (await readParquetFile(store, reference!.filePath)).toArray().map((r) => r.toJSON()),
    );
    expect({ ...file, filePath: undefined, fileSizeInBytes: undefined }).toEqual({ ...reference, filePath: undefined, fileSizeInBytes: undefined });
  });

  it('encode several files at once on the pool, each intact', async () => {
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((l) => write(l, pool)));
    for (const files of results) expect(files.reduce((n, f) => n + f.recordCount, 0n)).toBe(25_000n);
  });

  it('a file the encoder cannot encode fails its writer with the reason', async () => {
    const file = pool.open({ rowGroupRows: 10 }, async () => undefined);
    await file.push(new Uint8Array([1, 2, 3, 4]));
    await expect(file.finish()).rejects.toThrow(/Parquet encoding failed/);
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readParquetColumns, readParquetFile } from '../../src/iceberg/reader';
import type { NestedField } from '../../src/iceberg/spec';
import { DataFileWriter } from '../../src/parquet/writer';
import { LocalObjectStore } from '../../src/storage/local-fs';
import type { ObjectStore } from '../../src/storage/object-store';
import { S3ObjectStore } from '../../src/storage/s3';
import { stackSettings, uniqueName } from '../helpers/stack';

/*
 * What a merge reads of a data file: the key column's chunks by byte range, never the file. A file
 * of several row groups, a key column and a wide text column, on MinIO and on local disk.
 */
const fields: NestedField[] = [
  { id: 1, name: 'id', required: true, type: 'string' },
  { id: 2, name: 'body', required: false, type: 'string' },
];
const ROWS = 60_000;
const rows = function* () {
  for (let i = 0; i < ROWS; i++) yield [`001${String(i).padStart(15, '0')}`, `row ${i}: ${'lorem ipsum dolor sit amet '.repeat(4)}${(i * 2654435761) % 1_000_003}`];
};

/** The store, counting the bytes fetched by range. */
function counting(store: ObjectStore) {
  const fetched = { bytes: 0, ranges: 0 };
  const getRange = store.getRange.bind(store);
  store.getRange = async (uri, start, end) => {
    fetched.ranges++;
    fetched.bytes += end - start;
    return getRange(uri, start, end);
  };
  return fetched;
}

const settings = stackSettings();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parquet-ranges-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('reading some columns of a Parquet file by byte range', () => {
  const stores: [string, () => { store: ObjectStore; location: string }][] = [
    [
      'MinIO',
      () => ({
        store: new S3ObjectStore({
          endpoint: settings.S3_ENDPOINT,
          region: settings.S3_REGION,
          pathStyle: settings.S3_PATH_STYLE === 'true',
          accessKeyId: settings.S3_ACCESS_KEY_ID,
          secretAccessKey: settings.S3_SECRET_ACCESS_KEY,
        }),
        location: `s3://${settings.S3_BUCKET}/${uniqueName('ranges')}`,
      }),
    ],
    ['local disk', () => ({ store: new LocalObjectStore(), location: pathToFileURL(dir).href })],
  ];
  it.each(stores)('%s: the key column equals a whole-file read, fetched as a small part of the file', async (_name, make) => {
    const { store, location } = make();
    const writer = new DataFileWriter({ fields, store, location, namePrefix: 'ranges', rowGroupBytes: 1024 * 1024 });
    await writer.write(rows());
    const [file] = await writer.close();
    const size = Number(file!.fileSizeInBytes);
    const fetched = counting(store);
    const ranged = await readParquetColumns(store, file!.filePath, size, ['id']);
    const whole = await readParquetFile(store, file!.filePath, ['id']);
    expect(ranged.numRows).toBe(ROWS);
    expect(ranged.schema.fields.map((f) => f.name)).toEqual(['id']);
    expect(Array.from(ranged.getChild('id')!)).toEqual(Array.from(whole.getChild('id')!));
    console.log(`${_name}: ${fetched.ranges} ranges, ${fetched.bytes} of ${size} bytes`);
    expect(fetched.bytes).toBeLessThan(size / 4);
    await store.delete([file!.filePath]);
  });
});

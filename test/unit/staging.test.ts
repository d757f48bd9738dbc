import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileContent, type DataFile } from '../../src/iceberg/spec';
import { LocalObjectStore } from '../../src/storage/local-fs';
import { KeyList, readStaging, writeStaging } from '../../src/sync/staging';

describe('staging manifests', () => {
  it('keep merge keys in an object of their own, read only when asked for', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'staging-'));
    const store = new LocalObjectStore();
    const keys = new KeyList();
    const ids = Array.from({ length: 5000 }, (_, i) => `001${String(i).padStart(15, '0')}`);
    for (const id of ids) keys.add(id);
    keys.add('Zürich-é'); // any UTF-8 survives
    const uri = `file://${dir}/run.json`;
    await writeStaging(store, uri, { runId: 'run', files: [], keys, deletedKeys: ['001000000000000009'] });
    expect(fs.readFileSync(`${dir}/run.json`, 'utf8')).not.toContain(ids[1]); // not inline
    const staged = await readStaging(store, uri);
    expect(staged.keyCount).toBe(5001);
    expect(staged.deletedKeys).toEqual(['001000000000000009']);
    expect((await staged.loadKeys()).toArray()).toEqual([...ids, 'Zürich-é']);
    // A resumed extraction adds to the keys it read back.
    const resumed = await staged.loadKeys();
    resumed.add('001999999999999999');
    expect(resumed.count).toBe(5002);
    expect(resumed.toArray().at(-1)).toBe('001999999999999999');
    expect(new KeyList().toArray()).toEqual([]);
  });

  it("partitioned tables: carry each file's spec id, partition tuple (bigints, bytes, nulls exactly) and sort order id", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'staging-'));
    const store = new LocalObjectStore();
    const base = { content: FileContent.Data, fileFormat: 'PARQUET' as const, recordCount: 3n, fileSizeInBytes: 100n };
    const files: DataFile[] = [
      { ...base, filePath: 'a', specId: 2, partition: [647, 2n ** 62n + 1n, 'Zürich', true, new Uint8Array([0, 255]), null, 1.5, -0], sortOrderId: 1 },
      { ...base, filePath: 'b', specId: 0, partition: [] },
      { ...base, filePath: 'c' },
    ];
    const uri = `file://${dir}/run.json`;
    await writeStaging(store, uri, { runId: 'run', files, keys: new KeyList(), deletedKeys: [] });
    const staged = await readStaging(store, uri);
    expect(staged.files.map((f) => ({ filePath: f.filePath, specId: f.specId, partition: f.partition, sortOrderId: f.sortOrderId }))).toEqual(
      files.map((f) => ({ filePath: f.filePath, specId: f.specId, partition: f.partition, sortOrderId: f.sortOrderId })),
    );
    expect(staged.files[0]!.partition![1]).toBe(2n ** 62n + 1n);
    expect(staged.files[0]!.partition![4]).toBeInstanceOf(Uint8Array);
    expect('specId' in staged.files[2]!).toBe(false);
  });

  it('still read manifests that hold their keys inline', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'staging-'));
    fs.writeFileSync(`${dir}/old.json`, JSON.stringify({ runId: 'r', files: [], keys: ['a', 'b'], deletedKeys: [] }));
    const staged = await readStaging(new LocalObjectStore(), `file://${dir}/old.json`);
    expect(staged.keyCount).toBe(2);
    expect((await staged.loadKeys()).toArray()).toEqual(['a', 'b']);
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
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

  it('still read manifests that hold their keys inline', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'staging-'));
    fs.writeFileSync(`${dir}/old.json`, JSON.stringify({ runId: 'r', files: [], keys: ['a', 'b'], deletedKeys: [] }));
    const staged = await readStaging(new LocalObjectStore(), `file://${dir}/old.json`);
    expect(staged.keyCount).toBe(2);
    expect((await staged.loadKeys()).toArray()).toEqual(['a', 'b']);
  });
});

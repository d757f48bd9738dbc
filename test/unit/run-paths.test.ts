import { describe, expect, it } from 'vitest';
import { runPaths, runSegment } from '../../src/iceberg/run-paths';

const LOCATION = 's3://warehouse/salesforce/account_0a1b2c';

/** Run ids as workflows make them (`<parent>/<Object>@<run uuid>`), and ids an old sanitiser confused. */
const RUN_IDS = [
  'salesforce-sync-1732483200/Account@0e4f8c3a-1b2d-4c5e-8f90-a1b2c3d4e5f6',
  'salesforce-sync-1732483200/Account@0e4f8c3a-1b2d-4c5e-8f90-a1b2c3d4e5f7',
  'salesforce-sync-1732483200/Account',
  'salesforce-sync-1732483200/Account@0e4f8c3a-1b2d-4c5e-8f90-a1b2c3d4e5f6-2',
  'a/b',
  'a_b',
  'a@b',
  'a b',
  'a',
  'a.b',
  'Zürich/Ünïcödé@1',
  '../../etc/passwd',
  '%2F/%2f',
  '',
  '/',
  'x'.repeat(1000),
  `${'x'.repeat(1000)}y`,
];

/** One path of each kind a run writes. */
function everyPath(runId: string): string[] {
  const p = runPaths(LOCATION, runId);
  const id = 7407264283391207424n;
  return [
    `${p.dataFolder}/${p.segment}-00000-6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f.parquet`,
    p.deleteFile(id, 3),
    p.manifest(id, 0),
    p.manifest(id, 1),
    p.manifestList(id, 2),
    p.manifestList(id, 0),
    p.staging(),
    `${p.staging()}.keys`,
    p.staging('at-4000'),
    `${p.staging('at-4000')}.keys`,
  ];
}

describe('the paths a sync run writes (runPaths)', () => {
  it('name the run by one safe path segment: no slash, no dash, bounded, deterministic, one per run id', () => {
    const segments = RUN_IDS.map(runSegment);
    for (const [i, seg] of segments.entries()) {
      expect(seg, RUN_IDS[i]).toMatch(/^[A-Za-z0-9_]{1,80}\.[0-9a-f]{16}$/);
      expect(runSegment(RUN_IDS[i]!)).toBe(seg);
    }
    expect(new Set(segments).size).toBe(RUN_IDS.length);
    // Readable where it can be.
    expect(runSegment(RUN_IDS[0]!)).toMatch(/^salesforce_sync_1732483200_Account_0e4f8c3a_1b2d_4c5e_8f90_a1b2c3d4e5f6\./);
  });

  it('put every file of a run under one of its three prefixes, each in the folder it belongs in', () => {
    for (const runId of RUN_IDS) {
      const p = runPaths(`${LOCATION}/`, runId);
      const [data, deletes, dataManifest, deleteManifest, list, firstList, staging, keys, checkpoint, checkpointKeys] = everyPath(runId);
      expect(p.prefixes).toEqual({ data: `${LOCATION}/data/${p.segment}-`, metadata: `${LOCATION}/metadata/${p.segment}-`, staging: `${LOCATION}/staging/${p.segment}.` });
      for (const path of [data, deletes]) expect(path!.startsWith(p.prefixes.data)).toBe(true);
      for (const path of [dataManifest, deleteManifest, list, firstList]) expect(path!.startsWith(p.prefixes.metadata)).toBe(true);
      for (const path of [staging, keys, checkpoint, checkpointKeys]) expect(path!.startsWith(p.prefixes.staging)).toBe(true);
      // Nothing below a sub-folder: the file name is the last segment after the folder.
      for (const path of everyPath(runId)) expect(path.slice(LOCATION.length + 1).split('/')).toHaveLength(2);
      expect(staging).toBe(`${LOCATION}/staging/${p.segment}.json`);
      expect(checkpoint).toBe(`${LOCATION}/staging/${p.segment}.at-4000.json`);
    }
  });

  it('tell what each file is and which snapshot a metadata file was written for', () => {
    const p = runPaths(LOCATION, RUN_IDS[0]!);
    const [data, deletes, dataManifest, deleteManifest, list, firstList, staging, keys] = everyPath(RUN_IDS[0]!);
    const id = 7407264283391207424n;
    expect([data, deletes, dataManifest, deleteManifest, list, firstList, staging, keys].map((x) => p.classify(x!))).toEqual([
      { kind: 'data' },
      { kind: 'deletes' },
      { kind: 'manifest', snapshotId: id },
      { kind: 'manifest', snapshotId: id },
      { kind: 'manifest-list', snapshotId: id },
      { kind: 'manifest-list', snapshotId: id },
      { kind: 'staging' },
      { kind: 'staging' },
    ]);
  });

  it("never match another run's files, nor other engines' files, nor the catalog's", () => {
    const others = [
      // Java/Spark/pyiceberg and the catalog name theirs like this.
      `${LOCATION}/data/00000-0-6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f.parquet`,
      `${LOCATION}/data/00000-12-6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f-0-00001.parquet`,
      `${LOCATION}/metadata/snap-7407264283391207424-1-6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f.avro`,
      `${LOCATION}/metadata/6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f-m0.avro`,
      `${LOCATION}/metadata/00003-6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f.metadata.json`,
      // What this project wrote before run segments (safeName and the raw run id).
      `${LOCATION}/data/salesforce-sync-1732483200_Account_0e4f8c3a-1b2d-4c5e-8f90-a1b2c3d4e5f6-00000-6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f.parquet`,
      `${LOCATION}/data/salesforce-sync-1732483200/Account@0e4f8c3a-1b2d-4c5e-8f90-a1b2c3d4e5f6-deletes-1-1.parquet`,
    ];
    for (const runId of RUN_IDS) {
      const p = runPaths(LOCATION, runId);
      for (const other of RUN_IDS.filter((r) => r !== runId)) {
        for (const path of everyPath(other)) expect(p.classify(path), `${runId} vs ${path}`).toBeUndefined();
      }
      for (const path of others) expect(p.classify(path), `${runId} vs ${path}`).toBeUndefined();
      for (const path of everyPath(runId)) expect(p.classify(path)).toBeDefined();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { readAvroFile } from '../../src/iceberg/avro-file';
import { parseJson, toJson } from '../../src/iceberg/json';
import { decodeManifest, decodeManifestList, encodeManifest, encodeManifestList, summarizeManifest, summarizePartitions } from '../../src/iceberg/manifest';
import { partitionFieldTypes } from '../../src/iceberg/spec/partition';
import { decodeBound } from '../../src/iceberg/spec/bounds';
import { currentSnapshot, EntryStatus, FileContent, ManifestContent, type ManifestEntry, type Schema, type TableMetadata } from '../../src/iceberg/spec';

const schema: Schema = { type: 'struct', 'schema-id': 0, 'identifier-field-ids': [1], fields: [{ id: 1, name: 'id', required: true, type: 'string' }] };
const bigId = 9007199254740993n; // 2^53 + 1: a double would round it

function entry(path: string): ManifestEntry {
  return {
    status: EntryStatus.Added,
    snapshotId: bigId,
    sequenceNumber: null,
    fileSequenceNumber: null,
    dataFile: {
      content: FileContent.Data,
      filePath: path,
      fileFormat: 'PARQUET',
      recordCount: 3n,
      fileSizeInBytes: 1234n,
      valueCounts: new Map([[1, 3n]]),
      nullValueCounts: new Map([[1, 0n]]),
      lowerBounds: new Map([[1, new Uint8Array([0x61])]]),
      upperBounds: new Map([[1, new Uint8Array([0x7a])]]),
    },
  };
}

describe('Avro manifests', () => {
  it('round-trip entries with 64-bit ids exact, and inherit the manifest sequence number', () => {
    const bytes = encodeManifest({ schema, spec: { 'spec-id': 0, fields: [] }, content: ManifestContent.Data, entries: [entry('s3://b/1.parquet'), entry('s3://b/2.parquet')] });
    const back = decodeManifest(bytes, { sequenceNumber: 7n, addedSnapshotId: bigId });
    expect(back).toHaveLength(2);
    expect(back[0]!.snapshotId).toBe(bigId);
    expect(back[0]!.sequenceNumber).toBe(7n);
    expect(back[1]!.dataFile.filePath).toBe('s3://b/2.parquet');
    expect(back[0]!.dataFile.valueCounts?.get(1)).toBe(3n);
    expect([...back[0]!.dataFile.upperBounds!.get(1)!]).toEqual([0x7a]);
  });

  it('carry partition tuples of any result type, and the manifest list summarises them per field', () => {
    const wide: Schema = {
      type: 'struct',
      'schema-id': 1,
      fields: [
        { id: 1, name: 'id', required: true, type: 'string' },
        { id: 2, name: 'created_date', required: false, type: 'timestamptz' },
        { id: 3, name: 'amount', required: false, type: 'decimal(18, 2)' },
        { id: 4, name: 'activity_date', required: false, type: 'date' },
      ],
    };
    const spec = {
      'spec-id': 3,
      fields: [
        { 'source-id': 2, 'field-id': 1000, name: 'created_date_month', transform: 'month' },
        { 'source-id': 1, 'field-id': 1001, name: 'id_bucket', transform: 'bucket[16]' },
        { 'source-id': 3, 'field-id': 1002, name: 'amount', transform: 'identity' },
        { 'source-id': 1, 'field-id': 1003, name: 'id_trunc', transform: 'truncate[3]' },
        { 'source-id': 4, 'field-id': 1004, name: 'activity_date_day', transform: 'day' },
        { 'source-id': 2, 'field-id': 1005, name: 'created_date', transform: 'identity' },
      ],
    };
    const partition = partitionFieldTypes(spec, [schema, wide]);
    expect(partition.map((p) => p.type)).toEqual(['int', 'int', 'decimal(18, 2)', 'string', 'date', 'timestamptz']);
    const tuples = [
      [650, 3, -12345n, 'abc', 19000, 1700000000000000n],
      [652, 15, null, 'abd', 18999, 1700000000000001n],
    ];
    const entries = tuples.map((t, i) => ({ ...entry(`s3://b/${i}.parquet`), dataFile: { ...entry(`s3://b/${i}.parquet`).dataFile, specId: 3, partition: t } }));
    const bytes = encodeManifest({ schema: wide, spec, partition, content: ManifestContent.Data, entries });
    const back = decodeManifest(bytes, { sequenceNumber: 1n, addedSnapshotId: bigId, partitionSpecId: 3 });
    expect(back.map((e) => e.dataFile.partition)).toEqual(tuples);
    expect(back[0]!.dataFile.specId).toBe(3);
    const summaries = summarizePartitions(partition, entries);
    expect(summaries[0]).toMatchObject({ containsNull: false, containsNan: null });
    expect(decodeBound('int', summaries[0]!.lowerBound!)).toBe(650);
    expect(decodeBound('int', summaries[0]!.upperBound!)).toBe(652);
    expect(summaries[2]!.containsNull).toBe(true);
    expect(decodeBound('decimal(18, 2)', summaries[2]!.lowerBound!)).toBe(-12345n);
    expect(decodeBound('date', summaries[4]!.lowerBound!)).toBe(18999);
    const list = encodeManifestList({
      snapshotId: bigId,
      parentSnapshotId: null,
      sequenceNumber: 1n,
      manifests: [
        {
          manifestPath: 'm',
          manifestLength: 1n,
          partitionSpecId: 3,
          content: ManifestContent.Data,
          sequenceNumber: 1n,
          minSequenceNumber: 1n,
          addedSnapshotId: bigId,
          ...summarizeManifest(entries),
          partitions: summaries,
        },
      ],
    });
    expect(decodeManifestList(list)[0]!.partitions).toEqual(summaries);
    // A partition tuple that does not fit its spec is a bug, not a file to write.
    expect(() => encodeManifest({ schema: wide, spec, partition, content: ManifestContent.Data, entries: [entry('x')] })).toThrow(/partition tuple of 0 values/);
  });

  it('embed the schema with the spec’s field ids and the required metadata', () => {
    const bytes = encodeManifest({ schema, spec: { 'spec-id': 0, fields: [] }, content: ManifestContent.Deletes, entries: [entry('x')] });
    const file = readAvroFile(bytes);
    const text = JSON.stringify(file.schema);
    for (const id of [0, 1, 2, 3, 4, 100, 101, 102, 103, 104, 108, 117, 118, 125, 128, 134, 140]) expect(text).toContain(`"field-id":${id}`);
    expect(file.metadata).toMatchObject({ 'format-version': '2', content: 'deletes', 'partition-spec-id': '0', 'schema-id': '0' });
    expect(JSON.parse(file.metadata.schema!)).toEqual(schema);
  });

  it('manifest lists round-trip', () => {
    const bytes = encodeManifestList({
      snapshotId: bigId,
      parentSnapshotId: null,
      sequenceNumber: 3n,
      manifests: [
        {
          manifestPath: 'm.avro',
          manifestLength: 99n,
          partitionSpecId: 0,
          content: ManifestContent.Data,
          sequenceNumber: 3n,
          minSequenceNumber: 2n,
          addedSnapshotId: bigId,
          addedFilesCount: 1,
          existingFilesCount: 2,
          deletedFilesCount: 0,
          addedRowsCount: 10n,
          existingRowsCount: 20n,
          deletedRowsCount: 0n,
        },
      ],
    });
    const [m] = decodeManifestList(bytes);
    expect(m).toMatchObject({ manifestPath: 'm.avro', addedSnapshotId: bigId, sequenceNumber: 3n, minSequenceNumber: 2n, existingRowsCount: 20n });
    expect(readAvroFile(bytes).metadata).toMatchObject({ 'snapshot-id': bigId.toString(), 'parent-snapshot-id': 'null', 'format-version': '2' });
  });
});

describe('lossless catalog JSON', () => {
  it('keeps snapshot ids above 2^53 exact both ways', () => {
    const text = '{"current-snapshot-id":9223372036854775807,"n":3,"x":1.5}';
    const parsed = parseJson<Record<string, unknown>>(text);
    expect(parsed['current-snapshot-id']).toBe(9223372036854775807n);
    expect(parsed.n).toBe(3);
    expect(toJson(parsed)).toBe(text);
  });

  it('gives every 64-bit id as bigint, however small, and writes it back as a plain integer', () => {
    const text =
      '{"current-snapshot-id":7,"last-sequence-number":2,"last-updated-ms":1700000000000,"refs":{"main":{"snapshot-id":7,"type":"branch"}},' +
      '"snapshots":[{"snapshot-id":7,"parent-snapshot-id":3,"sequence-number":2,"timestamp-ms":1700000000000,"schema-id":0}],"snapshot-log":[{"snapshot-id":3,"timestamp-ms":1}]}';
    const parsed = parseJson<TableMetadata>(text);
    expect(parsed['current-snapshot-id']).toBe(7n);
    expect(parsed['last-sequence-number']).toBe(2n);
    expect(parsed.refs!.main!['snapshot-id']).toBe(7n);
    expect(parsed.snapshots![0]).toMatchObject({ 'snapshot-id': 7n, 'parent-snapshot-id': 3n, 'sequence-number': 2n, 'timestamp-ms': 1700000000000, 'schema-id': 0 });
    expect(parsed['snapshot-log']![0]!['snapshot-id']).toBe(3n);
    // The current snapshot is found by a plain comparison of ids.
    expect(currentSnapshot(parsed)?.['snapshot-id']).toBe(7n);
    expect(parsed['last-updated-ms']).toBe(1700000000000);
    expect(toJson(parsed)).toBe(text);
  });
});

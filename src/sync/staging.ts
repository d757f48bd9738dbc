import type { DataFile } from '../iceberg/spec';
import type { ObjectStore } from '../storage/object-store';

/**
 * What an extraction wrote, kept in S3 (not in Temporal history): the data files, the Ids they
 * hold (merge keys) and the Ids deleted in Salesforce.
 */
export interface StagingManifest {
  runId: string;
  files: DataFile[];
  keys: string[];
  deletedKeys: string[];
}

type Json = { [k: string]: unknown };

function fileToJson(f: DataFile): Json {
  const map = <V>(m: Map<number, V> | undefined, v: (x: V) => unknown) => (m ? [...m].map(([k, x]) => [k, v(x)]) : undefined);
  return {
    content: f.content, filePath: f.filePath, recordCount: String(f.recordCount), fileSizeInBytes: String(f.fileSizeInBytes),
    valueCounts: map(f.valueCounts, String), nullValueCounts: map(f.nullValueCounts, String), nanValueCounts: map(f.nanValueCounts, String),
    lowerBounds: map(f.lowerBounds, (b) => Buffer.from(b).toString('base64')), upperBounds: map(f.upperBounds, (b) => Buffer.from(b).toString('base64')),
  };
}

function fileFromJson(j: Json): DataFile {
  const map = <V>(v: unknown, conv: (x: string) => V) => (v ? new Map((v as [number, string][]).map(([k, x]) => [k, conv(x)])) : undefined);
  return {
    content: j.content as number, filePath: j.filePath as string, fileFormat: 'PARQUET', recordCount: BigInt(j.recordCount as string), fileSizeInBytes: BigInt(j.fileSizeInBytes as string),
    valueCounts: map(j.valueCounts, BigInt), nullValueCounts: map(j.nullValueCounts, BigInt), nanValueCounts: map(j.nanValueCounts, BigInt),
    lowerBounds: map(j.lowerBounds, (x) => new Uint8Array(Buffer.from(x, 'base64'))), upperBounds: map(j.upperBounds, (x) => new Uint8Array(Buffer.from(x, 'base64'))),
  };
}

export async function writeStaging(store: ObjectStore, uri: string, m: StagingManifest): Promise<void> {
  await store.put(uri, Buffer.from(JSON.stringify({ ...m, files: m.files.map(fileToJson) })), 'application/json');
}

export async function readStaging(store: ObjectStore, uri: string): Promise<StagingManifest> {
  const raw = JSON.parse(Buffer.from(await store.get(uri)).toString()) as StagingManifest & { files: Json[] };
  return { ...raw, files: raw.files.map(fileFromJson) };
}

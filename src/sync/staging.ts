import { ERROR_CODES, SyncError } from '../errors';
import type { DataFile, PartitionValue } from '../iceberg/spec';
import type { UsageCounts } from '../salesforce/budget';
import type { ReadApiUsed } from '../salesforce/reader';
import type { ObjectStore } from '../storage/object-store';

/**
 * Record Ids (merge keys) as newline-terminated UTF-8 in one growing buffer: a million Ids take
 * 19 MB here, against ~60 MB as strings in an array, and are written to S3 as they are.
 */
export class KeyList {
  private buf: Buffer;
  private end: number;
  count: number;

  constructor(bytes?: Uint8Array) {
    this.buf = bytes ? Buffer.from(bytes) : Buffer.allocUnsafe(1 << 16);
    this.end = bytes ? bytes.length : 0;
    let count = 0;
    if (bytes) for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10) count++;
    this.count = count;
  }

  static of(keys: readonly string[]): KeyList {
    const list = new KeyList();
    for (const k of keys) list.add(k);
    return list;
  }

  add(key: string): void {
    const need = this.end + key.length * 3 + 1;
    if (need > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(next, 0, 0, this.end);
      this.buf = next;
    }
    this.end += this.buf.write(key, this.end, 'utf8');
    this.buf[this.end++] = 10;
    this.count++;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.end);
  }

  /** The keys one by one, without an array of them all. */
  *values(): Generator<string> {
    let start = 0;
    for (let i = 0; i < this.end; i++) {
      if (this.buf[i] !== 10) continue;
      yield this.buf.toString('utf8', start, i);
      start = i + 1;
    }
  }

  toArray(): string[] {
    return this.end === 0 ? [] : this.buf.toString('utf8', 0, this.end - 1).split('\n');
  }
}

/**
 * What an extraction wrote, kept in S3 (not in Temporal history): the data files, the Ids they
 * hold (merge keys, in an object of their own next to the manifest) and the Ids deleted in Salesforce.
 */
export interface StagingManifest {
  runId: string;
  files: DataFile[];
  keys: KeyList;
  deletedKeys: string[];
  /** What the extraction spent of the org's Salesforce limits (recorded in the snapshot summary). */
  usage?: UsageCounts;
  /** How many of `deletedKeys` a reconciliation found (rows Salesforce no longer has), when one ran. */
  reconciled?: number;
  /** Which API read the rows and why REST when it did (kept across retries: a resumed REST read no longer meets Bulk's refusal); absent in older manifests and when nothing was read. */
  readApi?: ReadApiUsed;
}

/** A staging manifest as read back: the keys are loaded only when asked for (a commit into an empty table needs none). */
export interface StagedExtraction {
  runId: string;
  files: DataFile[];
  keyCount: number;
  loadKeys(): Promise<KeyList>;
  deletedKeys: string[];
  usage?: UsageCounts;
  reconciled?: number;
  readApi?: ReadApiUsed;
}

type Json = { [k: string]: unknown };

/** A partition value as JSON, its type kept (bigints and bytes exactly): `{ big: "…" }`, `{ bytes: base64 }`… */
function valueToJson(v: PartitionValue): unknown {
  if (v === null) return null;
  if (typeof v === 'bigint') return { big: v.toString() };
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('base64') };
  if (typeof v === 'number') return { num: Object.is(v, -0) ? '-0' : Number.isFinite(v) ? v : String(v) };
  if (typeof v === 'boolean') return { bool: v };
  return { str: v };
}

function valueFromJson(j: unknown): PartitionValue {
  if (j === null || j === undefined) return null;
  const o = j as { big?: string; bytes?: string; num?: number | string; bool?: boolean; str?: string };
  if (o.big !== undefined) return BigInt(o.big);
  if (o.bytes !== undefined) return new Uint8Array(Buffer.from(o.bytes, 'base64'));
  if (o.num !== undefined) return Number(o.num);
  if (o.bool !== undefined) return o.bool;
  if (o.str !== undefined) return o.str;
  throw new SyncError(`staging manifest: ${JSON.stringify(j)} is not a partition value`, { code: ERROR_CODES.INTERNAL, retryable: false });
}

function fileToJson(f: DataFile): Json {
  const map = <V>(m: Map<number, V> | undefined, v: (x: V) => unknown) => (m ? [...m].map(([k, x]) => [k, v(x)]) : undefined);
  return {
    content: f.content,
    filePath: f.filePath,
    recordCount: String(f.recordCount),
    fileSizeInBytes: String(f.fileSizeInBytes),
    ...(f.specId !== undefined ? { specId: f.specId } : {}),
    ...(f.partition ? { partition: f.partition.map(valueToJson) } : {}),
    ...(f.sortOrderId !== undefined ? { sortOrderId: f.sortOrderId } : {}),
    valueCounts: map(f.valueCounts, String),
    nullValueCounts: map(f.nullValueCounts, String),
    nanValueCounts: map(f.nanValueCounts, String),
    lowerBounds: map(f.lowerBounds, (b) => Buffer.from(b).toString('base64')),
    upperBounds: map(f.upperBounds, (b) => Buffer.from(b).toString('base64')),
  };
}

function fileFromJson(j: Json): DataFile {
  const map = <V>(v: unknown, conv: (x: string) => V) => (v ? new Map((v as [number, string][]).map(([k, x]) => [k, conv(x)])) : undefined);
  return {
    content: j.content as number,
    filePath: j.filePath as string,
    fileFormat: 'PARQUET',
    recordCount: BigInt(j.recordCount as string),
    fileSizeInBytes: BigInt(j.fileSizeInBytes as string),
    ...(j.specId !== undefined ? { specId: j.specId as number } : {}),
    ...(j.partition !== undefined ? { partition: (j.partition as unknown[]).map(valueFromJson) } : {}),
    ...(j.sortOrderId !== undefined ? { sortOrderId: j.sortOrderId as number } : {}),
    valueCounts: map(j.valueCounts, BigInt),
    nullValueCounts: map(j.nullValueCounts, BigInt),
    nanValueCounts: map(j.nanValueCounts, BigInt),
    lowerBounds: map(j.lowerBounds, (x) => new Uint8Array(Buffer.from(x, 'base64'))),
    upperBounds: map(j.upperBounds, (x) => new Uint8Array(Buffer.from(x, 'base64'))),
  };
}

export async function writeStaging(store: ObjectStore, uri: string, m: StagingManifest): Promise<void> {
  const keysUri = `${uri}.keys`;
  await store.put(keysUri, m.keys.bytes(), 'text/plain');
  await store.put(
    uri,
    Buffer.from(
      JSON.stringify({
        runId: m.runId,
        files: m.files.map(fileToJson),
        keysUri,
        keyCount: m.keys.count,
        deletedKeys: m.deletedKeys,
        usage: m.usage,
        ...(m.reconciled !== undefined ? { reconciled: m.reconciled } : {}),
        ...(m.readApi ? { readApi: m.readApi } : {}),
      }),
    ),
    'application/json',
  );
}

export async function readStaging(store: ObjectStore, uri: string): Promise<StagedExtraction> {
  const raw = JSON.parse(Buffer.from(await store.get(uri)).toString()) as {
    runId: string;
    files: Json[];
    keysUri?: string;
    keyCount?: number;
    keys?: string[];
    deletedKeys: string[];
    usage?: UsageCounts;
    reconciled?: number;
    readApi?: ReadApiUsed;
  };
  const inline = raw.keys;
  return {
    runId: raw.runId,
    files: raw.files.map(fileFromJson),
    keyCount: raw.keyCount ?? inline?.length ?? 0,
    // Manifests written before keys had their own object hold them inline.
    loadKeys: async () => (inline ? KeyList.of(inline) : new KeyList(await store.get(raw.keysUri!))),
    deletedKeys: raw.deletedKeys,
    usage: raw.usage,
    reconciled: raw.reconciled,
    ...(raw.readApi ? { readApi: raw.readApi } : {}),
  };
}

import crypto from 'node:crypto';
import zlib from 'node:zlib';
import avro from 'avsc';
import { ERROR_CODES, SyncError } from '../errors';

/**
 * Avro longs as BigInt: manifests hold snapshot ids above 2^53, which avsc's default long type
 * (JS numbers) rejects or would round.
 */
const BigLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint | number) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (json: unknown) => BigInt(json as string),
  toJSON: (n: bigint) => (Number.isSafeInteger(Number(n)) ? Number(n) : n.toString()),
  isValid: (n: unknown) => typeof n === 'bigint' || (typeof n === 'number' && Number.isSafeInteger(n)),
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

export function avroType(schema: object): avro.Type {
  // Building a type compiles its readers and writers (milliseconds each); every manifest of a
  // table shares a few schemas, and a sync reads and writes several manifests per object.
  const key = JSON.stringify(schema);
  let type = types.get(key);
  if (!type) {
    type = avro.Type.forSchema(plainPrimitives(schema) as avro.Schema, { registry: { long: BigLong } as never, wrapUnions: false });
    if (types.size >= KEPT_TYPES) types.delete(types.keys().next().value!);
    types.set(key, type);
  }
  return type;
}

/** Avro types built, by schema (a worker's tables have a few schemas each: their partition specs and versions). */
const types = new Map<string, avro.Type>();
const KEPT_TYPES = 256;

/**
 * The schema with `{"type": "long", "logicalType": …}` (dates, timestamps in partition tuples) read
 * as the primitive itself, so longs stay BigInt: the file's header keeps the logical types for readers.
 */
function plainPrimitives(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(plainPrimitives);
  if (schema === null || typeof schema !== 'object') return schema;
  const o = schema as Record<string, unknown>;
  if ((o.type === 'long' || o.type === 'int') && typeof o.logicalType === 'string') return o.type;
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, k === 'type' || k === 'fields' || k === 'items' || k === 'values' ? plainPrimitives(v) : v]));
}

const MAGIC = Buffer.from('Obj\x01', 'latin1');
const HeaderType = avro.Type.forSchema({
  type: 'record',
  name: 'org.apache.avro.file.Header',
  fields: [
    { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: 16 } },
  ],
});
const LongType = avro.Type.forSchema('long');

/**
 * Writes an Avro object container file. The header carries the schema JSON exactly as given —
 * with Iceberg's `field-id` attributes, which readers use to resolve fields by id — plus the
 * caller's metadata (e.g. Iceberg's `schema`, `format-version`, `content`).
 */
export function writeAvroFile(schema: object, records: unknown[], metadata: Record<string, string>, codec: 'null' | 'deflate' = 'deflate'): Buffer {
  const type = avroType(schema);
  const sync = crypto.randomBytes(16);
  const meta: Record<string, Buffer> = { 'avro.schema': Buffer.from(JSON.stringify(schema)), 'avro.codec': Buffer.from(codec) };
  for (const [key, value] of Object.entries(metadata)) meta[key] = Buffer.from(value);
  const parts: Buffer[] = [HeaderType.toBuffer({ magic: MAGIC, meta, sync })];
  const blockSize = 1000;
  for (let start = 0; start < records.length; start += blockSize) {
    const chunk = records.slice(start, start + blockSize);
    let data = Buffer.concat(chunk.map((r) => type.toBuffer(r)));
    if (codec === 'deflate') data = zlib.deflateRawSync(data);
    parts.push(LongType.toBuffer(chunk.length), LongType.toBuffer(data.length), data, sync);
  }
  return Buffer.concat(parts);
}

export interface AvroFile<T> {
  schema: object;
  metadata: Record<string, string>;
  records: T[];
}

/** Reads an Avro container file with its own (writer) schema; longs come back as BigInt. */
export function readAvroFile<T = Record<string, unknown>>(bytes: Uint8Array): AvroFile<T> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { value: header, offset } = HeaderType.decode(buf, 0) as { value: { magic: Buffer; meta: Record<string, Buffer>; sync: Buffer }; offset: number };
  if (offset < 0 || !header.magic.equals(MAGIC)) throw new SyncError('not an Avro object container file', { code: ERROR_CODES.TABLE_INVALID, retryable: false });
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(header.meta)) metadata[key] = value.toString();
  const codec = metadata['avro.codec'] ?? 'null';
  if (codec !== 'null' && codec !== 'deflate') throw new SyncError(`Avro codec ${codec} is not supported`, { code: ERROR_CODES.TABLE_UNSUPPORTED, retryable: false });
  const schema = JSON.parse(metadata['avro.schema'] ?? 'null') as object;
  const type = avroType(schema);
  const records: T[] = [];
  let pos = offset;
  while (pos < buf.length) {
    const count = LongType.decode(buf, pos) as { value: number; offset: number };
    const size = LongType.decode(buf, count.offset) as { value: number; offset: number };
    let block = buf.subarray(size.offset, size.offset + size.value);
    if (codec === 'deflate') block = zlib.inflateRawSync(block);
    let p = 0;
    for (let i = 0; i < count.value; i++) {
      const decoded = type.decode(block, p) as { value: T; offset: number };
      if (decoded.offset < 0) throw new SyncError('truncated Avro block', { code: ERROR_CODES.TABLE_INVALID, retryable: false });
      records.push(decoded.value);
      p = decoded.offset;
    }
    pos = size.offset + size.value + 16; // skip the sync marker
  }
  return { schema, metadata, records };
}

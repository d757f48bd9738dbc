import { ERROR_CODES, SyncError } from '../../errors';
import { encodeBound } from './bounds';
import { parsePartitionText, type PartitionRequest, type Transform } from './layout-syntax';
import { parseDecimal, type NestedField, type PartitionSpec, type PartitionTuple, type PartitionValue, type PrimitiveType, type Schema, type SortOrder } from './index';

/*
 * Iceberg's partition transforms (spec: "Partition Transforms", "Bucket Transform Details",
 * "Truncate Transform Details") as typed data, and what a writer needs of them: parsing what a
 * user writes, checking a transform fits its column, applying it to a row's value, naming the
 * partition field, and the partition tuple's Avro type in manifests.
 *
 * Values are in one canonical form per Iceberg type: int, date (days), year/month/day/hour/bucket
 * results: number; long, time, timestamp(tz) (microseconds): bigint; decimal: bigint (unscaled);
 * string: string; binary, fixed, uuid: Uint8Array; boolean: boolean; float/double: number.
 */

export type { PartitionRequest, Transform } from './layout-syntax';
export type { PartitionTuple, PartitionValue } from './index';

const invalid = (message: string) => new SyncError(message, { code: ERROR_CODES.INPUT_INVALID, retryable: false });

/** The transform's name as table metadata writes it ("bucket[16]", "month"). */
export function transformName(t: Transform): string {
  if (t.kind === 'bucket') return `bucket[${t.n}]`;
  if (t.kind === 'truncate') return `truncate[${t.width}]`;
  return t.kind;
}

/** Reads a transform name as table metadata writes it; undefined for one this writer does not know. */
export function parseTransformName(name: string): Transform | undefined {
  const m = /^(bucket|truncate)\[(\d+)\]$/.exec(name.trim());
  if (m) return m[1] === 'bucket' ? { kind: 'bucket', n: Number(m[2]) } : { kind: 'truncate', width: Number(m[2]) };
  const simple = name.trim() as Transform['kind'];
  return ['identity', 'year', 'month', 'day', 'hour', 'void'].includes(simple) ? ({ kind: simple } as Transform) : undefined;
}

/**
 * Parses what a user writes for one partition field (see parsePartitionText: `Column`,
 * `month(Column)`, `bucket(16, Column)`, ...); what is not one is refused as INPUT_INVALID.
 */
export function parsePartitionField(text: string): PartitionRequest {
  const parsed = parsePartitionText(text);
  if ('error' in parsed) throw invalid(parsed.error);
  return parsed.request;
}

const TIME_KINDS = new Set(['year', 'month', 'day', 'hour']);

/** Why the transform cannot take a column of this type, or undefined when it can (spec's table of transforms). */
export function transformMismatch(t: Transform, type: PrimitiveType): string | undefined {
  const isDecimal = parseDecimal(type) !== undefined;
  switch (t.kind) {
    case 'identity':
    case 'void':
      return undefined;
    case 'year':
    case 'month':
    case 'day':
      return type === 'date' || type === 'timestamp' || type === 'timestamptz' ? undefined : `${t.kind} needs a date or timestamp column`;
    case 'hour':
      return type === 'timestamp' || type === 'timestamptz' ? undefined : 'hour needs a timestamp column';
    case 'bucket':
      return ['int', 'long', 'date', 'time', 'timestamp', 'timestamptz', 'string', 'uuid', 'binary'].includes(type) || isDecimal || type.startsWith('fixed')
        ? undefined
        : `bucket cannot hash a ${type} column`;
    case 'truncate':
      return ['int', 'long', 'string', 'binary'].includes(type) || isDecimal ? undefined : `truncate needs an int, long, decimal, string or binary column, not ${type}`;
  }
}

/** The type of a transform's result for a source column type. */
export function resultType(t: Transform, source: PrimitiveType): PrimitiveType {
  switch (t.kind) {
    case 'identity':
    case 'truncate':
    case 'void':
      return source;
    case 'day':
      return 'date';
    default:
      return 'int';
  }
}

/** The partition field's name, as Iceberg's own writers name it (`created_date_month`, `account_id_bucket`). */
export function partitionFieldName(t: Transform, column: string): string {
  switch (t.kind) {
    case 'identity':
      return column;
    case 'truncate':
      return `${column}_trunc`;
    case 'void':
      return `${column}_null`;
    default:
      return `${column}_${t.kind}`;
  }
}

// ---- applying transforms -------------------------------------------------------------------

const MICROS_PER_HOUR = 3_600_000_000n;
const MICROS_PER_DAY = 86_400_000_000n;

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** Days since 1970-01-01 of a canonical date or timestamp value. */
function epochDays(type: PrimitiveType, v: number | bigint): number {
  return type === 'date' ? Number(v) : Number(floorDiv(v as bigint, MICROS_PER_DAY));
}

function civil(days: number): { year: number; month: number } {
  const d = new Date(days * 86_400_000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() };
}

/** A builder-form value (number, bigint, Date or text) in the canonical form of its Iceberg type. */
export function canonicalValue(type: PrimitiveType, value: unknown): PartitionValue {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'timestamp':
    case 'timestamptz':
      if (typeof value === 'bigint') return value;
      if (typeof value === 'number') return BigInt(Math.trunc(value));
      if (value instanceof Date) return BigInt(value.getTime()) * 1000n;
      return isoMicros(String(value));
    case 'time':
      return typeof value === 'bigint' ? value : typeof value === 'number' ? BigInt(Math.trunc(value)) : timeMicros(String(value));
    case 'date':
      if (typeof value === 'number') return value;
      if (value instanceof Date) return Math.floor(value.getTime() / 86_400_000);
      return Math.floor(Date.parse(`${String(value).slice(0, 10)}T00:00:00Z`) / 86_400_000);
    case 'long':
      return typeof value === 'bigint' ? value : BigInt(value as number | string);
    case 'int':
      return Number(value);
    case 'float':
    case 'double':
      return Number(value);
    case 'boolean':
      return typeof value === 'boolean' ? value : value === 'true' || value === '1';
    case 'string':
      return String(value);
    default: {
      const decimal = parseDecimal(type);
      if (decimal) return typeof value === 'bigint' ? value : unscaled(String(value), decimal.scale);
      return value as Uint8Array;
    }
  }
}

/** Microseconds since the epoch of ISO-8601 text (fraction digits beyond milliseconds kept). */
function isoMicros(text: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(.*)$/.exec(text.trim());
  const ms = Date.parse(m ? `${m[1]}${m[3] || 'Z'}` : text);
  if (Number.isNaN(ms)) throw new SyncError(`"${text}" is not a timestamp`, { code: ERROR_CODES.VALUE_INVALID, retryable: false });
  const fraction = (m?.[2] ?? '').padEnd(6, '0').slice(0, 6);
  return BigInt(ms) * 1000n + BigInt(fraction || '0');
}

function timeMicros(text: string): bigint {
  const m = /^(\d\d):(\d\d):(\d\d)(?:\.(\d+))?/.exec(text);
  if (!m) throw new SyncError(`"${text}" is not a time`, { code: ERROR_CODES.VALUE_INVALID, retryable: false });
  return BigInt(((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1_000_000) + BigInt((m[4] ?? '').padEnd(6, '0').slice(0, 6));
}

function unscaled(text: string, scale: number): bigint {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!m) throw new SyncError(`"${text}" is not a decimal`, { code: ERROR_CODES.VALUE_INVALID, retryable: false });
  const digits = `${m[2] || '0'}${(m[3] ?? '').padEnd(scale, '0').slice(0, scale)}`;
  return (m[1] === '-' ? -1n : 1n) * BigInt(digits);
}

/** Applies a transform to a canonical value of the source type (null stays null). */
export function applyTransform(t: Transform, source: PrimitiveType, value: PartitionValue): PartitionValue {
  if (value === null || t.kind === 'void') return null;
  switch (t.kind) {
    case 'identity':
      return value;
    case 'year':
      return civil(epochDays(source, value as number | bigint)).year - 1970;
    case 'month': {
      const { year, month } = civil(epochDays(source, value as number | bigint));
      return (year - 1970) * 12 + month;
    }
    case 'day':
      return epochDays(source, value as number | bigint);
    case 'hour':
      return Number(floorDiv(value as bigint, MICROS_PER_HOUR));
    case 'bucket':
      return (murmur3(hashBytes(source, value)) & 0x7fffffff) % t.n;
    case 'truncate':
      return truncate(source, t.width, value);
  }
}

function truncate(type: PrimitiveType, width: number, value: PartitionValue): PartitionValue {
  if (type === 'int') return (value as number) - ((((value as number) % width) + width) % width);
  if (type === 'long' || parseDecimal(type)) {
    const v = value as bigint;
    const w = BigInt(width);
    return v - (((v % w) + w) % w);
  }
  if (type === 'string') {
    // Code points, not UTF-16 units.
    const s = value as string;
    let out = '';
    let n = 0;
    for (const ch of s) {
      if (n++ === width) break;
      out += ch;
    }
    return out;
  }
  return (value as Uint8Array).subarray(0, width);
}

/** The bytes the bucket transform hashes (spec: "Bucket Transform Details"). */
function hashBytes(type: PrimitiveType, value: PartitionValue): Uint8Array {
  switch (type) {
    case 'int':
    case 'date':
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz': {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(BigInt(value as number | bigint));
      return b;
    }
    case 'string':
      return Buffer.from(value as string, 'utf8');
    default:
      if (parseDecimal(type)) return encodeBound(type, value);
      return value as Uint8Array;
  }
}

/** MurmurHash3 x86 32-bit, seed 0: the hash Iceberg's bucket transform uses. */
export function murmur3(data: Uint8Array): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = 0;
  const blocks = data.length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = data.length & 3;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= data[blocks + 2]! << 16;
    if (tail >= 2) k ^= data[blocks + 1]! << 8;
    k ^= data[blocks]!;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= data.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

// ---- specs bound to a schema ---------------------------------------------------------------

/** First partition field id (spec: partition field ids start at 1000). */
export const FIRST_PARTITION_FIELD_ID = 1000;

/** A spec's field with what applying it needs: the transform, the source column and the result type. */
export interface BoundPartitionField {
  fieldId: number;
  name: string;
  transform: Transform;
  source: NestedField;
  type: PrimitiveType;
}

/** A partition spec bound to a schema: the fields a writer applies to each row. */
export interface BoundSpec {
  specId: number;
  fields: BoundPartitionField[];
}

/** Binds a spec to the schema; a transform this writer does not know, or a dropped source column, is refused. */
export function bindSpec(spec: PartitionSpec, schema: Schema, table = 'the table'): BoundSpec {
  return {
    specId: spec['spec-id'],
    fields: spec.fields.map((f) => {
      const transform = parseTransformName(f.transform);
      if (!transform)
        throw new SyncError(`${table} is partitioned by ${f.transform}(…), a transform this writer does not know, so it was left unchanged`, {
          code: ERROR_CODES.SCHEMA_INCOMPATIBLE,
          retryable: false,
        });
      const source = schema.fields.find((c) => c.id === f['source-id']);
      if (!source)
        throw new SyncError(`${table}'s partition field ${f.name} reads column id ${f['source-id']}, which the current schema no longer has`, {
          code: ERROR_CODES.SCHEMA_INCOMPATIBLE,
          retryable: false,
        });
      return { fieldId: f['field-id'], name: f.name, transform, source, type: resultType(transform, source.type) };
    }),
  };
}

/** The partition tuple of a row, given the canonical values of each field's source column. */
export function partitionOf(spec: BoundSpec, sourceValues: (fieldIndex: number) => PartitionValue): PartitionTuple {
  return spec.fields.map((f, i) => applyTransform(f.transform, f.source.type, sourceValues(i)));
}

/** A string that equals another's exactly when the tuples are equal (a map key for writers). */
export function partitionKey(tuple: PartitionTuple): string {
  return tuple.map((v) => (v === null ? '∅' : v instanceof Uint8Array ? `b${Buffer.from(v).toString('hex')}` : `${typeof v}:${String(v)}`)).join('\u0001');
}

/** The partition path segment of a data file (`created_date_month=2024-03`), as Iceberg's writers name folders. */
export function partitionPath(spec: BoundSpec, tuple: PartitionTuple): string {
  return spec.fields.map((f, i) => `${encodeURIComponent(f.name)}=${encodeURIComponent(humanValue(f, tuple[i] ?? null))}`).join('/');
}

/** A partition value as people read it (months as 2024-03, days as dates, hours as 2024-03-01-13). */
export function humanValue(f: Pick<BoundPartitionField, 'transform' | 'type'>, v: PartitionValue): string {
  if (v === null) return 'null';
  const month = (m: number) => `${1970 + Math.floor(m / 12)}-${String((((m % 12) + 12) % 12) + 1).padStart(2, '0')}`;
  switch (f.transform.kind) {
    case 'year':
      return String(1970 + (v as number));
    case 'month':
      return month(v as number);
    case 'day':
      return new Date((v as number) * 86_400_000).toISOString().slice(0, 10);
    case 'hour':
      return new Date((v as number) * 3_600_000).toISOString().slice(0, 13).replace('T', '-');
    default:
      if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
      if (f.type === 'date') return new Date((v as number) * 86_400_000).toISOString().slice(0, 10);
      if (f.type === 'timestamp' || f.type === 'timestamptz') return new Date(Number((v as bigint) / 1000n)).toISOString();
      return String(v);
  }
}

/** Builds a spec from requests against a schema (columns already resolved to schema fields), reusing field ids of earlier specs. */
export function buildSpec(
  requests: { transform: Transform; source: NestedField }[],
  opts: { specId: number; earlier: PartitionSpec[]; lastPartitionId: number },
): { spec: PartitionSpec; lastPartitionId: number } {
  let last = Math.max(opts.lastPartitionId, FIRST_PARTITION_FIELD_ID - 1);
  const names = new Set<string>();
  const fields = requests.map(({ transform, source }) => {
    const name = partitionFieldName(transform, source.name);
    if (names.has(name)) throw invalid(`partition field ${transformName(transform)}(${source.name}) is given twice`);
    names.add(name);
    const previous = opts.earlier.flatMap((s) => s.fields).find((f) => f['source-id'] === source.id && f.transform === transformName(transform));
    const fieldId = previous ? previous['field-id'] : ++last;
    return { 'source-id': source.id, 'field-id': fieldId, name: previous?.name ?? name, transform: transformName(transform) };
  });
  return { spec: { 'spec-id': opts.specId, fields }, lastPartitionId: last };
}

/** Whether two specs partition the same way (same source columns and transforms, in order). */
export function sameSpec(a: PartitionSpec, b: PartitionSpec): boolean {
  return a.fields.length === b.fields.length && a.fields.every((f, i) => f['source-id'] === b.fields[i]!['source-id'] && f.transform === b.fields[i]!.transform);
}

/** A spec's fields as people read them: `month(created_date), bucket[16](account_id)`. */
export function describeSpec(spec: PartitionSpec, schema: Schema): string {
  if (spec.fields.length === 0) return 'unpartitioned';
  return spec.fields.map((f) => `${f.transform}(${schema.fields.find((c) => c.id === f['source-id'])?.name ?? `#${f['source-id']}`})`).join(', ');
}

// ---- sort orders ---------------------------------------------------------------------------

export type SortField = SortOrder['fields'][number];

/** A sort order of identity fields, ascending, nulls first (Iceberg's defaults for asc). */
export function buildSortOrder(sources: NestedField[], orderId: number): SortOrder {
  return { 'order-id': orderId, fields: sources.map((s) => ({ transform: 'identity', 'source-id': s.id, direction: 'asc', 'null-order': 'nulls-first' }) satisfies SortField) };
}

/** Whether two sort orders sort the same way. */
export function sameSortOrder(a: SortOrder, b: SortOrder): boolean {
  const [fa, fb] = [a.fields, b.fields];
  return (
    fa.length === fb.length &&
    fa.every((f, i) => f['source-id'] === fb[i]!['source-id'] && f.transform === fb[i]!.transform && f.direction === fb[i]!.direction && f['null-order'] === fb[i]!['null-order'])
  );
}

/** The kinds of transform that partition by time (they prune date filters). */
export const isTimeTransform = (t: Transform) => TIME_KINDS.has(t.kind);

/** A spec's partition fields with their result types: the partition tuple's shape in manifests. */
export interface PartitionFieldType {
  fieldId: number;
  name: string;
  type: PrimitiveType;
}

/**
 * The result types of a spec's fields. The source column is looked up in the given schemas, newest
 * first: an old spec may read a column the current schema dropped.
 */
export function partitionFieldTypes(spec: PartitionSpec, schemas: Schema[]): PartitionFieldType[] {
  const ordered = [...schemas].sort((a, b) => b['schema-id'] - a['schema-id']);
  return spec.fields.map((f) => {
    const transform = parseTransformName(f.transform);
    const source = ordered.map((s) => s.fields.find((c) => c.id === f['source-id'])).find(Boolean);
    if (!transform || !source)
      throw new SyncError(`partition field ${f.name} (${f.transform} of column id ${f['source-id']}) cannot be typed`, { code: ERROR_CODES.TABLE_UNSUPPORTED, retryable: false });
    return { fieldId: f['field-id'], name: f.name, type: resultType(transform, source.type) };
  });
}

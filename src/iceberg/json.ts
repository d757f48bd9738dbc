import { isLosslessNumber, isSafeNumber, parse, stringify } from 'lossless-json';
import { ERROR_CODES, SyncError } from '../errors';
import type { Snapshot, SnapshotRef, TableMetadata } from './spec';

/** The fields of the spec's JSON (table metadata, snapshots, refs, logs) that hold 64-bit ids: snapshot ids and sequence numbers. */
type IdFields = Pick<Snapshot, 'snapshot-id' | 'parent-snapshot-id' | 'sequence-number'> &
  Pick<TableMetadata, 'current-snapshot-id' | 'last-sequence-number'> &
  Pick<SnapshotRef, 'snapshot-id'>;

/**
 * The keys whose values are parsed as `bigint`: every one of IdFields, each of which the compiler
 * checks is typed `bigint` in the spec. Other engines write snapshot ids above 2^53, and a rounded
 * id in `assert-ref-snapshot-id` would break concurrency control.
 */
const idKeys: { [K in keyof IdFields]-?: Exclude<IdFields[K], null | undefined> extends bigint ? true : never } = {
  'snapshot-id': true,
  'parent-snapshot-id': true,
  'sequence-number': true,
  'current-snapshot-id': true,
  'last-sequence-number': true,
};
const ID_KEYS: ReadonlySet<string> = new Set(Object.keys(idKeys));

/**
 * Catalog JSON, parsed without losing 64-bit integers. The values of the id keys (ID_KEYS) are
 * always `bigint`, whatever their size, as the spec's types say (src/iceberg/spec); other integers
 * that fit a double are numbers, larger ones `bigint`.
 */
export function parseJson<T = unknown>(text: string): T {
  return parse(text, (key, value) => {
    if (!isLosslessNumber(value)) return value;
    const digits = value.value;
    if (!/^-?\d+$/.test(digits)) return Number(digits);
    return ID_KEYS.has(key) || !isSafeNumber(digits) ? BigInt(digits) : Number(digits);
  }) as T;
}

/** JSON text in which BigInt values are written as plain JSON integers. */
export function toJson(value: unknown): string {
  const text = stringify(value);
  if (text === undefined) throw new SyncError('value cannot be written as JSON', { code: ERROR_CODES.INTERNAL, retryable: false });
  return text;
}

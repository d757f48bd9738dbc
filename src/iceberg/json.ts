import { isSafeNumber, parse, stringify } from 'lossless-json';
import { ERROR_CODES, SyncError } from '../errors';

/**
 * Catalog JSON, parsed and written without losing 64-bit integers: snapshot ids written by other
 * engines exceed 2^53, and a rounded id in `assert-ref-snapshot-id` would break concurrency
 * control. Integers that fit a double stay numbers; larger ones become BigInt.
 */
export function parseJson<T = unknown>(text: string): T {
  return parse(text, null, (value: string) => {
    if (isSafeNumber(value)) return Number(value);
    if (/^-?\d+$/.test(value)) return BigInt(value);
    return Number(value);
  }) as T;
}

/** JSON text in which BigInt values are written as plain JSON integers. */
export function toJson(value: unknown): string {
  const text = stringify(value);
  if (text === undefined) throw new SyncError('value cannot be written as JSON', { code: ERROR_CODES.INTERNAL, retryable: false });
  return text;
}

/** A 64-bit id as BigInt, whatever form the JSON gave it. */
export function toBigInt(value: number | bigint | string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new SyncError(`unsafe integer ${value}`, { code: ERROR_CODES.INTERNAL, retryable: false });
    return BigInt(value);
  }
  return BigInt(value);
}

import { parseDecimal, type PrimitiveType } from './index';
import { ERROR_CODES, SyncError } from '../../errors';

/**
 * Iceberg's single-value binary serialization (spec appendix D), used for lower/upper bounds in
 * manifests. Values arrive in the column builders' forms: numbers, bigint for 64-bit and decimal
 * (unscaled), strings, bytes.
 */
export function encodeBound(type: PrimitiveType, value: unknown): Uint8Array {
  switch (type) {
    case 'boolean':
      return Uint8Array.of(value ? 1 : 0);
    case 'int':
    case 'date': {
      const b = Buffer.alloc(4);
      b.writeInt32LE(value as number);
      return b;
    }
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz': {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(BigInt(value as bigint));
      return b;
    }
    case 'float': {
      const b = Buffer.alloc(4);
      b.writeFloatLE(value as number);
      return b;
    }
    case 'double': {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(value as number);
      return b;
    }
    case 'string':
      return Buffer.from(value as string, 'utf8');
    case 'binary':
      return value as Uint8Array;
    default:
      if (parseDecimal(type)) return twosComplementBigEndian(value as bigint);
      throw new SyncError(`no bound encoding for ${type}`, { code: ERROR_CODES.TABLE_UNSUPPORTED, retryable: false });
  }
}

/** Decodes a bound back to the builders' value form (for readers and tests). */
export function decodeBound(type: PrimitiveType, bytes: Uint8Array): unknown {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type) {
    case 'boolean':
      return b[0] !== 0;
    case 'int':
    case 'date':
      return b.readInt32LE();
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return b.readBigInt64LE();
    case 'float':
      return b.readFloatLE();
    case 'double':
      return b.readDoubleLE();
    case 'string':
      return b.toString('utf8');
    case 'binary':
      return new Uint8Array(b);
    default:
      if (parseDecimal(type)) {
        if (b.length === 0) return 0n;
        let v = 0n;
        for (const byte of b) v = (v << 8n) | BigInt(byte);
        return b[0]! & 0x80 ? v - (1n << BigInt(b.length * 8)) : v;
      }
      throw new SyncError(`no bound decoding for ${type}`, { code: ERROR_CODES.TABLE_UNSUPPORTED, retryable: false });
  }
}

/** Minimum-length two's-complement big-endian bytes of an integer (decimal bounds). */
export function twosComplementBigEndian(value: bigint): Uint8Array {
  const bytes: number[] = [];
  let v = value;
  for (;;) {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
    const sign = bytes[0]! & 0x80;
    if ((v === 0n && !sign) || (v === -1n && sign)) break;
  }
  return Uint8Array.from(bytes);
}

/**
 * Orders strings by Unicode code point, as Iceberg does (UTF-8 byte order), not by UTF-16 code
 * unit as JavaScript's `<` does: they differ when a surrogate pair meets U+E000..U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800) x = x <= 0xdfff ? x + 0x2000 : x - 0x800;
    if (y >= 0xd800) y = y <= 0xdfff ? y + 0x2000 : y - 0x800;
    return x - y;
  }
  return a.length - b.length;
}

/** Iceberg's default metrics mode truncates string and binary bounds to 16 characters / bytes. */
export const BOUND_TRUNCATE_LENGTH = 16;

export function truncateLowerString(s: string, length = BOUND_TRUNCATE_LENGTH): string {
  const cps = Array.from(s);
  return cps.length <= length ? s : cps.slice(0, length).join('');
}

/** A truncated upper bound must still be ≥ every value: bump the last code point that can be. */
export function truncateUpperString(s: string, length = BOUND_TRUNCATE_LENGTH): string | undefined {
  const cps = Array.from(s);
  if (cps.length <= length) return s;
  const kept = cps.slice(0, length);
  for (let i = kept.length - 1; i >= 0; i--) {
    let next = kept[i]!.codePointAt(0)! + 1;
    if (next >= 0xd800 && next <= 0xdfff) next = 0xe000;
    if (next <= 0x10ffff) return kept.slice(0, i).join('') + String.fromCodePoint(next);
  }
  return undefined;
}

export function truncateLowerBinary(b: Uint8Array, length = BOUND_TRUNCATE_LENGTH): Uint8Array {
  return b.length <= length ? b : b.subarray(0, length);
}

export function truncateUpperBinary(b: Uint8Array, length = BOUND_TRUNCATE_LENGTH): Uint8Array | undefined {
  if (b.length <= length) return b;
  const kept = Uint8Array.from(b.subarray(0, length));
  for (let i = kept.length - 1; i >= 0; i--) {
    if (kept[i]! < 0xff) {
      kept[i]! += 1;
      return kept.subarray(0, i + 1);
    }
  }
  return undefined;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

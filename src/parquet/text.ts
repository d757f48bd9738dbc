/*
 * Values read from their canonical text forms given as UTF-8 bytes — the form of a CSV cell —
 * digit by digit, without making a string. Each reader returns undefined for any shape it
 * does not handle; the column builder then reads the text the general way (`append(text)`), so
 * these are fast paths of the same meaning, never different results.
 */

/** The UTF-8 text of a byte range. */
export function utf8Text(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8');
}

/** 'true' / 'false' → boolean; undefined otherwise. */
export function readBoolean(bytes: Uint8Array, start: number, end: number): boolean | undefined {
  if (end - start === 4 && bytes[start] === 116 && bytes[start + 1] === 114 && bytes[start + 2] === 117 && bytes[start + 3] === 101) return true;
  if (end - start === 5 && bytes[start] === 102 && bytes[start + 1] === 97 && bytes[start + 2] === 108 && bytes[start + 3] === 115 && bytes[start + 4] === 101) return false;
  return undefined;
}

const digit = (bytes: Uint8Array, i: number): number => {
  const d = bytes[i]! - 48;
  return d >= 0 && d <= 9 ? d : NaN;
};

function digits(bytes: Uint8Array, i: number, count: number): number {
  let v = 0;
  for (let k = 0; k < count; k++) v = v * 10 + digit(bytes, i + k);
  return v;
}

/** Powers of ten that doubles hold exactly. */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/** The parts of plain decimal text ('-123.45'): its digits as one integer, how many, how many after the point. */
interface DecimalParts {
  mantissa: number;
  digits: number;
  fraction: number;
  negative: boolean;
}

/** One object reused by every scan: the readers are called per value and must not allocate. */
const parts: DecimalParts = { mantissa: 0, digits: 0, fraction: 0, negative: false };

/** Scans plain decimal text into `parts`; false for anything else (exponents, signs inside, no digits). */
function scanDecimal(bytes: Uint8Array, start: number, end: number): boolean {
  let i = start;
  parts.negative = bytes[i] === 45;
  if (parts.negative) i++;
  let m = 0;
  let count = 0;
  let fraction = -1;
  for (; i < end; i++) {
    const b = bytes[i]!;
    if (b === 46 && fraction < 0) {
      fraction = 0;
      continue;
    }
    const d = b - 48;
    if (d < 0 || d > 9) return false;
    m = m * 10 + d;
    count++;
    if (fraction >= 0) fraction++;
  }
  parts.mantissa = m;
  parts.digits = count;
  parts.fraction = Math.max(fraction, 0);
  return count > 0;
}

/**
 * Plain decimal text of at most 15 digits ('-1234.5') → the double `Number` gives: the digits are
 * an exact integer and the power of ten is exact, so one division rounds correctly (Clinger's fast
 * path). Undefined for anything else (exponents, longer numbers), which `Number` then reads.
 */
export function readNumber(bytes: Uint8Array, start: number, end: number): number | undefined {
  if (!scanDecimal(bytes, start, end) || parts.digits > 15) return undefined;
  const v = parts.fraction > 0 ? parts.mantissa / POW10[parts.fraction]! : parts.mantissa;
  return parts.negative ? -v : v;
}

/**
 * Plain decimal text with at most `scale` fraction digits and 15 digits in all, once scaled →
 * its unscaled value at `scale` (exact: '12.5' at scale 2 is 1250). Undefined for anything else
 * (exponents, rounding, values of `precision` digits or more), which the general path handles.
 */
export function readUnscaled(bytes: Uint8Array, start: number, end: number, scale: number, precision: number): number | undefined {
  if (!scanDecimal(bytes, start, end) || parts.fraction > scale) return undefined;
  const pad = scale - parts.fraction;
  if (parts.digits + pad > 15) return undefined;
  const v = parts.mantissa * POW10[pad]!;
  if (v >= 10 ** precision) return undefined;
  return parts.negative && v !== 0 ? -v : v;
}

/** Integer text ('-123', at most 15 digits) → its value; undefined otherwise. */
export function readInteger(bytes: Uint8Array, start: number, end: number): number | undefined {
  let i = start;
  const negative = bytes[i] === 45;
  if (negative) i++;
  if (i === end || end - i > 15) return undefined;
  let v = 0;
  for (; i < end; i++) {
    const d = bytes[i]! - 48;
    if (d < 0 || d > 9) return undefined;
    v = v * 10 + d;
  }
  return negative ? -v : v;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** 'YYYY-MM-DD' → days since the epoch; undefined for any other shape (the slow path decides). */
export function readDateDays(bytes: Uint8Array, start: number, end: number): number | undefined {
  if (end - start !== 10 || bytes[start + 4] !== 45 || bytes[start + 7] !== 45) return undefined;
  const y = digits(bytes, start, 4);
  const m = digits(bytes, start + 5, 2);
  const d = digits(bytes, start + 8, 2);
  if (!(m >= 1 && m <= 12 && d >= 1 && d <= 31)) return undefined;
  return daysFromCivil(y, m, d);
}

/** 'HH:MM:SS.sssZ' (or without millis or Z) → microseconds of the day; undefined otherwise. */
export function readTimeMicros(bytes: Uint8Array, start: number, end: number): number | undefined {
  let e = end;
  if (bytes[e - 1] === 90 /* Z */) e--;
  const len = e - start;
  if ((len !== 8 && len !== 12) || bytes[start + 2] !== 58 || bytes[start + 5] !== 58) return undefined;
  const h = digits(bytes, start, 2);
  const mi = digits(bytes, start + 3, 2);
  const s = digits(bytes, start + 6, 2);
  let ms = 0;
  if (len === 12) {
    if (bytes[start + 8] !== 46) return undefined;
    ms = digits(bytes, start + 9, 3);
  }
  const v = ((h * 60 + mi) * 60 + s) * 1_000_000 + ms * 1000;
  return Number.isNaN(v) || h > 23 || mi > 59 || s > 59 ? undefined : v;
}

/**
 * 'YYYY-MM-DDTHH:MM:SS.sssZ' or '…+0000' → microseconds since the
 * epoch; undefined for any other shape, which `datetimeMicros` then handles.
 */
export function readDatetimeMicros(bytes: Uint8Array, start: number, end: number): number | undefined {
  const len = end - start;
  const zulu = len === 24 && bytes[end - 1] === 90;
  const utcOffset = len === 28 && bytes[start + 23] === 43 && bytes[start + 24] === 48 && bytes[start + 25] === 48 && bytes[start + 26] === 48 && bytes[start + 27] === 48;
  if (!(zulu || utcOffset) || bytes[start + 10] !== 84 || bytes[start + 19] !== 46) return undefined;
  const days = readDateDays(bytes, start, start + 10);
  if (days === undefined) return undefined;
  const h = digits(bytes, start + 11, 2);
  const mi = digits(bytes, start + 14, 2);
  const s = digits(bytes, start + 17, 2);
  const ms = digits(bytes, start + 20, 3);
  if (bytes[start + 13] !== 58 || bytes[start + 16] !== 58 || !(h <= 23 && mi <= 59 && s <= 59)) return undefined;
  const v = (((days * 24 + h) * 60 + mi) * 60 + s) * 1000 + ms;
  return Number.isNaN(v) ? undefined : v * 1000;
}

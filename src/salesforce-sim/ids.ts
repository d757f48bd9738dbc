const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SUFFIX = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/**
 * An 18-character Salesforce id: 3-character key prefix, 12 characters of record number, and
 * the 3-character case-safe suffix computed as Salesforce does (one bit per upper-case letter of
 * each 5-character chunk).
 */
export function salesforceId(keyPrefix: string, n: number): string {
  let body = '';
  let v = n;
  for (let i = 0; i < 12; i++) {
    body = BASE62[v % 62]! + body;
    v = Math.floor(v / 62);
  }
  const id15 = `${keyPrefix}${body}`;
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15[chunk * 5 + i]!;
      if (c >= 'A' && c <= 'Z') bits |= 1 << i;
    }
    suffix += SUFFIX[bits];
  }
  return id15 + suffix;
}

/** The record number inside an id made by salesforceId, or undefined. */
export function recordNumber(id: string, keyPrefix: string): number | undefined {
  if (!id.startsWith(keyPrefix) || (id.length !== 18 && id.length !== 15)) return undefined;
  let v = 0;
  for (const c of id.slice(3, 15)) {
    const d = BASE62.indexOf(c);
    if (d < 0) return undefined;
    v = v * 62 + d;
  }
  return salesforceId(keyPrefix, v).startsWith(id.slice(0, 15)) ? v : undefined;
}

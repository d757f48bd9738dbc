import crypto from 'node:crypto';

/** A random positive 63-bit snapshot id, as Iceberg writers use. */
export function newSnapshotId(): bigint {
  return crypto.randomBytes(8).readBigUInt64BE() & 0x7fffffffffffffffn;
}

import { ERROR_CODES, SyncError } from '../errors';
/** Where data, manifests and staging files go: S3 (s3://bucket/key) or a local directory (file://). */
export interface ObjectStore {
  put(uri: string, body: Uint8Array, contentType?: string): Promise<void>;
  get(uri: string): Promise<Uint8Array>;
  /** Bytes [start, end) of an object: what a reader of a few Parquet columns fetches. */
  getRange(uri: string, start: number, end: number): Promise<Uint8Array>;
  exists(uri: string): Promise<boolean>;
  /** Deletes the objects; missing ones are not an error. */
  delete(uris: string[]): Promise<void>;
  /** Every object whose URI starts with the prefix (with when it was last written, where the store says). */
  list(prefix: string): AsyncIterable<{ uri: string; size: number; lastModified?: Date }>;
  /** Writes an object piece by piece (S3: multipart upload), so it never sits whole in memory. */
  openWrite(uri: string, contentType?: string): ObjectWriter;
  /** Drops unfinished writes (S3: multipart uploads a killed process left open) under the prefix. */
  abortUnfinished?(prefix: string): Promise<number>;
}

export interface ObjectWriter {
  write(chunk: Uint8Array): Promise<void>;
  /** Makes the object visible; returns its size. */
  complete(): Promise<number>;
  /** Drops what was written; the object never appears. */
  abort(): Promise<void>;
}

/**
 * The store may not list (a catalog that signs each request but signs no listing, as Nessie's
 * signer does): callers that only tidy up can go on without the listing.
 */
export class ListingNotAllowedError extends SyncError {
  constructor(message: string) {
    super(message, { code: ERROR_CODES.S3_ACCESS_DENIED, retryable: false });
  }
}

export function splitS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match) throw new SyncError(`not an s3:// URI: ${uri}`, { code: ERROR_CODES.SETTINGS_INVALID, retryable: false });
  return { bucket: match[1]!, key: match[2]! };
}
